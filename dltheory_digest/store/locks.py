"""Coordination through the store, so it holds across processes and machines.

- `week_lock`: one run per week at a time; a second run of the same week waits.
- `StoreLimiter`: a rate limit shared by every worker (arXiv: one request every 3 s in all).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from dltheory_digest.store.db import Store, upsert
from dltheory_digest.store.schema import rate_limits, run_locks


class LockTimeout(TimeoutError):
    pass


# The week locks this process holds, so an interrupted command can release them on its way out
# (`release_held_locks`) instead of leaving its week blocked until the lock expires.
_HELD: dict[tuple[int, str], tuple[Store, str, str]] = {}


def release_held_locks() -> list[str]:
    """Release every week lock this process holds (best effort); the names released."""
    released = []
    for store, name, holder in list(_HELD.values()):
        try:
            release_lock(store, name, holder)
            released.append(name)
        except Exception:  # on the way out: the lock still expires in time
            continue
    _HELD.clear()
    return released


def try_lock(store: Store, name: str, holder: str, ttl: dt.timedelta) -> bool:
    """Take `name` if free or expired; True when `holder` now has it."""
    now = dt.datetime.now(dt.UTC)
    row = {"name": name, "holder": holder, "acquired_at": now, "expires_at": now + ttl}
    try:
        with store.begin() as conn:
            conn.execute(insert(run_locks), [row])
        return True
    except IntegrityError:
        pass
    with store.begin() as conn:  # take over a lock whose holder died (expired)
        taken = conn.execute(
            update(run_locks)
            .where(run_locks.c.name == name, run_locks.c.expires_at < now)
            .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        )
        return taken.rowcount == 1


def release_lock(store: Store, name: str, holder: str) -> None:
    with store.begin() as conn:
        conn.execute(delete(run_locks).where(run_locks.c.name == name, run_locks.c.holder == holder))


def lock_holder(store: Store, name: str) -> str | None:
    with store.begin() as conn:
        return conn.execute(select(run_locks.c.holder).where(run_locks.c.name == name)).scalar()


@contextmanager
def week_lock(
    store: Store,
    week: str,
    holder: str,
    *,
    ttl: dt.timedelta = dt.timedelta(hours=6),
    timeout: float | None = None,
    poll: float = 1.0,
    on_wait: Callable[[str | None], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the lock of `week` for the body; wait (up to `timeout`) while another run holds it."""
    name = f"week-{week}"
    deadline = None if timeout is None else time.monotonic() + timeout
    told = False
    while not try_lock(store, name, holder, ttl):
        if deadline is not None and time.monotonic() > deadline:
            raise LockTimeout(f"{name} is held by {lock_holder(store, name)}")
        if on_wait and not told:
            on_wait(lock_holder(store, name))
            told = True
        sleep(poll)
    _HELD[(id(store), name)] = (store, name, holder)
    try:
        yield
    finally:
        _HELD.pop((id(store), name), None)
        release_lock(store, name, holder)


class StoreLimiter:
    """Spaces requests to a key by `min_interval` across every process using the same store.

    Each caller reserves the next free slot in one short transaction, then sleeps until it;
    no process holds a database lock while waiting.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store = store
        self.clock = clock
        self.sleep = sleep

    def reserve(self, key: str, min_interval: float) -> float:
        """Reserve a slot; returns the epoch time at which the request may start."""
        with self.store.begin() as conn:
            # the upsert takes the write lock first (SQLite: RESERVED), so reservations serialize
            upsert(conn, rate_limits, [{"key": key, "next_at": 0.0}], ["key"], update=[])
            query = select(rate_limits.c.next_at).where(rate_limits.c.key == key)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            next_at = conn.execute(query).scalar_one()
            start = max(self.clock(), next_at)
            conn.execute(
                update(rate_limits).where(rate_limits.c.key == key).values(next_at=start + min_interval)
            )
        return start

    def acquire(self, key: str, min_interval: float) -> None:
        start = self.reserve(key, min_interval)
        delay = start - self.clock()
        if delay > 0:
            self.sleep(delay)
