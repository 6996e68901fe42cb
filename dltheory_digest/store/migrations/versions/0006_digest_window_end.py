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
import re

import sqlalchemy as sa
from alembic import op

from dltheory_digest.store.schema import unpack_text

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
    keys = conn.execute(sa.select(digests.c.week, digests.c.edition).where(digests.c.data.is_not(None))).all()
    # one row at a time: a busy week's JSON is 10 MB, and a year of them read at once took 1.1 GiB
    for week, edition in keys:
        this_row = (digests.c.week == week) & (digests.c.edition == edition)
        data = conn.execute(sa.select(digests.c.data).where(this_row)).scalar()
        end = _window_end(data)
        if end is not None:
            conn.execute(digests.update().where(this_row).values(window_end=end))


# `digest_to_json` writes `window_end` among the first fields: read there, the rest is not parsed
_WINDOW_END = re.compile(r'^\{[^{}\[]*?"window_end"\s*:\s*"([^"]*)"')


def _window_end(data: str | None) -> dt.datetime | None:
    """The digest JSON's `window_end` in UTC, or None when the row has none readable."""
    text = unpack_text(data or "")
    found = _WINDOW_END.match(text)
    try:
        value = found.group(1) if found else json.loads(text or "null")["window_end"]
        end = dt.datetime.fromisoformat(value)
    except (ValueError, TypeError, KeyError):
        return None
    return end.astimezone(dt.UTC) if end.tzinfo else None


def downgrade() -> None:
    with op.batch_alter_table("digests") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("window_end")
