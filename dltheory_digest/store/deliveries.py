"""The delivery ledger (`deliveries` table): which reader got which week's digest, and how it went.

One row per (week, reader address, lower-cased). `sent` means the reader has that week's
digest: a rerun skips them unless asked to resend. `failed` rows are tried again on the next run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from dltheory_digest.store.db import Store, upsert
from dltheory_digest.store.schema import deliveries

DeliveryStatus = Literal["sent", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class Delivery:
    week: str
    reader: str
    message_id: str
    status: str
    attempts: int
    error: str | None
    edition: str
    updated_at: dt.datetime


def reader_key(address: str) -> str:
    """The ledger's key for an address: case does not make a different reader."""
    return address.strip().lower()


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _from_row(row: object) -> Delivery:
    data = dict(row._mapping)  # type: ignore[attr-defined]
    return Delivery(
        week=data["week"],
        reader=data["reader"],
        message_id=data["message_id"],
        status=data["status"],
        attempts=int(data["attempts"] or 0),
        error=data["error"],
        edition=data["edition"],
        updated_at=_utc(data["updated_at"]),
    )


def get_delivery(store: Store, week: str, reader: str) -> Delivery | None:
    with store.begin() as conn:
        row = conn.execute(
            select(deliveries).where(deliveries.c.week == week, deliveries.c.reader == reader_key(reader))
        ).first()
    return _from_row(row) if row is not None else None


def deliveries_of(store: Store, week: str | None = None) -> list[Delivery]:
    """Ledger rows, for one week or all, ordered by week then reader."""
    query = select(deliveries).order_by(deliveries.c.week, deliveries.c.reader)
    if week is not None:
        query = query.where(deliveries.c.week == week)
    with store.begin() as conn:
        return [_from_row(row) for row in conn.execute(query)]


def already_sent(store: Store, week: str, readers: Sequence[str]) -> set[str]:
    """Addresses (ledger keys) that have this week's digest."""
    keys = [reader_key(r) for r in readers]
    if not keys:
        return set()
    with store.begin() as conn:
        rows = conn.execute(
            select(deliveries.c.reader).where(
                deliveries.c.week == week, deliveries.c.reader.in_(keys), deliveries.c.status == "sent"
            )
        )
        return {r[0] for r in rows}


def record_delivery(
    store: Store,
    *,
    week: str,
    reader: str,
    message_id: str,
    status: DeliveryStatus,
    attempts: int,
    error: str | None = None,
    edition: str = "en",
    at: dt.datetime | None = None,
) -> Delivery:
    """Write (or overwrite) the ledger row of one (week, reader)."""
    row = {
        "week": week,
        "reader": reader_key(reader),
        "message_id": message_id,
        "status": status,
        "attempts": attempts,
        "error": error,
        "edition": edition,
        "updated_at": at or dt.datetime.now(dt.UTC),
    }
    with store.begin() as conn:
        upsert(conn, deliveries, [row], ["week", "reader"])
    return Delivery(**{**row, "updated_at": _utc(row["updated_at"])})  # type: ignore[arg-type]
