"""A digest row records when its week ended in the run's zone, so "written after the week
ended" (a final digest, not a refresh of the week under way) needs no guess at the zone.

Rows written before this revision get it from the digest JSON they keep (`data`); a row
without one stays NULL and is judged by the earliest a week ends anywhere, as before.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("digests", sa.Column("window_end", sa.DateTime(timezone=True), nullable=True))
    digests = sa.table(
        "digests",
        sa.column("week", sa.String),
        sa.column("edition", sa.String),
        sa.column("data", sa.Text),
        sa.column("window_end", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(digests.c.week, digests.c.edition, digests.c.data)).all()
    for row in rows:
        end = _window_end(row.data)
        if end is not None:
            conn.execute(
                digests.update()
                .where(digests.c.week == row.week, digests.c.edition == row.edition)
                .values(window_end=end)
            )


def _window_end(data: str | None) -> dt.datetime | None:
    """The digest JSON's `window_end` in UTC, or None when the row has none readable."""
    try:
        text = json.loads(data or "null")["window_end"]
        end = dt.datetime.fromisoformat(text)
    except (ValueError, TypeError, KeyError):
        return None
    return end.astimezone(dt.UTC) if end.tzinfo else None


def downgrade() -> None:
    with op.batch_alter_table("digests") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("window_end")
