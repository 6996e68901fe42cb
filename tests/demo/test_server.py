"""The demo's snapshot server: static files with validators, 304s, and the arXiv API stand-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import feedparser
import httpx
import pytest
from lxml import etree

from dltheory_digest import pipeline
from dltheory_digest.config import Politeness, load_settings, load_sources
from dltheory_digest.demo import (
    DEMO_WEEK,
    SNAPSHOT_DIR,
    SnapshotServer,
    demo_settings_overrides,
    write_demo_sources,
)
from dltheory_digest.fetch import PoliteClient
from dltheory_digest.ids import find_arxiv_ids
from dltheory_digest.models import ItemKind, ParseResult
from dltheory_digest.resolve import title_search_url
from dltheory_digest.sources import REGISTRY
from dltheory_digest.sources.arxiv_api import id_list_url, parse_feed

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
RSS_PATH = "/rss/cs.LG+stat.ML+cs.NE+math.OC+cond-mat.dis-nn"
MIRROR_PATH = "/arxiv_mirror/paper/2408.13767"


@pytest.fixture(scope="module")
def server() -> Iterator[SnapshotServer]:
    with SnapshotServer() as running:
        yield running


@pytest.fixture(scope="module")
def http(server: SnapshotServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def _feed_ids(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    return [entry.findtext(ATOM + "id") or "" for entry in root.iter(ATOM + "entry")]


def _total(body: bytes) -> int:
    return int(etree.fromstring(body).findtext(OPENSEARCH + "totalResults") or "-1")


# -- static files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/robots.txt", "text/plain; charset=utf-8", b"User-agent: *"),
        (RSS_PATH, "application/rss+xml; charset=utf-8", b"<arxiv:announce_type>replace-cross<"),
        ("/offconvex/feed.xml", "application/xml; charset=utf-8", b"<title>Off the convex path</title>"),
        (
            "/windowsontheory/feed/atom/",
            "application/atom+xml; charset=utf-8",
            b'<title type="text">Windows On Theory',
        ),
        (
            "/zhihu/p/1973625480917305344",
            "text/html; charset=utf-8",
            b'<script id="js-initialData" type="text/json">',
        ),
        ("/shamra/show/3a4f6c1d92e0b7", "text/html; charset=utf-8", "اقرأ أيضاً".encode()),
        (
            "/notes/Theory+of+deep+learning",
            "text/html; charset=utf-8",
            b"[2106.10165] The Principles of Deep Learning Theory",
        ),
        (MIRROR_PATH, "text/html; charset=utf-8", b"<h2>Related papers</h2>"),
    ],
)
def test_static_files_have_type_charset_and_validators(
    http: httpx.Client, path: str, content_type: str, marker: bytes
) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert marker in response.content
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])
    assert response.headers["last-modified"] == "Fri, 20 Nov 2026 06:00:00 GMT"
    assert response.headers["cache-control"] == "max-age=0"
    assert int(response.headers["content-length"]) == len(response.content)
    # stable: the same bytes and validators on every request
    again = http.get(path)
    assert again.content == response.content and again.headers["etag"] == response.headers["etag"]


def test_missing_files_and_escapes_are_404(http: httpx.Client) -> None:
    assert http.get("/offconvex/no-such-feed.xml").status_code == 404
    assert http.get("/%2e%2e/server.py").status_code == 404
    assert "etag" not in http.get("/nothing").headers


def test_head_gives_headers_without_body(http: httpx.Client) -> None:
    response = http.head("/offconvex/feed.xml")
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) > 1000


def test_conditional_requests_get_304(http: httpx.Client, server: SnapshotServer) -> None:
    first = http.get("/offconvex/feed.xml")
    etag, modified = first.headers["etag"], first.headers["last-modified"]

    by_etag = http.get("/offconvex/feed.xml", headers={"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.content == b""
    assert by_etag.headers["etag"] == etag

    assert http.get("/offconvex/feed.xml", headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert http.get("/offconvex/feed.xml", headers={"If-Modified-Since": modified}).status_code == 304
    # If-None-Match wins over If-Modified-Since (RFC 9110): a different tag means a full answer
    changed = http.get(
        "/offconvex/feed.xml", headers={"If-None-Match": '"stale"', "If-Modified-Since": modified}
    )
    assert changed.status_code == 200 and changed.content == first.content
    older = http.get("/offconvex/feed.xml", headers={"If-Modified-Since": "Mon, 02 Nov 2026 00:00:00 GMT"})
    assert older.status_code == 200
    served = [r.status for r in server.requests if r.path == "/offconvex/feed.xml"]
    assert served[-6:] == [200, 304, 304, 304, 200, 200]


def test_the_real_http_cache_revalidates_with_304(server: SnapshotServer, tmp_path: Path) -> None:
    politeness = Politeness(min_interval=0.0)
    urls = [server.base_url + RSS_PATH, server.base_url + "/api/query?id_list=1806.07572"]
    pages = []
    for _run in range(2):
        with PoliteClient(cache_path=tmp_path / "cache.sqlite") as client:
            pages.append([client.get(url, source_id="demo", politeness=politeness) for url in urls])
    first, second = pages
    assert [p.from_cache for p in first] == [False, False]
    assert [p.from_cache for p in second] == [True, True]
    assert [p.content for p in first] == [p.content for p in second]
    statuses = {(r.path, r.status) for r in server.requests}
    assert (RSS_PATH, 304) in statuses and ("/api/query?id_list=1806.07572", 304) in statuses


# -- the arXiv API stand-in -------------------------------------------------------------


def test_id_list_answers_in_the_api_format(http: httpx.Client, server: SnapshotServer) -> None:
    url = id_list_url(["1806.07572", "2106.10165v2", "0000.0000"], base=server.base_url + "/api/query")
    response = http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns:opensearch=")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    assert parsed.feed.title.startswith(
        "arXiv Query: search_query=&id_list=1806.07572,2106.10165v2,0000.0000"
    )
    # the unknown id is simply absent; the versioned one comes back at that version
    assert [e.id for e in parsed.entries] == [
        "http://arxiv.org/abs/1806.07572v1",
        "http://arxiv.org/abs/2106.10165v2",
    ]
    assert (
        parsed.entries[0].title == "Neural Tangent Kernel: Convergence and Generalization in Neural Networks"
    )
    assert [a.name for a in parsed.entries[0].authors] == [
        "Arthur Jacot",
        "Franck Gabriel",
        "Clément Hongler",
    ]
    assert parsed.entries[0].arxiv_primary_category["term"] == "cs.LG"
    assert _total(response.content) == 2

    result = parse_feed(response.content, "demo")
    assert [(i.arxiv_id, i.version) for i in result.items] == [("1806.07572", 1), ("2106.10165", 2)]
    assert result.items[1].authors == ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin")


def test_id_list_of_unknown_ids_is_the_empty_result(http: httpx.Client) -> None:
    response = http.get("/api/query", params={"id_list": "0000.0000", "max_results": "100"})
    assert response.status_code == 200
    assert _feed_ids(response.content) == [] and _total(response.content) == 0
    result = parse_feed(response.content, "demo")
    assert result.items == () and result.error is None


def test_malformed_id_gets_the_error_feed(http: httpx.Client) -> None:
    response = http.get("/api/query", params={"id_list": "1806.07572,abc"})
    assert response.status_code == 400
    root = etree.fromstring(response.content)
    entries = root.findall(ATOM + "entry")
    assert len(entries) == 1
    assert entries[0].findtext(ATOM + "title") == "Error"
    assert entries[0].findtext(ATOM + "id") == "https://arxiv.org/api/errors#incorrect_id_format_for_abc"
    assert entries[0].findtext(ATOM + "summary") == "incorrect id format for abc"
    assert parse_feed(response.content, "demo").error == "arXiv API error: incorrect id format for abc"
    assert http.get("/api/query", params={"search_query": "ti:x", "start": "-1"}).status_code == 400


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Opening the Black Box of Deep Neural Networks via Information", "1703.00810"),
        ("the modern mathematics of deep learning", "2105.04026"),  # case-insensitive
        ("Recent Advances in Deep-Learning Theory", "2012.10931"),  # punctuation differs
        ("Visualising the Loss Landscape of Neural Nets", "1712.09913"),  # near-identical spelling
    ],
)
def test_title_search_finds_the_paper(
    http: httpx.Client, server: SnapshotServer, title: str, expected: str
) -> None:
    response = http.get(title_search_url(title, base=server.base_url + "/api/query"))
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert parsed.entries, title
    assert parsed.entries[0].id.split("/abs/")[1].split("v")[0] == expected


def test_title_search_without_a_match_is_empty(http: httpx.Client, server: SnapshotServer) -> None:
    response = http.get(
        title_search_url("Quantum error correction with surface codes", base=server.base_url + "/api/query")
    )
    assert response.status_code == 200 and _total(response.content) == 0


def test_search_paging_with_start_and_max_results(http: httpx.Client) -> None:
    query = {"search_query": "cat:stat.ML", "max_results": "5"}
    first = http.get("/api/query", params={**query, "start": "0"})
    second = http.get("/api/query", params={**query, "start": "5"})
    total = _total(first.content)
    assert total > 10
    ids_first, ids_second = _feed_ids(first.content), _feed_ids(second.content)
    assert len(ids_first) == len(ids_second) == 5 and not set(ids_first) & set(ids_second)
    assert etree.fromstring(second.content).findtext(OPENSEARCH + "startIndex") == "5"
    combined = http.get("/api/query", params={"search_query": "au:Lee AND ti:gaussian"})
    assert _feed_ids(combined.content) == ["http://arxiv.org/abs/1711.00165v1"]


# -- the snapshot as a whole ------------------------------------------------------------


def test_every_paper_named_in_the_snapshot_is_in_the_api_entries() -> None:
    entries = parse_feed((SNAPSHOT_DIR / "arxiv_api" / "entries.atom.xml").read_bytes(), "demo")
    known = {item.arxiv_id for item in entries.items}
    assert len(known) == len(entries.items) >= 25
    for path in SNAPSHOT_DIR.rglob("*"):
        if path.is_file() and "arxiv_api" not in path.parts:
            named = {arxiv_id for arxiv_id, _ in find_arxiv_ids(path.read_text(encoding="utf-8"))}
            assert named <= known, (path.name, named - known)


def test_demo_sources_and_settings_are_valid(
    server: SnapshotServer, tmp_path: Path, http: httpx.Client
) -> None:
    path = write_demo_sources(server.base_url, tmp_path / "sources.yaml")
    specs = load_sources(path)
    assert {s.kind for s in specs} == {"arxiv_rss", "feed", "zhihu", "shamra", "notes_page", "arxiv_mirror"}
    assert sum(s.kind == "feed" for s in specs) == 2
    for spec in specs:
        assert spec.url and spec.url.startswith(server.base_url)
        assert spec.politeness.min_interval <= 0.1
        assert http.get(spec.url).status_code == 200, spec.id
    settings = load_settings(**demo_settings_overrides(server.base_url, tmp_path / "data", tmp_path / "out"))
    assert settings.arxiv_api_base == server.base_url + "/api/query"
    assert settings.timezone == "UTC" and settings.output_dir == tmp_path / "out"
    assert DEMO_WEEK == "2026-W47"


def test_the_listing_parses_with_the_real_parser() -> None:
    listing = (SNAPSHOT_DIR / "rss" / "cs.LG+stat.ML+cs.NE+math.OC+cond-mat.dis-nn.rss.xml").read_bytes()
    result = REGISTRY["arxiv_rss"].parse_bytes(listing, source_id="demo")
    kinds = [item.announce_type.value for item in result.items if item.announce_type]
    assert len(result.items) == 17 and result.warnings == ()
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "new": 11,
        "cross": 1,
        "replace": 4,
        "replace-cross": 1,
    }
    revised = {item.arxiv_id: item.version for item in result.items if item.announce_type.is_revision}  # type: ignore[union-attr]
    assert revised == {"2106.10165": 3, "2408.13767": 3, "1812.07956": 6, "1611.03530": 3, "1706.03762": 8}


def _parse(kind: str, relative: str, url: str) -> ParseResult:
    return REGISTRY[kind].parse_bytes((SNAPSHOT_DIR / relative).read_bytes(), url=url, source_id="demo")


def _cited_ids(result: ParseResult) -> set[str]:
    return {c.arxiv_id for item in result.items for c in item.cited if c.arxiv_id}


def test_the_blog_feeds_parse_into_posts_citing_snapshot_papers() -> None:
    offconvex = _parse("feed", "offconvex/feed.xml", "https://www.offconvex.org/feed.xml")
    assert [item.title for item in offconvex.items] == [
        "Edge of stability, seen from the loss landscape",
        "When interpolation is harmless",
    ]
    assert _cited_ids(offconvex) == {
        "2103.00065",
        "1712.09913",
        "1802.10026",
        "1812.11118",
        "1912.02292",
        "1906.11300",
    }
    windows = _parse(
        "feed", "windowsontheory/feed/atom/index.atom.xml", "https://windowsontheory.org/feed/atom/"
    )
    (post,) = windows.items
    assert post.published is not None and post.published.date().isoformat() == "2026-11-18"
    assert {(c.arxiv_id, c.doi) for c in post.cited} >= {("1902.06720", "10.48550/arxiv.1902.06720")}
    assert _cited_ids(windows) == {"1806.07572", "1902.06720", "1804.06561", "1812.07956"}


def test_the_zhihu_reading_list_gives_commented_mentions() -> None:
    result = _parse(
        "zhihu", "zhihu/p/1973625480917305344.html", "https://zhuanlan.zhihu.com/p/1973625480917305344"
    )
    article, link = result.items
    assert article.title == "深度学习理论阅读清单（2026 秋季更新）" and article.lang == "zh"
    # the course page it links is no paper: an OTHER item, as a notes page has it (github.io: a blog)
    assert (link.kind, link.title) == (ItemKind.OTHER, "Stats 385: Theories of Deep Learning")
    by_title = {c.title: c for c in article.cited}
    assert _cited_ids(result) == {"2012.10931", "2106.10165", "1806.07572", "1710.10345", "1706.06083"}
    # the one paper listed without a link or id is kept, for the title search to resolve
    unlinked = by_title["Opening the Black Box of Deep Neural Networks via Information"]
    assert unlinked.arxiv_id is None and "信息瓶颈" in (unlinked.text or "")
    assert "开山之作" in (
        by_title["Neural Tangent Kernel: Convergence and Generalization in Neural Networks"].text or ""
    )


def test_the_shamra_page_gives_the_paper_and_its_related_papers() -> None:
    result = _parse(
        "shamra", "shamra/show/3a4f6c1d92e0b7.html", "https://shamra-academia.com/show/3a4f6c1d92e0b7"
    )
    paper, *related = result.items
    assert paper.title == "The Modern Mathematics of Deep Learning" and paper.lang == "ar"
    assert paper.arxiv_id is None and "الشبكات" in (paper.text or "")
    assert [r.title for r in related] == [
        "Recent advances in deep learning theory",
        "Deep Neural Networks as Gaussian Processes",
        "Understanding deep learning requires rethinking generalization",
    ]


def test_the_notes_page_gives_paper_mentions_and_other_links() -> None:
    result = _parse(
        "notes_page",
        "notes/Theory+of+deep+learning.html",
        "https://publish.obsidian.md/notes/Theory+of+deep+learning",
    )
    mentions = [i for i in result.items if i.kind is ItemKind.MENTION]
    others = [i for i in result.items if i.kind is ItemKind.OTHER]
    assert {m.arxiv_id for m in mentions if m.arxiv_id} == {
        "2106.10165",
        "1902.06720",
        "2104.13478",
        "2402.15332",
        "1712.09913",
    }
    assert "Deep Neural Networks as Gaussian Processes" in {m.title for m in mentions if not m.arxiv_id}
    hosts = {urlsplit(o.url or "").netloc for o in others}
    assert {"www.youtube.com", "stats385.github.io", "en.wikipedia.org"} <= hosts


def test_the_mirror_page_gives_its_paper_and_related_papers_by_arxiv_link() -> None:
    result = _parse(
        "arxiv_mirror", "arxiv_mirror/paper/2408.13767.html", "http://127.0.0.1:8000" + MIRROR_PATH
    )
    main, *related = result.items
    assert result.warnings == ()
    assert (main.kind, main.arxiv_id, main.version) == (ItemKind.PAPER, "2408.13767", 2)
    assert main.authors == ("Nadav Cohen", "Noam Razin")
    assert [(r.kind, r.arxiv_id, r.title) for r in related] == [
        (ItemKind.MENTION, "2408.02111", "Understanding Deep Learning via Notions of Rank"),
        (ItemKind.MENTION, "2012.10931", "Recent advances in deep learning theory"),
    ]


def _demo_build(
    server: SnapshotServer, tmp_path: Path, kinds: set[str], *, arxiv_api: bool = False
) -> pipeline.WeekBuild:
    """The week's digest from the demo's sources of these kinds, through the real collect and
    build steps; with `arxiv_api`, mentions are looked up on the snapshot's arXiv API."""
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy
    from dltheory_digest.sources import PlanContext
    from dltheory_digest.store import open_store
    from dltheory_digest.weeks import Week

    specs = [
        s for s in load_sources(write_demo_sources(server.base_url, tmp_path / "s.yaml")) if s.kind in kinds
    ]
    week = Week.parse(DEMO_WEEK)
    start, end = week.window(ZoneInfo("UTC"))
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        with PoliteClient(sleep=lambda s: None, max_retries=0) as client:
            collected = [pipeline.collect_source(spec, client, PlanContext(start, end)) for spec in specs]
            pipeline.record_collection(store, week, collected)
            taxonomy = load_taxonomy()

            def fetch_bytes(url: str) -> bytes:
                return client.get(url, source_id="arxiv-metadata").content

            return pipeline.build_week(
                store,
                week,
                zone_name="UTC",
                specs=specs,
                fetch_bytes=fetch_bytes if arxiv_api else None,
                stages=pipeline.Stages(None, DirectionClassifier.from_taxonomy(taxonomy), taxonomy),
                relevance_threshold=0.0,
                api_base=server.base_url + "/api/query",
            )
    finally:
        store.close()


def _entry(markdown: str, arxiv_id: str) -> str:
    """The digest's one entry of that paper (fails when it has none or several)."""
    [block] = [
        b
        for b in markdown.split("\n### ")
        if b.startswith("[") and f"](https://arxiv.org/abs/{arxiv_id})" in b.split("\n", 1)[0]
    ]
    return block


def test_the_mirror_pages_papers_merge_with_their_other_sightings(
    server: SnapshotServer, tmp_path: Path
) -> None:
    build = _demo_build(server, tmp_path, {"arxiv_rss", "shamra", "zhihu", "arxiv_mirror"}, arxiv_api=True)
    # the mirror's paper is the listing's revised paper: one entry, seen in both
    assert "Seen in: arXiv | arXiv mirror" in _entry(build.markdown, "2408.13767")
    # a related paper the Shamra page and the Zhihu list also name: one entry, three sightings
    survey = _entry(build.markdown, "2012.10931")
    assert (
        "Seen in: arXiv mirror | [Shamra Academia]" in survey and "| [知乎 · 深度学习理论阅读清单]" in survey
    )
    # a related paper only the mirror names: arXiv's metadata for it, from the snapshot's API
    assert "Noam Razin · 2024-08-04 · cs.LG · *PhD thesis*" in _entry(build.markdown, "2408.02111")
    assert "| arxiv-mirror-linear-nets-notes | ok | arxiv_mirror | 1 | 3 |" in build.markdown


def test_the_demo_digest_lists_the_notes_pages_talk_and_course(
    server: SnapshotServer, tmp_path: Path
) -> None:
    build = _demo_build(server, tmp_path, {"notes_page"})
    # the page's "Introduction to Deep Learning Theory - YouTube" is a YouTube search, not a talk
    assert [(r.category, r.title) for r in build.digest.resources] == [
        ("course", "Stats 385: Theories of Deep Learning"),
    ]
    # the demo's page is on this machine: it is named, not linked
    assert (
        "- **Course:** [Stats 385: Theories of Deep Learning](https://stats385.github.io/)"
        " — the 2017 lecture series, with a talk video for each week — Listed on: Notes · Theory of deep learning"
    ) in build.markdown
    assert "Wikipedia" not in build.markdown.split("## New talks and courses", 1)[1]


def test_the_journal_doi_a_demo_post_cites_has_its_crossref_record(
    server: SnapshotServer, tmp_path: Path, http: httpx.Client
) -> None:
    from dltheory_digest.resolve import crossref_paper, crossref_work_url

    offconvex = _parse("feed", "offconvex/feed.xml", "https://www.offconvex.org/feed.xml")
    [by_doi] = [c for item in offconvex.items for c in item.cited if c.doi]
    # the link's text is a citation ("Nesterov 2004"), not a title: Crossref's record titles it
    assert (by_doi.title, by_doi.doi, by_doi.arxiv_id) == ("", "10.1007/978-1-4419-8853-9", None)
    settings = load_settings(**demo_settings_overrides(server.base_url, tmp_path / "data", tmp_path / "out"))
    assert settings.crossref_api_base == server.base_url + "/crossref/works"
    doi = by_doi.doi or ""
    answer = http.get(urlsplit(crossref_work_url(doi, base=settings.crossref_api_base)).path)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    paper = crossref_paper(answer.content, doi)
    assert paper.title == "Introductory Lectures on Convex Optimization: A Basic Course"
    assert paper.authors == ("Yurii Nesterov",) and paper.journal_ref == "Springer US (2004)"
    assert http.get("/crossref/works/10.1007/no-such-book").status_code == 404
