"""The delivery ledger's reservations: one run per reader at a time, and "delivered" is never lost."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp

import pytest
from sqlalchemy import update

from dltheory_digest.store import Store, open_store
from dltheory_digest.store import deliveries as ledger
from dltheory_digest.store.schema import deliveries

WEEK = "2026-W47"
ADA = "Ada@Example.org"


def _reserve(store: Store, resend: bool = False) -> ledger.Reservation:
    return ledger.reserve(store, week=WEEK, reader=ADA, message_id="<m0@example.org>", resend=resend)


def _finish(store: Store, reservation: ledger.Reservation, *, sent: bool, message_id: str) -> ledger.Delivery:
    written = _finish_or_none(store, reservation, sent=sent, message_id=message_id)
    assert written is not None  # the row was still this reservation's
    return written


def _finish_or_none(
    store: Store, reservation: ledger.Reservation, *, sent: bool, message_id: str
) -> ledger.Delivery | None:
    return ledger.finish(
        store,
        reservation,
        week=WEEK,
        reader=ADA,
        message_id=message_id,
        sent=sent,
        attempts=1,
        error=None if sent else "recipient refused: 550 no",
        edition="zh",
    )


def test_a_held_row_is_not_given_twice(store: Store) -> None:
    first = _reserve(store)
    assert first.granted and first.previous is None
    row = ledger.get_delivery(store, WEEK, "ada@example.org")
    assert row is not None and row.status == "sending" and row.held()
    second = _reserve(store, resend=True)
    assert not second.granted and second.reason == "held"
    _finish(store, first, sent=True, message_id="<m0@example.org>")
    assert ledger.already_sent(store, WEEK, ["ADA@example.org"]) == {"ada@example.org"}
    assert _reserve(store).reason == "already-sent"


def test_a_failed_resend_does_not_clear_the_delivery(store: Store) -> None:
    first = _reserve(store)
    sent = _finish(store, first, sent=True, message_id="<m0@example.org>")
    resend = _reserve(store, resend=True)
    assert resend.granted and resend.previous is not None and resend.previous.delivered
    row = ledger.get_delivery(store, WEEK, ADA)
    assert row is not None and row.status == "resending" and row.delivered  # delivered while in flight too
    failed = _finish(store, resend, sent=False, message_id="<m1@example.org>")
    assert failed.status == "sent" and failed.delivered and failed.edition == "zh"
    assert failed.updated_at == sent.updated_at  # when the reader got it
    assert failed.message_id == "<m1@example.org>" and (failed.error or "").startswith("resend failed:")
    assert ledger.get_delivery(store, WEEK, ADA) == failed
    assert not _reserve(store).granted  # a plain run leaves them alone


def test_a_first_failure_is_tried_again(store: Store) -> None:
    failed = _finish(store, _reserve(store), sent=False, message_id="<m0@example.org>")
    assert failed.status == "failed" and not failed.delivered
    again = _reserve(store)
    assert again.granted and again.previous == failed


def test_a_dead_runs_hold_expires(store: Store) -> None:
    assert _reserve(store).granted
    with store.begin() as conn:  # the run that held it died an hour ago
        conn.execute(update(deliveries).values(updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    taken = _reserve(store)
    assert taken.granted and taken.previous is not None and taken.previous.status == "sending"
    assert _reserve(store).reason == "held"  # and now it is held again, by the new run


def test_finish_writes_the_reserved_row(store: Store) -> None:
    reservation = _reserve(store)
    assert reservation.taken is not None and reservation.taken.status == "sending"
    written = _finish(store, reservation, sent=True, message_id="<m0@example.org>")
    assert ledger.get_delivery(store, WEEK, ADA) == written
    assert written.status == "sent" and written.attempts == 1 and written.edition == "zh"


@pytest.mark.parametrize("sent", [True, False])
def test_a_send_that_outlived_its_hold_leaves_the_new_holders_row_alone(store: Store, sent: bool) -> None:
    slow = _reserve(store)
    # the first exchange takes longer than the hold: a second process takes the reader over
    # (a zero hold makes the first one's hold stale at once)
    takeover = ledger.reserve(
        store, week=WEEK, reader=ADA, message_id="<m0.b@example.org>", hold=dt.timedelta(0)
    )
    assert takeover.granted and takeover.previous is not None and takeover.previous.status == "sending"
    held_by_second = ledger.get_delivery(store, WEEK, ADA)
    assert held_by_second is not None and held_by_second.message_id == "<m0.b@example.org>"

    assert _finish_or_none(store, slow, sent=sent, message_id="<m0@example.org>") is None
    assert ledger.get_delivery(store, WEEK, ADA) == held_by_second  # intact, still the second's hold

    # the second process's own outcome is written
    done = _finish(store, takeover, sent=True, message_id="<m0.b@example.org>")
    assert ledger.get_delivery(store, WEEK, ADA) == done and done.status == "sent"
    assert done.message_id == "<m0.b@example.org>"


def test_finish_needs_a_granted_reservation(store: Store) -> None:
    _finish(store, _reserve(store), sent=True, message_id="<m0@example.org>")
    refused = _reserve(store)
    assert not refused.granted and refused.taken is None
    with pytest.raises(ValueError, match="granted reservation"):
        _finish_or_none(store, refused, sent=False, message_id="<m0@example.org>")


def _contender(url: str, start: mp.synchronize.Event, results: mp.Queue) -> None:
    store = open_store(url, migrate_to=None)
    start.wait(60)
    granted = ledger.reserve(store, week=WEEK, reader=ADA, message_id="<m0@example.org>").granted
    results.put(granted)
    store.close()


def test_of_several_processes_exactly_one_gets_the_row(store: Store, store_url: str) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    procs = [ctx.Process(target=_contender, args=(store_url, start, results)) for _ in range(4)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    granted = [results.get(timeout=10) for _ in procs]
    assert sorted(granted) == [False, False, False, True]
