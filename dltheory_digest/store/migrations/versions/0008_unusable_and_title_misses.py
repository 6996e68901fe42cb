"""A fetch whose page arrived but could not be used is marked by a column, not found by the
wording of its error; and an arXiv title search that found nothing is remembered, so a rebuild
does not ask arXiv the same question again within days.

Rows written before this revision are marked from their error text, the only mark they have.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# the error text 0001-0007 wrote for such a fetch (store.records.UNUSABLE then); frozen here,
# so a later change of that wording cannot change what this migration marks
_UNUSABLE_PREFIX = "unusable response:"


def upgrade() -> None:
    op.add_column("fetches", sa.Column("unusable", sa.Boolean, nullable=False, server_default=sa.false()))
    fetches = sa.table("fetches", sa.column("error", sa.Text), sa.column("unusable", sa.Boolean))
    op.get_bind().execute(
        fetches.update().where(fetches.c.error.like(f"{_UNUSABLE_PREFIX}%")).values(unusable=True)
    )
    op.create_table(
        "title_misses",
        sa.Column("title", sa.String(400), primary_key=True),  # models.TITLE_MISS_TITLE_LENGTH
        sa.Column("author", sa.String(128), primary_key=True),  # models.TITLE_MISS_AUTHOR_LENGTH
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("searched_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("title_misses")
    with op.batch_alter_table("fetches") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("unusable")
