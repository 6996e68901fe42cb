"""Several workers writing the same papers at once lose and duplicate nothing."""

from __future__ import annotations

import multiprocessing as mp
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dltheory_digest.models import Item, ItemKind, Paper
from dltheory_digest.store import Store, head_revision, open_store, save_papers
from dltheory_digest.store.records import save_items
from dltheory_digest.store.schema import items, papers


def _writer(url: str, worker: int, rounds: int) -> None:
    store = open_store(url)
    for r in range(rounds):
        batch = [
            Paper(
                key=f"arxiv:2611.{n:05d}",
                title=f"Paper {n}",
                arxiv_id=f"2611.{n:05d}",
                version=1 + (r + worker) % 3,
                authors=(f"Worker {worker}",),
            )
            for n in range(50)
        ]
        save_papers(store, batch)
    store.close()


def test_two_processes_write_the_same_papers(store: Store, store_url: str) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(store_url, w, 5)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(papers)).scalar() == 50
        versions = conn.execute(select(papers.c.latest_version)).scalars().all()
    assert set(versions) == {3}  # the newest version seen by any worker wins


def _opener(url: str, start: Any, failures: Any) -> None:
    start.wait(60)
    try:
        open_store(url).close()
    except Exception as exc:  # reported to the test, which names it
        failures.put(f"{type(exc).__name__}: {exc}")


def test_runs_starting_together_on_a_new_store_create_it_once(tmp_path: Path) -> None:
    """Two runs (a cron run and a manual refresh, say) opening a store that does not exist yet
    would both create its tables; one migrates while the others wait, then find it made."""
    ctx = mp.get_context("spawn")
    for attempt in range(2):
        url = f"sqlite:///{tmp_path / f'new-{attempt}.sqlite'}"
        start, failures = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_opener, args=(url, start, failures)) for _ in range(3)]
        for p in procs:
            p.start()
        start.set()
        for p in procs:
            p.join(120)
        assert failures.empty(), failures.get()
        assert all(p.exitcode == 0 for p in procs)
        store = open_store(url)
        assert store.revision() == head_revision()
        store.close()


def test_runs_starting_together_on_a_new_database_create_it_once(store_url: str) -> None:
    if store_url.startswith("sqlite"):
        pytest.skip("SQLite: the test above")
    ctx = mp.get_context("spawn")
    start, failures = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(store_url, start, failures)) for _ in range(3)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert failures.empty(), failures.get()
    store = open_store(store_url)
    assert store.revision() == head_revision()
    store.close()


def test_two_runs_writing_the_same_items_in_opposite_orders_do_not_deadlock(store_url: str) -> None:
    """A run records a feed newest first while another builds the week from items read back in
    key order; unsorted, PostgreSQL deadlocked them within seconds (4 of 12 writes failed)."""
    posts = [
        Item("blog", ItemKind.POST, f"Post {n}", url=f"https://blog.example/{n:05d}") for n in range(2000)
    ]
    runs = [open_store(store_url), open_store(store_url)]
    failures: list[str] = []

    def write(store: Store, batch: list[Item]) -> None:
        for _ in range(4):
            try:
                save_items(store, batch)
            except Exception as exc:  # reported by the assertion below
                failures.append(f"{type(exc).__name__}: {exc}")

    threads = [
        threading.Thread(target=write, args=(runs[0], posts[::-1])),
        threading.Thread(target=write, args=(runs[1], posts)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    for store in runs:
        store.close()
    assert failures == []
    check = open_store(store_url)
    with check.begin() as conn:
        assert conn.execute(select(func.count()).select_from(items)).scalar() == 2000
    check.close()
