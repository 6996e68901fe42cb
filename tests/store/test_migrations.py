"""Migration 0009 on SQLite and PostgreSQL: the delivery ledger gains the sending process."""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import column, insert, inspect, select, table

from dltheory_digest.store import deliveries as ledger
from dltheory_digest.store import head_revision, open_store
from dltheory_digest.store.db import _alembic_config


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
