"""Credentials hidden in URLs and in text quoting them (dltheory_digest.redaction)."""

from __future__ import annotations

import pytest

from dltheory_digest.redaction import redact, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://h.example/feed.atom?access_token=SECRETTOKEN123",
            "https://h.example/feed.atom?access_token=REDACTED",
        ),
        ("https://h.example/f?key=SECRETTOKEN123&q=ntk", "https://h.example/f?key=REDACTED&q=ntk"),
        (
            "https://h.example/f?q=ntk&Token=SECRETTOKEN123#top",
            "https://h.example/f?q=ntk&Token=REDACTED#top",
        ),
        (
            "https://h.example/f?api_key=SECRETTOKEN123&private-token=SECRETTOKEN123",
            "https://h.example/f?api_key=REDACTED&private-token=REDACTED",
        ),
        (
            "https://h.example/f?X-Amz-Signature=SECRETTOKEN123",
            "https://h.example/f?X-Amz-Signature=REDACTED",
        ),
        ("https://me:SECRETTOKEN123@h.example/f", "https://REDACTED@h.example/f"),
        ("https://SECRETTOKEN123@h.example/f", "https://REDACTED@h.example/f"),
        # not credentials: kept as they are, encoding and all
        (
            "https://h.example/search?keywords=a%20b&monkey=1&page=2",
            "https://h.example/search?keywords=a%20b&monkey=1&page=2",
        ),
        ("https://h.example/a@b/path", "https://h.example/a@b/path"),
    ],
)
def test_redact_url_hides_credentials_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact(f"HTTP 404 for {url}, (redirected from '{url}').") == (
        f"HTTP 404 for {shown}, (redirected from '{shown}')."
    )
