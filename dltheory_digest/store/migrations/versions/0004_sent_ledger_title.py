"""The sent-ledger keeps the title each digest showed, so a retitled version can say what it was.

Rows written before this revision have no title (NULL): nothing is claimed about them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a nullable column is a plain ALTER TABLE .. ADD COLUMN on both back-ends: no table copy
    op.add_column("sent_ledger", sa.Column("title", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sent_ledger") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("title")
