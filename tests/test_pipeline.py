"""The collector: fetch + parse of one source through the real polite client, failures as report lines."""

from __future__ import annotations

from pathlib import Path

import httpx

from dltheory_digest.config import SourceSpec
from dltheory_digest.fetch import PoliteClient
from dltheory_digest.models import Item, ItemKind
from dltheory_digest.pipeline import (
    ZERO_ITEMS_WARNING,
    cited_with_resolved_ids,
    collect_source,
    expand_mentions,
    select_sources,
)
from dltheory_digest.sources import PlanContext

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


def client_for(routes: dict[str, tuple[int, bytes, str]]) -> PoliteClient:
    return PoliteClient(transport=serve(routes), sleep=lambda s: None, max_retries=1, backoff_cap=0.0)


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

    with PoliteClient(transport=httpx.MockTransport(handler), sleep=lambda s: None) as client:
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
