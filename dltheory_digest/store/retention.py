"""How large the store is, and pruning what old weeks no longer need (`dltheory-digest store`).

What a run reads of the past, and so what pruning keeps:
- the sent-ledger and the paper records of sent papers, for good: a paper sent two years ago is
  still known (`ledger.load_history`), never `new` again;
- the deliveries, Crossref's records and the translations: small, and each saves a request;
- every digest's row and Markdown (what readers got; `send --week` mails it again), and the
  whole digest (`digests.data`) of the last weeks, which a rerun of a sent week keeps as sent;
- each sighting a source still lists (a notes page's links, seen again every week): it keeps
  the week it was first attributed to, so its resources and posts are not announced again.

What goes, for weeks before the kept ones: sightings no source listed since (`items`, their
`week_items` and links to papers), papers that no digest presented and no source listed since,
the digest JSON, the per-source reports, the title searches long expired, and the fetch log (each
source keeps its newest success).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Text, and_, delete, exists, func, literal, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from dltheory_digest.errors import StoreError
from dltheory_digest.store.db import Store, backups_of, store_problem
from dltheory_digest.store.records import own_page_success
from dltheory_digest.store.schema import (
    PACKED,
    digests,
    fetches,
    item_papers,
    items,
    metadata,
    papers,
    sent_ledger,
    title_misses,
    week_items,
    week_reports,
)
from dltheory_digest.weeks import CATCH_UP_WEEKS, Week

# A run catches up on the CATCH_UP_WEEKS weeks before it (their sightings and reports are read
# again) and may rebuild a week its readers have from its digest JSON: keep twice that at least.
MIN_KEEP_WEEKS = 2 * CATCH_UP_WEEKS


@dataclass(frozen=True)
class PruneReport:
    """What `prune` removed (or, in a dry run, would remove): rows per table."""

    first_kept_week: str
    removed: dict[str, int]
    digests_emptied: int  # digest rows whose JSON went (their Markdown is kept)
    digests_packed: int  # rows an older release stored plain, now deflated (`PackedText`)
    dry_run: bool


@dataclass(frozen=True)
class TableSize:
    name: str
    rows: int
    bytes: int | None  # None where the back-end does not say (SQLite without dbstat)


@dataclass(frozen=True)
class StoreInfo:
    url: str
    tables: tuple[TableSize, ...]
    oldest_week: str | None
    newest_week: str | None
    file_bytes: int | None  # the SQLite file with its -wal; None for PostgreSQL
    free_bytes: int | None  # SQLite pages free inside the file, which VACUUM gives back
    backups: tuple[tuple[Path, int], ...]  # copies upgrades left beside the file, with sizes


def first_kept_week(keep_weeks: int, *, today: dt.date | None = None) -> Week:
    """The oldest week `prune(keep_weeks=...)` keeps whole: the current week and the
    `keep_weeks` before it."""
    today = today or dt.datetime.now(dt.UTC).date()
    return Week.containing(today - dt.timedelta(weeks=keep_weeks))


def prune(
    store: Store, *, keep_weeks: int, today: dt.date | None = None, dry_run: bool = False
) -> PruneReport:
    """Remove what weeks older than the last `keep_weeks` no longer need (the module's doc says
    what is kept), in one transaction; with `dry_run` the same counts and nothing removed.

    Deleted rows leave free pages in a SQLite file: `vacuum` gives them back to the disk."""
    if keep_weeks < MIN_KEEP_WEEKS:
        raise StoreError(
            f"--keep-weeks {keep_weeks}: keep at least {MIN_KEEP_WEEKS} weeks (a run reads "
            f"back the {CATCH_UP_WEEKS} weeks before it, and reruns of recent weeks need theirs)"
        )
    first = first_kept_week(keep_weeks, today=today)
    week = str(first)
    since = dt.datetime.combine(first.monday, dt.time(0, 0), tzinfo=dt.UTC)
    removed: dict[str, int] = {}
    with (
        _refused_as("prune", "nothing was removed"),
        store.engine.connect() as conn,
        conn.begin() as transaction,
    ):
        seen_since = exists().where(
            items.c.source_id == week_items.c.source_id,
            items.c.item_key == week_items.c.item_key,
            items.c.last_seen >= since,
        )
        removed["week_items"] = _count(
            conn.execute(delete(week_items).where(week_items.c.week < week, ~seen_since))
        )
        # a sighting no source listed since, with no week left that it belongs to
        attributed = exists().where(
            week_items.c.source_id == items.c.source_id, week_items.c.item_key == items.c.item_key
        )
        gone = and_(items.c.last_seen < since, ~attributed)
        removed["item_papers"] = _count(
            conn.execute(delete(item_papers).where(item_papers.c.item_id.in_(select(items.c.id).where(gone))))
        )
        removed["items"] = _count(conn.execute(delete(items).where(gone)))
        # NOT IN a subquery: SQLite builds its key set once (item_papers is keyed by item first)
        removed["papers"] = _count(
            conn.execute(
                delete(papers).where(
                    papers.c.last_seen < since,
                    papers.c.key.not_in(select(sent_ledger.c.paper_key)),
                    papers.c.key.not_in(select(item_papers.c.paper_key)),
                )
            )
        )
        removed["week_reports"] = _count(conn.execute(delete(week_reports).where(week_reports.c.week < week)))
        # one row per request, for ever: each source keeps its newest success (`sources check`
        # says when a source last worked, however long ago)
        newest_success = (
            select(func.max(fetches.c.id)).where(own_page_success()).group_by(fetches.c.source_id)
        )
        removed["fetches"] = _count(
            conn.execute(
                delete(fetches).where(fetches.c.fetched_at < since, fetches.c.id.not_in(newest_success))
            )
        )
        removed["title_misses"] = _count(
            conn.execute(delete(title_misses).where(title_misses.c.searched_at < since))
        )
        emptied = _count(
            conn.execute(
                update(digests).where(digests.c.week < week, digests.c.data.is_not(None)).values(data=None)
            )
        )
        packed = _pack_plain_digests(conn, count_only=dry_run)
        if dry_run:
            transaction.rollback()
    return PruneReport(week, removed, emptied, packed, dry_run)


@contextmanager
def _refused_as(action: str, outcome: str) -> Iterator[None]:
    """A database error (the store locked by a run for over 30 s, a full disk) as one line."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreError(f"{action}: {store_problem(exc)}; {outcome}") from exc


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _pack_plain_digests(conn: Connection, *, count_only: bool = False) -> int:
    """Rewrite, one row at a time, the digests an older release stored plain: `PackedText`
    deflates them on the way in (a year of busy weeks: 480 MB of JSON to about 130)."""
    # compared as stored: `literal` keeps PackedText from packing the prefix itself
    prefix = literal(PACKED, Text)
    markdown_plain = func.substr(digests.c.markdown, 1, len(PACKED)) != prefix
    data_plain = and_(digests.c.data.is_not(None), func.substr(digests.c.data, 1, len(PACKED)) != prefix)
    keys = conn.execute(select(digests.c.week, digests.c.edition).where(markdown_plain | data_plain)).all()
    for week, edition in [] if count_only else keys:
        row = (digests.c.week == week) & (digests.c.edition == edition)
        # read through the type (plain text reads as it is) and written back packed
        found = conn.execute(select(digests.c.markdown, digests.c.data).where(row)).one()
        conn.execute(update(digests).where(row).values(markdown=found.markdown, data=found.data))
    return len(keys)


def vacuum(store: Store) -> bool:
    """Give the free pages of a SQLite store back to the disk (VACUUM rewrites the file: it needs
    as much free disk as the store, and waits for other writers). False on PostgreSQL, whose
    autovacuum reuses the space by itself."""
    if store.engine.dialect.name != "sqlite":
        return False
    with (
        _refused_as("vacuum", "the rows are removed, the file keeps its size"),
        store.engine.connect() as conn,
    ):
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # and the journal beside it
    return True


def store_info(store: Store) -> StoreInfo:
    """Rows (and, on SQLite, bytes) per table, the weeks the store covers, the file and the
    upgrade copies beside it: what an operator needs to decide on `prune`."""
    sizes = _table_bytes(store)
    with store.begin() as conn:
        tables = tuple(
            TableSize(
                t.name,
                int(conn.execute(select(func.count()).select_from(t)).scalar() or 0),
                sizes.get(t.name),
            )
            for t in metadata.sorted_tables
        )
        weeks = [
            conn.execute(select(func.min(table.c.week), func.max(table.c.week))).one()
            for table in (week_items, digests, sent_ledger)
        ]
    oldest = min((w[0] for w in weeks if w[0]), default=None)
    newest = max((w[1] for w in weeks if w[1]), default=None)
    path = _sqlite_path(store)
    file_bytes = free = None
    backups: tuple[tuple[Path, int], ...] = ()
    if path is not None and path.is_file():
        wal = Path(f"{path}-wal")
        file_bytes = path.stat().st_size + (wal.stat().st_size if wal.is_file() else 0)
        with store.engine.connect() as conn:
            free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0) * int(
                conn.exec_driver_sql("PRAGMA page_size").scalar() or 0
            )
        backups = tuple((b, b.stat().st_size) for b in backups_of(path))
    return StoreInfo(store.url, tables, oldest, newest, file_bytes, free, backups)


def _sqlite_path(store: Store) -> Path | None:
    database = store.engine.url.database
    if store.engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        return None
    return Path(str(database))


def _table_bytes(store: Store) -> dict[str, int]:
    """Bytes per table, its indexes included: SQLite's dbstat, PostgreSQL's total relation size."""
    query: Callable[[Connection], list[tuple[str, int]]] = (
        _sqlite_bytes if store.engine.dialect.name == "sqlite" else _postgresql_bytes
    )
    try:
        with store.engine.connect() as conn:
            return dict(query(conn))
    except SQLAlchemyError:  # a SQLite built without dbstat: the rows are still counted
        return {}


def _sqlite_bytes(conn: Connection) -> list[tuple[str, int]]:
    owners: dict[str, str] = {
        row.name: row.tbl_name for row in conn.exec_driver_sql("SELECT name, tbl_name FROM sqlite_master")
    }
    totals: dict[str, int] = {}
    for name, size in conn.exec_driver_sql("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").all():
        table = owners.get(name, name)
        totals[table] = totals.get(table, 0) + int(size)
    return list(totals.items())


def _postgresql_bytes(conn: Connection) -> list[tuple[str, int]]:
    return [
        (
            t.name,
            int(conn.execute(text("SELECT pg_total_relation_size(:name)"), {"name": t.name}).scalar() or 0),
        )
        for t in metadata.sorted_tables
    ]
