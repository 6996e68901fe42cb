"""Reading and writing what the pipeline saw: fetches, items, papers, weeks, digests, cursors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import ColumnElement, delete, func, or_, select

from dltheory_digest.ids import DOI_LENGTH
from dltheory_digest.models import (
    AnnounceType,
    DoiRecord,
    FetchRecord,
    Item,
    ItemKind,
    Paper,
    RawPage,
    Resolution,
    SourceReport,
    TitleMiss,
)
from dltheory_digest.store.db import Store, upsert
from dltheory_digest.store.schema import (
    cursors,
    digests,
    doi_records,
    fetches,
    item_papers,
    items,
    papers,
    title_misses,
    week_items,
    week_reports,
)
from dltheory_digest.weeks import Week, as_utc


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else as_utc(value)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- text no store can hold ------------------------------------------------------------

# NUL (PostgreSQL's text refuses it) and lone UTF-16 surrogates (no UTF-8 encoder takes them,
# so SQLite refuses them too): JSON APIs hand out both ("\u0000", an emoji cut in half).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """`text` without the characters no store can hold (`_UNSTORABLE`)."""
    return _UNSTORABLE.sub("", text)


def storable(item: Item) -> Item:
    """`item` with those characters removed from every text it carries (its cited mentions
    too), so its key, its row and the week rebuilt from it agree; the same item when clean.
    A DOI longer than its column (`DOI_LENGTH`) is dropped: no DOI, but the sighting is kept."""
    changes: dict[str, Any] = {}
    if item.doi is not None and len(item.doi) > DOI_LENGTH:  # PostgreSQL refuses it, stopping the run
        changes["doi"] = None
    for f in dataclasses.fields(item):
        if f.name in changes:
            continue
        value = getattr(item, f.name)
        clean: object
        if isinstance(value, str):
            clean = storable_text(value)
        elif f.name == "cited":
            clean = tuple(storable(c) for c in value)
        elif f.name == "extra":
            clean = tuple((storable_text(k), storable_text(v)) for k, v in value)
        elif isinstance(value, tuple):
            clean = tuple(storable_text(v) for v in value)
        else:
            continue
        if clean != value:
            changes[f.name] = clean
    return dataclasses.replace(item, **changes) if changes else item


# --- Item <-> JSON ----------------------------------------------------------------------


def item_to_json(item: Item) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if isinstance(value, dt.datetime):
            value = as_utc(value).isoformat()
        elif f.name == "cited":
            value = [item_to_json(c) for c in value]
        elif isinstance(value, tuple):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        elif isinstance(value, (ItemKind, AnnounceType)):
            value = value.value
        data[f.name] = value
    return data


def item_from_json(data: Mapping[str, Any]) -> Item:
    kwargs: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(Item)}
    for key, value in data.items():
        if key not in names:
            continue  # a field removed in a later release: ignore it
        if key in ("published", "updated") and value:
            value = dt.datetime.fromisoformat(value)
        elif key == "kind":
            value = ItemKind(value)
        elif key == "announce_type" and value:
            value = AnnounceType(value)
        elif key == "cited":
            value = tuple(item_from_json(c) for c in value)
        elif key == "extra":
            value = tuple((str(k), str(v)) for k, v in value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    return Item(**kwargs)


def paper_to_row(paper: Paper, seen: dt.datetime) -> dict[str, Any]:
    return {
        "key": paper.key,
        "arxiv_id": paper.arxiv_id,
        "doi": paper.doi,
        "title": storable_text(paper.title),
        "authors": [storable_text(a) for a in paper.authors],
        "abstract": storable_text(paper.abstract),
        "published": _utc(paper.published),
        "updated": _utc(paper.updated),
        "latest_version": paper.version,
        "categories": list(paper.categories),
        "primary_category": paper.primary_category,
        "journal_ref": paper.journal_ref and storable_text(paper.journal_ref),
        "comment": paper.comment and storable_text(paper.comment),
        "first_seen": seen,
        "last_seen": seen,
    }


def paper_from_row(row: Mapping[str, Any]) -> Paper:
    return Paper(
        key=row["key"],
        title=row["title"],
        arxiv_id=row["arxiv_id"],
        version=row["latest_version"],
        authors=tuple(row["authors"] or ()),
        abstract=row["abstract"] or "",
        published=_utc(row["published"]),
        updated=_utc(row["updated"]),
        categories=tuple(row["categories"] or ()),
        primary_category=row["primary_category"],
        doi=row["doi"],
        journal_ref=row["journal_ref"],
        comment=row["comment"],
    )


# --- fetches ----------------------------------------------------------------------------


def record_fetches(store: Store, records: Iterable[FetchRecord], *, run_id: str | None = None) -> int:
    rows = [
        {
            "run_id": run_id,
            "source_id": r.source_id,
            "url": r.url,
            "status": r.status,
            "bytes": r.bytes,
            "elapsed_ms": r.elapsed_ms,
            "cache_hit": r.cache_hit,
            "error": r.error,
            "fetched_at": _utc(r.fetched_at) or now_utc(),
            "unusable": r.unusable,
        }
        for r in records
    ]
    if rows:
        with store.begin() as conn:
            conn.execute(fetches.insert(), rows)
    return len(rows)


# The start of the error of a record the pipeline adds when a page arrived but could not be
# used (it does not parse): for the operator to read. What marks it is `FetchRecord.unusable`
# and the `fetches.unusable` column, so rewording this changes nothing stored or found.
UNUSABLE = "unusable response"


def unusable_record(page: RawPage, reason: str, *, at: dt.datetime | None = None) -> FetchRecord:
    """The record noting that `page`, fetched fine, could not be used (e.g. a parse failure)."""
    return FetchRecord(
        page.source_id,
        page.url,
        page.status,
        len(page.content),
        0.0,
        page.from_cache,
        f"{UNUSABLE}: {reason}",
        at or now_utc(),
        unusable=True,
    )


def own_page_success() -> ColumnElement[bool]:
    """A fetch row of a source's own page answered 2xx or 304 without error (not its robots.txt,
    not a redirect hop, not a failed attempt)."""
    return (
        fetches.c.error.is_(None)
        & (fetches.c.status.between(200, 299) | (fetches.c.status == 304))
        & ~fetches.c.url.like("%/robots.txt")
    )


def last_successes(store: Store) -> dict[str, dt.datetime]:
    """When each source last had one of its own pages fetched and used (for `sources check`).

    A success is a 2xx or 304 answer without error for a page of the source: not its
    robots.txt, not a redirect hop (3xx), not a failed attempt. An `unusable_record` cancels
    the latest success before it of the same source and URL (the page it was about).
    """
    own_page_ok = own_page_success()
    with store.begin() as conn:
        rows = conn.execute(
            select(fetches.c.source_id, fetches.c.url, fetches.c.fetched_at, fetches.c.unusable)
            .where(or_(own_page_ok, fetches.c.unusable))
            .order_by(fetches.c.fetched_at, fetches.c.id)
        ).all()
    successes: dict[tuple[str, str], list[dt.datetime]] = {}
    for row in rows:
        stack = successes.setdefault((row.source_id, _same_url(row.url)), [])
        if not row.unusable:
            stack.append(as_utc(row.fetched_at))
        elif stack:
            stack.pop()
    latest: dict[str, dt.datetime] = {}
    for (source_id, _url), stack in successes.items():
        if stack and (source_id not in latest or stack[-1] > latest[source_id]):
            latest[source_id] = stack[-1]
    return latest


def _same_url(url: str) -> str:
    """One spelling per URL: a fetch is recorded as asked, its page's URL as httpx sent it."""
    try:
        return str(httpx.URL(url))
    except httpx.InvalidURL:
        return url


# --- items and weeks --------------------------------------------------------------------


def _version_slot(item: Item) -> int:
    return item.version or 0


def save_items(
    store: Store, found: Sequence[Item], *, seen: dt.datetime | None = None
) -> set[tuple[str, str]]:
    """Upsert sightings; returns the (source_id, item_key) pairs that were not in the store before."""
    seen = seen or now_utc()
    if not found:
        return set()
    unique: dict[tuple[str, str], Item] = {}
    for item in map(storable, found):
        unique[(item.source_id, item.key)] = item
    with store.begin() as conn:
        existing: set[tuple[str, str]] = set()
        by_source: dict[str, list[str]] = {}
        for source_id, key in unique:
            by_source.setdefault(source_id, []).append(key)
        for source_id, keys in by_source.items():
            for chunk in _chunks(keys, 500):
                rows = conn.execute(
                    select(items.c.item_key).where(
                        items.c.source_id == source_id, items.c.item_key.in_(chunk)
                    )
                ).all()
                existing.update((source_id, r.item_key) for r in rows)
        rows_to_write: list[dict[str, Any]] = []
        for (source_id, key), item in unique.items():
            rows_to_write.append(
                {
                    "source_id": source_id,
                    "item_key": key,
                    "kind": item.kind.value,
                    "title": item.title,
                    # the text and the whole item are read back from `week_items` (the sighting
                    # as attributed), never from here: not stored twice
                    "text": "",
                    "url": item.url,
                    "lang": item.lang,
                    "arxiv_id": item.arxiv_id,
                    "version": item.version,
                    "doi": item.doi,
                    "authors": list(item.authors),
                    "published": _utc(item.published),
                    "updated": _utc(item.updated),
                    "announce_type": item.announce_type.value if item.announce_type else None,
                    "data": {},
                    "first_seen": seen,
                    "last_seen": seen,
                }
            )
        update_cols = [c for c in rows_to_write[0] if c not in ("source_id", "item_key", "first_seen")]
        upsert(conn, items, rows_to_write, ["source_id", "item_key"], update_cols)
    return set(unique) - existing


def attribute_week(
    store: Store, week: str, found: Sequence[Item], *, seen: dt.datetime | None = None
) -> Counter[str]:
    """Attribute sightings not yet attributed to any week to `week`; returns new sightings per source.

    A sighting is (source, item key, version): a new arXiv version is a new sighting, the
    same version seen again next week is not.
    """
    seen = seen or now_utc()
    unique = {(i.source_id, i.key, _version_slot(i)): i for i in map(storable, found)}
    rows = [
        {
            "source_id": s,
            "item_key": k,
            "version": v,
            "week": week,
            "data": item_to_json(item),
            "first_seen": seen,
        }
        for (s, k, v), item in sorted(unique.items())
    ]
    with store.begin() as conn:
        # first attribution wins: a sighting already attributed to another week keeps it
        upsert(conn, week_items, rows, ["source_id", "item_key", "version"], update=[])
        # every sighting of this week counts as new for it, also on a rerun of the week
        counts: Counter[str] = Counter(
            r.source_id
            for r in conn.execute(select(week_items.c.source_id).where(week_items.c.week == week)).all()
        )
    return counts


def items_of_week(store: Store, week: str, source_ids: Sequence[str] | None = None) -> list[Item]:
    """Every sighting attributed to `week`, as seen then, in a stable order."""
    query = select(week_items.c.data).where(week_items.c.week == week)
    if source_ids is not None:
        query = query.where(week_items.c.source_id.in_(list(source_ids)))
    query = query.order_by(week_items.c.source_id, week_items.c.item_key, week_items.c.version)
    with store.begin() as conn:
        return [item_from_json(r.data) for r in conn.execute(query).all()]


def _by_source(pairs: Iterable[tuple[str, str]], size: int) -> Iterable[tuple[str, Sequence[str]]]:
    """(source id, a chunk of its item keys): lookups by the primary key's leading columns.

    SQLite uses no index for a row-value `(source_id, item_key) IN (...)` and scans the whole
    table, which grows every week; `source_id = ? AND item_key IN (...)` is an index search."""
    keys: dict[str, set[str]] = {}
    for source_id, item_key in pairs:
        keys.setdefault(source_id, set()).add(item_key)
    for source_id in sorted(keys):
        for chunk in _chunks(sorted(keys[source_id]), size):
            yield source_id, chunk


def weeks_of_sightings(store: Store, found: Iterable[Item]) -> dict[tuple[str, str, int], str]:
    """The week each of these sightings is attributed to, keyed (source id, item key, version
    or 0); a sighting attributed to no week is left out."""
    wanted = {(i.source_id, i.key, _version_slot(i)) for i in map(storable, found)}
    out: dict[tuple[str, str, int], str] = {}
    with store.begin() as conn:
        for source_id, chunk in _by_source(((s, k) for s, k, _ in wanted), 500):
            query = select(week_items.c.item_key, week_items.c.version, week_items.c.week).where(
                week_items.c.source_id == source_id, week_items.c.item_key.in_(chunk)
            )
            for row in conn.execute(query):
                # the item's other versions come along; only the asked ones are answered
                if (source_id, row.item_key, row.version) in wanted:
                    out[(source_id, row.item_key, row.version)] = row.week
    return out


def attributed_items(store: Store, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Item]]:
    """Every attributed sighting (each version) of these (source id, item key) pairs."""
    out: dict[tuple[str, str], list[Item]] = {}
    with store.begin() as conn:
        for source_id, chunk in _by_source(keys, 400):
            rows = conn.execute(
                select(week_items.c.item_key, week_items.c.data)
                .where(week_items.c.source_id == source_id, week_items.c.item_key.in_(chunk))
                .order_by(week_items.c.item_key, week_items.c.version)
            )
            for row in rows:
                out.setdefault((source_id, row.item_key), []).append(item_from_json(row.data))
    return out


def attributed_sightings(
    store: Store, source_ids: Sequence[str], *, key_prefixes: Sequence[str] = ()
) -> list[tuple[str, Item]]:
    """(week, sighting as seen then) for every attributed sighting of these sources, limited to
    item keys that start with one of `key_prefixes` ("url:", "title:": a notes page's links)."""
    query = select(week_items.c.week, week_items.c.data).where(week_items.c.source_id.in_(list(source_ids)))
    if key_prefixes:
        query = query.where(
            or_(*(week_items.c.item_key.startswith(p, autoescape=True) for p in key_prefixes))
        )
    query = query.order_by(week_items.c.week, week_items.c.source_id, week_items.c.item_key)
    with store.begin() as conn:
        return [(row.week, item_from_json(row.data)) for row in conn.execute(query).all()]


def weeks_of_papers(store: Store, arxiv_ids: Sequence[str]) -> dict[str, list[str]]:
    """Weeks in which each arXiv id was sighted (any source), ascending."""
    out: dict[str, set[str]] = {}
    with store.begin() as conn:
        for chunk in _chunks(list(arxiv_ids), 400):
            rows = conn.execute(
                select(items.c.arxiv_id, week_items.c.week)
                .join(
                    week_items,
                    (week_items.c.source_id == items.c.source_id)
                    & (week_items.c.item_key == items.c.item_key),
                )
                .where(items.c.arxiv_id.in_(chunk))
            ).all()
            for r in rows:
                out.setdefault(r.arxiv_id, set()).add(r.week)
    return {k: sorted(v) for k, v in out.items()}


def save_week_reports(store: Store, week: str, reports: Sequence[SourceReport]) -> None:
    rows = [
        {"week": week, "source_id": r.source_id, "report": _report_to_json(r), "updated_at": now_utc()}
        for r in reports
    ]
    with store.begin() as conn:
        upsert(conn, week_reports, rows, ["week", "source_id"], ["report", "updated_at"])


def _report_to_json(report: SourceReport) -> dict[str, Any]:
    data = dataclasses.asdict(report)
    data["warnings"] = list(report.warnings)
    return data


def report_from_json(data: Mapping[str, Any]) -> SourceReport:
    """A stored report; one stored before a field was added takes that field's default."""
    return SourceReport(
        **{
            **data,
            "warnings": tuple(data.get("warnings") or ()),
            "later_weeks": tuple(data.get("later_weeks") or ()),
        }
    )


def week_reports_of(store: Store, week: str) -> list[SourceReport]:
    with store.begin() as conn:
        rows = conn.execute(
            select(week_reports.c.report)
            .where(week_reports.c.week == week)
            .order_by(week_reports.c.source_id)
        ).all()
    return [report_from_json(r.report) for r in rows]


# --- papers and resolutions ---------------------------------------------------------------


def save_papers(store: Store, found: Iterable[Paper], *, seen: dt.datetime | None = None) -> None:
    """Upsert canonical papers; a stored paper is replaced only by the same or a newer version."""
    seen = seen or now_utc()
    rows = [paper_to_row(p, seen) for p in found]
    if not rows:
        return
    cols = [c for c in rows[0] if c not in ("key", "first_seen")]
    with store.begin() as conn:
        upsert(
            conn,
            papers,
            rows,
            ["key"],
            cols,
            # decided inside the statement, so two workers can't overwrite a newer version
            where=lambda table, new: (
                func.coalesce(new.latest_version, 0) >= func.coalesce(table.c.latest_version, 0)
            ),
        )


def load_papers(store: Store, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
    ids = sorted(set(arxiv_ids))
    out: dict[str, Paper] = {}
    with store.begin() as conn:
        for chunk in _chunks(ids, 500):
            for row in conn.execute(select(papers).where(papers.c.arxiv_id.in_(chunk))).mappings():
                paper = paper_from_row(dict(row))
                out[paper.arxiv_id or paper.key] = paper
    return out


def save_resolutions(store: Store, resolutions: Sequence[Resolution]) -> int:
    """Store how each sighting was tied to its paper; unresolved ones are kept on the item only.

    A few queries and one upsert for the lot, not a look-up per sighting: a busy week has
    thousands, and the write lock is held throughout."""
    found = [r for r in resolutions if r.arxiv_id]
    if not found:
        return 0
    stamp = now_utc()
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    with store.begin() as conn:
        item_ids: dict[tuple[str, str], int] = {}
        for source_id, chunk in _by_source(((r.source_id, r.item_key) for r in found), 500):
            query = select(items.c.item_key, items.c.id).where(
                items.c.source_id == source_id, items.c.item_key.in_(chunk)
            )
            item_ids.update(((source_id, row.item_key), row.id) for row in conn.execute(query))
        paper_keys = sorted({f"arxiv:{r.arxiv_id}" for r in found})
        stored: set[str] = set()
        for key_chunk in _chunks(paper_keys, 500):
            stored.update(conn.execute(select(papers.c.key).where(papers.c.key.in_(key_chunk))).scalars())
        for res in found:
            item_id = item_ids.get((res.source_id, res.item_key))
            paper_key = f"arxiv:{res.arxiv_id}"
            if item_id is None or paper_key not in stored:
                continue
            # one row per (item, paper), the last resolution winning as one upsert each did
            rows[(item_id, paper_key)] = {
                "item_id": item_id,
                "paper_key": paper_key,
                "method": res.method,
                "score": res.score,
                "detail": res.detail,
                "created_at": stamp,
            }
        upsert(
            conn, item_papers, list(rows.values()), ["item_id", "paper_key"], ["method", "score", "detail"]
        )
    return len(rows)


def save_doi_records(store: Store, records: Iterable[DoiRecord]) -> int:
    """Upsert what Crossref said about journal DOIs (`resolve.DoiRecord`), by the DOI as cited;
    a record without `fetched_at` was fetched now. Returns the number written."""
    stamp = now_utc()
    rows = [
        {
            "doi": r.doi,
            "record_doi": r.paper.doi or r.doi,
            "title": r.paper.title,
            "authors": list(r.paper.authors),
            "abstract": r.paper.abstract,
            "published": _utc(r.paper.published),
            "journal_ref": r.paper.journal_ref,
            "preprints": list(r.preprints),
            "arxiv_id": r.arxiv_id,
            "fetched_at": _utc(r.fetched_at) or stamp,
        }
        for r in records
    ]
    if rows:
        with store.begin() as conn:
            upsert(conn, doi_records, rows, ["doi"])
    return len(rows)


def load_doi_records(store: Store, dois: Iterable[str]) -> dict[str, DoiRecord]:
    """The stored Crossref records of these DOIs (normalized, as `resolve.journal_dois` gives
    them), by DOI; a DOI without one is absent."""
    wanted = sorted(set(dois))
    out: dict[str, DoiRecord] = {}
    with store.begin() as conn:
        for chunk in _chunks(wanted, 500):
            for row in conn.execute(select(doi_records).where(doi_records.c.doi.in_(chunk))).mappings():
                paper = Paper(
                    key=f"doi:{row['record_doi']}",
                    title=row["title"],
                    authors=tuple(row["authors"] or ()),
                    abstract=row["abstract"] or "",
                    published=_utc(row["published"]),
                    doi=row["record_doi"],
                    journal_ref=row["journal_ref"],
                    url=f"https://doi.org/{row['record_doi']}",
                )
                out[row["doi"]] = DoiRecord(
                    doi=row["doi"],
                    paper=paper,
                    preprints=tuple(row["preprints"] or ()),
                    arxiv_id=row["arxiv_id"],
                    fetched_at=_utc(row["fetched_at"]),
                )
    return out


def forget_doi_records(store: Store, dois: Iterable[str]) -> list[str]:
    """Delete the stored Crossref records of these DOIs (normalized, as stored), so the next
    build asks Crossref again (a record that was wrong, or tied to the wrong arXiv paper).
    Returns the DOIs that had a record, in the order given; the others were not stored."""
    wanted = list(dict.fromkeys(dois))
    with store.begin() as conn:
        stored: set[str] = set()
        for chunk in _chunks(wanted, 500):
            stored.update(
                conn.execute(select(doi_records.c.doi).where(doi_records.c.doi.in_(chunk))).scalars()
            )
            conn.execute(delete(doi_records).where(doi_records.c.doi.in_(chunk)))
    return [doi for doi in wanted if doi in stored]


# --- title searches that found nothing ------------------------------------------------------


def save_title_misses(store: Store, misses: Iterable[TitleMiss], *, at: dt.datetime | None = None) -> int:
    """Upsert these misses (a later search of the same title replaces the earlier one); one
    without `searched_at` was searched `at` (default: now). Returns the number written."""
    stamp = _utc(at) or now_utc()
    rows = []
    for miss in misses:
        title, author = TitleMiss.key(storable_text(miss.title), storable_text(miss.author))
        rows.append(
            {
                "title": title,
                "author": author,
                "score": miss.score,
                "detail": storable_text(miss.detail),
                "searched_at": _utc(miss.searched_at) or stamp,
            }
        )
    if rows:
        with store.begin() as conn:
            upsert(conn, title_misses, rows, ["title", "author"])
    return len(rows)


def load_title_misses(store: Store, *, since: dt.datetime) -> dict[tuple[str, str], TitleMiss]:
    """The misses of searches made at or after `since`, by (title, author)."""
    with store.begin() as conn:
        rows = conn.execute(select(title_misses).where(title_misses.c.searched_at >= as_utc(since))).all()
    return {
        (row.title, row.author): TitleMiss(
            row.title, row.author, row.score, row.detail, _utc(row.searched_at)
        )
        for row in rows
    }


# --- digests ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredDigest:
    week: str
    edition: str
    markdown: str
    path: str | None
    paper_keys: tuple[str, ...]
    created_at: dt.datetime
    data: str | None = None  # the Digest as JSON (digest.digest_to_json)
    published: bool = True  # False for a dry run's digest: mailed to no one, recorded nowhere
    window_end: dt.datetime | None = None  # when its week ended in the run's zone (None: unknown)


def save_digest(
    store: Store,
    *,
    week: str,
    markdown: str,
    path: str | None,
    paper_keys: Sequence[str],
    reports: Sequence[SourceReport],
    edition: str = "default",
    data: str | None = None,
    published: bool = True,
    window_end: dt.datetime | None = None,
) -> None:
    row = {
        "week": week,
        "edition": edition,
        "markdown": markdown,
        "path": path,
        "paper_keys": list(paper_keys),
        "report": [_report_to_json(r) for r in reports],
        "data": data,
        "published": published,
        "window_end": _utc(window_end),
        "created_at": now_utc(),
    }
    with store.begin() as conn:
        if not published:
            kept = conn.execute(
                select(digests.c.published).where(digests.c.week == week, digests.c.edition == edition)
            ).first()
            if kept is not None and kept.published is not False:
                # a dry run after the week was published leaves the store's record of what went
                # out (the file in outputs/ is the dry run's to show)
                return
        upsert(conn, digests, [row], ["week", "edition"])


def get_digest(store: Store, week: str, edition: str = "default") -> StoredDigest | None:
    with store.begin() as conn:
        row = (
            conn.execute(select(digests).where(digests.c.week == week, digests.c.edition == edition))
            .mappings()
            .first()
        )
    if row is None:
        return None
    return StoredDigest(
        week=row["week"],
        edition=row["edition"],
        markdown=row["markdown"],
        path=row["path"],
        paper_keys=tuple(row["paper_keys"] or ()),
        created_at=as_utc(row["created_at"]),
        data=row["data"],
        published=row["published"] is not False,  # NULL: a row from before the column
        window_end=_utc(row["window_end"]),
    )


# --- cursors ------------------------------------------------------------------------------


# The earliest a week ends anywhere (Monday 00:00 at UTC+14 is Sunday 10:00 UTC): the end
# assumed for a row that does not record its own.
_EARLIEST_WEEK_END = dt.timedelta(days=7) - dt.timedelta(hours=14)


def latest_final_digest_week(store: Store) -> str | None:
    """The latest week whose digest was (last) written after the week ended, and not by a dry
    run: the scheduled run's, or a refresh's after it. The digest of a week still under way (a
    manual refresh) is partial, and a dry run's was neither mailed nor recorded: neither tells
    anything about the weeks before it."""
    query = (
        select(digests.c.week, digests.c.created_at, digests.c.window_end)
        .where(digests.c.edition == "default", or_(digests.c.published.is_(None), digests.c.published))
        .order_by(digests.c.week.desc())
    )
    with store.begin() as conn:
        # newest first, stopping at the first final one: SQLite reads a digest's megabytes of
        # Markdown and JSON to reach the two columns stored after them, so rows are read lazily
        for row in conn.execute(query):
            if _written_after_week(row.week, row.created_at, row.window_end):
                return str(row.week)
    return None


def is_final(stored: StoredDigest) -> bool:
    """Whether a stored digest was written after its week ended (else it is a refresh made
    while the week was under way: partial, and held back from readers)."""
    return _written_after_week(stored.week, stored.created_at, stored.window_end)


def _written_after_week(week: str, created_at: dt.datetime | None, window_end: dt.datetime | None) -> bool:
    written = _utc(created_at)
    return written is not None and written >= (_utc(window_end) or _week_start(week) + _EARLIEST_WEEK_END)


def _week_start(week: str) -> dt.datetime:
    monday = Week.parse(week).monday
    return dt.datetime.combine(monday, dt.time(0, 0), tzinfo=dt.UTC)


def get_cursor(store: Store, source_id: str) -> dict[str, str]:
    with store.begin() as conn:
        state = conn.execute(select(cursors.c.state).where(cursors.c.source_id == source_id)).scalar()
    return dict(state or {})


def save_cursor(store: Store, source_id: str, state: Mapping[str, str], *, success: bool = True) -> None:
    stamp = now_utc()
    row: dict[str, Any] = {"source_id": source_id, "state": dict(state), "updated_at": stamp}
    update = ["state", "updated_at"]
    if success:
        row["last_success"] = stamp
        update.append("last_success")
    else:
        row["last_success"] = None
    with store.begin() as conn:
        upsert(conn, cursors, [row], ["source_id"], update)


def _chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]
