"""The delivery ledger (`deliveries` table): which reader got which week's digest, and how it went.

One row per (week, reader address, lower-cased). Its `status`:

- `sent`: the reader has had that week's digest at least once. This is a fact a later failed
  resend never clears (the failure goes to `error`), so a plain rerun never mails them again.
- `failed`: never delivered; the last try failed. The next run tries again.
- `unconfirmed`: the message was handed over (its DATA sent) but the server's answer never
  came (a timeout, a dropped connection): the reader may well have it. A plain run does not
  mail them again; `resend` does, with the same Message-ID, so a copy that did arrive is
  dropped by the reader's client.
- `sending` / `resending`: a process holds the row and is talking to the SMTP server (a first
  delivery / a resend to a reader who already has it); `holder` names that process (host,
  pid: `store.locks.LockHolder`). `reserve` takes a row in one atomic statement, so two runs
  at once never mail the same reader twice. A hold whose process no longer exists (same
  host, pid gone: a SIGKILLed run) is taken over at once; any hold older than `HOLD` is taken
  to belong to a process that died elsewhere. `finish` writes only while the row is still as
  its reservation left it, so a process whose exchange outlived the hold never overwrites the
  row of the process that took it over.

  While a row is held, `attempts` counts the message bodies this hold has begun to hand to the
  server (`mark_handed_over`, written before the body's first byte; the reservation resets it
  to 0). A first delivery (`sending`) whose process died after that point may have reached the
  server: it is never taken over (that would mail a second copy) but settled `unconfirmed`
  (`settle_abandoned`), as an answer lost after DATA is. A stop that ends the process at once
  (`run`'s Ctrl-C handler, a SIGKILL, a power cut) leaves exactly such a row.

`message_id` is the id of the last message tried, `attempts` and `error` describe the last try,
`updated_at` is when the reader last received it (for `sent`) or when the row last changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from dltheory_digest.store.db import Store, upsert
from dltheory_digest.store.locks import LockHolder, holder_process_gone, this_process
from dltheory_digest.store.schema import deliveries
from dltheory_digest.weeks import as_utc

log = logging.getLogger(__name__)

DeliveryStatus = Literal["sent", "failed", "unconfirmed", "sending", "resending"]
DELIVERED = ("sent", "resending")  # the reader has had the week's digest
IN_FLIGHT = ("sending", "resending")
UNCONFIRMED = "unconfirmed"  # handed to the server, its answer lost: may have been delivered
# the run name a sending process is recorded under (`LockHolder.run`)
SENDER_RUN = "deliver"
# Longer than any SMTP exchange with its retries (minutes); a hold this old was left by a
# process that died mid-send.
HOLD = dt.timedelta(minutes=30)


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
    holder: str | None = None  # the sending process while in flight (`LockHolder.encode`)

    @property
    def delivered(self) -> bool:
        """The reader has had this week's digest (whatever happened to a later resend)."""
        return self.status in DELIVERED

    @property
    def handed_over(self) -> bool:
        """A first delivery in flight whose message was begun to be handed to the server (its
        body written after DATA): from then on the reader may have it, whatever follows."""
        return self.status == "sending" and self.attempts > 0

    def abandoned_after_handover(self, now: dt.datetime | None = None, hold: dt.timedelta = HOLD) -> bool:
        """`handed_over` by a process that is gone (or whose hold is stale): its answer will
        never be read, so the message may or may not have arrived."""
        return self.handed_over and not self.held(now, hold)

    @property
    def unconfirmed(self) -> bool:
        """The message reached the server, whose answer was lost: the reader may have it (also
        a row its sending process left after handing the message over, not yet settled)."""
        return self.status == UNCONFIRMED or self.abandoned_after_handover()

    @property
    def reached(self) -> bool:
        """The reader has the week, or may have it (`unconfirmed`): a week they may have read is
        theirs, as one they did read."""
        return self.delivered or self.unconfirmed

    @property
    def holder_process(self) -> LockHolder | None:
        return LockHolder.decode(self.holder) if self.holder else None

    def holder_gone(self) -> bool:
        """The row is in flight and its sending process ran on this machine and no longer exists."""
        holder = self.holder_process
        return self.status in IN_FLIGHT and holder is not None and holder_process_gone(holder)

    def held(self, now: dt.datetime | None = None, hold: dt.timedelta = HOLD) -> bool:
        """Another live process is sending to this reader right now."""
        fresh = self.updated_at > (now or dt.datetime.now(dt.UTC)) - hold
        return self.status in IN_FLIGHT and fresh and not self.holder_gone()


@dataclass(frozen=True, slots=True)
class Reservation:
    """The outcome of `reserve`: `granted`, or why not (`already-sent`, `unconfirmed`: the last
    message may have arrived, `held`); `previous` is the row as it was before (None for a
    reader never tried this week); `taken` the row as this reservation wrote it (status,
    message id, time), which `finish` checks is still there."""

    granted: bool
    previous: Delivery | None
    reason: Literal["granted", "already-sent", "unconfirmed", "held"] = "granted"
    taken: Delivery | None = None


def reader_key(address: str) -> str:
    """The ledger's key for an address: case does not make a different reader."""
    return address.strip().lower()


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
        updated_at=as_utc(data["updated_at"]),
        holder=data.get("holder"),
    )


def _where(week: str, reader: str) -> tuple[object, object]:
    return deliveries.c.week == week, deliveries.c.reader == reader_key(reader)


def get_delivery(store: Store, week: str, reader: str) -> Delivery | None:
    with store.begin() as conn:
        row = conn.execute(select(deliveries).where(*_where(week, reader))).first()  # type: ignore[arg-type]
    return _from_row(row) if row is not None else None


def deliveries_of(store: Store, week: str | None = None) -> list[Delivery]:
    """Ledger rows, for one week or all, ordered by week then reader."""
    query = select(deliveries).order_by(deliveries.c.week, deliveries.c.reader)
    if week is not None:
        query = query.where(deliveries.c.week == week)
    with store.begin() as conn:
        return [_from_row(row) for row in conn.execute(query)]


def undelivered(store: Store, *, since: str, before: str, now: dt.datetime | None = None) -> list[Delivery]:
    """Rows of the weeks from `since` up to `before` (not included) whose reader never had the
    week: it `failed`, it is `unconfirmed` (it may have arrived), or it is left `sending` by a
    process that died (`held` no more; `unconfirmed` too when it had handed the message over).
    A later successful send makes the row `sent`, so a row here was never sent since. Ordered
    by week then reader."""
    query = (
        select(deliveries)
        .where(
            deliveries.c.week >= since,
            deliveries.c.week < before,
            deliveries.c.status.in_(("failed", UNCONFIRMED, "sending")),
        )
        .order_by(deliveries.c.week, deliveries.c.reader)
    )
    with store.begin() as conn:
        rows = [_from_row(row) for row in conn.execute(query)]
    return [d for d in rows if d.status != "sending" or not d.held(now)]


def already_sent(store: Store, week: str, readers: Sequence[str]) -> set[str]:
    """Addresses (ledger keys) that have had this week's digest."""
    keys = [reader_key(r) for r in readers]
    if not keys:
        return set()
    with store.begin() as conn:
        rows = conn.execute(
            select(deliveries.c.reader).where(
                deliveries.c.week == week,
                deliveries.c.reader.in_(keys),
                deliveries.c.status.in_(DELIVERED),
            )
        )
        return {r[0] for r in rows}


def reserve(
    store: Store,
    *,
    week: str,
    reader: str,
    message_id: str,
    resend: bool = False,
    hold: dt.timedelta = HOLD,
) -> Reservation:
    """Take the row of (week, reader) before talking to the SMTP server.

    Granted when the reader was never tried, failed last time, is being resent to (`resend`)
    or was held by a process that died (at once when it ran on this machine, after `hold`
    otherwise); refused when another live process holds it, or the reader already has the
    digest (or may have it: `unconfirmed`) and `resend` is false. Each change is one
    conditional UPDATE (or an INSERT on the primary key) on the state just read, so of two
    processes at once exactly one gets the row; the loser reads again and sees it held.
    """
    sender = this_process(SENDER_RUN).encode()
    for _ in range(5):
        now = dt.datetime.now(dt.UTC)
        previous = get_delivery(store, week, reader)
        if previous is None:
            row = {
                "week": week,
                "reader": reader_key(reader),
                "message_id": message_id,
                "status": "sending",
                "attempts": 0,
                "error": None,
                "edition": "en",
                "updated_at": now,
                "holder": sender,
            }
            try:
                with store.begin() as conn:
                    conn.execute(insert(deliveries), [row])
                return Reservation(True, None, taken=Delivery(**row))  # type: ignore[arg-type]
            except IntegrityError:
                continue  # another process inserted it first: look again
        if previous.held(now, hold):
            return Reservation(False, previous, "held")
        if previous.abandoned_after_handover(now, hold):
            # its process died with the message handed over: never retaken (a second copy),
            # settled `unconfirmed`, then read again and treated as such
            _settle(store, previous, now, hold)
            continue
        if previous.delivered and not resend:
            return Reservation(False, previous, "already-sent")
        if previous.unconfirmed and not resend:
            return Reservation(False, previous, "unconfirmed")
        condition = deliveries.c.status == previous.status
        gone = previous.holder_gone()
        if previous.status in IN_FLIGHT:
            # a dead process's hold: its process is gone (the very holder read above, so a
            # run that took it meanwhile keeps it), or it is still stale
            condition = condition & _dead_hold(previous, now, hold)
        taken = dataclasses.replace(
            previous, status="resending" if previous.delivered else "sending", updated_at=now,
            message_id=message_id, holder=sender, attempts=0,
        )  # fmt: skip
        with store.begin() as conn:
            changed = conn.execute(
                update(deliveries)
                .where(*_where(week, reader), condition)  # type: ignore[arg-type]
                .values(status=taken.status, updated_at=now, message_id=message_id, holder=sender, attempts=0)
            )
        if changed.rowcount == 1:
            if gone:
                dead = previous.holder_process
                assert dead is not None
                log.warning(
                    "took over the delivery of %s to %s: the process sending it (pid %s on %s) no "
                    "longer exists",
                    week, reader_key(reader), dead.pid, dead.host,
                )  # fmt: skip
            return Reservation(True, previous, taken=taken)
    # the row kept changing under us: someone else is busy with this reader
    return Reservation(False, get_delivery(store, week, reader), "held")


def _dead_hold(previous: Delivery, now: dt.datetime, hold: dt.timedelta) -> object:
    """The condition that `previous`'s hold is still the dead one read: the same holder when its
    process is known gone (a run that took the row meanwhile keeps it), else still stale."""
    if previous.holder_gone():
        return deliveries.c.holder == previous.holder
    return deliveries.c.updated_at < now - hold


MAY_HAVE_ARRIVED = (
    "so it may have been delivered: it is not sent again without --resend. Check the server's "
    "log (or the reader's mailbox) for {message_id}; if it is not there, run `dltheory-digest "
    "send --week {week} --resend --to {reader}` (same Message-ID, so a copy that did arrive is "
    "not shown twice)"
)
# Neutral on why: a run stopped at once or killed leaves such a row, and so does one whose
# store failed when the server's answer came (the row cannot say which).
ABANDONED_AFTER_HANDOVER = (
    "the run sending it ({holder}) began to hand the message to the server and could not record "
    "the server's answer (it was stopped or killed, or the store could not be written), " + MAY_HAVE_ARRIVED
)


def _settle(store: Store, previous: Delivery, now: dt.datetime, hold: dt.timedelta) -> bool:
    """Write `previous` (`abandoned_after_handover`) as `unconfirmed`, keeping its time (about
    when it was sent); False when another process changed the row first."""
    dead = previous.holder_process
    holder = f"pid {dead.pid} on {dead.host}" if dead and dead.pid else (previous.holder or "unknown")
    error = ABANDONED_AFTER_HANDOVER.format(
        holder=holder, message_id=previous.message_id, week=previous.week, reader=previous.reader
    )
    with store.begin() as conn:
        changed = conn.execute(
            update(deliveries)
            .where(
                *_where(previous.week, previous.reader),  # type: ignore[arg-type]
                deliveries.c.status == "sending",
                deliveries.c.attempts == previous.attempts,
                _dead_hold(previous, now, hold),  # type: ignore[arg-type]
            )
            .values(status=UNCONFIRMED, holder=None, error=error)
        )
    if changed.rowcount == 1:
        log.warning(
            "delivery of %s to %s recorded unconfirmed: %s",
            previous.week, previous.reader, error.split(", so ", 1)[0],
        )  # fmt: skip
        return True
    return False


def settle_abandoned(store: Store, row: Delivery, *, hold: dt.timedelta = HOLD) -> Delivery | None:
    """The row as it stands once a first delivery its process left after handing the message
    over (`abandoned_after_handover`) is recorded `unconfirmed`; `row` itself otherwise."""
    now = dt.datetime.now(dt.UTC)
    if not row.abandoned_after_handover(now, hold):
        return row
    _settle(store, row, now, hold)
    return get_delivery(store, row.week, row.reader)


def mark_handed_over(store: Store, reservation: Reservation, attempt: int) -> bool:
    """Record, before the message body's first byte is written, that `attempt` (1, 2...) of this
    hold hands the message to the server: should the process end before it reads the answer,
    a later run settles the row `unconfirmed` instead of mailing the reader again. False when
    the row is no longer as the reservation took it (another run took the reader over)."""
    taken = reservation.taken
    if taken is None:
        raise ValueError("mark_handed_over needs a granted reservation")
    with store.begin() as conn:
        changed = conn.execute(
            update(deliveries)
            .where(
                *_where(taken.week, taken.reader),  # type: ignore[arg-type]
                deliveries.c.status == taken.status,
                deliveries.c.message_id == taken.message_id,
                deliveries.c.updated_at == taken.updated_at,
            )
            .values(attempts=attempt)
        )
    return changed.rowcount == 1


def finish(
    store: Store,
    reservation: Reservation,
    *,
    week: str,
    reader: str,
    message_id: str,
    sent: bool,
    attempts: int,
    error: str | None = None,
    edition: str = "en",
    unconfirmed: bool = False,
    expected_attempts: int | None = None,
) -> Delivery | None:
    """Write the outcome of a reserved send and return the row written. A failed resend to a
    reader who already has the digest keeps the row `sent` (with its delivery time and edition)
    and keeps the error. `unconfirmed`: the message was handed over but the server's answer was
    lost, so it may have arrived: the row becomes `unconfirmed` (a reader who had the week
    stays `sent`), and so does a failed resend to an `unconfirmed` reader.

    The write is conditional on the row being still as `reservation` took it: when this
    exchange outlived `HOLD` and another process took the reader over, its row is left alone
    and None is returned (this outcome is not recorded). `expected_attempts`: also only while
    the row's `attempts` is still that (a writer that is not the sending thread, whose outcome
    rests on whether the message was handed over, must not miss a handover just recorded)."""
    if reservation.taken is None:
        raise ValueError("finish needs a granted reservation")
    previous = reservation.previous
    now = dt.datetime.now(dt.UTC)
    row: dict[str, object] = {
        "week": week,
        "reader": reader_key(reader),
        "message_id": message_id,
        "attempts": attempts,
    }
    row["holder"] = None
    if sent:
        row.update(status="sent", error=None, edition=edition, updated_at=now)
    elif previous is not None and previous.delivered:
        row.update(
            status="sent",
            error=f"resend failed: {error}" if error else "resend failed",
            edition=previous.edition,
            updated_at=previous.updated_at,
        )
    elif unconfirmed or (previous is not None and previous.unconfirmed):
        # an earlier copy may have arrived: never back to `failed`, which a plain run retries
        if not unconfirmed:
            error = f"resend failed: {error}" if error else "resend failed"
        row.update(status=UNCONFIRMED, error=error, edition=edition, updated_at=now)
    else:
        row.update(status="failed", error=error, edition=edition, updated_at=now)
    taken = reservation.taken
    unchanged = [
        # or settled `unconfirmed` from this very hold by a run that took it for dead
        # (`settle_abandoned` keeps the message id and time): this outcome is better
        deliveries.c.status.in_((taken.status, UNCONFIRMED)),
        deliveries.c.message_id == taken.message_id,
        deliveries.c.updated_at == taken.updated_at,
    ]
    if expected_attempts is not None:
        unchanged.append(deliveries.c.attempts == expected_attempts)
    with store.begin() as conn:
        written = conn.execute(
            update(deliveries)
            .where(*_where(week, reader), *unchanged)  # type: ignore[arg-type]
            .values(**row)
        )
    if written.rowcount != 1:
        return None
    return Delivery(**{**row, "updated_at": as_utc(row["updated_at"])})  # type: ignore[arg-type]


# The rows this process is sending to right now, so a command stopped at once (`run`'s Ctrl-C
# handler ends the process with os._exit) records them on its way out (`settle_held_deliveries`)
# instead of leaving them `sending` for the next run to work out.
_SENDING: dict[int, tuple[Store, Reservation, str]] = {}


@contextmanager
def sending(store: Store, reservation: Reservation, edition: str = "en") -> Iterator[None]:
    """Registers `reservation` (a message in the `edition` language) as in flight in this
    process while the body runs."""
    _SENDING[id(reservation)] = (store, reservation, edition)
    try:
        yield
    finally:
        _SENDING.pop(id(reservation), None)


def settle_held_deliveries(why: str) -> list[Delivery]:
    """Record the rows this process is sending to as it stops for `why` ("interrupted
    (Ctrl-C)"): `unconfirmed` once their message began to be handed over (it may have arrived),
    else `failed` (nothing went out). Best effort, on the way out; the rows written. A row whose
    exchange has just finished, or that another run took, is left as it is."""
    written = []
    for store, reservation, edition in list(_SENDING.values()):
        try:
            done = _settle_held(store, reservation, edition, why)
        except Exception:  # on the way out: the next run settles the row from its dead holder
            continue
        if done is not None:
            written.append(done)
    _SENDING.clear()
    return written


def _settle_held(store: Store, reservation: Reservation, edition: str, why: str) -> Delivery | None:
    """`settle_held_deliveries` for one row: the sending thread may record its handover (or its
    outcome) between the read and the write, so the write also requires the `attempts` read,
    and a row whose handover was just recorded is read again and settled `unconfirmed`."""
    taken = reservation.taken
    if taken is None:
        return None
    for _ in range(3):  # each retry follows a new handover; a send makes at most a few
        row = get_delivery(store, taken.week, taken.reader)
        if row is None or (row.status, row.message_id, row.updated_at) != (
            taken.status, taken.message_id, taken.updated_at,
        ):  # fmt: skip
            return None  # its exchange has just finished, or another run took it
        handed_over = row.attempts > 0
        if handed_over and row.status == "sending":
            error = f"{why} while the server's answer to the message was awaited, " + (
                MAY_HAVE_ARRIVED.format(message_id=row.message_id, week=row.week, reader=row.reader)
            )
        else:
            error = f"{why} before the message was handed to the server"
        done = finish(
            store, reservation, week=row.week, reader=row.reader, message_id=row.message_id,
            sent=False, attempts=row.attempts, error=error, edition=edition, unconfirmed=handed_over,
            expected_attempts=row.attempts,
        )  # fmt: skip
        if done is not None:
            return done
    return None


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
    holder: str | None = None,
) -> Delivery:
    """Write (or overwrite) the ledger row of one (week, reader), without a reservation
    (imports and tests); delivery goes through `reserve` and `finish`."""
    row = {
        "week": week,
        "reader": reader_key(reader),
        "message_id": message_id,
        "status": status,
        "attempts": attempts,
        "error": error,
        "edition": edition,
        "updated_at": at or dt.datetime.now(dt.UTC),
        "holder": holder,
    }
    with store.begin() as conn:
        upsert(conn, deliveries, [row], ["week", "reader"])
    return Delivery(**{**row, "updated_at": as_utc(row["updated_at"])})  # type: ignore[arg-type]
