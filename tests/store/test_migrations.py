"""Migration 0009 on SQLite and PostgreSQL: the delivery ledger gains the sending process."""

from __future__ import annotations

import datetime as dt
import json

from alembic import command
from sqlalchemy import column, insert, inspect, select, table

from dltheory_digest.store import deliveries as ledger
from dltheory_digest.store import head_revision, open_store
from dltheory_digest.store.db import _alembic_config
from dltheory_digest.store.schema import digests


def _columns(store: object, name: str) -> set[str]:
    return {c["name"] for c in inspect(store.engine).get_columns(name)}  # type: ignore[attr-defined]


def test_deliveries_gain_a_holder_column_keeping_their_rows_and_can_lose_it(store_url: str) -> None:
    old = open_store(store_url, migrate_to="0008")
    at = dt.datetime(2026, 11, 23, 7, 5, tzinfo=dt.UTC)
    deliveries_0008 = table(
        "deliveries",
        *(column(n) for n in ("week", "reader", "message_id", "status", "attempts", "error", "edition")),
        column("updated_at"),
    )
    rows = [
        {"week": "2026-W47", "reader": "ada@example.org", "message_id": "<a@x>", "status": "sent",
         "attempts": 1, "error": None, "edition": "zh", "updated_at": at},
        {"week": "2026-W47", "reader": "lin@example.org", "message_id": "<l@x>", "status": "sending",
         "attempts": 0, "error": None, "edition": "en", "updated_at": at},
    ]  # fmt: skip
    with old.begin() as conn:
        conn.execute(insert(deliveries_0008), rows)
    assert "holder" not in _columns(old, "deliveries")
    old.close()

    upgraded = open_store(store_url)
    try:
        assert upgraded.revision() == head_revision() and "holder" in _columns(upgraded, "deliveries")
        kept = ledger.deliveries_of(upgraded, "2026-W47")
        assert [(d.reader, d.status, d.edition, d.holder) for d in kept] == [
            ("ada@example.org", "sent", "zh", None),
            ("lin@example.org", "sending", "en", None),
        ]
        # a row an older release left `sending` has no process to look at: it keeps the hold
        assert kept[1].updated_at == at and not kept[1].holder_gone()
        with upgraded.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0008")
        assert upgraded.revision() == "0008" and "holder" not in _columns(upgraded, "deliveries")
        with upgraded.begin() as conn:
            assert conn.execute(select(deliveries_0008.c.reader).order_by("reader")).scalars().all() == [
                "ada@example.org",
                "lin@example.org",
            ]
    finally:
        upgraded.close()


def test_0006_reads_each_digests_week_end_packed_or_plain_early_or_late(store_url: str) -> None:
    """0006 reads each digest's `window_end` one row at a time, from the head of its JSON where
    `digest_to_json` puts it, or from the whole JSON when it comes later; whether the row was
    stored plain (an older release) or packed (`PackedText`)."""
    old = open_store(store_url, migrate_to="0005")
    stamp = dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)
    row = {"edition": "default", "markdown": "# W\n", "paper_keys": [], "report": [], "created_at": stamp}
    late = json.dumps(
        {"week": "2026-W46", "sections": [{"title": "x"}], "window_end": "2026-11-16T00:00:00+01:00"}
    )
    early = json.dumps(
        {"week": "2026-W47", "window_end": "2026-11-23T00:00:00-08:00", "sections": [{"a": 1}]}
    )
    with old.begin() as conn:
        conn.execute(insert(digests), [{**row, "week": "2026-W46", "data": late}])  # packed
        conn.execute(
            insert(plain_digests),
            [{**row, "paper_keys": "[]", "report": "[]", "week": "2026-W47", "data": early}],
        )
    old.close()

    upgraded = open_store(store_url)
    try:
        with upgraded.begin() as conn:
            ends = {
                w: e.replace(tzinfo=dt.UTC)
                for w, e in conn.execute(select(digests.c.week, digests.c.window_end))
            }
    finally:
        upgraded.close()
    assert ends == {
        "2026-W46": dt.datetime(2026, 11, 15, 23, tzinfo=dt.UTC),
        "2026-W47": dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC),
    }


# the digests table as an older release wrote it: plain text, not through `PackedText`
plain_digests = table(
    "digests",
    *(column(n) for n in ("week", "edition", "markdown", "paper_keys", "report", "data")),
    column("created_at"),
)
