"""A delivery row being sent records the process that sends it (host, pid, as a week lock's
holder does), so a run after a SIGKILL can see that process is gone and take the reader over
at once instead of waiting out the hold.

Rows written before this revision have no holder: a `sending` one among them keeps the
time-based hold, as before.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the width of run_locks.holder, which holds the same encoding (store.locks.LockHolder)
    op.add_column("deliveries", sa.Column("holder", sa.String(256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("holder")
