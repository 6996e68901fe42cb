"""`store.retention`: what `store prune` removes from old weeks, what it keeps, and `store info`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dltheory_digest.errors import StoreError
from dltheory_digest.identity.novelty import ledger_entry, split_by_novelty
from dltheory_digest.models import FetchRecord, Item, ItemKind, Paper, PaperCluster, Resolution
from dltheory_digest.store import Store, open_store
from dltheory_digest.store import records as store_records
from dltheory_digest.store.ledger import load_history, record_week
from dltheory_digest.store.retention import MIN_KEEP_WEEKS, prune, store_info, vacuum
from dltheory_digest.store.schema import fetches, item_papers, items, papers, week_items, week_reports

TODAY = dt.date(2027, 3, 10)  # in 2027-W10: keeping 8 weeks keeps 2027-W02 and after
OLD_WEEK, RECENT_WEEK = "2025-W47", "2027-W08"
OLD = dt.datetime(2025, 11, 20, 9, tzinfo=dt.UTC)
RECENT = dt.datetime(2027, 2, 24, 9, tzinfo=dt.UTC)


def _paper_item(arxiv_id: str, title: str, source_id: str = "arxiv-week") -> Item:
    return Item(
        source_id=source_id,
        kind=ItemKind.PAPER,
        title=title,
        arxiv_id=arxiv_id,
        version=1,
        authors=("Daniel A. Roberts", "Sho Yaida"),
        text="An abstract long enough to be worth pruning.",
    )


def _paper(arxiv_id: str, title: str) -> Paper:
    return Paper(key=f"arxiv:{arxiv_id}", title=title, arxiv_id=arxiv_id, version=1, abstract="...")


SENT = _paper_item("2106.10165", "The Principles of Deep Learning Theory")
UNSENT = _paper_item("1806.07572", "Neural Tangent Kernel: Convergence and Generalization in Neural Networks")
# a notes page's link: first attributed long ago, and listed again by every run since
STILL_LISTED = Item(
    source_id="notes-page",
    kind=ItemKind.OTHER,
    title="Lectures on deep learning theory",
    url="https://example.org/lectures",
)
NEW = _paper_item("2701.00001", "A recent paper")


def _fill(store: Store) -> None:
    """Two old weeks' worth of rows and one recent week's, as runs at those dates left them."""
    store_records.save_items(store, [SENT, UNSENT, STILL_LISTED], seen=OLD)
    store_records.attribute_week(store, OLD_WEEK, [SENT, UNSENT, STILL_LISTED], seen=OLD)
    store_records.save_papers(
        store, [_paper("2106.10165", SENT.title), _paper("1806.07572", UNSENT.title)], seen=OLD
    )
    store_records.save_resolutions(
        store,
        [Resolution(i.key, i.source_id, i.arxiv_id, "arxiv_id") for i in (SENT, UNSENT)],
    )
    store_records.save_week_reports(store, OLD_WEEK, [])
    # the old week's digest presented one of the two papers
    record_week(store, OLD_WEEK, [ledger_entry(PaperCluster(_paper("2106.10165", SENT.title)), OLD_WEEK)])
    for week in (OLD_WEEK, RECENT_WEEK):
        store_records.save_digest(
            store,
            week=week,
            markdown=f"# {week}\n",
            path=None,
            paper_keys=[],
            reports=[],
            data='{"week": "' + week + '"}',
        )
    store_records.save_items(store, [STILL_LISTED, NEW], seen=RECENT)
    store_records.attribute_week(store, RECENT_WEEK, [STILL_LISTED, NEW], seen=RECENT)
    store_records.save_papers(store, [_paper("2701.00001", NEW.title)], seen=RECENT)


def _count(store: Store, table: object) -> int:
    with store.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)  # type: ignore[arg-type]


def test_prune_drops_old_sightings_and_digest_json_and_keeps_what_later_runs_read(store: Store) -> None:
    _fill(store)
    report = prune(store, keep_weeks=MIN_KEEP_WEEKS, today=TODAY)

    assert report.first_kept_week == "2027-W02" and not report.dry_run
    with store.begin() as conn:
        kept_items = set(conn.execute(select(items.c.source_id, items.c.item_key)).tuples())
        kept_weeks = set(conn.execute(select(week_items.c.item_key, week_items.c.week)).tuples())
        kept_papers = set(conn.execute(select(papers.c.key)).scalars())
        links = conn.execute(select(item_papers.c.paper_key)).scalars().all()
    # the old sightings no source listed since are gone, with their links to papers
    assert kept_items == {(STILL_LISTED.source_id, STILL_LISTED.key), (NEW.source_id, NEW.key)}
    assert links == []
    # the link a notes page still lists keeps the old week it was first attributed to: it is
    # not announced again as this week's
    assert kept_weeks == {(STILL_LISTED.key, OLD_WEEK), (NEW.key, RECENT_WEEK)}
    # the paper that was sent stays; the one never sent and not seen since goes
    assert kept_papers == {"arxiv:2106.10165", "arxiv:2701.00001"}
    assert report.removed == {
        "week_items": 2,
        "item_papers": 2,
        "items": 2,
        "papers": 1,
        "week_reports": 0,
        "title_misses": 0,
        "fetches": 0,
    }
    old = store_records.get_digest(store, OLD_WEEK)
    recent = store_records.get_digest(store, RECENT_WEEK)
    assert old is not None and old.data is None and old.markdown == f"# {OLD_WEEK}\n"
    assert recent is not None and recent.data == '{"week": "' + RECENT_WEEK + '"}'
    assert report.digests_emptied == 1


def test_prune_drops_the_old_fetch_log_but_each_source_keeps_its_newest_success(store: Store) -> None:
    def fetched(source_id: str, status: int | None, at: dt.datetime, error: str | None = None) -> FetchRecord:
        return FetchRecord(
            source_id, f"https://{source_id}.example.org/feed", status, 10, 1.0, False, error, at
        )

    store_records.record_fetches(
        store,
        [
            fetched("blog", 200, OLD),
            fetched("blog", 200, OLD + dt.timedelta(days=7)),
            fetched("blog", 200, RECENT),
            # failing since long ago: its last success is old, and `sources check` must still say when
            fetched("dead", 200, OLD),
            fetched("dead", 200, OLD + dt.timedelta(days=7)),
            fetched("dead", None, OLD + dt.timedelta(days=8), "connection refused"),
            fetched("dead", None, RECENT, "connection refused"),
        ],
    )
    report = prune(store, keep_weeks=MIN_KEEP_WEEKS, today=TODAY)

    assert report.removed["fetches"] == 4
    with store.begin() as conn:
        kept = (
            conn.execute(select(fetches.c.source_id, fetches.c.fetched_at).order_by(fetches.c.id))
            .tuples()
            .all()
        )
    assert [source for source, _ in kept] == ["blog", "dead", "dead"]
    assert store_records.last_successes(store) == {"blog": RECENT, "dead": OLD + dt.timedelta(days=7)}


def test_a_paper_sent_long_ago_is_still_not_new_after_pruning(store: Store) -> None:
    _fill(store)
    prune(store, keep_weeks=MIN_KEEP_WEEKS, today=TODAY)
    # it comes back in a week's sightings: the ledger still knows it was sent
    cluster = PaperCluster(_paper("2106.10165", SENT.title), versions=(1,))
    history = load_history(store, ["arxiv:2106.10165"])
    new, _updated = split_by_novelty([cluster], history, "2027-W10")
    assert new == [] and [e.week for e in history["arxiv:2106.10165"]] == [OLD_WEEK]


def test_a_dry_run_counts_the_same_and_removes_nothing(store: Store) -> None:
    _fill(store)
    before = {t.name: _count(store, t) for t in (items, week_items, papers, item_papers, week_reports)}
    dry = prune(store, keep_weeks=MIN_KEEP_WEEKS, today=TODAY, dry_run=True)
    after = {t.name: _count(store, t) for t in (items, week_items, papers, item_papers, week_reports)}
    assert after == before and dry.dry_run
    old = store_records.get_digest(store, OLD_WEEK)
    assert old is not None and old.data is not None
    real = prune(store, keep_weeks=MIN_KEEP_WEEKS, today=TODAY)
    assert (dry.removed, dry.digests_emptied) == (real.removed, real.digests_emptied)


def test_pruning_again_removes_nothing_more(store: Store) -> None:
    _fill(store)
    prune(store, keep_weeks=MIN_KEEP_WEEKS, today=TODAY)
    again = prune(store, keep_weeks=MIN_KEEP_WEEKS, today=TODAY)
    assert set(again.removed.values()) == {0} and again.digests_emptied == 0 and again.digests_packed == 0


def test_too_few_weeks_kept_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match=f"keep at least {MIN_KEEP_WEEKS} weeks"):
        prune(store, keep_weeks=MIN_KEEP_WEEKS - 1, today=TODAY)


def test_a_database_error_is_a_store_error_and_prune_removes_nothing(tmp_path: Path) -> None:
    # what a store locked by a run for over 30 s does, shown faster: a statement that fails
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        _fill(store)
        before = _count(store, items)
        with store.begin() as conn:
            conn.exec_driver_sql("DROP TABLE title_misses")
        with pytest.raises(StoreError, match=r"^prune: no such table: title_misses; nothing was removed$"):
            prune(store, keep_weeks=MIN_KEEP_WEEKS, today=TODAY)
        assert _count(store, items) == before
    finally:
        store.close()


def test_prune_compresses_the_digests_an_older_release_stored_plain(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = open_store(f"sqlite:///{path}")
    data = '{"week": "2027-W08", "sections": []}'
    with store.begin() as conn:  # as an older release wrote it: plain text, not through PackedText
        conn.exec_driver_sql(
            "INSERT INTO digests (week, edition, markdown, paper_keys, report, data, created_at) "
            "VALUES ('2027-W08', 'default', '# plain\n', '[]', '[]', ?, '2027-03-01 07:00:00')",
            (data,),
        )
    report = prune(store, keep_weeks=MIN_KEEP_WEEKS, today=TODAY)
    stored = store_records.get_digest(store, "2027-W08")
    store.close()
    assert report.digests_packed == 1
    assert stored is not None and (stored.markdown, stored.data) == ("# plain\n", data)
    with sqlite3.connect(path) as raw:
        markdown, kept = raw.execute("SELECT markdown, data FROM digests").fetchone()
    assert markdown.startswith("zlib+base64:") and kept.startswith("zlib+base64:")


def test_vacuum_gives_the_freed_space_back(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = open_store(f"sqlite:///{path}")
    _fill(store)
    bulk = [_paper_item(f"2511.{n:05d}", f"Paper number {n}") for n in range(400)]
    bulk = [dataclasses.replace(i, text="word " * 400) for i in bulk]
    store_records.save_items(store, bulk, seen=OLD)
    store_records.attribute_week(store, OLD_WEEK, bulk, seen=OLD)
    prune(store, keep_weeks=MIN_KEEP_WEEKS, today=TODAY)
    info = store_info(store)
    assert info.free_bytes is not None and info.free_bytes > 500_000
    assert vacuum(store)
    after = store_info(store)
    store.close()
    assert after.free_bytes == 0 and after.file_bytes is not None and info.file_bytes is not None
    assert after.file_bytes < info.file_bytes - 500_000


def test_store_info_gives_rows_sizes_weeks_and_the_upgrade_copies(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = open_store(f"sqlite:///{path}")
    _fill(store)
    with sqlite3.connect(path) as source, sqlite3.connect(tmp_path / "store.sqlite.0008.bak") as copy:
        source.backup(copy)
    (tmp_path / "store.sqlite.notes.bak").write_text("the operator's own file")  # not a copy we made
    info = store_info(store)
    store.close()
    rows = {t.name: t.rows for t in info.tables}
    assert (
        rows["items"] == 4 and rows["week_items"] == 4 and rows["digests"] == 2 and rows["sent_ledger"] == 1
    )
    sizes = {t.name: t.bytes for t in info.tables}
    assert sizes["items"] is not None and sizes["items"] > 0
    assert (info.oldest_week, info.newest_week) == (OLD_WEEK, RECENT_WEEK)
    assert [p.name for p, _size in info.backups] == ["store.sqlite.0008.bak"]


def test_store_info_counts_rows_and_bytes_on_either_back_end(store: Store) -> None:
    _fill(store)
    info = store_info(store)
    tables = {t.name: t for t in info.tables}
    assert tables["papers"].rows == 3 and tables["sent_ledger"].rows == 1
    assert tables["papers"].bytes is not None and tables["papers"].bytes > 0
    assert (info.oldest_week, info.newest_week) == (OLD_WEEK, RECENT_WEEK)
