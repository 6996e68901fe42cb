"""Several workers writing the same papers at once lose and duplicate nothing."""

from __future__ import annotations

import multiprocessing as mp

from sqlalchemy import func, select

from dltheory_digest.models import Paper
from dltheory_digest.store import Store, open_store, save_papers
from dltheory_digest.store.schema import papers


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
