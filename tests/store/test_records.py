from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from dltheory_digest.config import Politeness
from dltheory_digest.errors import FetchError
from dltheory_digest.fetch import PoliteClient
from dltheory_digest.ids import DOI_LENGTH
from dltheory_digest.models import (
    AnnounceType,
    DoiRecord,
    FetchRecord,
    Item,
    ItemKind,
    Paper,
    RawPage,
    SourceReport,
)
from dltheory_digest.store import (
    Store,
    attribute_week,
    get_cursor,
    get_digest,
    item_from_json,
    item_to_json,
    items_of_week,
    last_successes,
    load_papers,
    record_fetches,
    save_cursor,
    save_digest,
    save_items,
    save_papers,
    save_week_reports,
    week_reports_of,
    weeks_of_papers,
)
from dltheory_digest.store.records import UNUSABLE, unusable_record
from dltheory_digest.weeks import Week

NTK = Item(
    source_id="arxiv-listing",
    kind=ItemKind.PAPER,
    title="Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
    arxiv_id="1806.07572",
    version=1,
    authors=("Arthur Jacot", "Franck Gabriel", "Clément Hongler"),
    published=dt.datetime(2018, 6, 20, tzinfo=dt.UTC),
    announce_type=AnnounceType.NEW,
    categories=("cs.LG", "math.PR", "stat.ML"),
    extra=(("score", "1.0"),),
)
NTK_PAPER = Paper(key="arxiv:1806.07572", title=NTK.title, arxiv_id="1806.07572", version=1)
POST = Item(
    source_id="offconvex",
    kind=ItemKind.POST,
    title="Ultra-wide deep nets and the neural tangent kernel",
    url="https://www.offconvex.org/2019/10/03/NTK/",
    cited=(Item(source_id="offconvex", kind=ItemKind.MENTION, title="NTK", arxiv_id="1806.07572"),),
)


def test_item_json_round_trip() -> None:
    for item in (NTK, POST):
        assert item_from_json(item_to_json(item)) == item


def test_sightings_are_attributed_to_the_first_week_only(store: Store) -> None:
    assert save_items(store, [NTK, POST]) == {("arxiv-listing", "arxiv:1806.07572"), ("offconvex", POST.key)}
    assert save_items(store, [NTK]) == set()
    assert attribute_week(store, "2026-W46", [NTK, POST]) == {"arxiv-listing": 1, "offconvex": 1}
    # seen again the next week: nothing new; a new version is a new sighting of that week
    assert attribute_week(store, "2026-W47", [NTK]) == {}
    revised = dataclasses.replace(NTK, version=2, announce_type=AnnounceType.REPLACE)
    assert attribute_week(store, "2026-W47", [revised]) == {"arxiv-listing": 1}
    assert items_of_week(store, "2026-W46") == [NTK, POST]
    assert [i.version for i in items_of_week(store, "2026-W47")] == [2]
    # a rerun of a week reports the same counts
    assert attribute_week(store, "2026-W46", [NTK, POST]) == {"arxiv-listing": 1, "offconvex": 1}
    assert weeks_of_papers(store, ["1806.07572"]) == {"1806.07572": ["2026-W46", "2026-W47"]}


def test_papers_keep_the_newest_version(store: Store) -> None:
    v2 = Paper(key="arxiv:1806.07572", title="NTK v2", arxiv_id="1806.07572", version=2)
    v1 = Paper(key="arxiv:1806.07572", title="NTK v1", arxiv_id="1806.07572", version=1)
    save_papers(store, [v2])
    save_papers(store, [v1])
    assert load_papers(store, ["1806.07572"])["1806.07572"].title == "NTK v2"


def test_fetches_reports_cursors_and_digests(store: Store) -> None:
    stamp = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)
    record_fetches(
        store,
        [
            FetchRecord(
                "offconvex", "https://www.offconvex.org/feed.xml", 200, 1234, 50.0, False, None, stamp
            ),
            FetchRecord("distill", "https://distill.pub/rss.xml", None, 0, 10.0, False, "timeout", stamp),
        ],
        run_id="r1",
    )
    assert set(last_successes(store)) == {"offconvex"}
    report = SourceReport("offconvex", "feed", fetched=1, parsed=3, new=2, warnings=("w",))
    save_week_reports(store, "2026-W47", [report])
    assert week_reports_of(store, "2026-W47") == [report]
    save_cursor(store, "offconvex", {"etag": '"abc"'})
    assert get_cursor(store, "offconvex") == {"etag": '"abc"'}
    save_digest(
        store,
        week="2026-W47",
        markdown="# x\n",
        path="outputs/2026-W47.md",
        paper_keys=["arxiv:1"],
        reports=[report],
    )
    stored = get_digest(store, "2026-W47")
    assert stored is not None and stored.markdown == "# x\n" and stored.paper_keys == ("arxiv:1",)
    assert get_digest(store, "2026-W48") is None


def test_last_success_counts_only_used_pages_of_the_source_itself(store: Store) -> None:
    """robots.txt, redirect hops, failed attempts and a 200 that does not parse are not successes."""

    def site(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/robots.txt":
            return httpx.Response(200, content=b"User-agent: *\nAllow: /\n")
        if path == "/old-feed":
            return httpx.Response(301, headers={"Location": "/feed"})
        if path == "/feed":  # an HTML error page served as 200
            return httpx.Response(200, content=b"<html><title>503 Service Unavailable</title></html>")
        if path == "/down":
            return httpx.Response(503, content=b"maintenance")
        return httpx.Response(200, content=b"<rss><channel/></rss>")

    now = Politeness(min_interval=0)
    with PoliteClient(transport=httpx.MockTransport(site), sleep=lambda s: None, max_retries=1) as client:
        page = client.get("https://blog.example/old-feed", source_id="html-200", politeness=now)
        # what the pipeline adds when the parser refuses the page
        client.add_record(unusable_record(page, "not an RSS/Atom feed"))
        with pytest.raises(FetchError):
            client.get("https://blog.example/down", source_id="always-503", politeness=now)
        client.get("https://blog.example/rss.xml", source_id="good", politeness=now)
        records = client.drain_records()
    assert [(r.source_id, r.status) for r in records if r.error is None] == [
        ("html-200", 200),  # robots.txt
        ("html-200", 301),  # the redirect hop
        ("html-200", 200),  # the unusable page
        ("good", 200),
    ]
    record_fetches(store, records)
    successes = last_successes(store)
    assert set(successes) == {"good"}
    assert successes["good"] == records[-1].fetched_at
    assert records[-1].fetched_at is not None and records[-1].fetched_at.tzinfo is not None


def test_an_unusable_page_cancels_only_its_own_fetch(store: Store) -> None:
    """A source that worked last week and fails now still shows last week's success."""
    week1 = dt.datetime(2026, 11, 9, 8, tzinfo=dt.UTC)
    week2 = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)
    url = "https://notes.example/list"
    ok = FetchRecord("notes", url, 200, 900, 20.0, False, None, week1)
    revalidated = FetchRecord("listing", url, 304, 0, 5.0, False, None, week2)
    refetched = FetchRecord("notes", url, 200, 950, 20.0, False, None, week2)
    marker = FetchRecord("notes", url, 200, 950, 0.0, False, f"{UNUSABLE}: bad markup", week2, unusable=True)
    hop = FetchRecord("moved", url, 302, 0, 5.0, False, None, week2)
    robots = FetchRecord("moved", "https://notes.example/robots.txt", 200, 40, 5.0, False, None, week2)
    record_fetches(store, [ok, revalidated, hop, robots])
    record_fetches(store, [refetched, marker])
    assert last_successes(store) == {"notes": week1, "listing": week2}


def test_an_unusable_page_cancels_the_success_of_its_own_url(store: Store) -> None:
    """The marker for page A leaves the source's later success on page B standing."""
    early = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)
    later = early + dt.timedelta(minutes=5)
    listing = "https://papers.cool/arxiv/search?query=深度 学习"  # recorded as asked
    page = "https://papers.cool/arxiv/cs.LG"
    record_fetches(
        store,
        [
            FetchRecord("papers-cool", listing, 200, 900, 20.0, False, None, early),
            FetchRecord("papers-cool", page, 200, 700, 20.0, False, None, later),
        ],
    )
    # the parser refused the listing; its page URL is the one httpx sent (percent-encoded)
    sent = str(httpx.URL(listing))
    assert sent != listing
    unusable = RawPage("papers-cool", sent, 200, b"<html/>", "text/html", early)
    record_fetches(store, [unusable_record(unusable, "no papers listed", at=later + dt.timedelta(seconds=1))])
    assert last_successes(store) == {"papers-cool": later}

    # once the other page is refused too, nothing of the source is left as a success
    other = RawPage("papers-cool", page, 200, b"<html/>", "text/html", later)
    record_fetches(store, [unusable_record(other, "no papers listed", at=later + dt.timedelta(seconds=2))])
    assert last_successes(store) == {}


def test_only_a_digest_written_after_its_week_ended_is_final(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dltheory_digest.store import records

    def written_at(week: str, moment: dt.datetime) -> None:
        monkeypatch.setattr(records, "now_utc", lambda: moment)
        save_digest(store, week=week, markdown=f"# {week}\n", path=None, paper_keys=[], reports=[])

    assert records.latest_final_digest_week(store) is None
    written_at("2026-W46", dt.datetime(2026, 11, 16, 7, tzinfo=dt.UTC))  # the Monday after it
    # a manual refresh of the week under way: partial, so W46 is still the latest final week
    written_at("2026-W47", dt.datetime(2026, 11, 18, 12, tzinfo=dt.UTC))
    assert records.latest_final_digest_week(store) == "2026-W46"
    # rewritten by the scheduled run after the week ended
    written_at("2026-W47", dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC))
    assert records.latest_final_digest_week(store) == "2026-W47"
    # weeks compare across a year's end
    written_at("2027-W01", dt.datetime(2027, 1, 11, 7, tzinfo=dt.UTC))
    assert records.latest_final_digest_week(store) == "2027-W01"


def test_a_digest_is_final_once_its_week_ended_in_the_runs_zone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row's own week end decides: at 15:00 UTC on Sunday a Los Angeles week is still under
    way (a refresh then is partial), a Tokyo one has ended. Without a recorded end, the earliest
    a week ends anywhere (Sunday 10:00 UTC) is assumed, as for rows older than the column."""
    from dltheory_digest.store import records

    sunday_afternoon = dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(records, "now_utc", lambda: sunday_afternoon)

    def written(week: str, zone: str | None) -> None:
        end = dt.datetime(2026, 11, 23, tzinfo=ZoneInfo(zone)) if zone else None
        save_digest(store, week=week, markdown="#\n", path=None, paper_keys=[], reports=[], window_end=end)

    written("2026-W47", "America/Los_Angeles")
    assert records.latest_final_digest_week(store) is None
    stored = get_digest(store, "2026-W47")
    assert stored is not None and stored.window_end == dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC)
    written("2026-W47", "Asia/Tokyo")
    assert records.latest_final_digest_week(store) == "2026-W47"
    written("2026-W47", None)
    assert records.latest_final_digest_week(store) == "2026-W47"


def test_a_dry_runs_digest_is_never_final(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # `run --dry-run` of the last week, then a real run of the week before: that week is not "sent"
    from dltheory_digest.store import records

    monkeypatch.setattr(records, "now_utc", lambda: dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC))
    save_digest(store, week="2026-W46", markdown="# W46\n", path=None, paper_keys=[], reports=[])
    save_digest(
        store, week="2026-W47", markdown="# W47\n", path=None, paper_keys=[], reports=[], published=False
    )
    assert records.latest_final_digest_week(store) == "2026-W46"
    save_digest(store, week="2026-W47", markdown="# W47\n", path=None, paper_keys=[], reports=[])
    assert records.latest_final_digest_week(store) == "2026-W47"
    # a dry run after it leaves the published record alone
    save_digest(
        store, week="2026-W47", markdown="# dry\n", path=None, paper_keys=[], reports=[], published=False
    )
    kept = get_digest(store, "2026-W47")
    assert kept is not None and kept.published and kept.markdown == "# W47\n"


def test_crossref_records_are_kept_by_the_doi_as_cited(store: Store) -> None:
    """What Crossref said about a journal DOI comes back as it was stored (times in UTC); a later
    match to an arXiv paper updates the row in place."""
    from dltheory_digest.models import DoiRecord
    from dltheory_digest.store.records import load_doi_records, save_doi_records

    cybenko = DoiRecord(
        doi="10.1007/bf02551274",
        paper=Paper(
            key="doi:10.1007/bf02551274",
            title="Approximation by superpositions of a sigmoidal function",
            authors=("G. Cybenko",),
            doi="10.1007/bf02551274",
            journal_ref="Mathematics of Control, Signals, and Systems 2(4), 303-314 (1989)",
            url="https://doi.org/10.1007/bf02551274",
        ),
    )
    fetched = dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC)
    maldacena = DoiRecord(
        doi="10.4310/atmp.1998.v2.n2.a1",
        paper=Paper(
            key="doi:10.4310/atmp.1998.v2.n2.a1",
            title="The Large N Limit of Superconformal Field Theories and Supergravity",
            authors=("Juan Maldacena",),
            abstract="On superconformal field theories at large N (a stand-in abstract).",
            published=dt.datetime(1998, 1, 1, tzinfo=dt.UTC),
            doi="10.4310/atmp.1998.v2.n2.a1",
            journal_ref="Advances in Theoretical and Mathematical Physics 2(2), 231-252 (1998)",
            url="https://doi.org/10.4310/atmp.1998.v2.n2.a1",
        ),
        preprints=("hep-th/9711200",),
        arxiv_id="hep-th/9711200",
        fetched_at=fetched,
    )
    assert save_doi_records(store, [cybenko, maldacena]) == 2
    loaded = load_doi_records(store, [cybenko.doi, maldacena.doi, "10.1000/never-asked"])
    assert sorted(loaded) == [cybenko.doi, maldacena.doi]
    assert loaded[maldacena.doi] == maldacena
    assert loaded[cybenko.doi].paper == cybenko.paper and loaded[cybenko.doi].preprints == ()
    first_fetch = loaded[cybenko.doi].fetched_at
    assert first_fetch is not None and first_fetch.tzinfo is not None  # stamped when stored

    # the title search later found the paper on arXiv: same row, same fetch time
    matched = dataclasses.replace(loaded[cybenko.doi], arxiv_id="1806.07572")
    save_doi_records(store, [matched])
    assert load_doi_records(store, [cybenko.doi]) == {cybenko.doi: matched}
    assert load_doi_records(store, []) == {}


# --- text and keys PostgreSQL refuses (SQLite takes them): one odd sighting must not fail a run


def test_a_sighting_with_nul_or_half_an_emoji_is_stored_without_them(store: Store) -> None:
    from dltheory_digest.pipeline import Collected, record_collection

    week = Week.parse("2026-W47")
    # Zhihu's JSON hands out "\u0000", and excerpts cut in the middle of a surrogate pair
    cited = Item("zhihu-col", ItemKind.MENTION, "Neural\x00 Tangent Kernel", url="https://e.org/ntk\x00")
    post = Item(
        "zhihu-col",
        ItemKind.POST,
        "深度学习理论\x00 笔记",
        url="https://zhuanlan.zhihu.com/p/1",
        text="讲得很好\ud83d",
        authors=("张三\x00",),
        extra=(("voteup\x00", "12"),),
        cited=(cited,),
    )
    report = SourceReport("zhihu-col", "zhihu", fetched=1, parsed=1)
    [recorded] = record_collection(store, week, [Collected("zhihu-col", (post,), report)])
    assert recorded.new == 1
    [stored] = items_of_week(store, str(week))
    assert (stored.title, stored.text, stored.authors) == ("深度学习理论 笔记", "讲得很好", ("张三",))
    assert stored.extra == (("voteup", "12"),)
    assert [(c.title, c.url, c.key) for c in stored.cited] == [
        ("Neural Tangent Kernel", "https://e.org/ntk", "mention:https://e.org/ntk|neural tangent kernel")
    ]
    # a second run of the same page finds it stored: nothing new, no second revision
    [again] = record_collection(store, week, [Collected("zhihu-col", (post,), report)])
    assert again.new == 1 and len(items_of_week(store, str(week))) == 1


def test_a_mention_whose_key_is_longer_than_its_column_is_stored_under_a_hashed_key(store: Store) -> None:
    from dltheory_digest.pipeline import Collected, record_collection

    week = Week.parse("2026-W47")
    long_url = "https://notes.example.org/reading?" + "&".join(f"utm_{n}=campaign" for n in range(40))
    mention = Item("notes", ItemKind.MENTION, "Tensor programs " * 20, url=long_url)
    report = SourceReport("notes", "notes_page", fetched=1, parsed=1)
    record_collection(store, week, [Collected("notes", (mention,), report)])
    [stored] = items_of_week(store, str(week))
    assert stored.url == long_url and stored.key == mention.key and len(stored.key) == 512


def test_a_sighting_whose_doi_is_longer_than_its_column_is_stored_without_it(store: Store) -> None:
    """PostgreSQL refuses a value longer than the doi column, which stopped the whole run; SQLite
    took it. Both now keep the sighting and drop the DOI, its cited mentions' too."""
    from dltheory_digest.pipeline import Collected, record_collection

    week = Week.parse("2026-W47")
    too_long = "10.5555/" + "a" * DOI_LENGTH
    cited = Item("notes", ItemKind.MENTION, "A long-DOI paper", url="https://e.org/long", doi=too_long)
    post = Item("notes", ItemKind.POST, "Reading list", url="https://e.org/list", cited=(cited,))
    mention = Item("notes", ItemKind.MENTION, "Another", url="https://e.org/other", doi=too_long)
    report = SourceReport("notes", "notes_page", fetched=1, parsed=1)
    [recorded] = record_collection(store, week, [Collected("notes", (post, mention), report)])
    assert recorded.new == 2
    stored = {i.title: i for i in items_of_week(store, str(week))}
    assert stored["Another"].doi is None and stored["Another"].key == mention.key
    assert [(c.title, c.doi) for c in stored["Reading list"].cited] == [("A long-DOI paper", None)]


def test_a_paper_with_nul_in_its_text_is_stored_without_it(store: Store) -> None:
    paper = Paper(
        key="arxiv:1806.07572",
        title="Neural Tangent Kernel:\x00 Convergence",
        arxiv_id="1806.07572",
        authors=("Arthur Jacot\x00",),
        abstract="We show\ud800 that",
        comment="NeurIPS\x00",
    )
    save_papers(store, [paper])
    got = load_papers(store, ["1806.07572"])["1806.07572"]
    assert (got.title, got.authors, got.abstract, got.comment) == (
        "Neural Tangent Kernel: Convergence",
        ("Arthur Jacot",),
        "We show that",
        "NeurIPS",
    )


def test_a_reports_offline_field_is_kept_and_rows_stored_before_it_load_as_not_offline(store: Store) -> None:
    from dltheory_digest.store import upsert
    from dltheory_digest.store.schema import week_reports

    offline = SourceReport("arxiv-api", "arxiv_api", error="[arxiv-api] could not reach it", offline=True)
    save_week_reports(store, "2026-W47", [offline])
    # a row written before `offline` existed: the same report without the key
    older = dataclasses.asdict(SourceReport("blog", "feed", error="[blog] could not reach it"))
    del older["offline"]
    older["warnings"] = []
    row = {"week": "2026-W47", "source_id": "blog", "report": older, "updated_at": dt.datetime.now(dt.UTC)}
    with store.begin() as conn:
        upsert(conn, week_reports, [row], ["week", "source_id"])
    arxiv, blog = week_reports_of(store, "2026-W47")
    assert arxiv == offline and arxiv.offline is True
    assert blog.error == "[blog] could not reach it" and blog.offline is False


# --- the unusable mark, forgetting Crossref records, title searches that found nothing ------


def test_an_unusable_page_is_marked_by_its_column_not_by_its_wording(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reworded, the marker still cancels its page's success; a record that merely reads like
    one (an error from elsewhere starting with the same words) cancels nothing."""
    from sqlalchemy import select

    from dltheory_digest.store import records
    from dltheory_digest.store.schema import fetches

    monkeypatch.setattr(records, "UNUSABLE", "page not usable")
    week1 = dt.datetime(2026, 11, 9, 8, tzinfo=dt.UTC)
    week2 = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)
    notes, blog = "https://notes.example/list", "https://blog.example/feed"
    page = RawPage("notes", notes, 200, b"<html/>", "text/html", week2)
    record_fetches(
        store,
        [
            FetchRecord("notes", notes, 200, 900, 20.0, False, None, week1),
            FetchRecord("notes", notes, 200, 950, 20.0, False, None, week2),
            records.unusable_record(page, "no papers listed", at=week2 + dt.timedelta(seconds=1)),
            FetchRecord("blog", blog, 200, 400, 20.0, False, None, week2),
            FetchRecord("blog", blog, 200, 0, 0.0, False, "unusable response: said a proxy", week2),
        ],
    )
    assert last_successes(store) == {"notes": week1, "blog": week2}
    with store.begin() as conn:
        marked = conn.execute(select(fetches.c.error).where(fetches.c.unusable)).scalars().all()
    assert marked == ["page not usable: no papers listed"]


def _crossref_record(doi: str, title: str, arxiv_id: str | None = None) -> DoiRecord:
    return DoiRecord(
        doi, Paper(f"doi:{doi}", title, doi=doi, url=f"https://doi.org/{doi}"), arxiv_id=arxiv_id
    )


def test_forgetting_crossref_records_deletes_only_those_and_says_which_were_stored(store: Store) -> None:
    from dltheory_digest.store.records import forget_doi_records, load_doi_records, save_doi_records

    cybenko = _crossref_record(
        "10.1007/bf02551274", "Approximation by superpositions of a sigmoidal function"
    )
    hornik = _crossref_record(
        "10.1016/0893-6080(89)90020-8", "Multilayer feedforward networks are universal approximators"
    )
    save_doi_records(store, [cybenko, hornik])
    assert forget_doi_records(store, ["10.1000/never-asked", cybenko.doi, cybenko.doi]) == [cybenko.doi]
    assert sorted(load_doi_records(store, [cybenko.doi, hornik.doi])) == [hornik.doi]
    assert forget_doi_records(store, [cybenko.doi]) == []  # gone already
    assert forget_doi_records(store, []) == []


def test_title_misses_come_back_while_recent_and_a_later_search_replaces_one(store: Store) -> None:
    from dltheory_digest.models import TitleMiss
    from dltheory_digest.store.records import load_title_misses, save_title_misses

    searched = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)
    lottery = TitleMiss(
        "the lottery ticket hypothesis revisited", "Jonathan Frankle", 0.82, "best title match scored 0.82"
    )
    nothing = TitleMiss("a theory of nothing at all here", "", None, "title search found nothing")
    assert save_title_misses(store, [lottery, nothing], at=searched) == 2
    assert save_title_misses(store, []) == 0
    loaded = load_title_misses(store, since=searched - dt.timedelta(days=6))
    assert loaded == {
        (lottery.title, lottery.author): dataclasses.replace(lottery, searched_at=searched),
        (nothing.title, ""): dataclasses.replace(nothing, searched_at=searched),
    }
    assert load_title_misses(store, since=searched + dt.timedelta(seconds=1)) == {}

    later = searched + dt.timedelta(days=7)
    save_title_misses(store, [dataclasses.replace(lottery, score=0.85, detail="scored 0.85")], at=later)
    recent = load_title_misses(store, since=later - dt.timedelta(days=6))
    assert list(recent.values()) == [TitleMiss(lottery.title, lottery.author, 0.85, "scored 0.85", later)]

    # a title or author too long for PostgreSQL's index is kept by its fitted key, and found by it
    long_title, long_author = "deep " * 200, "Author " * 40
    save_title_misses(store, [TitleMiss(long_title, long_author, None, "nothing")], at=later)
    found = load_title_misses(store, since=later)
    assert TitleMiss.key(long_title, long_author) in found


def test_the_week_each_sighting_is_attributed_to(store: Store) -> None:
    from dltheory_digest.store.records import weeks_of_sightings

    v1 = Item("arxiv", ItemKind.PAPER, "NTK", arxiv_id="1806.07572", version=1)
    v2 = dataclasses.replace(v1, version=2)
    post = Item("blog", ItemKind.POST, "Kernels", url="https://b.org/ntk")
    attribute_week(store, "2026-W47", [v1, post])
    attribute_week(store, "2026-W48", [v2, post])  # the post keeps its first week
    never = Item("blog", ItemKind.POST, "Draft", url="https://b.org/draft")
    assert weeks_of_sightings(store, [v1, v2, post, never]) == {
        ("arxiv", "arxiv:1806.07572", 1): "2026-W47",
        ("arxiv", "arxiv:1806.07572", 2): "2026-W48",
        ("blog", "url:https://b.org/ntk", 0): "2026-W47",
    }
    assert weeks_of_sightings(store, []) == {}


def test_a_report_stored_before_later_weeks_were_counted_still_loads(store: Store) -> None:
    from sqlalchemy import insert

    from dltheory_digest.store.schema import week_reports

    carried = SourceReport("blog", "feed", parsed=3, new=1, later=2, later_weeks=("2026-W48", "2026-W49"))
    save_week_reports(store, "2026-W47", [carried])
    old = {"source_id": "arxiv", "kind": "arxiv_rss", "fetched": 1, "parsed": 5, "new": 5, "warnings": []}
    with store.begin() as conn:
        conn.execute(
            insert(week_reports).values(
                week="2026-W47", source_id="arxiv", report=old, updated_at=dt.datetime.now(dt.UTC)
            )
        )
    assert week_reports_of(store, "2026-W47") == [
        SourceReport("arxiv", "arxiv_rss", fetched=1, parsed=5, new=5),
        carried,
    ]


def test_times_come_back_from_sqlite_in_utc(store: Store) -> None:
    """SQLite keeps no offset: each time read back (or written to JSON) is an aware UTC one."""
    shanghai = dt.datetime(2026, 11, 16, 16, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert (
        item_to_json(dataclasses.replace(NTK, published=shanghai))["published"] == "2026-11-16T08:00:00+00:00"
    )
    record_fetches(
        store,
        [FetchRecord("offconvex", "https://www.offconvex.org/feed.xml", 200, 10, 5.0, False, None, shanghai)],
        run_id="r1",
    )
    assert last_successes(store) == {"offconvex": dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)}
    save_digest(
        store, week="2026-W47", markdown="# x\n", path="outputs/2026-W47.md", paper_keys=[], reports=[]
    )
    stored = get_digest(store, "2026-W47")
    assert stored is not None and stored.created_at.tzinfo is dt.UTC


def test_only_the_versions_asked_for_are_answered(store: Store) -> None:
    from dltheory_digest.store.records import weeks_of_sightings

    v1 = Item("arxiv", ItemKind.PAPER, "NTK", arxiv_id="1806.07572", version=1)
    v2 = dataclasses.replace(v1, version=2)
    other = Item("rss", ItemKind.PAPER, "NTK", arxiv_id="1806.07572", version=2)
    attribute_week(store, "2026-W47", [v1])
    attribute_week(store, "2026-W48", [v2, other])
    # the same item key of another source, and the other version of the same item, stay out
    assert weeks_of_sightings(store, [v2]) == {("arxiv", "arxiv:1806.07572", 2): "2026-W48"}


def test_every_attributed_version_of_the_asked_items_comes_back_oldest_first(store: Store) -> None:
    from dltheory_digest.store.records import attributed_items

    v1 = Item("arxiv", ItemKind.PAPER, "NTK", arxiv_id="1806.07572", version=1)
    v2 = dataclasses.replace(v1, version=2, title="NTK (v2)")
    post = Item("blog", ItemKind.POST, "Kernels", url="https://b.org/ntk")
    unasked = Item("blog", ItemKind.POST, "Other", url="https://b.org/other")
    attribute_week(store, "2026-W47", [v2, post, unasked])
    attribute_week(store, "2026-W48", [v1])
    got = attributed_items(store, [("arxiv", v1.key), ("blog", post.key), ("blog", "url:https://b.org/none")])
    assert {k: [(i.version, i.title) for i in items] for k, items in got.items()} == {
        ("arxiv", v1.key): [(1, "NTK"), (2, "NTK (v2)")],
        ("blog", post.key): [(None, "Kernels")],
    }


def test_resolutions_are_stored_for_stored_items_and_papers_only_the_last_one_winning(store: Store) -> None:
    from sqlalchemy import select

    from dltheory_digest.models import Resolution
    from dltheory_digest.store import save_resolutions
    from dltheory_digest.store.schema import item_papers, items

    mention = Item("blog", ItemKind.MENTION, "Neural Tangent Kernel", url="https://b.org/ntk")
    other = Item("zhihu", ItemKind.MENTION, "Neural Tangent Kernel", url="https://b.org/ntk")  # same key
    save_items(store, [mention, other])
    save_papers(store, [NTK_PAPER])
    resolutions = [
        Resolution(mention.key, "blog", "1806.07572", "title_search", 0.9, "first"),
        Resolution(mention.key, "blog", "1806.07572", "title_search", 0.95, "again"),  # the last wins
        Resolution(other.key, "zhihu", "1806.07572", "arxiv_id", 1.0),
        Resolution(mention.key, "blog", "2106.10165", "title_search", 0.9),  # the paper is not stored
        Resolution("url:https://b.org/never", "blog", "1806.07572", "arxiv_id", 1.0),  # nor the item
        Resolution(mention.key, "blog", None, "unresolved"),
    ]
    assert save_resolutions(store, resolutions) == 2
    with store.begin() as conn:
        rows = conn.execute(
            select(items.c.source_id, item_papers.c.paper_key, item_papers.c.score, item_papers.c.detail)
            .join(items, items.c.id == item_papers.c.item_id)
            .order_by(items.c.source_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("blog", "arxiv:1806.07572", 0.95, "again"),
        ("zhihu", "arxiv:1806.07572", 1.0, ""),
    ]
    assert save_resolutions(store, []) == 0


def test_the_lookups_of_sightings_and_resolutions_search_the_primary_key(tmp_path: Path) -> None:
    """SQLite uses no index for a row value `(source_id, item_key) IN (...)`: every run scanned
    the whole week_items table, which grows every week. Each query these functions make is
    checked with EXPLAIN QUERY PLAN."""
    from sqlalchemy import event

    from dltheory_digest.models import Resolution
    from dltheory_digest.store import open_store, save_resolutions
    from dltheory_digest.store.records import attributed_items, weeks_of_sightings

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    found = [Item("blog", ItemKind.POST, f"Post {n}", url=f"https://b.org/{n}") for n in range(3)]
    found += [Item("arxiv", ItemKind.PAPER, "NTK", arxiv_id="1806.07572", version=v) for v in (1, 2)]
    attribute_week(store, "2026-W47", found)
    save_items(store, found)
    save_papers(store, [NTK_PAPER])
    statements: list[tuple[str, object]] = []

    def seen(conn: object, cursor: object, statement: str, parameters: object, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        assert len(weeks_of_sightings(store, found)) == 5
        assert len(attributed_items(store, [(i.source_id, i.key) for i in found])) == 4
        assert (
            save_resolutions(store, [Resolution(found[-1].key, "arxiv", "1806.07572", "arxiv_id", 1.0)]) == 1
        )
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert len(statements) >= 4
    plans = []
    with store.engine.connect() as conn:
        for statement, parameters in statements:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()  # type: ignore[arg-type]
            plans.append(" / ".join(str(r[-1]) for r in rows))
    store.close()
    assert all("SCAN" not in plan for plan in plans), plans
    assert all("USING" in plan and "INDEX" in plan for plan in plans), plans
