"""The collector: fetch + parse of one source through the real polite client, failures as report lines."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from dltheory_digest import digest as dg
from dltheory_digest import pipeline
from dltheory_digest.config import SourceSpec
from dltheory_digest.digest.text import md_text
from dltheory_digest.fetch import LocalLimiter, PoliteClient
from dltheory_digest.models import AnnounceType, Item, ItemKind, Paper, SourceReport
from dltheory_digest.pipeline import (
    ZERO_ITEMS_WARNING,
    cited_with_resolved_ids,
    collect_source,
    expand_mentions,
    select_sources,
    source_pages,
)
from dltheory_digest.sources import PlanContext
from dltheory_digest.weeks import Week

FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Blog</title><link>https://blog.example.org/</link>
<item><title>Why wide networks train like kernels</title>
<link>https://blog.example.org/2026/11/ntk/</link>
<pubDate>Tue, 17 Nov 2026 10:00:00 +0000</pubDate>
<description>&lt;p&gt;On &lt;a href="https://arxiv.org/abs/1806.07572v4"&gt;the neural tangent kernel&lt;/a&gt;.&lt;/p&gt;</description>
</item></channel></rss>"""

EMPTY_HTML = b"<html><head><title>Maintenance</title></head><body><p>Back soon.</p></body></html>"


def serve(routes: dict[str, tuple[int, bytes, str]]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        status, body, ctype = routes.get(request.url.path, (404, b"not found", "text/plain"))
        return httpx.Response(status, content=body, headers={"content-type": ctype})

    return httpx.MockTransport(handler)


def no_wait_limiter() -> LocalLimiter:
    """The politeness limiter with its spacing kept and its real waits skipped: the tests'
    servers are in-process, and spacing itself is tested in tests/test_fetch.py."""
    return LocalLimiter(sleep=lambda s: None)


def client_for(routes: dict[str, tuple[int, bytes, str]]) -> PoliteClient:
    return PoliteClient(
        limiter=no_wait_limiter(),
        transport=serve(routes),
        sleep=lambda s: None,
        max_retries=1,
        backoff_cap=0.0,
    )


def spec(kind: str, path: str, **extra: object) -> SourceSpec:
    return SourceSpec(id=f"{kind}-test", kind=kind, url=f"https://blog.example.org{path}", **extra)  # type: ignore[arg-type]


def test_a_feed_is_collected_with_its_report() -> None:
    routes = {"/feed.xml": (200, FEED, "application/rss+xml"), "/robots.txt": (404, b"", "text/plain")}
    with client_for(routes) as client:
        got = collect_source(spec("feed", "/feed.xml"), client, PlanContext())
    assert got.report.error is None and got.report.fetched == 1
    [post] = got.items
    assert post.kind is ItemKind.POST and post.source_id == "feed-test"
    assert [m.arxiv_id for m in expand_mentions(got.items)] == ["1806.07572"]


def test_the_report_counts_the_papers_a_post_cites_apart_from_the_items() -> None:
    routes = {"/feed.xml": (200, FEED, "application/rss+xml"), "/robots.txt": (404, b"", "text/plain")}
    with client_for(routes) as client:
        got = collect_source(spec("feed", "/feed.xml"), client, PlanContext())
    # one post citing one paper: "parsed 1" alone would not say the post brought a paper
    assert (got.report.parsed, got.report.cited) == (1, 1)
    assert pipeline.report_summary(got.report)["cited"] == 1
    # a reading list's lines are items of their own: each is parsed, none is "cited"
    list_page = b"""<html><body><ul>
<li><a href="https://arxiv.org/abs/1806.07572">Neural Tangent Kernel</a></li>
<li><a href="https://arxiv.org/abs/2106.10165">The Principles of Deep Learning Theory</a></li>
</ul></body></html>"""
    routes["/list"] = (200, list_page, "text/html; charset=utf-8")
    with client_for(routes) as client:
        got = collect_source(spec("notes_page", "/list"), client, PlanContext())
    assert got.report.parsed == len(got.items) >= 2 and got.report.cited == 0


def test_a_capped_crawl_delay_is_a_warning_of_the_sources_report() -> None:
    routes = {
        "/feed.xml": (200, FEED, "application/rss+xml"),
        "/robots.txt": (200, b"User-agent: *\nCrawl-delay: 3600\n", "text/plain"),
    }
    with client_for(routes) as client:
        got = collect_source(spec("feed", "/feed.xml"), client, PlanContext())
        assert client.drain_warnings("feed-test") == []  # taken by the report, not left for later
    assert got.report.error is None and len(got.items) == 1
    [warning] = got.report.warnings
    assert warning.startswith("https://blog.example.org/robots.txt asks for 3600 s between requests")


def test_a_failing_source_is_a_report_line_not_an_exception() -> None:
    routes = {"/feed.xml": (503, b"busy", "text/plain"), "/robots.txt": (404, b"", "text/plain")}
    with client_for(routes) as client:
        got = collect_source(spec("feed", "/feed.xml"), client, PlanContext())
    assert got.items == ()
    assert got.report.error is not None and "503" in got.report.error and "feed-test" in got.report.error


def test_zero_items_from_a_200_page_is_a_warning() -> None:
    routes = {"/list": (200, EMPTY_HTML, "text/html; charset=utf-8"), "/robots.txt": (404, b"", "text/plain")}
    with client_for(routes) as client:
        got = collect_source(spec("notes_page", "/list"), client, PlanContext())
    assert got.report.error is None
    assert any(ZERO_ITEMS_WARNING.split(" (")[0] in w for w in got.report.warnings)


def test_robots_disallowed_source_is_reported_and_not_fetched() -> None:
    seen: list[str] = []
    robots = b"User-agent: *\nDisallow: /private/\n"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/robots.txt":
            return httpx.Response(200, content=robots, headers={"content-type": "text/plain"})
        return httpx.Response(200, content=FEED, headers={"content-type": "application/rss+xml"})

    with PoliteClient(
        limiter=no_wait_limiter(), transport=httpx.MockTransport(handler), sleep=lambda s: None
    ) as client:
        got = collect_source(spec("feed", "/private/feed.xml"), client, PlanContext())
    assert seen == ["/robots.txt"]
    assert got.report.error is not None and "robots.txt" in got.report.error
    assert any("robots.txt" in w for w in got.report.warnings)


def test_arxiv_error_feed_message_reaches_the_report(shared_dir: Path) -> None:
    body = (shared_dir / "fixtures/arxiv_api/lukasschwab_id_abc_s0_m100_b79c8dcf6bc3.xml").read_bytes()
    routes = {"/api/query": (400, body, "application/atom+xml")}
    source = SourceSpec(
        id="arxiv-search",
        kind="arxiv_api",
        url="https://export.arxiv.org/api/query?search_query=abc",
        options={"search_query": "abc"},
    )
    with client_for(routes) as client:
        got = collect_source(source, client, PlanContext())
    assert got.report.error is not None and "incorrect id format for abc" in got.report.error


def test_select_sources() -> None:
    a = SourceSpec(id="a", kind="feed", url="https://e.org/a")
    b = SourceSpec(id="b", kind="feed", url="https://e.org/b", enabled=False)
    assert select_sources([a, b], None) == [a]
    assert select_sources([a, b], ["b"]) == [b]


def test_a_sighting_links_its_sources_page_unless_that_is_on_this_machine() -> None:
    specs = [
        SourceSpec(id="notes", kind="notes_page", url="https://notes.example.org/dl-theory"),
        SourceSpec(id="demo-notes", kind="notes_page", url="http://127.0.0.1:8765/notes/page"),
        SourceSpec(id="local", kind="notes_page", url="http://localhost/notes"),
        SourceSpec(id="two", kind="feed", urls=["https://a.example.org/feed", "https://b.example.org/feed"]),
        SourceSpec(id="listing", kind="arxiv_rss", options={"categories": ["cs.LG"]}),
    ]
    assert source_pages(specs) == {"notes": "https://notes.example.org/dl-theory"}


def test_a_source_url_carrying_a_credential_is_not_linked() -> None:
    specs = [
        SourceSpec(id="token", kind="notes_page", url="https://notes.example.org/dl?access_token=SECRET"),
        SourceSpec(id="login", kind="papers_cool", url="https://ada:SECRET@papers.example.org/arxiv/cs.LG"),
        SourceSpec(id="public", kind="notes_page", url="https://notes.example.org/dl?page=2"),
    ]
    assert source_pages(specs) == {"public": "https://notes.example.org/dl?page=2"}


def test_expand_mentions_keeps_papers_and_cited() -> None:
    paper = Item(source_id="s", kind=ItemKind.PAPER, title="P", arxiv_id="2106.10165")
    cited = Item(source_id="x", kind=ItemKind.MENTION, title="NTK", arxiv_id="1806.07572")
    post = Item(
        source_id="blog", kind=ItemKind.POST, title="Post", url="https://blog.example.org/p", cited=(cited,)
    )
    other = Item(source_id="s", kind=ItemKind.OTHER, title="A video")
    out = expand_mentions([paper, post, other])
    assert [(i.source_id, i.arxiv_id) for i in out] == [("s", "2106.10165"), ("blog", "1806.07572")]
    assert out[1].url == post.url


def test_a_post_citing_by_title_links_the_paper_its_title_search_found() -> None:
    by_title = Item(
        source_id="zhihu", kind=ItemKind.MENTION, title="Opening the Black Box of DNNs via Information"
    )
    by_id = Item(source_id="zhihu", kind=ItemKind.MENTION, title="NTK", arxiv_id="1806.07572")
    unknown = Item(source_id="zhihu", kind=ItemKind.MENTION, title="A paper no search found")
    post = Item(
        source_id="zhihu",
        kind=ItemKind.POST,
        title="阅读清单",
        url="https://zhuanlan.zhihu.com/p/1",
        cited=(by_title, by_id, unknown),
    )
    # resolution keys a cited mention as it was seen: in the post, at the post's URL
    seen = expand_mentions([post])
    found = {(seen[0].source_id, seen[0].key): "1703.00810"}
    linked = cited_with_resolved_ids(post, found)
    assert [c.arxiv_id for c in linked.cited] == ["1703.00810", "1806.07572", None]
    assert [c.title for c in linked.cited] == [c.title for c in post.cited]  # the text stays
    assert cited_with_resolved_ids(post, {}) is post


def test_a_404_is_a_response_received_with_its_error() -> None:
    routes = {"/robots.txt": (404, b"", "text/plain")}  # /feed.xml is not served: 404
    with client_for(routes) as client:
        got = collect_source(spec("feed", "/feed.xml"), client, PlanContext())
    assert got.report.fetched == 1 and got.report.parsed == 0
    assert got.report.error is not None and "404" in got.report.error


# --- a week read across languages, with a real (tiny) Argos model -----------------------------------

NTK_ID = "1806.07572"
NTK_TITLE = "Neural Tangent Kernel: Convergence and Generalization in Neural Networks"
ZHIHU_URL = "https://zhuanlan.zhihu.com/p/1973625480917305344"
NOTES_URL = "https://notes.example.org/Theory+of+deep+learning"


@pytest.fixture(scope="module")
def zh_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A packages dir with a tiny but real zh→en Argos package (random weights, real code paths)."""
    from dltheory_digest.language import install_from_file
    from tests.argos_tiny import build_tiny_package

    where = tmp_path_factory.mktemp("argos") / "packages"
    install_from_file(build_tiny_package(tmp_path_factory.mktemp("zh"), "zh", "en", version="0.1"), where)
    return where


def _week_items() -> list[Item]:
    listing = Item(
        source_id="arxiv",
        kind=ItemKind.PAPER,
        title=NTK_TITLE,
        url=f"https://arxiv.org/abs/{NTK_ID}",
        arxiv_id=NTK_ID,
        version=1,
        authors=("Arthur Jacot", "Franck Gabriel", "Clément Hongler"),
        lang="en",
        text="In the infinite-width limit, a network trained by gradient descent follows a fixed kernel.",
        published=dt.datetime(2026, 11, 17, tzinfo=dt.UTC),
        updated=dt.datetime(2026, 11, 17, tzinfo=dt.UTC),
        categories=("cs.LG",),
        primary_category="cs.LG",
        announce_type=AnnounceType.NEW,
    )
    reading_line = Item(
        source_id="zhihu",
        kind=ItemKind.MENTION,
        title=NTK_TITLE,
        url=f"https://arxiv.org/abs/{NTK_ID}",
        arxiv_id=NTK_ID,
        lang="zh",
        text="神经正切核的开山之作。梯度下降优化模型！",
    )
    article = Item(
        source_id="zhihu",
        kind=ItemKind.POST,
        title="深度学习理论阅读清单",
        url=ZHIHU_URL,
        lang="zh",
        published=dt.datetime(2026, 11, 18, tzinfo=dt.UTC),
        cited=(reading_line,),
    )
    notes_link = Item(
        source_id="notes",
        kind=ItemKind.MENTION,
        title="Neural Tangent Kernel",
        url=f"https://arxiv.org/pdf/{NTK_ID}.pdf",
        arxiv_id=NTK_ID,
        lang="en",
        extra=(("evidence", "arxiv_link"),),
    )
    bare_title = Item(
        source_id="notes",
        kind=ItemKind.MENTION,
        title="FLAT MINIMA",
        lang="en",
        text="flat regions around a minimizer are said to generalize better than sharp ones",
        extra=(("evidence", "title_only"),),
    )
    return [listing, article, notes_link, bare_title]


def test_a_week_reads_across_languages(tmp_path: Path, zh_packages: Path) -> None:
    from dltheory_digest import pipeline
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.language import MemoryTranslationCache, Translator
    from dltheory_digest.store import open_store
    from dltheory_digest.store import records as store_records
    from dltheory_digest.weeks import Week

    specs = [
        SourceSpec(id="arxiv", kind="arxiv_rss", name="arXiv", options={"categories": ["cs.LG"]}),
        SourceSpec(id="zhihu", kind="zhihu", name="Zhihu", url=ZHIHU_URL, lang="zh"),
        SourceSpec(id="notes", kind="notes_page", name="Notes", url=NOTES_URL),
    ]
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    by_source: dict[str, list[Item]] = {}
    for item in _week_items():
        by_source.setdefault(item.source_id, []).append(item)
    week = Week.parse("2026-W47")
    # arXiv's metadata, as an earlier resolve stored it (no network here)
    listing = by_source["arxiv"][0]
    store_records.save_papers(
        store,
        [
            Paper(
                key=f"arxiv:{NTK_ID}",
                title=NTK_TITLE,
                arxiv_id=NTK_ID,
                version=1,
                authors=listing.authors,
                abstract=listing.text,
                published=listing.published,
                updated=listing.updated,
                categories=listing.categories,
                primary_category="cs.LG",
            )
        ],
    )
    pipeline.record_collection(
        store,
        week,
        [
            pipeline.Collected(sid, tuple(found), SourceReport(sid, "test", fetched=1, parsed=len(found)))
            for sid, found in by_source.items()
        ],
    )
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        # unchecked: the random model writes only runaways, which a checked Translator discards
        translator=Translator(packages_dir=zh_packages, cache=MemoryTranslationCache(), check_output=False),
        classifier=DirectionClassifier.from_taxonomy(taxonomy),
        taxonomy=taxonomy,
    )
    build = pipeline.build_week(
        store, week, zone_name="UTC", specs=specs, fetch_bytes=None, stages=stages, relevance_threshold=0.0
    )
    markdown = build.markdown

    # the article: its English title linked, the original beside it
    [article] = build.digest.posts
    assert article.title_en and article.title_en != article.title
    # (shown cut at 300 characters: this model's title is a runaway)
    assert (
        f"[{md_text(dg.display_title(article.title_en))}]({ZHIHU_URL}) · *深度学习理论阅读清单*" in markdown
    )

    # the reading line's commentary: English (the model's), then as written, next to the arXiv abstract
    [ntk] = [p for p in dg.all_entries(build.digest) if p.paper.arxiv_id == NTK_ID]
    assert ntk.summary.startswith("In the infinite-width limit")
    [zhihu] = [s for s in ntk.sightings if s.source_id == "zhihu"]
    assert zhihu.commentary_original == "神经正切核的开山之作。梯度下降优化模型！"
    assert zhihu.translated_by == "argos zh→en 0.1" and zhihu.commentary
    assert (
        f"*Zhihu (zh):* {md_text(dg.excerpt(zhihu.commentary))} · *original:* 神经正切核的开山之作。"
        in markdown
    )

    # Seen in: arXiv without a link, the notes page (not the PDF it linked), the article
    assert f"Seen in: arXiv | [Notes]({NOTES_URL}) | [Zhihu]({ZHIHU_URL}) (zh)" in markdown

    # the bare title is an unconfirmed mention, outside the paper count
    assert [p.paper.title for p in build.digest.unconfirmed] == ["FLAT MINIMA"]
    assert build.counts["papers"] == 1 and build.counts["unconfirmed"] == 1
    assert "### FLAT MINIMA" not in markdown and "**1** paper · **1** direction" in markdown

    # rebuilding the same week gives the same file
    again = pipeline.build_week(
        store, week, zone_name="UTC", specs=specs, fetch_bytes=None, stages=stages, relevance_threshold=0.0
    )
    assert again.markdown == markdown
    store.close()


def test_readers_are_held_back_from_a_week_under_way_or_with_every_source_failed() -> None:
    from dltheory_digest.config import Reader, Settings
    from dltheory_digest.models import SourceReport
    from dltheory_digest.pipeline import readers_held_back, split_recipients
    from dltheory_digest.weeks import Week

    readers = Settings(readers=(Reader(email="ada@example.org"),))
    past = Week.parse("2026-W40")
    ok, down = (
        SourceReport("blog", "feed", fetched=1, parsed=2),
        SourceReport("api", "arxiv_api", error="HTTP 503"),
    )
    assert readers_held_back(readers, past, [ok, down]) is None
    assert "every source failed" in (readers_held_back(readers, past, [down]) or "")
    assert "is not over" in (readers_held_back(readers, Week.containing(dt.datetime.now(dt.UTC)), [ok]) or "")
    assert readers_held_back(Settings(), past, [down]) is None  # no readers: nothing to hold
    # a rerun of a past week that kept a mid-week refresh's digest
    assert "written while it was under way" in (
        readers_held_back(readers, past, [ok], partial_kept=True) or ""
    )

    # who is mailed now, who waits: a configured reader waits even when named explicitly
    assert split_recipients(readers, None, None) == (["ada@example.org"], [])
    assert split_recipients(readers, None, "not over") == ([], ["ada@example.org"])
    named = ["Ada@example.org", "lin@example.org"]
    assert split_recipients(readers, named, None) == (named, [])
    assert split_recipients(readers, named, "not over") == (["lin@example.org"], ["Ada@example.org"])


def test_run_parameters_are_checked_by_the_rules_the_cli_applies(tmp_path: Path) -> None:
    from dltheory_digest import pipeline
    from dltheory_digest.config import Settings
    from dltheory_digest.errors import ConfigError
    from dltheory_digest.pipeline import check_run_parameters
    from dltheory_digest.weeks import Week

    settings = Settings(timezone="Asia/Shanghai", sources_file=tmp_path / "sources.yaml")
    blog = SourceSpec(id="blog", kind="feed", url="https://e.org/feed")
    off = SourceSpec(id="off", kind="feed", url="https://e.org/off", enabled=False)
    # Monday 2026-11-23 08:00 in Shanghai: W47 is over there, W48 has begun
    now = dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)

    def check(**params: Any) -> pipeline.RunParameters:
        given: dict[str, Any] = {"week": None, "sources": None, "since": None, **params}
        return check_run_parameters(settings, [blog, off], now=now, **given)

    default = check()
    assert default == pipeline.RunParameters(Week.parse("2026-W47"), (blog,), None, ())
    chosen = check(week="2026-w48", sources=["off"], since="2026-11-29", email_to=["lin@example.org"])
    assert chosen == pipeline.RunParameters(
        Week.parse("2026-W48"), (off,), dt.date(2026, 11, 29), ("lin@example.org",)
    )
    refused: dict[str, tuple[dict[str, Any], str]] = {
        "week": ({"week": "2026-W49"}, "2026-W49 has not started yet (it begins 2026-11-30 Asia/Shanghai)"),
        "since": ({"since": "2026-11-23"}, "2026-11-23 is after the end of 2026-W47"),
        "sources": ({"sources": ["nope"]}, "unknown source id(s): nope (known: blog, off)"),
        "email_to": ({"email_to": ["ada"]}, "not an email address: 'ada'"),
    }
    for field, (params, reason) in refused.items():
        with pytest.raises(ConfigError) as raised:
            check(**params)
        assert str(raised.value) == f"weekly-digest parameter {field}: {reason}"
        assert raised.value.field == field
    with pytest.raises(ConfigError, match=r"parameter sources: no enabled sources in .*sources\.yaml"):
        check_run_parameters(settings, [off], week=None, sources=None, since=None, now=now)


def test_the_final_state_message_names_failed_sources_and_mail() -> None:
    week = Week.parse("2026-W47")
    ok = SourceReport("arxiv", "arxiv_rss", fetched=1)
    broken = SourceReport("blog", "feed", error="[blog] HTTP 500")
    sent = {"reader": "a@example.org", "status": "sent"}
    bounced = {"reader": "b@example.org", "status": "failed"}
    assert pipeline.run_message(week, [ok, ok], [sent]) == f"2026-W47: 2 sources, {pipeline.ALL_OK}"
    assert pipeline.run_message(week, [ok, broken], []) == "2026-W47: 1 of 2 sources failed: blog"
    assert pipeline.run_message(week, [broken], [bounced]) == (
        "2026-W47: every source failed; mail failed for 1 reader(s): b@example.org"
    )
    assert not pipeline.run_message(week, [ok], [bounced]).endswith(pipeline.ALL_OK)


def test_a_dry_runs_final_message_says_no_one_was_mailed() -> None:
    week = Week.parse("2026-W47")
    ok = SourceReport("arxiv", "arxiv_rss", fetched=1)
    broken = SourceReport("blog", "feed", error="[blog] HTTP 500")
    # still ends "all ok" when every source went through: `refresh --deployment` exits 0
    assert pipeline.run_message(week, [ok, ok], [], dry_run=True) == (
        f"2026-W47: dry run, no one was mailed; 2 sources, {pipeline.ALL_OK}"
    )
    assert pipeline.run_message(week, [ok, broken], [], dry_run=True) == (
        "2026-W47: dry run, no one was mailed; 1 of 2 sources failed: blog"
    )
    assert "mailed" not in pipeline.run_message(week, [ok], [])


def test_only_a_run_in_which_every_source_failed_keeps_the_earlier_digest(tmp_path: Path) -> None:
    from dltheory_digest.store import open_store
    from dltheory_digest.store import records as store_records

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    week = Week.parse("2026-W47")
    out = tmp_path / "outputs"
    ok = SourceReport("arxiv", "arxiv_rss", fetched=1)
    failed = SourceReport("blog", "feed", error="[blog] cannot reach blog.example.org")
    # nothing written before: the run publishes its own, whatever happened
    assert pipeline.earlier_digest_kept(store, out, week, [failed]) is None
    # kept in the store only (the file was removed): kept, at the path `send` would rebuild
    store_records.save_digest(store, week=str(week), markdown="# d", path=None, paper_keys=[], reports=[ok])
    assert pipeline.earlier_digest_kept(store, out, week, [failed]) == out / "2026-W47.md"
    # a run in which any source worked publishes its own
    assert pipeline.earlier_digest_kept(store, out, week, [ok, failed]) is None
    assert pipeline.earlier_digest_kept(store, out, week, []) is None
    store.close()
    # a file only (another store): kept
    out.mkdir()
    (out / "2026-W47.md").write_text("# d", encoding="utf-8")
    other = open_store(f"sqlite:///{tmp_path / 'other.sqlite'}")
    assert pipeline.earlier_digest_kept(other, out, week, [failed]) == out / "2026-W47.md"
    other.close()


def test_a_chinese_notes_pages_course_reads_in_english_with_its_original(
    tmp_path: Path, zh_packages: Path
) -> None:
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.language import MemoryTranslationCache, Translator
    from dltheory_digest.store import open_store

    page = "https://notes.example.cn/deep-learning-theory"
    specs = [SourceSpec(id="zh-notes", kind="notes_page", name="深度学习笔记", url=page, lang="zh")]
    course = Item(
        source_id="zh-notes",
        kind=ItemKind.OTHER,
        title="斯坦福深度学习理论课程",
        url="https://stats385.github.io/",
        lang="zh",
        text="梯度下降优化模型的理论课程。",
        extra=(("category", "course"),),
    )
    wiki = Item(
        source_id="zh-notes",
        kind=ItemKind.OTHER,
        title="神经正切核",
        url="https://zh.wikipedia.org/wiki/神经正切核",
        lang="zh",
        extra=(("category", "wiki"),),
    )
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    week = Week.parse("2026-W47")
    report = SourceReport("zh-notes", "notes_page", fetched=1, parsed=2)
    pipeline.record_collection(store, week, [pipeline.Collected("zh-notes", (course, wiki), report)])
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=Translator(packages_dir=zh_packages, cache=MemoryTranslationCache(), check_output=False),
        classifier=DirectionClassifier.from_taxonomy(taxonomy),
        taxonomy=taxonomy,
    )
    build = pipeline.build_week(
        store, week, zone_name="UTC", specs=specs, fetch_bytes=None, stages=stages, relevance_threshold=0.0
    )
    store.close()
    [listed] = build.digest.resources
    assert listed.original_title == "斯坦福深度学习理论课程" and listed.original_lang == "zh"
    assert listed.title and listed.title != listed.original_title  # the model's English
    [seen] = listed.sightings
    assert seen.commentary_original == "梯度下降优化模型的理论课程。" and seen.commentary
    assert seen.translated_by == "argos zh→en 0.1" and (seen.url, seen.lang) == (page, "zh")
    assert "*Original title (zh):* 斯坦福深度学习理论课程" in build.markdown
    assert "· *original:* 梯度下降优化模型的理论课程。" in build.markdown
    assert "wikipedia" not in build.markdown


def _blog_feed(link: str, post_url: str, link_text: str) -> bytes:
    body = f'&lt;p&gt;Universal approximation goes back to &lt;a href="{link}"&gt;{link_text}&lt;/a&gt;.&lt;/p&gt;'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Blog</title><link>https://blog.example.org/</link>
<item><title>What one hidden layer can do</title><link>{post_url}</link>
<pubDate>Wed, 18 Nov 2026 10:00:00 +0000</pubDate><description>{body}</description></item>
</channel></rss>""".encode()


EMPTY_ARXIV_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
<id>https://arxiv.org/api/x</id><title>arXiv Query</title><updated>2026-11-22T00:00:00Z</updated>
<opensearch:totalResults>0</opensearch:totalResults><opensearch:startIndex>0</opensearch:startIndex>
<opensearch:itemsPerPage>0</opensearch:itemsPerPage></feed>"""


def test_a_posts_doi_citation_becomes_an_entry_with_the_crossref_title(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.store import open_store

    cybenko = (fixtures_dir / "resolve/crossref_cybenko_1989.json").read_bytes()
    routes = {
        "/a/feed.xml": (
            200,
            _blog_feed("https://doi.org/10.1007/BF02551274", "https://a.example.org/p", "Cybenko 1989"),
            "application/rss+xml",
        ),
        "/b/feed.xml": (
            200,
            _blog_feed(
                "https://link.springer.com/article/10.1007/BF02551274", "https://b.example.org/p", "[3]"
            ),
            "application/rss+xml",
        ),
        "/api/query": (200, EMPTY_ARXIV_FEED, "application/atom+xml"),
        "/works/10.1007/bf02551274": (200, cybenko, "application/json"),
    }
    specs = [
        SourceSpec(id="blog-a", kind="feed", name="Blog A", url="https://blog.example.org/a/feed.xml"),
        SourceSpec(id="blog-b", kind="feed", name="Blog B", url="https://blog.example.org/b/feed.xml"),
        SourceSpec(id="notes", kind="notes_page", name="Notes", url="https://notes.example.org/dl"),
    ]
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    week = Week.parse("2026-W47")
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=None, classifier=DirectionClassifier.from_taxonomy(taxonomy), taxonomy=taxonomy
    )
    # a reading list naming the paper by its title only, with no link
    title_only = Item(
        source_id="notes",
        kind=ItemKind.MENTION,
        title="Approximation by Superpositions of a Sigmoidal Function",
        lang="en",
        text="the one-hidden-layer universality theorem",
    )
    with client_for(routes) as client:
        collected = [collect_source(s, client, PlanContext()) for s in specs]
        listed = pipeline.Collected("notes", (title_only,), SourceReport("notes", "notes_page", 1, 1))
        pipeline.record_collection(store, week, [*collected, listed])
        build = pipeline.build_week(
            store,
            week,
            zone_name="UTC",
            specs=specs,
            fetch_bytes=lambda url: client.get(url, source_id="arxiv-metadata").content,
            stages=stages,
            relevance_threshold=0.0,
            api_base="https://export.arxiv.org/api/query",
            crossref_api_base="https://api.crossref.org/works",
        )
        asked = [r.url for r in client.drain_records("arxiv-metadata")]
    store.close()

    # both posts' citations are one entry, shown with the paper's own title, authors and link
    [entry] = [e for e in dg.all_entries(build.digest) if e.paper.doi == "10.1007/bf02551274"]
    assert entry.paper.title == "Approximation by superpositions of a sigmoidal function"
    assert entry.paper.authors == ("G. Cybenko",) and entry.paper.arxiv_id is None
    assert entry.paper.key == "doi:10.1007/bf02551274"
    # the title-only line joins it through Crossref's title: one entry, not an unconfirmed one
    assert {s.source_id for s in entry.sightings} == {"blog-a", "blog-b", "notes"}
    assert build.digest.unconfirmed == () and len(dg.all_entries(build.digest)) == 1
    assert (
        "[Approximation by superpositions of a sigmoidal function](https://doi.org/10.1007/bf02551274)"
        in (build.markdown)
    )
    assert "### [Cybenko 1989]" not in build.markdown and "### [\\[3\\]]" not in build.markdown
    # the posts discuss it, and the posts list names it by its title, not by the link text
    assert {p.source_id for p in entry.discussed_in} == {"blog-a", "blog-b"}
    # both posts are listed with it in its direction (the posts section says so in one line);
    # nothing names it by the link text
    assert "\n2 listed with the papers they discuss, under [" in build.markdown
    assert "Cybenko 1989" not in build.markdown
    # where an arXiv paper shows its category, a journal paper shows its venue and year
    assert (
        "G. Cybenko · Mathematics of Control, Signals, and Systems 2(4), 303-314 (1989) · " in build.markdown
    )
    # Crossref was asked once, the arXiv API only to search the title it gave
    assert asked.count("https://api.crossref.org/works/10.1007/bf02551274") == 1
    assert all("api/query" in u for u in asked if "crossref" not in u)
    # resolved: no blog counts it as an unresolved mention
    assert {r.source_id: r.unresolved for r in build.digest.reports if r.source_id.startswith("blog")} == {
        "blog-a": 0,
        "blog-b": 0,
    }


def test_a_rebuilt_week_reads_the_same_without_asking_crossref_again(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    """What Crossref said is stored: rebuilding the week with Crossref gone (no base, or not
    answering) gives the same file, and a Crossref that answers is not asked again. The DOI
    whose record names an arXiv preprint resolves to it from the store too, without an id
    look-up."""
    import json

    from dltheory_digest.config import Politeness
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.store import open_store
    from dltheory_digest.store.records import load_doi_records
    from tests.test_resolve import CrossrefHandler, FakeArxiv, FakeCrossref, Handler, serving

    cybenko, maldacena = "10.1007/bf02551274", "10.4310/atmp.1998.v2.n2.a1"
    routes = {
        "/a/feed.xml": (
            200,
            _blog_feed(f"https://doi.org/{cybenko}", "https://a.example.org/p", "Cybenko 1989"),
            "application/rss+xml",
        ),
        "/b/feed.xml": (
            200,
            _blog_feed(f"https://doi.org/{maldacena}", "https://b.example.org/p", "Maldacena 1998"),
            "application/rss+xml",
        ),
    }
    specs = [
        SourceSpec(id="blog-a", kind="feed", name="Blog A", url="https://blog.example.org/a/feed.xml"),
        SourceSpec(id="blog-b", kind="feed", name="Blog B", url="https://blog.example.org/b/feed.xml"),
        SourceSpec(id="notes", kind="notes_page", name="Notes", url="https://notes.example.org/dl"),
    ]
    title_only = Item(
        source_id="notes",
        kind=ItemKind.MENTION,
        title="Approximation by Superpositions of a Sigmoidal Function",
        lang="en",
    )
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    week = Week.parse("2026-W47")
    with client_for(routes) as client:
        collected = [collect_source(s, client, PlanContext()) for s in specs[:2]]
    listed = pipeline.Collected("notes", (title_only,), SourceReport("notes", "notes_page", 1, 1))
    pipeline.record_collection(store, week, [*collected, listed])
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=None, classifier=DirectionClassifier.from_taxonomy(taxonomy), taxonomy=taxonomy
    )
    metadata_client = PoliteClient(limiter=no_wait_limiter(), respect_robots=False, max_retries=0)
    no_wait = Politeness(min_interval=0.0)

    def build(arxiv_base: str, crossref_base: str | None) -> str:
        return pipeline.build_week(
            store,
            week,
            zone_name="UTC",
            specs=specs,
            fetch_bytes=lambda url: (
                metadata_client.get(url, source_id="arxiv-metadata", politeness=no_wait).content
            ),
            stages=stages,
            relevance_threshold=0.0,
            api_base=arxiv_base,
            crossref_api_base=crossref_base,
        ).markdown

    records = {}
    for path in (fixtures_dir / "resolve").glob("crossref_*.json"):
        records[json.loads(path.read_bytes())["message"]["DOI"].lower()] = path.read_bytes()
    crossref = FakeCrossref(base="", records=records)
    arxiv = FakeArxiv(base="")
    try:
        with serving(type("BoundArxiv", (Handler,), {"server_state": arxiv})) as arxiv_root:
            arxiv_base = f"{arxiv_root}/api/query"
            with serving(type("BoundCrossref", (CrossrefHandler,), {"state": crossref})) as crossref_root:
                crossref.base = f"{crossref_root}/works"
                first = build(arxiv_base, crossref.base)
                asked_first = sorted(crossref.requests)
                id_lists = arxiv.id_lists()
                assert build(arxiv_base, None) == first  # `crossref_api_base: ""`
                assert build(arxiv_base, crossref.base) == first  # Crossref up: not asked again
                assert sorted(crossref.requests) == asked_first
                assert arxiv.id_lists() == id_lists  # the preprint came from the store
            assert build(arxiv_base, crossref.base) == first  # Crossref gone
        stored = load_doi_records(store, [cybenko, maldacena])
    finally:
        metadata_client.close()
        store.close()

    assert asked_first == [f"/works/{cybenko}", f"/works/{maldacena}"]
    assert id_lists == [["hep-th/9711200"]]
    # the journal paper under its Crossref title, the mention by title joined to it
    assert f"[Approximation by superpositions of a sigmoidal function](https://doi.org/{cybenko})" in first
    assert "Cybenko 1989" not in first and "Unconfirmed" not in first
    # the DOI Crossref tied to its arXiv preprint is that paper's entry
    assert "[The Large N Limit of Superconformal Field Theories and Supergravity]" in first
    assert (stored[cybenko].arxiv_id, stored[maldacena].arxiv_id) == (None, "hep-th/9711200")


def test_aggregators_of_arxiv_papers_are_linked_in_seen_in_but_arxivs_own_listings_are_not() -> None:
    from dltheory_digest.pipeline import source_pages

    specs = [
        SourceSpec(id="arxivdaily-cs-lg", kind="arxivdaily", url="https://www.arxivdaily.com/", lang="zh"),
        SourceSpec(id="zhihu-col", kind="zhihu", url="https://zhuanlan.zhihu.com/c_1", lang="zh"),
        SourceSpec(id="mirror", kind="arxiv_mirror", url="https://mirror.example.org/abs/2408.13767"),
        SourceSpec(id="papers-cool", kind="papers_cool", url="https://papers.cool/arxiv/cs.LG", lang="zh"),
        SourceSpec(id="api", kind="arxiv_api", url="https://export.arxiv.org/api/query", query="cat:cs.LG"),
        SourceSpec(id="oai", kind="arxiv_oai", url="https://oaipmh.arxiv.org/oai"),
        SourceSpec(id="rss", kind="arxiv_rss", url="https://rss.arxiv.org/rss/cs.LG"),
    ]
    assert source_pages(specs) == {
        "arxivdaily-cs-lg": "https://www.arxivdaily.com/",
        "zhihu-col": "https://zhuanlan.zhihu.com/c_1",
        "mirror": "https://mirror.example.org/abs/2408.13767",
        "papers-cool": "https://papers.cool/arxiv/cs.LG",
    }


W25_DAYS = ["2021-06-21", "2021-06-22", "2021-06-23", "2021-06-24", "2021-06-25"]


def _collect_listings(fixtures_dir: Path, status_of: dict[str, int]) -> tuple[Any, list[str]]:
    """papers.cool's week 2021-W25 through the real client; a day in `status_of` answers that
    status, the Monday the recorded listing, the other days an empty one."""
    from zoneinfo import ZoneInfo

    from dltheory_digest.fetch import LocalLimiter

    listing = (fixtures_dir / "sources" / "papers_cool_cs.LG_2021-06-21.html").read_bytes()
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        day = request.url.params.get("date", "")
        asked.append(day)
        if day in status_of:
            return httpx.Response(status_of[day], text="no such listing")
        if day == "2021-06-21":
            return httpx.Response(200, content=listing, headers={"content-type": "text/html"})
        return httpx.Response(
            200, text=f'<html><body><p class="info">Date: {day} | Total: 0</p></body></html>'
        )

    source = SourceSpec(id="papers-cool-lg", kind="papers_cool", url="https://papers.cool/arxiv/cs.LG")
    window = Week.parse("2021-W25").window(ZoneInfo("UTC"))
    spacing = LocalLimiter(sleep=lambda s: None)  # the site's request spacing, without the waits
    transport = httpx.MockTransport(handler)
    with PoliteClient(
        transport=transport, limiter=spacing, sleep=lambda s: None, max_retries=1, backoff_cap=0.0
    ) as client:
        return collect_source(source, client, PlanContext(*window)), asked


def test_one_missing_listing_day_is_a_warning_and_the_other_days_are_kept(fixtures_dir: Path) -> None:
    got, asked = _collect_listings(fixtures_dir, {"2021-06-23": 404, "2021-06-24": 410})
    assert asked == W25_DAYS  # the days after the missing ones are still read
    assert got.report.error is None
    assert "2106.10165" in {i.arxiv_id for i in got.items}
    assert got.report.fetched == 5 and got.report.parsed == len(got.items) > 0
    assert [w for w in got.report.warnings if w.startswith("listing ")] == [
        "listing https://papers.cool/arxiv/cs.LG?date=2021-06-23: HTTP 404, skipped",
        "listing https://papers.cool/arxiv/cs.LG?date=2021-06-24: HTTP 410, skipped",
    ]
    assert got.cursor["date"] == "2021-06-25"


def test_a_listing_source_fails_when_no_day_could_be_read(fixtures_dir: Path) -> None:
    got, asked = _collect_listings(fixtures_dir, dict.fromkeys(W25_DAYS, 404))
    assert asked == W25_DAYS and got.items == ()
    assert got.report.error is not None
    assert got.report.error.startswith("[papers-cool-lg]") and "404" in got.report.error
    assert got.report.error.endswith("(and 4 more listing(s) gone)")
    assert not any(w.startswith("listing ") for w in got.report.warnings)


def test_a_listing_server_in_trouble_is_still_the_sources_failure(fixtures_dir: Path) -> None:
    # a 503 says nothing about the day: the run fails, and the next one catches the week up
    got, asked = _collect_listings(fixtures_dir, {"2021-06-22": 503})
    assert asked[-1] == "2021-06-22" and "2021-06-23" not in asked  # (asked again: a retry)
    assert got.report.error is not None and "503" in got.report.error


def test_a_page_gone_from_a_source_whose_pages_are_not_independent_is_its_failure() -> None:
    routes = {"/feed.xml": (404, b"gone", "text/plain"), "/robots.txt": (404, b"", "text/plain")}
    with client_for(routes) as client:
        got = collect_source(spec("feed", "/feed.xml"), client, PlanContext())
    assert got.report.error is not None and "404" in got.report.error
    assert not any(w.startswith("listing ") for w in got.report.warnings)


def _curated_feed() -> bytes:
    """A week of a general-interest curated feed (as LessWrong's): two posts off the subject,
    one on it that cites no paper, and one that links a paper of the week."""

    def entry(slug: str, title: str, day: int, body: str) -> str:
        return (
            f"<item><title>{title}</title><link>https://www.lesswrong.com/posts/{slug}</link>"
            f"<pubDate>{day} Nov 2026 10:00:00 +0000</pubDate><description>{body}</description></item>"
        )

    items = [
        entry(
            "sourdough",
            "My favourite sourdough starter routine",
            16,
            "&lt;p&gt;I feed the starter twice a day with rye flour and lukewarm water. After a week "
            "the jar doubles within hours, and the loaf gets an open, tangy crumb.&lt;/p&gt;",
        ),
        entry(
            "turnout",
            "Forecasting election turnout with prediction markets",
            17,
            "&lt;p&gt;Traders bet on how many voters show up. Across three national elections the "
            "market prices beat the final polls on turnout by a few points.&lt;/p&gt;",
        ),
        entry(
            "wide-nets",
            "Why very wide networks train like kernel machines",
            18,
            "&lt;p&gt;As the width of a neural network grows, gradient descent moves each weight "
            "less and less, and training follows the neural tangent kernel, fixed at "
            "initialization. We sketch the proof of convergence for overparameterized "
            "two-layer networks.&lt;/p&gt;",
        ),
        entry(
            "weekend-notes",
            "Weekend notes",
            19,
            f'&lt;p&gt;Reading &lt;a href="https://arxiv.org/abs/{NTK_ID}"&gt;this paper&lt;/a&gt; '
            "on the train.&lt;/p&gt;",
        ),
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Curated</title>'
        f"<link>https://www.lesswrong.com/</link><language>en-us</language>{''.join(items)}</channel></rss>"
    ).encode()


def test_off_topic_posts_of_a_feed_go_to_the_appendix_not_to_every_reader(tmp_path: Path) -> None:
    from dltheory_digest.config import Reader
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.sources import REGISTRY
    from dltheory_digest.store import open_store
    from dltheory_digest.store import records as store_records

    feed = SourceSpec(id="lesswrong", kind="feed", name="LessWrong", url="https://www.lesswrong.com/feed.xml")
    parsed = REGISTRY["feed"].parse_bytes(_curated_feed(), url=feed.url or "", source_id=feed.id)
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    paper = Paper(
        key=f"arxiv:{NTK_ID}", title=NTK_TITLE, arxiv_id=NTK_ID, version=1, authors=("Arthur Jacot",)
    )
    store_records.save_papers(store, [paper])
    week = Week.parse("2026-W47")
    report = SourceReport(feed.id, "feed", fetched=1, parsed=len(parsed.items))
    pipeline.record_collection(store, week, [pipeline.Collected(feed.id, tuple(parsed.items), report)])
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=None, classifier=DirectionClassifier.from_taxonomy(taxonomy), taxonomy=taxonomy
    )
    build = pipeline.build_week(
        store, week, zone_name="UTC", specs=[feed], fetch_bytes=None, stages=stages, relevance_threshold=0.3
    )
    digest = build.digest
    # the theory post stays on its own score; the post linking the week's paper goes with it
    assert [p.title for p in digest.posts] == [
        "Why very wide networks train like kernel machines",
        "Weekend notes",
    ]
    below = {p.title: relevance for p, relevance in digest.posts_below_threshold}
    assert set(below) == {
        "My favourite sourdough starter routine",
        "Forecasting election turnout with prediction markets",
    }
    assert all(relevance < 0.3 for relevance in below.values())
    assert dict(digest.counts)["posts_below_threshold"] == 2
    listed, appendix = build.markdown.split("**Posts below the relevance threshold (2):**")
    assert "sourdough" not in listed and "sourdough" in appendix
    # a reader of the neural tangent kernel gets neither in their edition
    reader = Reader(email="a@example.org", keywords=("neural tangent kernel",))
    edition = dg.render_markdown(dg.filter_for_reader(digest, reader), for_reader=True)
    assert "sourdough" not in edition and "turnout" not in edition
    assert "Why very wide networks train like kernel machines" in edition


# --- pages on their own: URLs listed in sources.yaml ------------------------------------

BLOG = "https://blog.example.org"


def _collect_listed(kind: str, status_of: dict[str, int], body: bytes = FEED) -> Any:
    """A source of `kind` listing three URLs: each path in `status_of` answers that status,
    the others `body`."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        status = status_of.get(request.url.path, 200)
        return httpx.Response(status, content=body if status == 200 else b"gone")

    urls = [f"{BLOG}/a.xml", f"{BLOG}/b.xml", f"{BLOG}/c.xml"]
    source = SourceSpec(id=f"{kind}-listed", kind=kind, urls=urls)
    client = PoliteClient(
        limiter=no_wait_limiter(), transport=httpx.MockTransport(handler), sleep=lambda s: None, max_retries=1
    )
    with client:
        return collect_source(source, client, PlanContext())


@pytest.mark.parametrize("status", [404, 410])
def test_one_listed_url_that_is_gone_is_a_warning_and_the_others_are_kept(status: int) -> None:
    got = _collect_listed("feed", {"/a.xml": status})
    assert got.report.error is None and not got.report.offline
    assert got.report.fetched == 3
    assert {i.url for i in got.items} == {"https://blog.example.org/2026/11/ntk/"}
    assert f"page {BLOG}/a.xml: HTTP {status}, skipped" in got.report.warnings


def test_a_source_whose_every_listed_url_is_gone_fails() -> None:
    got = _collect_listed("feed", dict.fromkeys(["/a.xml", "/b.xml", "/c.xml"], 404))
    assert got.items == ()
    assert got.report.error == f"[feed-listed] HTTP 404 for {BLOG}/a.xml (and 2 more page(s) gone)"
    assert not any("HTTP 404, skipped" in w for w in got.report.warnings)


def test_a_listed_url_of_a_server_in_trouble_still_fails_the_source() -> None:
    # a 503 says nothing about the page: the next run reads it again
    got = _collect_listed("feed", {"/b.xml": 503})
    assert got.report.error is not None and "503" in got.report.error


def test_a_listed_notes_page_that_is_gone_is_skipped_like_a_feed() -> None:
    page = b'<html><body><p>See <a href="https://arxiv.org/abs/2106.10165">the book</a>.</p></body></html>'
    got = _collect_listed("notes_page", {"/c.xml": 410}, body=page)
    assert got.report.error is None
    assert f"page {BLOG}/c.xml: HTTP 410, skipped" in got.report.warnings
    assert got.items


def test_a_chained_page_that_is_gone_still_fails_the_source(fixtures_dir: Path) -> None:
    """OAI-PMH's resumption page is not on its own: without it the harvest has a hole."""
    from dltheory_digest.fetch import LocalLimiter

    first = (fixtures_dir / "arxiv_oai" / "listrecords_arxiv_page1.xml").read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        if "resumptionToken" in request.url.params:
            return httpx.Response(404, text="no such token")
        return httpx.Response(200, content=first, headers={"content-type": "text/xml"})

    source = SourceSpec(id="oai", kind="arxiv_oai", url="https://oaipmh.arxiv.org/oai", options={"set": "cs"})
    client = PoliteClient(
        transport=httpx.MockTransport(handler),
        limiter=LocalLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
    )
    with client:
        got = collect_source(source, client, PlanContext())
    assert got.report.fetched == 2
    assert got.report.error is not None and "HTTP 404" in got.report.error
    assert not any("HTTP 404, skipped" in w for w in got.report.warnings)


@pytest.mark.parametrize(
    ("said", "offline"),
    [
        ("[Errno -3] Temporary failure in name resolution", True),
        ("[Errno 101] Network is unreachable", True),
        ("[Errno 111] Connection refused", False),  # the network is there: one server is down
    ],
)
def test_the_report_says_as_a_field_whether_the_source_failed_for_want_of_a_network(
    said: str, offline: bool
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(said, request=request)

    client = PoliteClient(
        limiter=no_wait_limiter(), transport=httpx.MockTransport(handler), sleep=lambda s: None
    )
    with client:
        got = collect_source(spec("feed", "/feed.xml"), client, PlanContext())
    assert got.report.error is not None and got.report.offline is offline
    assert pipeline.report_summary(got.report)["offline"] is offline


def test_an_http_error_is_not_offline() -> None:
    with client_for({"/robots.txt": (404, b"", "text/plain")}) as client:
        got = collect_source(spec("feed", "/feed.xml"), client, PlanContext())
    assert got.report.error is not None and got.report.offline is False


def test_a_robots_txt_cut_at_its_size_cap_is_a_warning_of_the_sources_report() -> None:
    from dltheory_digest.fetch import ROBOTS_MAX_BYTES

    robots = b"User-agent: *\nDisallow: /private/\n" + b"# padding\n" * (ROBOTS_MAX_BYTES // 10 + 1)
    routes = {"/feed.xml": (200, FEED, "application/rss+xml"), "/robots.txt": (200, robots, "text/plain")}
    with client_for(routes) as client:
        got = collect_source(spec("feed", "/feed.xml"), client, PlanContext())
    assert got.report.error is None and len(got.items) == 1
    [warning] = got.report.warnings
    assert warning.startswith(
        f"{BLOG}/robots.txt larger than the {ROBOTS_MAX_BYTES}-byte cap: only its first"
    )


# --- listed URLs that robots.txt disallows --------------------------------------------------


def _collect_with_robots(
    robots: dict[str, tuple[int, bytes]], urls: list[str], kind: str = "feed", body: bytes = FEED
) -> tuple[Any, list[str]]:
    """A source of `kind` listing `urls`; each host's robots.txt answers as `robots` says
    (status, body), every other page answers `body`. Returns the collection and what was asked."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            status, text = robots.get(request.url.host, (404, b""))
            return httpx.Response(status, content=text, headers={"content-type": "text/plain"})
        asked.append(str(request.url))
        return httpx.Response(200, content=body, headers={"content-type": "application/rss+xml"})

    source = SourceSpec(id=f"{kind}-robots", kind=kind, urls=urls)
    client = PoliteClient(
        limiter=no_wait_limiter(), transport=httpx.MockTransport(handler), sleep=lambda s: None, max_retries=0
    )
    with client:
        return collect_source(source, client, PlanContext()), asked


def test_a_listed_url_that_robots_txt_disallows_is_a_warning_and_the_others_are_kept() -> None:
    robots = {"blog.example.org": (200, b"User-agent: *\nDisallow: /b.xml\n")}
    got, asked = _collect_with_robots(robots, [f"{BLOG}/a.xml", f"{BLOG}/b.xml", f"{BLOG}/c.xml"])
    assert got.report.error is None
    assert asked == [f"{BLOG}/a.xml", f"{BLOG}/c.xml"]  # the disallowed page is never requested
    assert got.report.fetched == 2 and len(got.items) == 2  # one post from each page read
    [warning] = [w for w in got.report.warnings if "robots.txt" in w]
    assert warning.startswith(f"page {BLOG}/b.xml: ")
    assert "can never be fetched" in warning and "remove it from sources.yaml" in warning


def test_a_source_whose_every_listed_url_robots_txt_disallows_fails_with_the_advice() -> None:
    robots = {"blog.example.org": (200, b"User-agent: *\nDisallow: /\n")}
    got, asked = _collect_with_robots(robots, [f"{BLOG}/a.xml", f"{BLOG}/b.xml"])
    assert asked == [] and got.items == ()
    assert got.report.error == (
        f"[feed-robots] disallowed by robots.txt: {BLOG}/a.xml (and 1 more page(s) disallowed)"
    )
    # the warnings still say what to do about each
    assert sum("remove it from sources.yaml" in w for w in got.report.warnings) == 2


def test_a_listed_url_whose_robots_txt_cannot_be_read_still_fails_the_source() -> None:
    # a robots.txt answering 503 shuts its site for now, not for ever: the next run tries again,
    # and this one must not pass for a good one (the cursor would move on without that page)
    robots = {"other.example.org": (503, b"busy")}
    got, asked = _collect_with_robots(robots, [f"{BLOG}/a.xml", "https://other.example.org/b.xml"])
    assert asked == [f"{BLOG}/a.xml"]
    assert got.report.error is not None and "robots.txt could not be read" in got.report.error
    assert not any("sources.yaml" in w for w in got.report.warnings)


def test_a_chained_page_that_robots_txt_disallows_still_fails_the_source(fixtures_dir: Path) -> None:
    """A resumption page is not listed in sources.yaml: without it the harvest has a hole."""
    from dltheory_digest.fetch import LocalLimiter

    first = (fixtures_dir / "arxiv_oai" / "listrecords_arxiv_page1.xml").read_bytes()
    robots = b"User-agent: *\nDisallow: /*resumptionToken\n"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, content=robots, headers={"content-type": "text/plain"})
        return httpx.Response(200, content=first, headers={"content-type": "text/xml"})

    source = SourceSpec(id="oai", kind="arxiv_oai", url="https://oai.example.org/oai", options={"set": "cs"})
    client = PoliteClient(
        transport=httpx.MockTransport(handler),
        limiter=LocalLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
    )
    with client:
        got = collect_source(source, client, PlanContext())
    assert got.report.fetched == 1 and got.items
    assert got.report.error is not None and "disallowed by robots.txt" in got.report.error
    assert not any("sources.yaml" in w for w in got.report.warnings)


def test_a_listed_url_redirecting_to_a_disallowed_page_names_both() -> None:
    robots = b"User-agent: *\nDisallow: /private/\n"
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, content=robots, headers={"content-type": "text/plain"})
        asked.append(request.url.path)
        if request.url.path == "/moved.xml":
            return httpx.Response(301, headers={"location": "/private/feed.xml"})
        return httpx.Response(200, content=FEED, headers={"content-type": "application/rss+xml"})

    source = SourceSpec(id="feed-moved", kind="feed", urls=[f"{BLOG}/moved.xml", f"{BLOG}/a.xml"])
    with PoliteClient(
        limiter=no_wait_limiter(), transport=httpx.MockTransport(handler), sleep=lambda s: None
    ) as client:
        got = collect_source(source, client, PlanContext())
    assert asked == ["/moved.xml", "/a.xml"] and got.report.error is None
    assert (
        f"page {BLOG}/moved.xml: it redirects to {BLOG}/private/feed.xml, which the site's robots.txt "
        "disallows, so it can never be fetched; remove it from sources.yaml"
    ) in got.report.warnings


def test_listed_urls_gone_or_disallowed_with_none_read_fail_the_source() -> None:
    robots = b"User-agent: *\nDisallow: /b.xml\n"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, content=robots, headers={"content-type": "text/plain"})
        return httpx.Response(404, text="gone")

    source = SourceSpec(id="feed-none", kind="feed", urls=[f"{BLOG}/a.xml", f"{BLOG}/b.xml"])
    with PoliteClient(
        limiter=no_wait_limiter(), transport=httpx.MockTransport(handler), sleep=lambda s: None
    ) as client:
        got = collect_source(source, client, PlanContext())
    assert (
        got.report.error == f"[feed-none] HTTP 404 for {BLOG}/a.xml (and 1 more page(s) gone or disallowed)"
    )


# --- title searches that found nothing are not made again for a while ----------------------


def test_a_title_arxiv_did_not_find_is_not_searched_again_until_days_later(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    """Cybenko's journal paper is on no arXiv: its Crossref title and a reading list's title-only
    line are searched once; a rebuild within `TITLE_MISS_KEPT` asks arXiv nothing and reads the
    same, a build after it searches again (the preprint may be out by then)."""
    import json

    from dltheory_digest import resolve
    from dltheory_digest.config import Politeness
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.store import open_store
    from tests.test_resolve import CrossrefHandler, FakeArxiv, FakeCrossref, Handler, serving

    cybenko = "10.1007/bf02551274"
    feed = _blog_feed(f"https://doi.org/{cybenko}", "https://a.example.org/p", "Cybenko 1989")
    specs = [
        SourceSpec(id="blog-a", kind="feed", name="Blog A", url="https://blog.example.org/a/feed.xml"),
        SourceSpec(id="notes", kind="notes_page", name="Notes", url="https://notes.example.org/dl"),
    ]
    title_only = Item(
        source_id="notes", kind=ItemKind.MENTION, title="A Mean Field View of the Landscape of Two-Layer Nets"
    )
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    week = Week.parse("2026-W47")
    with client_for({"/a/feed.xml": (200, feed, "application/rss+xml")}) as client:
        collected = collect_source(specs[0], client, PlanContext())
    listed = pipeline.Collected("notes", (title_only,), SourceReport("notes", "notes_page", 1, 1))
    pipeline.record_collection(store, week, [collected, listed])
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=None, classifier=DirectionClassifier.from_taxonomy(taxonomy), taxonomy=taxonomy
    )
    record = (fixtures_dir / "resolve/crossref_cybenko_1989.json").read_bytes()
    crossref = FakeCrossref(base="", records={json.loads(record)["message"]["DOI"].lower(): record})
    arxiv = FakeArxiv(base="")
    metadata_client = PoliteClient(limiter=no_wait_limiter(), respect_robots=False, max_retries=0)
    no_wait = Politeness(min_interval=0.0)
    first_run = dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC)

    def build(now: dt.datetime) -> str:
        return pipeline.build_week(
            store,
            week,
            zone_name="UTC",
            specs=specs,
            fetch_bytes=lambda url: (
                metadata_client.get(url, source_id="arxiv-metadata", politeness=no_wait).content
            ),
            stages=stages,
            relevance_threshold=0.0,
            api_base=arxiv.base,
            crossref_api_base=crossref.base,
            now=now,
        ).markdown

    try:
        with serving(type("BoundArxiv", (Handler,), {"server_state": arxiv})) as arxiv_root:
            arxiv.base = f"{arxiv_root}/api/query"
            with serving(type("BoundCrossref", (CrossrefHandler,), {"state": crossref})) as crossref_root:
                crossref.base = f"{crossref_root}/works"
                first = build(first_run)
                searched = arxiv.searches()
                assert len(searched) == 4  # phrase, then words, for each of the two titles
                arxiv.requests.clear()
                assert build(first_run + dt.timedelta(days=1)) == first
                almost = first_run + resolve.TITLE_MISS_KEPT - dt.timedelta(minutes=1)
                assert build(almost) == first
                assert arxiv.requests == []
                assert build(first_run + resolve.TITLE_MISS_KEPT + dt.timedelta(minutes=1)) == first
                assert arxiv.searches() == searched  # asked again, the same questions
    finally:
        metadata_client.close()
        store.close()
    assert "Approximation by superpositions of a sigmoidal function" in first


# --- the cursor a failed collection leaves ---------------------------------------------------


def test_a_harvest_that_fails_half_way_leaves_the_cursor_where_it_was(fixtures_dir: Path) -> None:
    """The first OAI page was read, its resumption failed: the next run starts from the old cursor
    (the records of the page not read are not skipped by a cursor moved to this harvest's date)."""
    from dltheory_digest.fetch import LocalLimiter

    pages = fixtures_dir / "arxiv_oai"
    resumption = [(503, b"busy")]

    def handler(request: httpx.Request) -> httpx.Response:
        if "resumptionToken" in request.url.params:
            status, body = resumption[0]
            return httpx.Response(status, content=body, headers={"content-type": "text/xml"})
        first = (pages / "listrecords_arxiv_page1.xml").read_bytes()
        return httpx.Response(200, content=first, headers={"content-type": "text/xml"})

    source = SourceSpec(id="oai", kind="arxiv_oai", url="https://oaipmh.arxiv.org/oai", options={"set": "cs"})
    client = PoliteClient(
        transport=httpx.MockTransport(handler),
        limiter=LocalLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
        max_retries=0,
    )
    with client:
        failed = collect_source(source, client, PlanContext(cursor={"from": "2026-11-16"}))
        resumption[0] = (200, (pages / "listrecords_arxiv_page2.xml").read_bytes())
        whole = collect_source(source, client, PlanContext(cursor=failed.cursor))
    assert failed.report.error is not None and failed.items  # the first page's records are kept
    assert failed.cursor == {"from": "2026-11-16"}
    # the next run harvests from there again, whole: now the cursor moves to the server's date
    assert whole.report.error is None and len(whole.items) == 5
    assert whole.cursor == {"from": "2026-11-23"}


def test_a_service_error_in_a_200_answer_fails_the_source(fixtures_dir: Path) -> None:
    """OAI-PMH says "badResumptionToken" inside a 200 answer: the harvest has a hole, so the
    source fails (the run says so) and its cursor stays, as for an HTTP error."""
    pages = fixtures_dir / "arxiv_oai"

    def handler(request: httpx.Request) -> httpx.Response:
        page = "error_badresumptiontoken.xml" if "resumptionToken" in request.url.params else None
        body = (pages / (page or "listrecords_arxiv_page1.xml")).read_bytes()
        return httpx.Response(200, content=body, headers={"content-type": "text/xml"})

    source = SourceSpec(id="oai", kind="arxiv_oai", url="https://oaipmh.arxiv.org/oai", options={"set": "cs"})
    client = PoliteClient(
        transport=httpx.MockTransport(handler), limiter=no_wait_limiter(), sleep=lambda s: None, max_retries=0
    )
    with client:
        got = collect_source(source, client, PlanContext(cursor={"from": "2026-11-16"}))
    assert got.report.fetched == 2
    assert got.report.error is not None
    assert got.report.error.startswith("[oai] ") and "badResumptionToken" in got.report.error
    assert got.cursor == {"from": "2026-11-16"}
    assert pipeline.report_summary(got.report)["error"] == got.report.error


# --- max_pages caps the pages followed, never the pages planned ------------------------------


def _rss_listing(arxiv_id: str) -> bytes:
    return f"""<?xml version="1.0"?>
<rss version="2.0" xmlns:arxiv="http://arxiv.org/schemas/atom"><channel><title>listing</title>
<item><title>A paper</title><link>https://arxiv.org/abs/{arxiv_id}</link>
<description>arXiv:{arxiv_id}v1 Announce Type: new
Abstract: An abstract.</description><guid>oai:arXiv.org:{arxiv_id}v1</guid>
<arxiv:announce_type>new</arxiv:announce_type></item></channel></rss>""".encode()


def _limited_client(handler: Callable[[httpx.Request], httpx.Response]) -> PoliteClient:
    from dltheory_digest.fetch import LocalLimiter

    return PoliteClient(
        transport=httpx.MockTransport(handler),
        limiter=LocalLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
        max_retries=0,
    )


def test_every_listed_url_of_an_rss_source_is_read() -> None:
    """Two listings in `urls`: both are read (the second was dropped by a cap of one page)."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        asked.append(request.url.path)
        arxiv_id = "2611.00001" if request.url.path.endswith("cs.LG") else "2611.00002"
        return httpx.Response(
            200, content=_rss_listing(arxiv_id), headers={"content-type": "application/rss+xml"}
        )

    urls = ["https://rss.arxiv.org/rss/cs.LG", "https://rss.arxiv.org/rss/stat.ML"]
    source = SourceSpec(id="arxiv", kind="arxiv_rss", urls=urls)
    with _limited_client(handler) as client:
        got = collect_source(source, client, PlanContext())
    assert asked == ["/rss/cs.LG", "/rss/stat.ML"]
    assert [i.arxiv_id for i in got.items] == ["2611.00001", "2611.00002"]
    assert got.report.error is None and got.report.warnings == ()


def test_a_catch_up_of_several_listing_categories_reads_every_planned_day() -> None:
    """Three categories, four missed weeks and this one: 75 listings, all asked for (the third
    category, this week included, was lost after 50)."""
    from zoneinfo import ZoneInfo

    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        asked.append(f"{request.url.path}?{request.url.params['date']}")
        arxiv_id = f"2611.{len(asked):05d}"
        panel = f'<div class="panel paper" id="{arxiv_id}"><a class="title-link" href="/arxiv/{arxiv_id}">T</a></div>'
        return httpx.Response(
            200, text=f"<html><body>{panel}</body></html>", headers={"content-type": "text/html"}
        )

    urls = [f"https://papers.cool/arxiv/{c}" for c in ("cs.LG", "stat.ML", "cs.NE")]
    source = SourceSpec(id="pc", kind="papers_cool", urls=urls)
    start, end = Week(2026, 46).window(ZoneInfo("UTC"))
    ctx = PlanContext(window_start=start, window_end=end, since=Week(2026, 42).monday)
    with _limited_client(handler) as client:
        got = collect_source(source, client, ctx)
    days = ctx.listing_days()
    assert len(days) == 25 and len(asked) == 75 == got.report.fetched
    assert f"/arxiv/cs.NE?{days[-1].isoformat()}" in asked  # the last category's target week
    assert got.report.error is None and not any("stopped" in w for w in got.report.warnings)
    assert len(got.items) == 75


def _capped(monkeypatch: pytest.MonkeyPatch, kind_name: str, max_pages: int) -> None:
    """The kind as registered, with a smaller cap (so a test need not serve hundreds of pages)."""
    import dataclasses

    from dltheory_digest.sources import REGISTRY

    monkeypatch.setitem(REGISTRY, kind_name, dataclasses.replace(REGISTRY[kind_name], max_pages=max_pages))


def _endless_oai(fixtures_dir: Path) -> Callable[[httpx.Request], httpx.Response]:
    """An OAI harvest whose every page ends in a new resumption token."""
    first = (fixtures_dir / "arxiv_oai" / "listrecords_arxiv_page1.xml").read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("resumptionToken", "6934187|1")
        page = first.replace(b"6934187|1001", f"6934187|{int(token.split('|')[1]) + 1000}".encode())
        return httpx.Response(200, content=page, headers={"content-type": "text/xml"})

    return handler


def test_a_harvest_cut_at_the_cap_fails_and_keeps_its_cursor(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages left at the cap are records asked for and not read: the source's error, so the
    cursor stays and the next run's backfill reaches back for them."""
    _capped(monkeypatch, "arxiv_oai", 2)
    source = SourceSpec(id="oai", kind="arxiv_oai", url="https://oaipmh.arxiv.org/oai", options={"set": "cs"})
    with _limited_client(_endless_oai(fixtures_dir)) as client:
        got = collect_source(source, client, PlanContext(cursor={"from": "2026-11-16"}))
    assert got.report.fetched == 3  # the planned page and the two followed
    assert got.report.error == (
        "[oai] the results continue beyond the 2 next pages a run follows (5 results in all),"
        " so they are incomplete: narrow its query"
    )
    assert got.items and got.cursor == {"from": "2026-11-16"}


def test_a_history_cut_at_the_cap_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """A column's `next` pages reach back through its history with no end: the cap stops the
    reading back, and the source has not failed (the next run would stop at the same page)."""
    _capped(monkeypatch, "zhihu", 2)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        offset = int(request.url.params.get("offset", "0"))
        article = {"id": 1000 + offset, "title": f"Notes {offset}", "content": "<p>On kernels.</p>"}
        paging = {
            "is_end": False,
            "next": f"https://www.zhihu.com/api/v4/columns/c_1/items?offset={offset + 1}",
        }
        return httpx.Response(200, json={"data": [article], "paging": paging})

    source = SourceSpec(id="zh", kind="zhihu", url="https://www.zhihu.com/api/v4/columns/c_1/items?offset=0")
    with _limited_client(handler) as client:
        got = collect_source(source, client, PlanContext())
    assert got.report.error is None and len(got.items) == 3
    assert "stopped after following 2 next pages; 1 more not fetched" in got.report.warnings


def test_a_plan_that_cannot_be_built_names_the_source() -> None:
    source = SourceSpec(id="pc", kind="papers_cool", url="https://papers.cool/arxiv/cs.LG")
    with _limited_client(lambda request: httpx.Response(500)) as client:
        got = collect_source(source, client, PlanContext(cursor={"date": "2026/11/20"}))
    assert got.report.error == (
        "[pc] cannot plan requests: the stored cursor's date '2026/11/20' is not YYYY-MM-DD"
    )
    assert got.report.fetched == 0 and got.cursor == {"date": "2026/11/20"}


# --- the week a sighting is attributed to -------------------------------------------------

MONDAY_RUN = dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)  # the scheduled run of 2026-W47


def listed(arxiv_id: str, when: dt.datetime, source_id: str = "arxiv") -> Item:
    return Item(source_id, ItemKind.PAPER, f"Paper {arxiv_id}", arxiv_id=arxiv_id, version=1, updated=when)


def posted(url: str, published: dt.datetime | None, updated: dt.datetime | None = None) -> Item:
    return Item("blog", ItemKind.POST, url.rsplit("/", 1)[-1], url=url, published=published, updated=updated)


def test_a_sightings_own_date_names_its_week_in_the_readers_zone() -> None:
    from zoneinfo import ZoneInfo

    utc, los_angeles = ZoneInfo("UTC"), ZoneInfo("America/Los_Angeles")
    new_york = ZoneInfo("America/New_York")
    monday_listing = listed("2611.00001", dt.datetime(2026, 11, 23, tzinfo=new_york))
    assert str(pipeline.sighting_week(monday_listing, utc, now=MONDAY_RUN)) == "2026-W48"
    # a version dated Sunday 21:00 in Los Angeles (the API's date) is that week's there...
    assert str(pipeline.sighting_week(monday_listing, los_angeles, now=MONDAY_RUN)) == "2026-W47"
    # ...but a listing (arXiv's RSS) is placed by its listing day in every zone, as papers.cool's is
    import dataclasses

    rss = dataclasses.replace(monday_listing, announce_type=AnnounceType.NEW)
    assert str(pipeline.sighting_week(rss, los_angeles, now=MONDAY_RUN)) == "2026-W48"
    # a page dated hours from year 9999 or year 1 has no day in every zone: no crash, no week
    shanghai = ZoneInfo("Asia/Shanghai")
    last_day = posted("https://b.org/edge", dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC))
    assert pipeline.sighting_week(last_day, shanghai, now=MONDAY_RUN) is None  # past the clock
    first_day = posted("https://b.org/edge", dt.datetime(1, 1, 1, 3, tzinfo=dt.UTC))
    assert pipeline.sighting_week(first_day, ZoneInfo("America/New_York"), now=MONDAY_RUN) == Week(1, 1)
    # a day without a time (papers.cool's "2026-11-23") is that day in every zone
    day_only = listed("2611.00002", dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    assert str(pipeline.sighting_week(day_only, los_angeles, now=MONDAY_RUN)) == "2026-W48"
    # a post by its post date, an edit later does not move it
    edited = posted("https://b.org/p", dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC), MONDAY_RUN)
    assert str(pipeline.sighting_week(edited, utc, now=MONDAY_RUN)) == "2026-W47"
    assert (
        str(pipeline.sighting_week(posted("https://b.org/q", None, MONDAY_RUN), utc, now=MONDAY_RUN))
        == "2026-W48"
    )
    # no date, a date past the week of the clock (a misdated feed), or a mention: no week of its own
    assert pipeline.sighting_week(posted("https://b.org/r", None), utc, now=MONDAY_RUN) is None
    future = posted("https://b.org/s", dt.datetime(2030, 1, 7, tzinfo=dt.UTC))
    assert pipeline.sighting_week(future, utc, now=MONDAY_RUN) is None
    mention = Item("notes", ItemKind.MENTION, "Paper", arxiv_id="2611.00003", published=MONDAY_RUN)
    assert pipeline.sighting_week(mention, utc, now=MONDAY_RUN) is None
    # arXiv dates Monday's listing ahead of the clock: read on Sunday evening in New York, it is
    # Monday's, not a misdated one
    sunday_evening = dt.datetime(2026, 11, 22, 20, 30, tzinfo=new_york)
    assert str(pipeline.sighting_week(monday_listing, new_york, now=sunday_evening)) == "2026-W48"


def test_a_run_puts_each_sighting_in_the_week_of_its_date_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dltheory_digest.store import open_store, records
    from dltheory_digest.store.deliveries import record_delivery

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    w47 = Week.parse("2026-W47")
    friday = listed("2611.00001", dt.datetime(2026, 11, 20, 5, tzinfo=dt.UTC))
    monday = listed("2611.00002", dt.datetime(2026, 11, 23, 5, tzinfo=dt.UTC))
    late_find = listed("2611.00003", dt.datetime(2026, 11, 10, 5, tzinfo=dt.UTC))  # W46's
    arxiv = pipeline.Collected("arxiv", (friday, monday, late_find), SourceReport("arxiv", "arxiv_rss"))
    [report] = pipeline.record_collection(store, w47, [arxiv], now=MONDAY_RUN)
    assert (report.new, report.later, report.later_weeks) == (2, 1, ("2026-W48",))
    assert sorted(i.arxiv_id or "" for i in records.items_of_week(store, "2026-W47")) == [
        "2611.00001",
        "2611.00003",
    ]
    assert [i.arxiv_id for i in records.items_of_week(store, "2026-W48")] == ["2611.00002"]
    assert [r.later for r in records.week_reports_of(store, "2026-W47")] == [1]
    # a rerun reports the same, and moves nothing
    [again] = pipeline.record_collection(store, w47, [arxiv], now=MONDAY_RUN + dt.timedelta(hours=2))
    assert (again.new, again.later, again.later_weeks) == (2, 1, ("2026-W48",))
    assert pipeline.carried_summary(w47, [again], readers_had=False) == (
        "1 item dated after 2026-W47 belongs to 2026-W48 and will be shown there"
    )

    # readers have W47: on Wednesday of W49 a refresh finds a post of W47 (the next digest to be
    # made, W48, takes it) and one of W49 (its own week, later still)
    record_delivery(
        store, week="2026-W47", reader="r@example.org", message_id="<1@x>", status="sent", attempts=1
    )
    wednesday = dt.datetime(2026, 12, 2, 15, tzinfo=dt.UTC)
    blog = pipeline.Collected(
        "blog",
        (
            posted("https://b.org/w47", dt.datetime(2026, 11, 19, tzinfo=dt.UTC)),
            posted("https://b.org/w49", dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)),
        ),
        SourceReport("blog", "feed", parsed=2),
    )
    assert pipeline.readers_have_week(store, w47)
    [kept] = pipeline.record_collection(store, w47, [blog], now=wednesday)
    assert (kept.new, kept.later, kept.later_weeks) == (0, 2, ("2026-W48", "2026-W49"))
    assert [i.url for i in records.items_of_week(store, "2026-W48") if i.kind is ItemKind.POST] == [
        "https://b.org/w47"
    ]
    assert [i.url for i in records.items_of_week(store, "2026-W49")] == ["https://b.org/w49"]
    assert pipeline.carried_summary(w47, [kept], readers_had=True) == (
        "readers have 2026-W47: it takes nothing new; 2 items it found belong to 2026-W48 and 2026-W49"
    )
    assert pipeline.carried_summary(w47, [], readers_had=True, frozen=True) == (
        "readers have 2026-W47: kept as sent; nothing it found belongs to a later week"
    )
    # once W48's digest is out, what it showed is no longer "for a later week" to W47's reruns
    monkeypatch.setattr(records, "now_utc", lambda: dt.datetime(2026, 11, 30, 7, tzinfo=dt.UTC))
    records.save_digest(
        store,
        week="2026-W48",
        markdown="# W48",
        path="outputs/2026-W48.md",
        paper_keys=[],
        reports=[],
        published=True,
        window_end=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
    )
    [after] = pipeline.record_collection(store, w47, [blog], now=wednesday)
    assert (after.later, after.later_weeks) == (1, ("2026-W49",))


def test_the_report_cell_for_later_weeks() -> None:
    assert pipeline.later_text(0, ()) == ""
    assert pipeline.later_text(1, ["2026-W48"]) == "1 for 2026-W48"
    assert pipeline.later_text(3, ["2026-W48", "2026-W49"]) == "3 for 2026-W48 and 2026-W49"
    assert (
        pipeline.later_text(3, ["2026-W48", "2026-W49", "2026-W50"])
        == "3 for 2026-W48, 2026-W49 and 2026-W50"
    )


# --- collection messages (second review) ---------------------------------------------------


def test_a_plan_error_names_its_source_once() -> None:
    """arxiv_api without a query raises a ConfigError that names the source for the CLI: the
    report line already starts with the id, so the detail is given without it."""
    from dltheory_digest.config import Politeness

    # built as a caller that skipped validation would (sources.yaml refuses it at load)
    source = SourceSpec.model_construct(
        id="arxiv-x", kind="arxiv_api", url=None, urls=(), query=None, options={}, lang="en",
        name=None, enabled=True, politeness=Politeness(),
    )  # fmt: skip
    with _limited_client(lambda request: httpx.Response(500)) as client:
        got = collect_source(source, client, PlanContext())
    assert got.report.error == (
        "[arxiv-x] cannot plan requests: field 'query': arxiv_api needs `query` or `options.search_query`"
    )
    assert got.report.error.count("arxiv-x") == 1


def test_a_harvest_from_a_long_failed_cursor_starts_within_the_catch_up_and_says_what_it_skipped(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cursor left in August (the source was off for months): the harvest starts 4 weeks
    before the week, so it can end; the report names the days it left out."""
    asked: list[str] = []
    page = (fixtures_dir / "arxiv_oai" / "listrecords_arxiv_page2.xml").read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, content=page, headers={"content-type": "text/xml"})

    source = SourceSpec(id="oai", kind="arxiv_oai", url="https://oaipmh.arxiv.org/oai", options={"set": "cs"})
    from zoneinfo import ZoneInfo

    start, end = Week(2026, 47).window(ZoneInfo("UTC"))
    ctx = PlanContext(window_start=start, window_end=end, cursor={"from": "2026-08-01"})
    with _limited_client(handler) as client:
        got = collect_source(source, client, ctx)
    assert got.report.error is None
    assert "from=2026-10-19&until=2026-11-22" in asked[0]
    assert (
        "records from 2026-08-01 to 2026-10-18 not harvested: older than the 4-week catch-up; "
        "run with --since 2026-08-01 to fetch them"
    ) in got.report.warnings


def test_a_capped_backfill_from_since_does_not_blame_the_query(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _capped(monkeypatch, "arxiv_oai", 2)
    source = SourceSpec(id="oai", kind="arxiv_oai", url="https://oaipmh.arxiv.org/oai", options={"set": "cs"})
    from zoneinfo import ZoneInfo

    start, end = Week(2026, 47).window(ZoneInfo("UTC"))
    ctx = PlanContext(window_start=start, window_end=end, since=dt.date(2026, 3, 2))
    with _limited_client(_endless_oai(fixtures_dir)) as client:
        got = collect_source(source, client, ctx)
    assert got.report.error == (
        "[oai] the results continue beyond the 2 next pages a run follows (5 results in all), so they"
        " are incomplete: reaching back to 2026-03-02 is too much for one run: refresh with a later"
        " --since, or narrow its query"
    )
    # --since is the operator's own: nothing is left out on purpose, so no warning says so
    assert not any("not harvested" in w for w in got.report.warnings)


# --- a paper sent in an earlier week, back under another title --------------------------------

PDLT_ID = "2106.10165"
PDLT_TITLE = "The Principles of Deep Learning Theory"
PDLT_AUTHORS = ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin")
TP4_ID = "2011.14522"
TP4_V1_TITLE = "Feature Learning in Infinite-Width Neural Networks"
TP4_V3_TITLE = "Tensor Programs IV: Feature Learning in Infinite-Width Neural Networks"
SENT_WEEK, LATER_WEEK = "2026-W44", "2026-W47"  # week N and week N+3
SENT_SPECS = [
    SourceSpec(id="arxiv", kind="arxiv_rss", name="arXiv", options={"categories": ["cs.LG"]}),
    SourceSpec(id="zhihu", kind="zhihu", name="Zhihu", url=ZHIHU_URL, lang="zh"),
    SourceSpec(
        id="shamra", kind="shamra", name="Shamra Academia", url="https://shamra-academia.com/", lang="ar"
    ),
    SourceSpec(id="notes", kind="notes_page", name="Notes", url=NOTES_URL),
    SourceSpec(id="blog", kind="feed", name="Blog", url="https://blog.example.org/feed.xml"),
]


@pytest.fixture(scope="module")
def mt_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny but real zh→en and ar→en Argos packages (random weights: what they "said" is cached)."""
    from dltheory_digest.language import install_from_file
    from tests.argos_tiny import build_tiny_package

    where = tmp_path_factory.mktemp("argos-mt") / "packages"
    for lang in ("zh", "ar"):
        install_from_file(build_tiny_package(tmp_path_factory.mktemp(lang), lang, "en", version="0.1"), where)
    return where


def _translator(packages: Path, said: dict[tuple[str, str], str]) -> Any:
    """A real Translator whose cache holds what the model translated `said` (lang, text) to
    in an earlier run: the random tiny model cannot write a title."""
    from dltheory_digest.language import CacheEntry, CacheKey, MemoryTranslationCache, Translator
    from dltheory_digest.language.cache import text_hash

    cache = MemoryTranslationCache()
    translator = Translator(packages_dir=packages, cache=cache, check_output=False)
    entries = []
    for (lang, text), english in said.items():
        info = translator.package(lang, "en")
        assert info is not None
        prepared = translator.prepare(text, lang, "en")
        entries.append(
            CacheEntry(CacheKey(text_hash(prepared), lang, "en", info.model, info.version), prepared, english)
        )
    cache.put_many(entries)
    return translator


def _pdlt_listing(version: int = 1) -> Item:
    return Item(
        source_id="arxiv",
        kind=ItemKind.PAPER,
        title=PDLT_TITLE,
        url=f"https://arxiv.org/abs/{PDLT_ID}",
        arxiv_id=PDLT_ID,
        version=version,
        authors=PDLT_AUTHORS,
        lang="en",
        text="An effective theory approach to deep neural networks of finite width.",
        published=dt.datetime(2021, 6, 18, tzinfo=dt.UTC),
        updated=dt.datetime(2026, 10, 27, tzinfo=dt.UTC),
        categories=("cs.LG", "hep-th"),
        primary_category="cs.LG",
        announce_type=AnnounceType.NEW if version == 1 else AnnounceType.REPLACE,
    )


def _pdlt_paper() -> Paper:
    """arXiv's metadata, as a resolve stored it."""
    listing = _pdlt_listing()
    return Paper(
        key=f"arxiv:{PDLT_ID}",
        title=PDLT_TITLE,
        arxiv_id=PDLT_ID,
        version=1,
        authors=PDLT_AUTHORS,
        abstract=listing.text,
        published=listing.published,
        categories=listing.categories,
        primary_category="cs.LG",
    )


def _run_sent_week(
    url: str,
    out: Path,
    week: str,
    items: list[Item],
    *,
    packages: Path,
    said: dict[tuple[str, str], str] | None = None,
    papers: tuple[Paper, ...] = (),
) -> pipeline.WeekBuild:
    from zoneinfo import ZoneInfo

    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.store import open_store
    from dltheory_digest.store import records as store_records

    store = open_store(url)
    store_records.save_papers(store, papers)
    by_source: dict[str, list[Item]] = {}
    for item in items:
        by_source.setdefault(item.source_id, []).append(item)
    target = Week.parse(week)
    pipeline.record_collection(
        store,
        target,
        [
            pipeline.Collected(sid, tuple(found), SourceReport(sid, "test", fetched=1, parsed=len(found)))
            for sid, found in by_source.items()
        ],
        now=target.window(ZoneInfo("UTC"))[1] + dt.timedelta(hours=7),
    )
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=_translator(packages, said or {}),
        classifier=DirectionClassifier.from_taxonomy(taxonomy),
        taxonomy=taxonomy,
    )
    build = pipeline.build_week(
        store,
        target,
        zone_name="UTC",
        specs=SENT_SPECS,
        fetch_bytes=None,
        stages=stages,
        relevance_threshold=0.0,
    )
    pipeline.publish_week(store, out, target, build)
    store.close()
    return build


def _new_keys(build: pipeline.WeekBuild) -> list[str]:
    return [p.paper.key for s in build.digest.sections for p in s.papers] + [
        p.paper.key for p in build.digest.unconfirmed
    ]


ZHIHU_PDLT = Item(
    source_id="zhihu",
    kind=ItemKind.MENTION,
    title="深度学习理论原理",  # no link: only its machine translation names the paper
    url=f"{ZHIHU_URL}#pdlt",
    lang="zh",
    text="有限宽度网络的有效理论。",
)
ZHIHU_SAID = {("zh", "深度学习理论原理"): "Principles of deep learning theory"}


def test_an_arxiv_paper_sent_before_is_not_new_again_as_a_translated_title_only_mention(
    tmp_path: Path, mt_packages: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    first = _run_sent_week(
        url, tmp_path / "out", SENT_WEEK, [_pdlt_listing()], packages=mt_packages, papers=(_pdlt_paper(),)
    )
    assert _new_keys(first) == [f"arxiv:{PDLT_ID}"]

    later = _run_sent_week(
        url, tmp_path / "out", LATER_WEEK, [ZHIHU_PDLT], packages=mt_packages, said=ZHIHU_SAID
    )
    # the mention ("The" missing) joins the paper sent three weeks before: discussed, not new
    assert _new_keys(later) == []
    [back] = later.digest.updated
    assert back.paper.key == f"arxiv:{PDLT_ID}" and back.paper.title == PDLT_TITLE
    assert "Zhihu" in (back.reason or "")
    # the sent paper is only a candidate: nothing but this week's sighting is shown
    assert [c.paper.key for c in later.clusters] == [f"arxiv:{PDLT_ID}"]


# other papers of the sent week: real ids and titles
SENT_ALONGSIDE = {
    "1806.07572": "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
    "1611.03530": "Understanding deep learning requires rethinking generalization",
    "1912.02292": "Deep Double Descent: Where Bigger Models and More Data Hurt",
    "2201.02177": "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets",
    "2001.08361": "Scaling Laws for Neural Language Models",
}


def test_only_the_sent_papers_a_title_only_mention_could_name_are_its_candidates(
    tmp_path: Path, mt_packages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year of digests holds a hundred thousand papers: the week's identity stage matches its
    title-only sightings against those whose titles share their words, not against them all."""
    from dltheory_digest import identity

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    listings = [_pdlt_listing()]
    listings += [
        dataclasses.replace(
            _pdlt_listing(), title=title, arxiv_id=arxiv_id, url=f"https://arxiv.org/abs/{arxiv_id}"
        )
        for arxiv_id, title in SENT_ALONGSIDE.items()
    ]
    first = _run_sent_week(url, tmp_path / "out", SENT_WEEK, listings, packages=mt_packages)
    assert len(_new_keys(first)) == 6

    candidates: list[set[str]] = []
    clustering = identity.cluster_items

    def spied(items: Any, papers: Any, **kwargs: Any) -> Any:
        candidates.append(set(papers))
        return clustering(items, papers, **kwargs)

    monkeypatch.setattr(identity, "cluster_items", spied)
    later = _run_sent_week(
        url, tmp_path / "out", LATER_WEEK, [ZHIHU_PDLT], packages=mt_packages, said=ZHIHU_SAID
    )
    assert candidates == [{PDLT_ID}]
    assert _new_keys(later) == [] and [p.paper.key for p in later.digest.updated] == [f"arxiv:{PDLT_ID}"]


def test_an_arxiv_paper_sent_without_stored_metadata_is_recognised_by_its_sent_title(
    tmp_path: Path, mt_packages: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    _run_sent_week(url, tmp_path / "out", SENT_WEEK, [_pdlt_listing()], packages=mt_packages)  # offline
    later = _run_sent_week(
        url, tmp_path / "out", LATER_WEEK, [ZHIHU_PDLT], packages=mt_packages, said=ZHIHU_SAID
    )
    assert _new_keys(later) == []
    assert [p.paper.key for p in later.digest.updated] == [f"arxiv:{PDLT_ID}"]


def test_a_translated_mention_sent_first_is_recognised_when_the_arxiv_paper_is_listed(
    tmp_path: Path, mt_packages: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    first = _run_sent_week(
        url, tmp_path / "out", SENT_WEEK, [ZHIHU_PDLT], packages=mt_packages, said=ZHIHU_SAID
    )
    assert _new_keys(first) == ["title:principles of deep learning theory"]

    later = _run_sent_week(
        url, tmp_path / "out", LATER_WEEK, [_pdlt_listing(3)], packages=mt_packages, papers=(_pdlt_paper(),)
    )
    # readers had it as the Zhihu mention: the listing alone brings nothing new
    assert _new_keys(later) == [] and later.digest.updated == ()


def test_a_shamra_entry_of_a_sent_paper_with_a_slightly_different_translated_title_is_discussed(
    tmp_path: Path, mt_packages: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    _run_sent_week(
        url, tmp_path / "out", SENT_WEEK, [_pdlt_listing()], packages=mt_packages, papers=(_pdlt_paper(),)
    )
    shamra = Item(
        source_id="shamra",
        kind=ItemKind.PAPER,
        title="مبادئ نظرية التعلم العميق",
        url="https://shamra-academia.com/show/3a41b8f0",
        authors=("Sho Yaida",),  # the page's publisher
        lang="ar",
    )
    said = {("ar", "مبادئ نظرية التعلم العميق"): "The principles of the theory of deep learning"}
    later = _run_sent_week(url, tmp_path / "out", LATER_WEEK, [shamra], packages=mt_packages, said=said)
    assert _new_keys(later) == []
    [back] = later.digest.updated
    assert back.paper.key == f"arxiv:{PDLT_ID}" and "Shamra Academia" in (back.reason or "")


def test_a_reading_list_citation_of_a_sent_paper_with_its_preprint_tail_is_discussed(
    tmp_path: Path, mt_packages: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    _run_sent_week(
        url, tmp_path / "out", SENT_WEEK, [_pdlt_listing()], packages=mt_packages, papers=(_pdlt_paper(),)
    )
    citation = Item(
        source_id="notes",
        kind=ItemKind.MENTION,
        title="The principles of deep learning theory. arXiv preprint",
        authors=PDLT_AUTHORS,
        url=NOTES_URL,
        lang="en",
        extra=(("evidence", "title_only"),),
    )
    later = _run_sent_week(url, tmp_path / "out", LATER_WEEK, [citation], packages=mt_packages)
    assert _new_keys(later) == []
    assert [p.paper.key for p in later.digest.updated] == [f"arxiv:{PDLT_ID}"]


def test_a_mention_carrying_the_v3_title_of_a_paper_sent_at_v1_is_discussed(
    tmp_path: Path, mt_packages: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    authors = ("Greg Yang", "Edward J. Hu")
    v1 = Item(
        source_id="arxiv",
        kind=ItemKind.PAPER,
        title=TP4_V1_TITLE,
        url=f"https://arxiv.org/abs/{TP4_ID}",
        arxiv_id=TP4_ID,
        version=1,
        authors=authors,
        lang="en",
        text="Infinite-width limits of neural networks that learn features.",
        published=dt.datetime(2020, 11, 30, tzinfo=dt.UTC),
        updated=dt.datetime(2026, 10, 27, tzinfo=dt.UTC),
        announce_type=AnnounceType.NEW,
    )
    stored = Paper(
        key=f"arxiv:{TP4_ID}",
        title=TP4_V1_TITLE,
        arxiv_id=TP4_ID,
        version=1,
        authors=authors,
        published=v1.published,
    )
    _run_sent_week(url, tmp_path / "out", SENT_WEEK, [v1], packages=mt_packages, papers=(stored,))
    post = Item(
        source_id="blog",
        kind=ItemKind.MENTION,
        title=TP4_V3_TITLE,
        authors=authors,
        url="https://blog.example.org/2026/11/mup/",
        lang="en",
    )
    later = _run_sent_week(url, tmp_path / "out", LATER_WEEK, [post], packages=mt_packages)
    # the series name before the v1 title is the retitle, not another paper
    assert _new_keys(later) == []
    assert [p.paper.key for p in later.digest.updated] == [f"arxiv:{TP4_ID}"]


def test_a_chinese_title_only_mention_is_searched_on_arxiv_by_its_translation(
    tmp_path: Path, mt_packages: Path
) -> None:
    """Resolving runs before translating, when a Chinese title cannot be searched: once
    translated, it is, and the mention becomes the arXiv paper."""
    from dltheory_digest.config import Politeness
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.store import open_store
    from dltheory_digest.store import records as store_records
    from tests.test_resolve import FakeArxiv, Handler, serving

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    week = Week.parse(LATER_WEEK)
    pipeline.record_collection(
        store, week, [pipeline.Collected("zhihu", (ZHIHU_PDLT,), SourceReport("zhihu", "zhihu", 1, 1))]
    )
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=_translator(mt_packages, ZHIHU_SAID),
        classifier=DirectionClassifier.from_taxonomy(taxonomy),
        taxonomy=taxonomy,
    )
    arxiv = FakeArxiv(base="")
    metadata_client = PoliteClient(limiter=no_wait_limiter(), respect_robots=False, max_retries=0)
    no_wait = Politeness(min_interval=0.0)

    def build() -> pipeline.WeekBuild:
        return pipeline.build_week(
            store,
            week,
            zone_name="UTC",
            specs=SENT_SPECS,
            fetch_bytes=lambda url: (
                metadata_client.get(url, source_id="arxiv-metadata", politeness=no_wait).content
            ),
            stages=stages,
            relevance_threshold=0.0,
            api_base=arxiv.base,
        )

    try:
        with serving(type("BoundArxiv", (Handler,), {"server_state": arxiv})) as arxiv_root:
            arxiv.base = f"{arxiv_root}/api/query"
            built = build()
            assert arxiv.searches() and all("deep" in q and "theory" in q for q in arxiv.searches())
            again = build()
    finally:
        metadata_client.close()
    [entry] = dg.all_entries(built.digest)
    assert entry.paper.key == f"arxiv:{PDLT_ID}" and entry.paper.title == PDLT_TITLE
    assert built.digest.unconfirmed == () and again.markdown == built.markdown
    # arXiv's metadata is kept, as for any paper a title search found
    assert store_records.load_papers(store, [PDLT_ID])[PDLT_ID].title == PDLT_TITLE
    store.close()


def test_mail_that_did_not_go_through_is_named_in_the_final_state_and_fails_the_run() -> None:
    week = Week.parse("2026-W47")
    ok = SourceReport("arxiv", "arxiv_rss", fetched=1)
    sent = {"reader": "a@example.org", "status": "sent"}
    had = {"reader": "d@example.org", "status": "skipped", "skip_reason": "already-sent"}
    maybe = {"reader": "b@example.org", "status": "unconfirmed"}
    held = {"reader": "c@example.org", "status": "skipped", "skip_reason": "held"}
    assert pipeline.run_message(week, [ok], [sent, maybe, held]) == (
        "2026-W47: mail unconfirmed for 1 reader(s): b@example.org; "
        "mail left to another run for 1 reader(s): c@example.org"
    )
    # what the CLI's exit status counts, the final state counts
    assert pipeline.mail_problems([sent, had, maybe, held]) == {
        "mail failed for": [],
        "mail unconfirmed for": ["b@example.org"],
        "mail left to another run for": ["c@example.org"],
    }
    assert pipeline.mail_went_through([sent, had]) and pipeline.mail_went_through([])
    for problem in (maybe, held, {"reader": "e@example.org", "status": "failed"}):
        assert not pipeline.mail_went_through([sent, problem])
        assert not pipeline.run_message(week, [ok], [sent, problem]).endswith(pipeline.ALL_OK)


def test_the_flow_reads_the_operators_taxonomy_and_glossary_before_fetching(tmp_path: Path) -> None:
    from dltheory_digest.config import Settings
    from dltheory_digest.errors import ConfigError
    from dltheory_digest.pipeline import check_run_parameters

    blog = SourceSpec(id="blog", kind="feed", url="https://e.org/feed")
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    taxonomy, glossary = tmp_path / "taxonomy.yaml", tmp_path / "glossary.yaml"
    taxonomy.write_text("directions: {}\n", encoding="utf-8")
    glossary.write_text("zh:\n  神经正切核: ''\n", encoding="utf-8")

    def check(**files: Path) -> pipeline.RunParameters:
        settings = Settings(sources_file=tmp_path / "sources.yaml").model_copy(update=files)
        return check_run_parameters(settings, [blog], week=None, sources=None, since=None, now=now)

    assert check().week == Week.parse("2026-W47")  # the shipped files
    for name, path in (("taxonomy_file", taxonomy), ("glossary_file", glossary)):
        with pytest.raises(ConfigError) as raised:
            check(**{name: path})
        assert str(raised.value).startswith(f"{name} {path}: ")
        assert raised.value.field == name and raised.value.path == str(path)
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError, match=r"taxonomy_file .*nowhere\.yaml"):
        check(taxonomy_file=missing)


def test_an_old_week_is_not_mailed_after_a_later_week_went_out() -> None:
    from dltheory_digest.config import Reader, Settings
    from dltheory_digest.pipeline import readers_held_back, split_recipients

    readers = Settings(readers=(Reader(email="ada@example.org"),))
    old = Week.parse("2026-W40")
    ok = SourceReport("blog", "feed", fetched=1, parsed=2)
    reason = readers_held_back(readers, old, [ok], later_sent="2026-W42") or ""
    assert reason == (
        "2026-W42 went out after 2026-W40 and showed what was found until then; "
        "`dltheory-digest send --week 2026-W40` mails 2026-W40 to readers who never got it, "
        "`run --resend` to every reader"
    )
    assert split_recipients(readers, None, reason) == ([], ["ada@example.org"])
    assert readers_held_back(readers, old, [ok], later_sent=None) is None  # --resend


def test_since_on_a_week_kept_as_sent_says_it_changed_nothing() -> None:
    week, since = Week.parse("2026-W47"), dt.date(2026, 11, 9)
    assert pipeline.since_note(week, since, frozen=True, later_sent=False) == (
        "--since has no effect on 2026-W47: it is kept as sent (--resend rebuilds it); "
        "what the backfill found goes to the next digest"
    )
    # after later weeks went out, --resend does not rebuild it either (`sent_digest`)
    assert "kept as sent (later weeks followed)" in (
        pipeline.since_note(week, since, frozen=True, later_sent=True) or ""
    )
    assert pipeline.since_note(week, None, frozen=True, later_sent=False) is None
    assert pipeline.since_note(week, since, frozen=False, later_sent=False) is None  # rebuilt from it


# --- credentials in source URLs: never in a report, a stored row or the digest ------------------

TOKEN_SECRET = "tok-5ecret-9f3a"


def test_a_source_urls_token_reaches_no_report_stored_row_or_digest(tmp_path: Path) -> None:
    """Private feeds carry their key in the URL: the report lines that quote a URL (a page
    gone, a page that cannot be parsed, a source that failed) and the "Seen in" link of the
    digest mailed to every reader show it redacted, or not at all."""
    import sqlalchemy as sa

    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.store import open_store, schema
    from dltheory_digest.store import records as store_records

    notes = (
        f'<html><body><p>Start with <a href="https://arxiv.org/abs/{NTK_ID}">the NTK</a>.</p></body></html>'
    )
    routes = {
        "/robots.txt": (404, b"", "text/plain"),
        "/notes": (200, notes.encode(), "text/html; charset=utf-8"),
        "/a.xml": (200, FEED, "application/rss+xml"),
        "/broken.xml": (200, EMPTY_HTML, "text/html; charset=utf-8"),
    }  # anything else: 404
    key = f"?access_token={TOKEN_SECRET}"
    specs = [
        SourceSpec(id="private-notes", kind="notes_page", name="Private notes", url=f"{BLOG}/notes{key}"),
        SourceSpec(id="gone", kind="feed", url=f"{BLOG}/gone.xml{key}"),
        SourceSpec(id="half", kind="feed", urls=[f"{BLOG}/a.xml{key}", f"{BLOG}/old.xml{key}"]),
        SourceSpec(id="broken", kind="feed", url=f"{BLOG}/broken.xml{key}"),
    ]
    with client_for(routes) as client:
        collected = [collect_source(s, client, PlanContext()) for s in specs]
    by_id = {c.source_id: c.report for c in collected}
    # each source says what happened, naming the page with its key redacted
    assert by_id["private-notes"].error is None and by_id["private-notes"].parsed == 1
    assert by_id["gone"].error == f"[gone] HTTP 404 for {BLOG}/gone.xml?access_token=REDACTED"
    assert f"page {BLOG}/old.xml?access_token=REDACTED: HTTP 404, skipped" in by_id["half"].warnings
    assert by_id["broken"].error is not None
    assert by_id["broken"].error.startswith(
        f"[broken] cannot parse {BLOG}/broken.xml?access_token=REDACTED: "
    )

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store_records.save_papers(
        store, [Paper(key=f"arxiv:{NTK_ID}", title=NTK_TITLE, arxiv_id=NTK_ID, version=1)]
    )
    week = Week.parse("2026-W47")
    reports = pipeline.record_collection(store, week, collected)
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=None, classifier=DirectionClassifier.from_taxonomy(taxonomy), taxonomy=taxonomy
    )
    build = pipeline.build_week(
        store, week, zone_name="UTC", specs=specs, fetch_bytes=None, stages=stages, relevance_threshold=0.0
    )
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(schema.week_reports.c.report)).scalars().all()
    store.close()

    assert len(stored) == 4
    # the source table of the digest shows the failures, their pages redacted
    assert "gone.xml?access_token=REDACTED" in build.markdown
    shown = [
        *(p for section in build.digest.sections for p in section.papers),
        *build.digest.emerging,
        *build.digest.below_threshold,
    ]
    [seen] = [s for p in shown for s in p.sightings if s.source_id == "private-notes"]
    assert seen.source_name == "Private notes" and seen.url is None  # named, not linked
    assert "Private notes" in build.markdown
    for text in (repr(reports), repr(stored), build.markdown, repr(build.digest)):
        assert TOKEN_SECRET not in text


def test_a_report_made_outside_the_collector_is_stored_redacted(tmp_path: Path) -> None:
    """A source task that failed for good gets its report from the flow (`collected_or_failed`),
    from an exception's text: recorded, it holds no credential either."""
    from dltheory_digest.store import open_store
    from dltheory_digest.store import records as store_records

    failed = SourceReport(
        "private",
        "feed",
        error=f"[private] Crashed after 3 attempt(s): ReadError: {BLOG}/f.xml?token={TOKEN_SECRET}",
        warnings=(f"answered only after 1 retry (HTTP 503): https://ada:{TOKEN_SECRET}@blog.example.org/f",),
    )
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    week = Week.parse("2026-W47")
    [recorded] = pipeline.record_collection(store, week, [pipeline.Collected("private", (), failed)])
    [stored] = store_records.week_reports_of(store, str(week))
    store.close()
    assert recorded == stored
    assert stored.error == f"[private] Crashed after 3 attempt(s): ReadError: {BLOG}/f.xml?token=REDACTED"
    assert stored.warnings == ("answered only after 1 retry (HTTP 503): https://REDACTED@blog.example.org/f",)


SHAMRA_PAGE = (
    "The Principles of Deep Learning Theory\n"
    "12 3 4.5 ( 2 )\n"
    "نشر من قبل Sho Yaida\n"
    "تاريخ النشر 2021\n"
    "والبحث باللغة English\n"
    "الملخص بالإنكليزية This book develops an effective theory approach to understanding deep neural networks"
    " of practical relevance, from first principles.\n"
    "قيم البحث\n"
    "اقرأ أيضاً\n"
    "7 - Arthur Jacot 2018\n"
    "At initialization, artificial neural networks are equivalent to Gaussian processes in the infinite-width"
    " limit. During training, the evolution of the network function follows the neural tangent kernel, and"
    " gradient descent in the infinite-width limit converges to a kernel regression solution.\n"
)


def test_a_shamra_related_paper_shown_without_its_title_is_labelled_and_scored_on_its_abstract(
    tmp_path: Path,
) -> None:
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.sources import REGISTRY
    from dltheory_digest.store import open_store

    page_url = "https://shamra-academia.com/show/3a4f6c1d92e0b7"
    source = SourceSpec(id="shamra", kind="shamra", name="Shamra Academia", url=page_url, lang="ar")
    parsed = REGISTRY["shamra"].parse_bytes(SHAMRA_PAGE.encode(), url=page_url, source_id=source.id)
    main, related = parsed.items
    assert main.authors == () and dict(main.extra)["uploaded_by"] == "Sho Yaida"  # the uploader
    label = "At initialization, artificial neural networks are equivalent to Gaussian processes in the infinite-width limit."
    assert (related.title, related.url, related.authors) == (label, page_url, ("Arthur Jacot",))
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    week = Week.parse("2026-W47")
    report = SourceReport(source.id, "shamra", fetched=1, parsed=len(parsed.items))
    pipeline.record_collection(store, week, [pipeline.Collected(source.id, tuple(parsed.items), report)])
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=None, classifier=DirectionClassifier.from_taxonomy(taxonomy), taxonomy=taxonomy
    )
    build = pipeline.build_week(
        store, week, zone_name="UTC", specs=[source], fetch_bytes=None, stages=stages, relevance_threshold=0.3
    )
    # no entry is titled by a link, and the related paper's abstract counts for its relevance
    assert "#related-" not in build.markdown and f"[{page_url}" not in build.markdown
    listed = build.markdown.split("Below the relevance threshold")[0]
    assert f"### {label}" in listed or label in listed


def test_a_run_of_some_sources_holds_the_readers_back_and_says_how_to_mail_the_week() -> None:
    from dltheory_digest.config import Reader, Settings

    specs = [
        SourceSpec(id="one", kind="feed", url="https://one.example.org/feed.xml"),
        SourceSpec(id="two", kind="feed", url="https://two.example.org/feed.xml"),
        SourceSpec(id="off", kind="feed", url="https://off.example.org/feed.xml", enabled=False),
    ]
    one, two, off = specs
    assert pipeline.sources_left_out(specs, [one]) == ["two"]
    assert pipeline.sources_left_out(specs, [off]) == ["one", "two"]
    # every enabled source named (a disabled one besides): not a run of some of them
    assert pipeline.sources_left_out(specs, [two, one, off]) == []
    readers, past = Settings(readers=(Reader(email="ada@example.org"),)), Week.parse("2026-W40")
    ok = SourceReport("one", "feed", fetched=1, parsed=2)
    reason = pipeline.readers_held_back(readers, past, [ok], left_out=["two"]) or ""
    assert "only some sources (not two)" in reason and "`dltheory-digest send --week 2026-W40`" in reason
    assert pipeline.readers_held_back(Settings(), past, [ok], left_out=["two"]) is None  # no one to hold
    message = pipeline.run_message(past, [ok], [], held_back=reason)
    assert message.startswith("2026-W40: readers not mailed: this run read only some sources")
    assert message.endswith(pipeline.ALL_OK)  # `refresh --deployment` exits 0: the run did its part


def _collect_zhihu_chaining_to(column_url: str, next_url: str) -> tuple[Any, list[str], list[Any]]:
    """A zhihu column whose API page's `paging.next` names `next_url`: what was collected, the
    "host:port/path" of every request the server saw and the source's fetch records."""
    seen: list[str] = []
    page = {
        "data": [
            {"id": 1, "type": "article", "title": "On the NTK", "url": "https://zhuanlan.zhihu.com/p/1"}
        ],
        "paging": {"next": next_url, "is_end": False},
    }
    done = {"data": [], "paging": {"is_end": True}}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.host}:{request.url.port}{request.url.path}")
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(200, json=page if str(request.url) == column_url else done)

    source = SourceSpec(id="zh-col", kind="zhihu", url=column_url, lang="zh")
    client = PoliteClient(
        limiter=no_wait_limiter(), transport=httpx.MockTransport(handler), sleep=lambda s: None, max_retries=1
    )
    with client:
        got = collect_source(source, client, PlanContext())
        records = client.drain_records("zh-col")
    return got, seen, records


@pytest.mark.parametrize(
    "internal", ["http://127.0.0.1:9/x", "http://[::ffff:127.0.0.1]/x", "http://2130706433/x"]
)
def test_a_public_sources_next_page_on_an_internal_address_is_refused_unasked(internal: str) -> None:
    """The guard is decided from the page that chained to the next one, not from the next URL
    itself: a public API page naming 127.0.0.1 as its next page must not make the fetcher GET it."""
    column = "http://93.184.216.34/api/v4/columns/c_1/items"
    got, seen, records = _collect_zhihu_chaining_to(column, internal)
    assert all(hit.startswith("93.184.216.34:") for hit in seen), seen
    assert [r.url for r in records if r.error and "refused" in r.error] == [internal]
    assert [i.title for i in got.items] == ["On the NTK"]  # the public page's items are kept
    error = got.report.error or ""
    assert error.startswith("[zh-col]") and f"linked from {column} to {internal}" in error
    assert "a loopback address, refused" in error


def test_a_source_on_this_machine_still_chains_to_this_machine() -> None:
    """The demo and tests serve their sources on 127.0.0.1: the operator chose that address."""
    got, seen, _ = _collect_zhihu_chaining_to(
        "http://127.0.0.1:8/api/v4/columns/c_1/items", "http://127.0.0.1:9/x"
    )
    assert "127.0.0.1:9/x" in seen and got.report.error is None


# --- Emerging -------------------------------------------------------------------------------------


def test_emerging_groups_only_the_digests_own_unconfident_papers(tmp_path: Path) -> None:
    """Papers under the relevance threshold are in the appendix: no Emerging group takes them
    (it would show them twice); at or above it, a group takes its papers out of Other."""
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.store import open_store

    titles = [
        "Cooking pasta at high altitude",
        "Boiling pasta at high altitude: cooking times",
        "Altitude and the cooking of pasta",
        "Finite-width corrections to the neural tangent kernel of deep networks",
        "Knitting patterns",
    ]
    when = dt.datetime(2026, 11, 18, 5, tzinfo=dt.UTC)
    items = tuple(
        Item(
            "arxiv", ItemKind.PAPER, title, arxiv_id=f"2611.0100{n}", version=1, published=when, updated=when
        )
        for n, title in enumerate(titles)
    )
    spec = SourceSpec(id="arxiv", kind="arxiv_rss", name="arXiv", url="https://rss.arxiv.org/rss/cs.LG")
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=None, classifier=DirectionClassifier.from_taxonomy(taxonomy), taxonomy=taxonomy
    )
    week = Week.parse("2026-W47")

    def build(threshold: float) -> pipeline.WeekBuild:
        store = open_store(f"sqlite:///{tmp_path / f'store-{threshold}.sqlite'}")
        collected = pipeline.Collected("arxiv", items, SourceReport("arxiv", "arxiv_rss", parsed=len(items)))
        pipeline.record_collection(store, week, [collected], now=MONDAY_RUN)
        try:
            return pipeline.build_week(
                store,
                week,
                zone_name="UTC",
                specs=[spec],
                fetch_bytes=None,
                stages=stages,
                relevance_threshold=threshold,
                now=MONDAY_RUN,
            )
        finally:
            store.close()

    # the pasta papers score under the threshold: in the appendix, and in no group
    strict = build(0.3).digest
    assert {p.paper.title for p in strict.below_threshold} >= set(titles[:3])
    assert strict.emerging == () and "## Emerging" not in build(0.3).markdown
    # with every paper in the body, the three close ones are one group and leave Other
    everything = build(0.0)
    digest = everything.digest
    assert sorted(p.paper.title for p in digest.emerging) == sorted(titles[:3])
    other = [p.paper.title for s in digest.sections if s.direction_id == "other" for p in s.papers]
    assert other == ["Knitting patterns"]
    assert dict(digest.counts)["papers"] == len(titles)
    for n in range(3):
        assert everything.markdown.count(f"(https://arxiv.org/abs/2611.0100{n})") == 1


def test_a_blogs_first_read_lists_its_earlier_posts_apart_and_later_reads_do_not(tmp_path: Path) -> None:
    """The store decides: no sighting of the feed in an earlier week is a first read, whose
    posts dated before the week are listed apart (a note says so); the week after, the blog is
    known and a late-found post is the week's again. `--since` keeps its posts from that day."""
    from zoneinfo import ZoneInfo

    from dltheory_digest.pipeline import Collected, first_read_backlog, record_collection
    from dltheory_digest.store import open_store, records

    zone = ZoneInfo("UTC")
    spec = SourceSpec(id="distill", kind="feed", url="https://distill.example.org/rss.xml", name="Distill")
    notes = SourceSpec(id="notes", kind="notes_page", url="https://notes.example.org/dl")

    def post(slug: str, day: dt.date) -> Item:
        when = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        return Item("distill", ItemKind.POST, slug, url=f"https://distill.example.org/{slug}", published=when)

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    w10, w11 = Week(2026, 10), Week(2026, 11)
    old, late, fresh = (
        post("momentum", dt.date(2017, 4, 4)),
        post("late", dt.date(2026, 2, 27)),
        post("new", dt.date(2026, 3, 3)),
    )
    report = SourceReport("distill", "feed")
    record_collection(
        store,
        w10,
        [Collected("distill", (old, late, fresh), report)],
        now=dt.datetime(2026, 3, 9, 6, tzinfo=dt.UTC),
    )
    posts = records.items_of_week(store, str(w10))
    found, said = first_read_backlog(store, [w10], [spec, notes], posts, [report], zone)
    assert found == {old.url, late.url}  # the post dated in the week stays the week's
    assert [n.text for n in said] == [
        "first read of Distill: its 2 post(s) from before 2026-W10 are listed once, apart, not as "
        "this week's; older papers only they cite are with a list's backlog"
    ]
    # a backfill the user asked for keeps the posts from its day as the week's
    asked = dataclasses.replace(report, since="2026-02-01")
    found, _ = first_read_backlog(store, [w10], [spec], posts, [asked], zone)
    assert found == {old.url}
    # read again the week after: known, so a post found late is that week's
    later = post("found-late", dt.date(2026, 3, 6))
    record_collection(
        store,
        w11,
        [Collected("distill", (old, later), report)],
        now=dt.datetime(2026, 3, 16, 6, tzinfo=dt.UTC),
    )
    posts = records.items_of_week(store, str(w11))
    assert first_read_backlog(store, [w11], [spec], posts, [report], zone) == (frozenset(), [])
    store.close()


def test_a_report_says_the_day_since_asked_the_source_to_be_read_from() -> None:
    from dltheory_digest.models import SourceReport as Report
    from dltheory_digest.store.records import report_from_json

    assert report_from_json({"source_id": "a", "kind": "feed"}).since is None  # stored before the field
    assert report_from_json({"source_id": "a", "kind": "feed", "since": "2026-02-01"}) == Report(
        "a", "feed", since="2026-02-01"
    )
