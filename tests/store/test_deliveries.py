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


def _contender(url: str, start: mp.synchronize.Event, results: mp.Queue, done: mp.synchronize.Event) -> None:
    store = open_store(url, migrate_to=None)
    start.wait(60)
    granted = ledger.reserve(store, week=WEEK, reader=ADA, message_id="<m0@example.org>").granted
    results.put(granted)
    # the holder stays alive until every contender has tried: a hold whose process is gone
    # is rightly taken over at once, which is not what this test is about
    done.wait(120)
    store.close()


def test_of_several_processes_exactly_one_gets_the_row(store: Store, store_url: str) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    done = ctx.Event()
    results = ctx.Queue()
    procs = [ctx.Process(target=_contender, args=(store_url, start, results, done)) for _ in range(4)]
    for p in procs:
        p.start()
    start.set()
    granted = [results.get(timeout=120) for _ in procs]
    done.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert sorted(granted) == [False, False, False, True]


def _dead_holder() -> str:
    import dataclasses
    import subprocess
    import sys

    from dltheory_digest.store.locks import this_process

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # exited and reaped: its pid names no process
    return dataclasses.replace(this_process(ledger.SENDER_RUN), pid=child.pid, started=None).encode()


def test_a_reservation_records_the_sending_process_and_finish_clears_it(store: Store) -> None:
    from dltheory_digest.store.locks import holder_process_gone, this_process

    reservation = _reserve(store)
    row = ledger.get_delivery(store, WEEK, ADA)
    assert row is not None and row.holder_process is not None
    here = this_process(ledger.SENDER_RUN)
    assert (row.holder_process.host, row.holder_process.pid) == (here.host, here.pid)
    assert not holder_process_gone(row.holder_process) and row.held()
    done = _finish(store, reservation, sent=True, message_id="<m0@example.org>")
    assert done.holder is None and ledger.get_delivery(store, WEEK, ADA) == done


@pytest.mark.parametrize("status", ["sending", "resending"])
def test_a_hold_whose_process_is_gone_is_taken_over_at_once(store: Store, status: str) -> None:
    ledger.record_delivery(
        store, week=WEEK, reader=ADA, message_id="<m0@example.org>", status=status,  # type: ignore[arg-type]
        attempts=0, holder=_dead_holder(),
    )  # fmt: skip
    left = ledger.get_delivery(store, WEEK, ADA)
    assert left is not None and left.holder_gone() and not left.held()  # fresh, but its process is gone
    taken = _reserve(store, resend=True)
    assert taken.granted and taken.previous == left
    assert taken.taken is not None and taken.taken.status == status  # a resend stays a resend
    assert _reserve(store, resend=True).reason == "held"  # held again, by this live process


def test_a_hold_without_a_recorded_process_still_waits_out_the_hold(store: Store) -> None:
    """Rows written before 0009 (or by a release that did not record the process)."""
    ledger.record_delivery(
        store, week=WEEK, reader=ADA, message_id="<m0@example.org>", status="sending", attempts=0
    )
    assert _reserve(store).reason == "held"


def test_an_unconfirmed_delivery_is_only_sent_again_when_asked(store: Store) -> None:
    first = _reserve(store)
    written = ledger.finish(
        store, first, week=WEEK, reader=ADA, message_id="<m0@example.org>", sent=False, attempts=1,
        error="TimeoutError: timed out", unconfirmed=True,
    )  # fmt: skip
    assert written is not None and written.status == "unconfirmed" and written.unconfirmed
    assert not written.delivered and written.error == "TimeoutError: timed out"
    refused = _reserve(store)
    assert not refused.granted and refused.reason == "unconfirmed" and refused.previous == written
    resend = _reserve(store, resend=True)
    assert resend.granted and resend.taken is not None and resend.taken.status == "sending"
    # a resend that fails outright does not make it `failed`: the first copy may have arrived
    failed = _finish(store, resend, sent=False, message_id="<m0@example.org>")
    assert failed.status == "unconfirmed" and (failed.error or "").startswith("resend failed:")
    assert _reserve(store).reason == "unconfirmed"


def test_a_lost_answer_to_a_resend_keeps_the_reader_delivered(store: Store) -> None:
    sent = _finish(store, _reserve(store), sent=True, message_id="<m0@example.org>")
    resend = _reserve(store, resend=True)
    after = ledger.finish(
        store, resend, week=WEEK, reader=ADA, message_id="<m1@example.org>", sent=False, attempts=1,
        error="timed out", unconfirmed=True,
    )  # fmt: skip
    assert after is not None and after.status == "sent" and after.updated_at == sent.updated_at


def test_the_rows_of_readers_who_never_had_a_week_are_listed_until_one_is_sent(store: Store) -> None:
    def row(week: str, reader: str, status: str, **extra: object) -> ledger.Delivery:
        return ledger.record_delivery(
            store, week=week, reader=reader, message_id=f"<{week}.{reader}>", status=status,  # type: ignore[arg-type]
            attempts=1, **extra,  # type: ignore[arg-type]
        )  # fmt: skip

    row("2026-W45", "old@example.org", "failed")  # before the weeks asked for
    row("2026-W46", "ada@example.org", "sent")
    row("2026-W46", "bo@example.org", "failed")
    row("2026-W46", "cy@example.org", "unconfirmed")
    row("2026-W46", "di@example.org", "resending")  # a reader who has it, being sent it again
    row("2026-W47", "ada@example.org", "sending", holder=_dead_holder())  # its run was killed
    row("2026-W47", "bo@example.org", "sending")  # a live run holds it: it may yet go through
    row("2026-W48", "ada@example.org", "failed")  # the week asked from: not before it
    listed = ledger.undelivered(store, since="2026-W46", before="2026-W48")
    assert [(d.week, d.reader, d.status) for d in listed] == [
        ("2026-W46", "bo@example.org", "failed"),
        ("2026-W46", "cy@example.org", "unconfirmed"),
        ("2026-W47", "ada@example.org", "sending"),
    ]
    # a later send that goes through takes the reader off the list
    row("2026-W46", "bo@example.org", "sent")
    assert [d.reader for d in ledger.undelivered(store, since="2026-W46", before="2026-W48")] == [
        "cy@example.org",
        "ada@example.org",
    ]


def test_a_reader_may_have_a_week_whose_message_went_unconfirmed(store: Store) -> None:
    statuses: tuple[ledger.DeliveryStatus, ...] = ("sent", "resending", "unconfirmed", "failed", "sending")
    seen = {
        status: ledger.record_delivery(
            store, week=WEEK, reader=f"{status}@example.org", message_id="<m0@example.org>",
            status=status, attempts=1,
        ).reached
        for status in statuses
    }  # fmt: skip
    assert seen == {"sent": True, "resending": True, "unconfirmed": True, "failed": False, "sending": False}


def _taken_and_left(store: Store, *, handed_over: bool) -> ledger.Delivery:
    """A first delivery reserved by a process that then died (its row rewritten with a gone
    holder), after handing its message to the server or before."""
    reservation = _reserve(store)
    assert reservation.granted and reservation.taken is not None and reservation.taken.attempts == 0
    if handed_over:
        assert ledger.mark_handed_over(store, reservation, 1)
    with store.begin() as conn:
        conn.execute(update(deliveries).values(holder=_dead_holder()))
    left = ledger.get_delivery(store, WEEK, ADA)
    assert left is not None and left.status == "sending" and left.holder_gone()
    return left


def test_a_dead_senders_message_handed_over_is_settled_unconfirmed_not_taken_over(store: Store) -> None:
    left = _taken_and_left(store, handed_over=True)
    # already read as "may have it" (reminders, readers_have_week) before any run settles it
    assert left.handed_over and left.unconfirmed and left.reached
    refused = _reserve(store)
    assert not refused.granted and refused.reason == "unconfirmed"
    row = ledger.get_delivery(store, WEEK, ADA)
    assert row is not None and row.status == "unconfirmed" and row.holder is None
    assert row.updated_at == left.updated_at and row.message_id == left.message_id  # when it went out
    assert "may have been delivered" in (row.error or "") and "<m0@example.org>" in (row.error or "")
    assert f"send --week {WEEK} --resend --to ada@example.org" in (row.error or "")
    # --resend takes it, and a failed resend leaves it unconfirmed (never back to `failed`)
    resend = _reserve(store, resend=True)
    assert resend.granted and resend.taken is not None and resend.taken.attempts == 0
    after = _finish_or_none(store, resend, sent=False, message_id="<m0@example.org>")
    assert after is not None and after.status == "unconfirmed"


def test_a_dead_sender_that_never_handed_its_message_over_is_still_taken_over(store: Store) -> None:
    left = _taken_and_left(store, handed_over=False)
    assert not left.handed_over and not left.unconfirmed
    taken = _reserve(store)
    assert taken.granted and taken.previous == left


def test_settle_abandoned_writes_only_a_row_left_after_the_handover(store: Store) -> None:
    left = _taken_and_left(store, handed_over=False)
    assert ledger.settle_abandoned(store, left) == left  # may be retaken: left as it is
    live = _reserve(store)  # this (live) process holds it now, and hands the message over
    assert live.granted and ledger.mark_handed_over(store, live, 1)
    held = ledger.get_delivery(store, WEEK, ADA)
    assert held is not None and held.handed_over and not held.unconfirmed  # its answer may yet come
    assert ledger.settle_abandoned(store, held) == held
    # a hold older than HOLD (its process on another machine, presumed dead) is settled
    settled = ledger.settle_abandoned(store, held, hold=dt.timedelta(0))
    assert settled is not None and settled.status == "unconfirmed"
    # the process whose hold it was still gets its answer (250): its finish records it sent
    assert _finish(store, live, sent=True, message_id="<m0@example.org>").status == "sent"


def test_a_handover_is_not_marked_on_a_row_another_run_took(store: Store) -> None:
    first = _reserve(store)
    second = ledger.reserve(store, week=WEEK, reader=ADA, message_id="<m0@example.org>", hold=dt.timedelta(0))
    assert second.granted  # the first run's hold expired: its body must not go out any more
    assert not ledger.mark_handed_over(store, first, 1)
    assert ledger.mark_handed_over(store, second, 1)


def test_a_process_stopping_at_once_records_the_readers_it_is_sending_to(store: Store) -> None:
    handed = ledger.reserve(store, week=WEEK, reader="ada@example.org", message_id="<a@example.org>")
    before = ledger.reserve(store, week=WEEK, reader="bo@example.org", message_id="<b@example.org>")
    elsewhere = ledger.reserve(store, week=WEEK, reader="cy@example.org", message_id="<c@example.org>")
    assert ledger.mark_handed_over(store, handed, 1)
    with ledger.sending(store, handed), ledger.sending(store, before):
        settled = ledger.settle_held_deliveries("interrupted (Ctrl-C)")
    assert [(d.reader, d.status, d.holder) for d in settled] == [
        ("ada@example.org", "unconfirmed", None),
        ("bo@example.org", "failed", None),
    ]
    ada, bo = settled
    assert (ada.error or "").startswith("interrupted (Ctrl-C) while the server's answer")
    assert "--resend --to ada@example.org" in (ada.error or "")
    assert bo.error == "interrupted (Ctrl-C) before the message was handed to the server"
    # a row not in flight in this process (another thread's finished one, another run's) is left
    cy = ledger.get_delivery(store, WEEK, "cy@example.org")
    assert cy is not None and cy.status == "sending" and elsewhere.granted
    assert ledger.settle_held_deliveries("interrupted (Ctrl-C)") == []


def test_a_handover_recorded_while_a_stop_settles_the_row_is_not_overwritten_as_failed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stop handler reads the row (nothing handed over), then the sending thread records its
    handover and writes the body, then the handler writes: the row must say `unconfirmed` (the
    reader may have it), never `failed`, which the next run would mail again."""
    reservation = _reserve(store)
    read = ledger.get_delivery
    handovers: list[bool] = []

    def read_then_sender_hands_over(*args: object, **kwargs: object) -> ledger.Delivery | None:
        row = read(*args, **kwargs)  # type: ignore[arg-type]
        if not handovers:  # the sending thread gets in between the handler's read and its write
            handovers.append(ledger.mark_handed_over(store, reservation, 1))
        return row

    monkeypatch.setattr(ledger, "get_delivery", read_then_sender_hands_over)
    with ledger.sending(store, reservation):
        settled = ledger.settle_held_deliveries("interrupted (Ctrl-C)")
    monkeypatch.undo()
    assert handovers == [True]
    assert [(d.status, d.attempts) for d in settled] == [("unconfirmed", 1)]
    row = ledger.get_delivery(store, WEEK, ADA)
    assert row is not None and row.status == "unconfirmed" and row.attempts == 1
    assert not _reserve(store).granted  # the next plain run does not mail a second copy


def test_finish_with_expected_attempts_leaves_a_row_whose_attempts_changed(store: Store) -> None:
    reservation = _reserve(store)
    assert ledger.mark_handed_over(store, reservation, 1)
    stale = ledger.finish(
        store, reservation, week=WEEK, reader=ADA, message_id="<m0@example.org>", sent=False,
        attempts=0, error="stopped", expected_attempts=0,
    )  # fmt: skip
    assert stale is None
    row = ledger.get_delivery(store, WEEK, ADA)
    assert row is not None and row.status == "sending" and row.attempts == 1
