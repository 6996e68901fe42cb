from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import insert, update

from dltheory_digest.store import Store
from dltheory_digest.store.locks import (
    LockHolder,
    LockRecord,
    LockTimeout,
    StoreLimiter,
    holder_process_gone,
    lock_holder,
    lock_record,
    release_held_locks,
    release_lock,
    this_process,
    try_lock,
    week_lock,
)
from dltheory_digest.store.schema import run_locks


def test_second_run_of_a_week_waits_for_the_first(store: Store) -> None:
    events: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with week_lock(store, "2026-W47", "run-1", poll=0.05):
            events.append("first in")
            first_in.set()
            release_first.wait(5)
            events.append("first out")

    def second() -> None:
        first_in.wait(5)
        with week_lock(
            store,
            "2026-W47",
            "run-2",
            poll=0.05,
            on_wait=lambda held: events.append(f"waiting for {held.holder.run}"),
        ):
            events.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_in.wait(5)
    time.sleep(0.3)  # the second run is now polling
    assert lock_holder(store, "week-2026-W47") == "run-1"
    release_first.set()
    for t in threads:
        t.join(10)
    assert events == ["first in", "waiting for run-1", "first out", "second in"]
    assert lock_holder(store, "week-2026-W47") is None


def test_other_weeks_do_not_wait_and_expired_locks_are_taken_over(store: Store) -> None:
    assert try_lock(store, "week-2026-W47", "a", dt.timedelta(hours=1))
    assert try_lock(store, "week-2026-W48", "b", dt.timedelta(hours=1))
    assert not try_lock(store, "week-2026-W47", "c", dt.timedelta(hours=1))
    assert try_lock(store, "week-2026-W49", "dead", dt.timedelta(seconds=-1))  # already expired
    assert try_lock(store, "week-2026-W49", "alive", dt.timedelta(hours=1))
    assert lock_holder(store, "week-2026-W49") == "alive"


def test_store_limiter_spaces_reservations_across_clients(store: Store) -> None:
    now = [1000.0]
    limiters = [StoreLimiter(store, clock=lambda: now[0], sleep=lambda s: None) for _ in range(2)]
    starts = [limiters[i % 2].reserve("arxiv", 3.0) for i in range(4)]
    assert starts == [1000.0, 1003.0, 1006.0, 1009.0]
    now[0] = 2000.0  # after a quiet spell the next request may go at once
    assert limiters[0].reserve("arxiv", 3.0) == 2000.0
    assert limiters[1].reserve("other-host", 1.0) == 2000.0


def test_store_limiter_takes_back_only_the_latest_slot_of_a_key(store: Store) -> None:
    now = [1000.0]
    slept: list[float] = []
    worker_a, worker_b = (StoreLimiter(store, clock=lambda: now[0], sleep=slept.append) for _ in range(2))
    slot = worker_a.acquire("arxiv", 3.0)
    worker_a.release("arxiv", slot, 3.0)  # its request never reached the server
    assert worker_b.acquire("arxiv", 3.0) == 1000.0 and slept == []  # no 3 s wait for it
    queued = worker_a.acquire("arxiv", 3.0)  # 1003: worker_b's slot stands
    worker_b.release("arxiv", 1000.0, 3.0)  # a slot someone queued behind is kept
    assert (queued, worker_b.reserve("arxiv", 3.0)) == (1003.0, 1006.0) and slept == [3.0]


def test_an_interrupted_process_releases_the_week_locks_it_holds(store: Store) -> None:
    with week_lock(store, "2026-W47", "run-a"):
        assert lock_holder(store, "week-2026-W47") == "run-a"
        # what the CLI's signal handler calls before it exits
        assert release_held_locks() == ["week-2026-W47"]
        assert lock_holder(store, "week-2026-W47") is None
    assert release_held_locks() == []  # nothing left once the body ended


# --- holders killed without releasing their lock (SIGKILL, the OOM killer, a container stop) ---

LOCK = "week-2026-W47"
HOUR = dt.timedelta(hours=1)

# A run in its own process: takes the week's lock, says so, then blocks until it is killed.
HOLDER_SCRIPT = """
import datetime as dt, sys
from dltheory_digest.store import open_store
from dltheory_digest.store.locks import try_lock
assert try_lock(open_store(sys.argv[1]), "week-2026-W47", "killed-run", dt.timedelta(hours=6))
print("locked", flush=True)
sys.stdin.read()
"""


@contextmanager
def holder_process(store_url: str) -> Iterator[subprocess.Popen[str]]:
    """A process holding the week's lock (its own pid, start time, namespace), killed on exit."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, store_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "locked\n"
        yield child
    finally:
        child.kill()
        child.wait()


def plant(store: Store, holder: LockHolder, ttl: dt.timedelta = HOUR) -> None:
    """A lock row as another process would have written it."""
    now = dt.datetime.now(dt.UTC)
    row = {"name": LOCK, "holder": holder.encode(), "acquired_at": now, "expires_at": now + ttl}
    with store.begin() as conn:
        conn.execute(insert(run_locks), [row])


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_lock_of_a_killed_process_on_this_host_is_taken_over_at_once(
    store: Store, store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with holder_process(store_url) as child:
        held = lock_record(store, LOCK)
        assert held is not None and held.holder.run == "killed-run"
        assert (held.holder.host, held.holder.pid) == (socket.gethostname(), child.pid)
        # alive: waited for, like any running holder
        assert not try_lock(store, LOCK, "second-run", HOUR)
        child.kill()
        child.wait()
    with caplog.at_level(logging.WARNING, logger="dltheory_digest.store.locks"):
        assert try_lock(store, LOCK, "second-run", HOUR)  # hours before the lock would expire
    assert lock_holder(store, LOCK) == "second-run"
    said = caplog.records[-1].getMessage()
    assert caplog.records[-1].levelno == logging.WARNING
    assert f"run killed-run (host {socket.gethostname()}, pid {child.pid})" in said
    assert f"its process {child.pid} on {socket.gethostname()} no longer exists" in said


@pytest.mark.skipif(not hasattr(os, "waitid"), reason="needs waitid to leave a zombie")
def test_a_killed_holder_not_yet_reaped_by_its_parent_counts_as_gone(store: Store, store_url: str) -> None:
    with holder_process(store_url) as child:
        child.kill()
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited; still a zombie
        taken: list[tuple[LockRecord, str]] = []
        assert try_lock(store, LOCK, "second-run", HOUR, on_take_over=lambda *a: taken.append(a))
    assert [(previous.holder.pid, reason.endswith("no longer exists")) for previous, reason in taken] == [
        (child.pid, True)
    ]


def test_a_live_holder_on_this_host_is_waited_for(store: Store) -> None:
    me = this_process("live-run")
    plant(store, me)
    assert not holder_process_gone(me)
    assert not try_lock(store, LOCK, "second-run", HOUR)
    assert lock_holder(store, LOCK) == "live-run"


@pytest.mark.skipif(this_process("x").started is None, reason="process start times come from /proc")
def test_a_reused_pid_does_not_keep_a_dead_holders_lock(store: Store) -> None:
    """The holder's pid now belongs to a later process (this one): its start time differs."""
    me = this_process("x")
    assert me.started is not None
    plant(store, dataclasses.replace(me, run="killed-run", started=me.started - 1))
    assert try_lock(store, LOCK, "second-run", HOUR)
    assert lock_holder(store, LOCK) == "second-run"


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"host": "another-machine"},
        {"pid_namespace": 1},  # another container on this machine: its pids are not ours to check
        {"host": None, "pid": None},  # written before holders recorded their process
    ],
)
def test_a_holder_this_host_cannot_check_is_waited_for_until_its_lock_expires(
    store: Store, elsewhere: dict[str, Any]
) -> None:
    holder = dataclasses.replace(this_process("other-run"), **{"pid": dead_pid(), **elsewhere})
    plant(store, holder)
    assert not holder_process_gone(holder)
    assert not try_lock(store, LOCK, "second-run", HOUR)
    assert lock_holder(store, LOCK) == "other-run"
    with store.begin() as conn:  # hours later
        conn.execute(update(run_locks).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    taken: list[str] = []
    assert try_lock(store, LOCK, "second-run", HOUR, on_take_over=lambda _, why: taken.append(why))
    assert lock_holder(store, LOCK) == "second-run" and taken[0].startswith("its lock expired at ")


def test_a_run_is_released_by_its_id_whichever_process_took_its_lock(store: Store) -> None:
    plant(store, LockHolder(run="ended-run", host="another-machine", pid=4242))
    release_lock(store, LOCK, "another-run")  # not its holder: nothing happens
    assert lock_holder(store, LOCK) == "ended-run"
    release_lock(store, LOCK, "ended-run")  # what a waiter does once Prefect says the run ended
    assert lock_record(store, LOCK) is None


@pytest.mark.parametrize(
    "holder",
    [
        LockHolder(
            run="0b7d7c1e-7a43-4c4b-9f5e-2f2a4d1c9b10", host="box", pid=7, started=12, pid_namespace=40
        ),
        LockHolder(run="run [1] of host x pid 2", host="box.example.org", pid=31337),
        LockHolder(run="a plain holder"),
    ],
)
def test_the_holder_column_keeps_run_and_process(holder: LockHolder) -> None:
    assert LockHolder.decode(holder.encode()) == holder
    assert len(this_process("0b7d7c1e-7a43-4c4b-9f5e-2f2a4d1c9b10").encode()) <= 256  # the column's width


def test_a_waiter_is_told_once_per_holder_who_holds_the_week_and_until_when(store: Store) -> None:
    assert try_lock(store, LOCK, "run-1", HOUR)
    told: list[LockRecord] = []
    polls = 0

    def sleep(_: float) -> None:  # the lock changes hands while the run waits, then is freed
        nonlocal polls
        polls += 1
        if polls == 3:
            release_lock(store, LOCK, "run-1")
            assert try_lock(store, LOCK, "run-3", HOUR)
        if polls == 6:
            release_lock(store, LOCK, "run-3")

    with week_lock(store, "2026-W47", "run-2", on_wait=told.append, sleep=sleep):
        assert lock_holder(store, LOCK) == "run-2"
    assert polls == 6
    assert [t.holder.run for t in told] == ["run-1", "run-3"]
    assert all(t.expires_at - t.acquired_at == HOUR and t.holder.pid == os.getpid() for t in told)


def test_a_timed_out_waiter_names_the_holders_process(store: Store) -> None:
    plant(store, LockHolder(run="busy-run", host="another-machine", pid=4242))
    timed_out = pytest.raises(LockTimeout, match=r"held by run busy-run \(host another-machine, pid 4242\)")
    with timed_out, week_lock(store, "2026-W47", "run-2", timeout=0.0, sleep=lambda _: None):
        pass
