from __future__ import annotations

import threading
import time

from dltheory_digest.store import Store
from dltheory_digest.store.locks import StoreLimiter, lock_holder, release_held_locks, try_lock, week_lock


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
            store, "2026-W47", "run-2", poll=0.05, on_wait=lambda h: events.append(f"waiting for {h}")
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
    import datetime as dt

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


def test_an_interrupted_process_releases_the_week_locks_it_holds(store: Store) -> None:
    with week_lock(store, "2026-W47", "run-a"):
        assert lock_holder(store, "week-2026-W47") == "run-a"
        # what the CLI's signal handler calls before it exits
        assert release_held_locks() == ["week-2026-W47"]
        assert lock_holder(store, "week-2026-W47") is None
    assert release_held_locks() == []  # nothing left once the body ended
