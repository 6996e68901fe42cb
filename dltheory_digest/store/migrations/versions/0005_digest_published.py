"""A digest row says whether it was published (mailed and recorded in the sent-ledger) or
written by a dry run, which must not make the weeks before it count as sent.

Rows written before this revision are taken as published (NULL), as they were treated.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("digests", sa.Column("published", sa.Boolean, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digests") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("published")
