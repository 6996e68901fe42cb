"""`arxiv_api` against odd servers and odd entries: a query sent to the source's own endpoint,
entries without a usable id, withdrawn papers (tests/fixtures/sources/arxiv_api_odd_entries.xml)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from dltheory_digest.config import SourceSpec
from dltheory_digest.fetch import PoliteClient
from dltheory_digest.pipeline import collect_source
from dltheory_digest.sources.arxiv_api import API_BASE, KIND, is_withdrawn, parse_feed
from dltheory_digest.sources.base import PlanContext


@pytest.fixture
def odd_feed(fixtures_dir: Path) -> bytes:
    return (fixtures_dir / "sources" / "arxiv_api_odd_entries.xml").read_bytes()


def plan_for(**fields: object) -> str:
    spec = SourceSpec.model_validate({"id": "api-q", "kind": "arxiv_api", **fields})
    (url,) = KIND.plan(spec, KIND.options_for(spec), PlanContext())
    return url


def test_a_query_goes_to_the_sources_url() -> None:
    url = plan_for(url="http://127.0.0.1:8765/api/query", query="cat:cs.LG AND abs:generalization")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:8765", "/api/query")
    assert parse_qs(parts.query)["search_query"] == ["cat:cs.LG AND abs:generalization"]


def test_options_search_query_also_uses_the_url_and_keeps_its_other_parameters() -> None:
    url = plan_for(
        url="https://mirror.example.org/api/query?search_query=ignored&token=abc&start=40",
        options={"search_query": "ti:kernel", "page_size": 25},
    )
    assert url.startswith("https://mirror.example.org/api/query?")
    query = parse_qs(urlsplit(url).query)
    # the plan's own parameters win; a parameter only the URL knows is kept
    assert query["search_query"] == ["ti:kernel"]
    assert (query["start"], query["max_results"], query["token"]) == (["0"], ["25"], ["abc"])


def test_without_a_url_the_query_goes_to_arxiv() -> None:
    assert plan_for(query="ti:kernel").startswith(API_BASE + "?")


@pytest.mark.skipif(
    "arxiv_api_base" not in PlanContext.__dataclass_fields__,
    reason="PlanContext does not carry the settings' arxiv_api_base yet",
)
def test_the_settings_api_base_reaches_the_plan() -> None:
    spec = SourceSpec(id="api-q", kind="arxiv_api", query="ti:kernel")
    ctx = PlanContext(arxiv_api_base="http://127.0.0.1:9/api/query")  # type: ignore[call-arg]
    (url,) = KIND.plan(spec, KIND.options_for(spec), ctx)
    assert url.startswith("http://127.0.0.1:9/api/query?")


def test_entries_without_an_arxiv_id_are_skipped_one_warning_each(odd_feed: bytes) -> None:
    result = parse_feed(odd_feed, "api-odd")
    assert [(i.arxiv_id, i.version) for i in result.items] == [("1806.07572", 4), ("2611.01002", 2)]
    assert all("not-an-id" not in (i.url or "") for i in result.items)
    assert len(result.warnings) == 3 and len(set(result.warnings)) == 3
    no_id, empty_id, bad_id = result.warnings
    assert "'Entry that lost its id'" in no_id and "no id" in no_id
    assert "'Entry with an empty id'" in empty_id and "no id" in empty_id
    assert "'Entry whose id is not an arXiv id'" in bad_id and "not-an-id" in bad_id


def test_a_withdrawn_paper_is_marked(odd_feed: bytes) -> None:
    ntk, withdrawn = parse_feed(odd_feed, "api-odd").items
    assert dict(withdrawn.extra) == {"withdrawn": "true"}
    assert ntk.extra == ()


@pytest.mark.parametrize(
    ("comment", "abstract", "expected"),
    [
        ("This paper has been withdrawn by the author", "", True),
        ("withdrawn due to an error in Lemma 3", "We study kernels.", True),
        (None, "This article has been withdrawn by arXiv administrators.", True),
        ("12 pages", "This paper was withdrawn because ...", True),
        # mentioning withdrawn results is not being withdrawn
        (None, "We revisit claims from a paper that was later withdrawn by the authors.", False),
        ("Accepted at NeurIPS 2026", "Withdrawal of liquidity in markets.", False),
        (None, None, False),
    ],
)
def test_withdrawal_is_read_from_comment_or_opening_of_abstract(
    comment: str | None, abstract: str | None, expected: bool
) -> None:
    assert is_withdrawn(comment, abstract) is expected


def api_handler(body: bytes, paths: list[str]) -> type[BaseHTTPRequestHandler]:
    """Serves `body` at /api/query (404 elsewhere) and records every requested path."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            paths.append(self.path)
            if self.path.startswith("/api/query"):
                status, payload, ctype = 200, body, "application/atom+xml; charset=utf-8"
            else:
                status, payload, ctype = 404, b"not found", "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def api_server(odd_feed: bytes) -> Iterator[tuple[str, list[str]]]:
    paths: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), api_handler(odd_feed, paths))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths
    finally:
        server.shutdown()
        server.server_close()


def test_a_query_source_is_collected_from_its_local_url(api_server: tuple[str, list[str]]) -> None:
    base, paths = api_server
    spec = SourceSpec(
        id="api-query",
        kind="arxiv_api",
        url=f"{base}/api/query",
        query="cat:cs.LG AND abs:kernel",
        options={"max_results": 5},
    )
    with PoliteClient(sleep=lambda s: None, max_retries=1, backoff_cap=0.0) as client:
        got = collect_source(spec, client, PlanContext())
    assert got.report.error is None
    assert [p.split("?")[0] for p in paths if not p.startswith("/robots")] == ["/api/query"]
    assert {item.arxiv_id for item in got.items} == {"1806.07572", "2611.01002"}
    assert sum("skipped" in warning for warning in got.report.warnings) == 3
