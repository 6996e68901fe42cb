"""`sources check` on a source one of whose listed URLs its site's robots.txt disallows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from rich.console import Console
from typer.testing import CliRunner

from dltheory_digest.cli import app

FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Blog</title><link>https://blog.example.org/</link>
<item><title>Why wide networks train like kernels</title>
<link>https://blog.example.org/2026/11/ntk/</link>
<pubDate>Tue, 17 Nov 2026 10:00:00 +0000</pubDate>
<description>On https://arxiv.org/abs/1806.07572v4</description>
</item></channel></rss>"""


class _Site(BaseHTTPRequestHandler):
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, kind = b"User-agent: *\nDisallow: /private/\n", "text/plain"
        else:
            type(self).asked.append(self.path)
            body, kind = FEED, "application/rss+xml"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    """A blog on 127.0.0.1 whose robots.txt disallows /private/; yields its base URL."""
    _Site.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_sources_check_warns_of_a_disallowed_listed_url_and_passes(
    site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dltheory_digest.cli import run_cmd

    console = Console(width=400, record=True)
    monkeypatch.setattr(run_cmd, "console", console)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        f"  - {{id: blog, kind: feed, urls: ['{site}/feed.xml', '{site}/private/feed.xml'], "
        "politeness: {min_interval: 0}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DLTHEORY_SOURCES_FILE", str(sources))
    result = CliRunner().invoke(app, ["sources", "check"])
    assert result.exit_code == 0, result.output
    assert _Site.asked == ["/feed.xml"]
    [row] = [line for line in console.export_text().splitlines() if "blog" in line]
    assert (
        f"warning: page {site}/private/feed.xml: the site's robots.txt disallows it, so it can never be "
        "fetched; remove it from sources.yaml"
    ) in row
    assert "never" not in row.split("sources.yaml")[1]  # the page read is the last success
