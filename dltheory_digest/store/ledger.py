"""The sent-ledger: which papers each week's digest presented, at which version and title, seen where."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace

from sqlalchemy import select

from dltheory_digest.identity.novelty import ALIAS, LedgerEntry, SentPaper
from dltheory_digest.models import Paper
from dltheory_digest.store.db import Store, upsert
from dltheory_digest.store.records import paper_from_row
from dltheory_digest.store.schema import papers, sent_ledger

_CHUNK = 500  # keys per IN (...) query; far below every back-end's parameter limit


def _chunks(keys: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def load_history(store: Store, paper_keys: Iterable[str]) -> dict[str, list[LedgerEntry]]:
    """Every ledger entry of the given papers, oldest week first; papers never sent are absent."""
    keys = sorted(set(paper_keys))
    history: dict[str, list[LedgerEntry]] = {}
    with store.begin() as conn:
        for chunk in _chunks(keys):
            rows = conn.execute(
                select(
                    sent_ledger.c.paper_key,
                    sent_ledger.c.week,
                    sent_ledger.c.version,
                    sent_ledger.c.source_ids,
                    sent_ledger.c.langs,
                    sent_ledger.c.title,
                )
                .where(sent_ledger.c.paper_key.in_(chunk))
                .order_by(sent_ledger.c.paper_key, sent_ledger.c.week)
            )
            for row in rows:
                history.setdefault(row.paper_key, []).append(
                    LedgerEntry(
                        paper_key=row.paper_key,
                        week=row.week,
                        version=row.version,
                        source_ids=tuple(row.source_ids or ()),
                        langs=tuple(row.langs or ()),
                        title=row.title,  # None in rows written before the ledger kept titles
                    )
                )
    return history


def sent_papers(
    store: Store,
    *,
    since: str,
    before: str,
    skip_weeks: Collection[str] = (),
    wanted: Callable[[SentPaper], bool] | None = None,
) -> list[SentPaper]:
    """The papers the digests of weeks `since` <= week < `before` presented (not `skip_weeks`),
    one per ledger key (aliases left out), with the title of the last week that showed each and,
    for an arXiv key, the store's metadata; by key.

    `wanted` (`novelty.sent_paper_filter`) picks the papers worth the metadata: a busy year
    sends a hundred thousand, so keys and titles are read first, and the rest for those only."""
    query = (
        select(sent_ledger.c.paper_key, sent_ledger.c.week, sent_ledger.c.title)
        .where(
            sent_ledger.c.week >= since,
            sent_ledger.c.week < before,
            ~sent_ledger.c.paper_key.startswith(ALIAS, autoescape=True),
        )
        .order_by(sent_ledger.c.week)  # the week index's order: no sort
    )
    latest: dict[str, tuple[str, str | None]] = {}
    with store.begin() as conn:
        for key, week, title in conn.execute(query).all():  # fetched at once: a row at a time is slower
            if week not in skip_weeks:
                latest[key] = (week, title)  # ordered by week: the title readers saw last
        found = (SentPaper(key=key, week=week, title=title) for key, (week, title) in latest.items())
        chosen = sorted((s for s in found if wanted is None or wanted(s)), key=lambda s: s.key)
        del latest
        known: dict[str, Paper] = {}
        for chunk in _chunks([s.key for s in chosen if s.key.startswith("arxiv:")]):
            for row in conn.execute(select(papers).where(papers.c.key.in_(chunk))).mappings():
                known[row["key"]] = paper_from_row(dict(row))
    return [replace(s, paper=known[s.key]) if s.key in known else s for s in chosen]


def record_week(
    store: Store,
    week: str,
    entries: Iterable[LedgerEntry],
    *,
    sections: Mapping[str, str] | None = None,
) -> int:
    """Record what `week`'s digest presented; rerunning the week overwrites its own rows only.

    `sections` maps a paper key to the digest part that showed it ("new", "updated");
    unlisted papers are "new". Returns the number of entries written.
    """
    now = dt.datetime.now(dt.UTC)
    rows = []
    for entry in entries:
        if entry.week != week:
            raise ValueError(f"ledger entry for {entry.paper_key} is of week {entry.week}, not {week}")
        rows.append(
            {
                "paper_key": entry.paper_key,
                "week": week,
                "version": entry.version,
                "source_ids": sorted(set(entry.source_ids)),
                "langs": sorted(set(entry.langs)),
                "section": (sections or {}).get(entry.paper_key, "new"),
                "title": entry.title,
                "created_at": now,
            }
        )
    if not rows:
        return 0
    with store.begin() as conn:
        # created_at keeps the first recording; the rest reflects the latest run of the week
        upsert(
            conn,
            sent_ledger,
            rows,
            keys=("paper_key", "week"),
            update=("version", "source_ids", "langs", "section", "title"),
        )
    return len(rows)


def weeks_sent(store: Store) -> list[str]:
    """Weeks with at least one ledger entry, oldest first."""
    with store.begin() as conn:
        return [
            w for (w,) in conn.execute(select(sent_ledger.c.week).distinct().order_by(sent_ledger.c.week))
        ]
