"""Coordination through the store, so it holds across processes and machines.

- `week_lock`: one run per week at a time; a second run of the same week waits.
- `StoreLimiter`: a rate limit shared by every worker (arXiv: one request every 3 s in all).

A lock's holder column records the run and the process it runs in (`LockHolder`): host name,
pid, the process's start time and pid namespace (Linux), so a waiter on the same machine can
see that a SIGKILLed holder is gone and take its lock at once instead of waiting for it to
expire. Nothing else can tell: a killed process releases nothing, and a Prefect temporary
server that died with it never records the run as ended.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from dltheory_digest.errors import StoreError
from dltheory_digest.store.db import Store, upsert
from dltheory_digest.store.schema import rate_limits, run_locks
from dltheory_digest.weeks import as_utc

log = logging.getLogger(__name__)


class LockTimeout(StoreError, TimeoutError):
    """A lock another run holds was not released within the wait asked for."""


@dataclasses.dataclass(frozen=True)
class LockHolder:
    """Who holds a lock: a run, and the process it ran in when it took the lock."""

    run: str
    host: str | None = None
    pid: int | None = None
    # Linux only: the start time (clock ticks after boot) tells a reused pid from the holder,
    # and pids are comparable only within one pid namespace (a container has its own)
    started: int | None = None
    pid_namespace: int | None = None

    def encode(self) -> str:
        """The holder column's text: `<run> [host H pid P start S pidns N]` (readable in the table)."""
        if self.host is None or self.pid is None:
            return self.run
        where = f"host {self.host} pid {self.pid}"
        if self.started is not None:
            where += f" start {self.started}"
        if self.pid_namespace is not None:
            where += f" pidns {self.pid_namespace}"
        return f"{self.run} [{where}]"

    @classmethod
    def decode(cls, text: str) -> LockHolder:
        """A holder column's text; one written before processes were recorded is a run alone."""
        found = _ENCODED_HOLDER.fullmatch(text)
        if found is None:
            return cls(run=text)
        start, pidns = found["start"], found["pidns"]
        return cls(
            run=found["run"],
            host=found["host"],
            pid=int(found["pid"]),
            started=int(start) if start is not None else None,
            pid_namespace=int(pidns) if pidns is not None else None,
        )

    def describe(self) -> str:
        if self.host is None or self.pid is None:
            return f"run {self.run}"
        return f"run {self.run} (host {self.host}, pid {self.pid})"


_ENCODED_HOLDER = re.compile(
    r"(?P<run>.+) \[host (?P<host>[^\s\[\]]+) pid (?P<pid>[1-9]\d*)"
    r"(?: start (?P<start>\d+))?(?: pidns (?P<pidns>\d+))?\]"
)


@dataclasses.dataclass(frozen=True)
class LockRecord:
    """A lock as the store holds it; `stored` is the holder column as written."""

    name: str
    holder: LockHolder
    stored: str
    acquired_at: dt.datetime
    expires_at: dt.datetime


def this_process(run: str) -> LockHolder:
    """`run` as held by the current process."""
    pid = os.getpid()
    stat = _proc_stat(pid)
    return LockHolder(
        run=run,
        host=_host_name(),
        pid=pid,
        started=stat[1] if stat else None,
        pid_namespace=_pid_namespace(),
    )


def holder_process_gone(holder: LockHolder) -> bool:
    """True only when `holder` ran on this machine (same host and pid namespace) and its process
    no longer exists (or is a zombie, or its pid now belongs to a later process). A holder on
    another machine, or recorded without its process, is never taken for gone."""
    if holder.pid is None or holder.host is None:
        return False
    here = this_process(holder.run)
    if (holder.host, holder.pid_namespace) != (here.host, here.pid_namespace):
        return False
    return _process_ended(holder.pid, holder.started)


def _host_name() -> str:
    # the encoding's separators and the column's width (256) rule out spaces, brackets, long names
    return re.sub(r"[\s\[\]]", "-", socket.gethostname())[:100] or "unknown"


def _pid_namespace() -> int | None:
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:  # not Linux
        return None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks after boot) of `pid` from /proc, or None without /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may itself hold spaces and ")"
    fields = text.rpartition(")")[2].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def _process_ended(pid: int, started: int | None) -> bool:
    if os.name != "posix" or pid <= 0:
        return False  # on Windows os.kill(pid, 0) would terminate the process: never ask
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, run by another user
        pass
    stat = _proc_stat(pid)
    if stat is None:  # no /proc (macOS), or hidden from us (hidepid): it exists
        return False
    state, start = stat
    if state in ("Z", "X"):  # killed, not yet reaped by its parent
        return True
    return started is not None and start != started  # the pid was reused by a later process


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


def _log_take_over(previous: LockRecord, reason: str) -> None:
    log.warning("took over %s from %s: %s", previous.name, previous.holder.describe(), reason)


def try_lock(
    store: Store,
    name: str,
    holder: str,
    ttl: dt.timedelta,
    *,
    on_take_over: Callable[[LockRecord, str], None] = _log_take_over,
) -> bool:
    """Take `name` for run `holder` if free, expired, or held by a process of this machine that
    no longer exists; True when `holder` now has it. A lock taken from another run is reported
    to `on_take_over` (the previous lock, why)."""
    now = dt.datetime.now(dt.UTC)
    row = {
        "name": name,
        "holder": this_process(holder).encode(),
        "acquired_at": now,
        "expires_at": now + ttl,
    }
    try:
        with store.begin() as conn:
            conn.execute(insert(run_locks), [row])
        return True
    except IntegrityError:
        pass
    current = lock_record(store, name)
    if current is None:
        return False  # released in between: the next attempt inserts
    if current.expires_at < now:
        reason = f"its lock expired at {_when(current.expires_at)}"
    elif holder_process_gone(current.holder):
        reason = f"its process {current.holder.pid} on {current.holder.host} no longer exists"
    else:
        return False
    # one statement, conditioned on the holder read above: of two waiters, one takes it
    with store.begin() as conn:
        taken = conn.execute(
            update(run_locks)
            .where(run_locks.c.name == name, run_locks.c.holder == current.stored)
            .values(holder=row["holder"], acquired_at=now, expires_at=row["expires_at"])
        )
    if taken.rowcount != 1:
        return False
    on_take_over(current, reason)
    return True


def release_lock(store: Store, name: str, holder: str) -> None:
    """Release `name` if run `holder` holds it (whichever process took it for that run)."""
    current = lock_record(store, name)
    if current is None or current.holder.run != holder:
        return
    with store.begin() as conn:
        conn.execute(delete(run_locks).where(run_locks.c.name == name, run_locks.c.holder == current.stored))


def lock_record(store: Store, name: str) -> LockRecord | None:
    with store.begin() as conn:
        row = conn.execute(select(run_locks).where(run_locks.c.name == name)).first()
    if row is None:
        return None
    return LockRecord(
        name=name,
        holder=LockHolder.decode(row.holder),
        stored=row.holder,
        acquired_at=as_utc(row.acquired_at),
        expires_at=as_utc(row.expires_at),
    )


def lock_holder(store: Store, name: str) -> str | None:
    """The run holding `name`, or None."""
    current = lock_record(store, name)
    return current.holder.run if current else None


def _when(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


@contextmanager
def week_lock(
    store: Store,
    week: str,
    holder: str,
    *,
    ttl: dt.timedelta = dt.timedelta(hours=6),
    timeout: float | None = None,
    poll: float = 1.0,
    on_wait: Callable[[LockRecord], None] | None = None,
    on_take_over: Callable[[LockRecord, str], None] = _log_take_over,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the lock of `week` for the body; wait (up to `timeout`) while another run holds it.
    `on_wait` hears of each holder waited for once, not at every poll."""
    name = f"week-{week}"
    deadline = None if timeout is None else time.monotonic() + timeout
    told: LockHolder | None = None
    while not try_lock(store, name, holder, ttl, on_take_over=on_take_over):
        current = lock_record(store, name)
        if deadline is not None and time.monotonic() > deadline:
            held_by = current.holder.describe() if current else "another run"
            raise LockTimeout(f"{name} is held by {held_by}")
        if on_wait and current is not None and current.holder != told:
            on_wait(current)
            told = current.holder
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
            next_at: float = conn.execute(query).scalar_one()
            start = max(self.clock(), next_at)
            conn.execute(
                update(rate_limits).where(rate_limits.c.key == key).values(next_at=start + min_interval)
            )
        return start

    def acquire(self, key: str, min_interval: float) -> float:
        start = self.reserve(key, min_interval)
        delay = start - self.clock()
        if delay > 0:
            self.sleep(delay)
        return start

    def release(self, key: str, slot: float, min_interval: float) -> None:
        """Give back a slot whose request never reached the server, if no worker reserved after it.

        The guard compares the stored float with the very sum `reserve` wrote, so it is exact;
        a later reservation (another worker queued behind) keeps the key where it is.
        """
        with self.store.begin() as conn:
            conn.execute(
                update(rate_limits)
                .where(rate_limits.c.key == key, rate_limits.c.next_at == slot + min_interval)
                .values(next_at=slot)
            )
