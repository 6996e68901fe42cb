"""Wall time of two arXiv sources fetched while arXiv cannot be reached, real sleeps included.

    .venv/bin/python benchmarks/bench_offline_fetch.py

Each source gets CONNECT_FAILURE_ATTEMPTS tries through the real PoliteClient, LocalLimiter
(arXiv's 3 s spacing) and back-off. The connection is really refused (a closed port on
127.0.0.1, declared an arXiv host), so no request leaves the machine. It is run twice in this one
run: with the limiter giving back the slots of requests that never reached the server, and with
one that keeps them (the behaviour before session 9), and prints both times and their ratio.
"""

from __future__ import annotations

import socket
import time

from dltheory_digest.errors import FetchError
from dltheory_digest.fetch import LocalLimiter, PoliteClient

SOURCES = ("arxiv-api", "arxiv-rss")


class KeepingLimiter(LocalLimiter):
    """The old behaviour: a slot is spent even when its request never left."""

    def release(self, key: str, slot: float, min_interval: float) -> None:
        return None


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def offline_run(limiter: LocalLimiter) -> float:
    port = closed_port()
    client = PoliteClient(arxiv_hosts=frozenset({"127.0.0.1"}), limiter=limiter, respect_robots=False)
    started = time.perf_counter()
    with client:
        for source in SOURCES:
            try:
                client.get(f"http://127.0.0.1:{port}/api/query", source_id=source)
            except FetchError as exc:
                assert "connection refused" in exc.detail, exc.detail
            else:  # pragma: no cover - a server appeared on the port
                raise SystemExit("something answered on the closed port")
    return time.perf_counter() - started


def main() -> None:
    now = offline_run(LocalLimiter())
    before = offline_run(KeepingLimiter())
    print(f"two arXiv sources offline: {now:.1f} s (slots given back), {before:.1f} s (slots kept)")
    print(f"ratio kept / given back: {before / now:.1f}x")


if __name__ == "__main__":
    main()
