"""The polite client against a real HTTP server on 127.0.0.1.

The server records, for every request, its path, Host, client port, headers and when it
started and ended (time.monotonic, same process as the client), so spacing, overlap and
connection reuse are asserted from what actually reached the wire. "localhost" and
"127.0.0.1" reach the same server but are two hosts to the client.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import itertools
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpcore
import httpx
import pytest

from dltheory_digest import __version__, fetch
from dltheory_digest.config import Politeness
from dltheory_digest.errors import FetchError, RobotsDisallowed
from dltheory_digest.fetch import (
    ARXIV_HOSTS,
    ARXIV_LIMITER_KEY,
    ARXIV_MIN_INTERVAL,
    CONNECT_FAILURE_ATTEMPTS,
    OFFLINE_HINT,
    ROBOTS_ERROR,
    ROBOTS_MAX_BYTES,
    ROBOTS_UNREADABLE,
    HTTPStatusError,
    LocalLimiter,
    PoliteClient,
    RobotsUnreadable,
    SiteUnreachable,
    connection_failure,
    limiter_slot,
    non_public_address,
    unreachable_message,
    user_agent,
)
from dltheory_digest.models import FetchRecord

# Loopback scheduling noise between the client's send and the server's accept; the one
# real-time interval asserted is 0.3 s, so this cannot hide a missing wait.
JITTER = 0.03
NO_WAIT = Politeness(min_interval=0.0)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # hold the request open this long before answering
    chunks: Iterator[bytes] | None = None  # streamed with chunked transfer-encoding


@dataclass
class Seen:
    path: str
    host: str
    port: int
    headers: dict[str, str]
    start: float
    end: float = 0.0
    status: int = 0
    sent_bytes: int = 0
    broken: bool = False


Route = Callable[[Seen], Reply]


class LocalServer:
    """A threading HTTP/1.1 server whose routes are plain functions of the request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.finished = threading.Condition(self.lock)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                seen = Seen(
                    path=self.path,
                    host=(self.headers.get("Host") or "").split(":")[0],
                    port=self.client_address[1],
                    headers={k.lower(): v for k, v in self.headers.items()},
                    start=time.monotonic(),
                )
                with server.lock:
                    server.seen.append(seen)
                route = server.routes.get(urlsplit(self.path).path)
                reply = route(seen) if route else Reply(404, b"not here")
                if reply.delay:
                    time.sleep(reply.delay)
                seen.status = reply.status
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    if reply.chunks is None:
                        self.send_header("Content-Length", str(len(reply.body)))
                        self.end_headers()
                        self.wfile.write(reply.body)
                        seen.sent_bytes = len(reply.body)
                    else:
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        for chunk in reply.chunks:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            seen.sent_bytes += len(chunk)
                        self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    seen.broken = True
                    self.close_connection = True
                with server.lock:
                    seen.end = time.monotonic()
                    server.finished.notify_all()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def hits(self, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if urlsplit(s.path).path == path]

    def wait_finished(self, path: str, timeout: float = 10.0) -> Seen:
        with self.finished:
            self.finished.wait_for(lambda: any(s.end for s in self.hits_unlocked(path)), timeout)
            return next(s for s in self.hits_unlocked(path) if s.end)

    def hits_unlocked(self, path: str) -> list[Seen]:
        return [s for s in self.seen if urlsplit(s.path).path == path]


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


class RecordingLimiter:
    """A Limiter that never waits and remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []
        self.released: list[tuple[str, float, float]] = []
        self._lock = threading.Lock()

    def acquire(self, key: str, min_interval: float) -> float:
        with self._lock:
            self.calls.append((key, min_interval))
            return float(len(self.calls))  # a distinct slot per call, to see which one comes back

    def release(self, key: str, slot: float, min_interval: float) -> None:
        with self._lock:
            self.released.append((key, slot, min_interval))


def scripted(*replies: Reply) -> Route:
    """A route answering with each reply in turn, then repeating the last one."""
    queue = list(replies)

    def route(seen: Seen) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return route


def run_in_threads(*calls: Callable[[], object]) -> list[object]:
    results: list[object] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


def gaps(seen: list[Seen]) -> list[float]:
    starts = sorted(s.start for s in seen)
    return [b - a for a, b in itertools.pairwise(starts)]


# --------------------------------------------------------------------------- basics


def test_page_headers_user_agent_and_records(server: LocalServer) -> None:
    server.routes["/feed.xml"] = lambda s: Reply(
        200, b"<rss/>", {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": '"v1"'}
    )
    delivered: list[FetchRecord] = []
    contact = "mailto:digest@example.org"
    with PoliteClient(contact=contact, on_record=delivered.append) as client:
        page = client.get(server.url("/feed.xml"), source_id="offconvex", politeness=NO_WAIT)
        again = client.get(server.url("/feed.xml"), source_id="offconvex", politeness=NO_WAIT)

    assert user_agent(contact) == f"dltheory-digest/{__version__} (+{contact})"
    assert {s.headers["user-agent"] for s in server.seen} == {user_agent(contact)}
    assert (page.status, page.content, page.source_id) == (200, b"<rss/>", "offconvex")
    assert page.content_type == "application/rss+xml; charset=utf-8"
    assert page.header("ETag") == '"v1"'
    assert page.url == server.url("/feed.xml")
    assert page.fetched_at is not None and page.fetched_at.utcoffset() == dt.timedelta(0)
    assert page.from_cache is False and again.content == b"<rss/>"

    # robots.txt once per host, then the two fetches; every record also went to on_record
    assert len(server.hits("/robots.txt")) == 1
    assert delivered == client.records
    robots, first, second = client.records
    assert (robots.url, robots.status, robots.error) == (server.url("/robots.txt"), 404, None)
    assert first.source_id == "offconvex" and first.url == server.url("/feed.xml")
    assert (first.status, first.bytes, first.cache_hit, first.error) == (200, 6, False, None)
    assert first.elapsed_ms > 0
    assert first.fetched_at is not None and first.fetched_at.tzinfo is not None
    assert second.status == 200


def test_http_error_status_raises_with_page_and_is_not_retried(server: LocalServer) -> None:
    feed = b"<feed><entry><title>Error</title></entry></feed>"
    server.routes["/api/query"] = lambda s: Reply(400, feed, {"Content-Type": "application/atom+xml"})
    slept: list[float] = []
    with PoliteClient(sleep=slept.append) as client, pytest.raises(HTTPStatusError) as info:
        client.get(server.url("/api/query?id_list=bad"), source_id="arxiv-api", politeness=NO_WAIT)
    assert info.value.status == 400 and info.value.source_id == "arxiv-api"
    assert info.value.page.content == feed  # the error feed stays parseable
    assert len(server.hits("/api/query")) == 1 and slept == []
    assert client.records[-1].error == "HTTP 400"


def test_invalid_url_is_a_fetch_error() -> None:
    with PoliteClient() as client, pytest.raises(FetchError) as info:
        client.get("ftp://example.org/x", source_id="bad")
    assert info.value.source_id == "bad"
    assert client.records[0].url == "ftp://example.org/x" and "not an http(s) URL" in str(
        client.records[0].error
    )


# --------------------------------------------------------------------------- spacing


def test_local_limiter_reserves_slots_per_key() -> None:
    now = [100.0]
    slept: list[float] = []
    limiter = LocalLimiter(clock=lambda: now[0], sleep=slept.append)
    limiter.acquire("a", 3.0)  # first: immediate
    limiter.acquire("b", 3.0)  # other key: immediate
    now[0] = 101.0
    limiter.acquire("a", 3.0)  # 1 s after the first: waits the 2 s left
    limiter.acquire("a", 3.0)  # queued behind the previous reservation (slot 103 -> 106)
    now[0] = 110.0
    limiter.acquire("a", 3.0)  # long after: immediate
    assert slept == [2.0, 5.0]


def test_a_released_slot_lets_the_next_request_go_at_once() -> None:
    now = [100.0]
    slept: list[float] = []
    limiter = LocalLimiter(clock=lambda: now[0], sleep=slept.append)
    slot = limiter.acquire("arxiv", 3.0)
    limiter.release("arxiv", slot, 3.0)  # its request never reached the server
    now[0] = 100.5
    assert limiter.acquire("arxiv", 3.0) == 100.5 and slept == []


def test_a_slot_someone_queued_behind_is_not_given_back() -> None:
    now = [100.0]
    slept: list[float] = []
    limiter = LocalLimiter(clock=lambda: now[0], sleep=slept.append)
    first = limiter.acquire("arxiv", 3.0)
    second = limiter.acquire("arxiv", 3.0)  # queued: slot 103
    limiter.release("arxiv", first, 3.0)  # too late: 103 is promised, 106 stays the next free slot
    assert limiter.acquire("arxiv", 3.0) == 106.0
    limiter.release("arxiv", 106.0, 3.0)  # the latest slot goes back (LIFO), the queued one stays
    assert (second, limiter.acquire("arxiv", 3.0)) == (103.0, 106.0)
    assert slept == [3.0, 6.0, 6.0]


def test_offline_arxiv_attempts_do_not_wait_for_the_politeness_slot() -> None:
    """Two arXiv sources offline used to wait 3 s before each of their 4 attempts but the first."""

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    limiter_slept: list[float] = []
    limiter = LocalLimiter(clock=lambda: 50.0, sleep=limiter_slept.append)  # time stands still
    backoff: list[float] = []
    client = PoliteClient(transport=httpx.MockTransport(offline), limiter=limiter, sleep=backoff.append)
    with client:
        for source in ("arxiv-api", "arxiv-rss"):
            with pytest.raises(FetchError, match="is this machine online"):
                client.get("https://export.arxiv.org/api/query?id_list=2106.10165", source_id=source)
    assert limiter_slept == [] and backoff == [1.0, 1.0]  # only the one retry's back-off is left
    assert len(client.records) == 2 * CONNECT_FAILURE_ATTEMPTS


def test_a_refused_connection_on_a_real_closed_port_gives_its_slot_back() -> None:
    port = _closed_port()
    limiter_slept: list[float] = []
    limiter = LocalLimiter(clock=lambda: 50.0, sleep=limiter_slept.append)
    client = PoliteClient(
        arxiv_hosts=frozenset({"127.0.0.1"}), limiter=limiter, sleep=lambda s: None, respect_robots=False
    )
    with client, pytest.raises(FetchError, match="connection refused"):
        client.get(f"http://127.0.0.1:{port}/api/query", source_id="arxiv-api")
    assert limiter_slept == []
    assert limiter.acquire(ARXIV_LIMITER_KEY, ARXIV_MIN_INTERVAL) == 50.0  # the key is free now


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("timed out"),  # the server may have seen the connection
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol"),
        None,  # an HTTP answer (503)
    ],
)
def test_a_request_that_reached_the_server_keeps_its_slot(failure: httpx.TransportError | None) -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        if failure is None:
            return httpx.Response(503)
        raise failure

    limiter_slept: list[float] = []
    limiter = LocalLimiter(clock=lambda: 50.0, sleep=limiter_slept.append)
    client = PoliteClient(
        transport=httpx.MockTransport(failing), limiter=limiter, sleep=lambda s: None, max_retries=1
    )
    with client, pytest.raises(FetchError):
        client.get("https://export.arxiv.org/api/query?id_list=2106.10165", source_id="arxiv-api")
    assert limiter_slept == [3.0]  # the retry waited for arXiv's next slot


def test_limiter_slot_groups_arxiv_hosts_with_a_3s_floor() -> None:
    assert ARXIV_MIN_INTERVAL == 3.0
    assert {"arxiv.org", "export.arxiv.org", "rss.arxiv.org", "oaipmh.arxiv.org"} <= ARXIV_HOSTS
    for host in ARXIV_HOSTS:
        assert limiter_slot(host, 0.5) == (ARXIV_LIMITER_KEY, 3.0)
    assert limiter_slot("Export.ArXiv.org", 10.0) == (ARXIV_LIMITER_KEY, 10.0)
    assert limiter_slot("offconvex.org", 0.5) == ("offconvex.org", 0.5)


class SlotLog(LocalLimiter):
    """A LocalLimiter on a clock that stands still: every slot it hands out and every wait it
    asks for is kept, so spacing is asserted exactly, with no sleeping and no timing noise."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        super().__init__(clock=lambda: 0.0, sleep=self.waits.append)
        self.slots: list[tuple[str, float]] = []

    def reserve(self, key: str, min_interval: float) -> float:
        slot = super().reserve(key, min_interval)
        with self._lock:
            self.slots.append((key, slot))
        return slot


def test_same_host_requests_are_spaced_by_the_interval(server: LocalServer) -> None:
    server.routes["/p"] = lambda s: Reply(200, b"ok")
    polite = Politeness(min_interval=0.4)
    limiter = SlotLog()
    with PoliteClient(respect_robots=False, limiter=limiter) as client:
        run_in_threads(
            *[
                lambda i=i: client.get(server.url(f"/p?i={i}"), source_id="s", politeness=polite)
                for i in range(4)
            ]
        )
    assert len(server.hits("/p")) == 4
    assert {key for key, _ in limiter.slots} == {"127.0.0.1"}
    assert sorted(slot for _, slot in limiter.slots) == pytest.approx([0.0, 0.4, 0.8, 1.2])
    assert sorted(limiter.waits) == pytest.approx([0.4, 0.8, 1.2])


def test_the_limiter_really_holds_a_request_back_before_it_leaves(server: LocalServer) -> None:
    """The one real-time check: the wait happens before the request reaches the server."""
    server.routes["/p"] = lambda s: Reply(200, b"ok")
    with PoliteClient(respect_robots=False) as client:
        for i in range(2):
            client.get(server.url(f"/p?i={i}"), source_id="s", politeness=Politeness(min_interval=0.3))
    assert gaps(server.hits("/p"))[0] >= 0.3 - JITTER


def test_different_hosts_are_not_serialized(server: LocalServer) -> None:
    server.routes["/p"] = lambda s: Reply(200, b"ok")
    polite = Politeness(min_interval=2.0)
    limiter = SlotLog()
    with PoliteClient(respect_robots=False, limiter=limiter) as client:
        run_in_threads(
            lambda: client.get(server.url("/p", "localhost"), source_id="a", politeness=polite),
            lambda: client.get(server.url("/p", "127.0.0.1"), source_id="b", politeness=polite),
        )
    hits = server.hits("/p")
    assert {h.host for h in hits} == {"localhost", "127.0.0.1"}
    # one limiter key would have given the second a slot 2 s on, and a wait for it
    assert sorted(limiter.slots) == [("127.0.0.1", 0.0), ("localhost", 0.0)]
    assert limiter.waits == []


def test_arxiv_group_one_connection_at_a_time_and_3s_floor(server: LocalServer) -> None:
    server.routes["/api"] = lambda s: Reply(200, b"<feed/>", delay=0.15)
    server.routes["/other"] = lambda s: Reply(200, b"ok")
    limiter = RecordingLimiter()  # no waiting, so only the connection lock can keep them apart
    with PoliteClient(arxiv_hosts=frozenset({"localhost"}), limiter=limiter, respect_robots=False) as client:
        cheap = Politeness(min_interval=0.5)
        run_in_threads(
            *[
                lambda i=i: client.get(
                    server.url(f"/api?i={i}", "localhost"), source_id="a", politeness=cheap
                )
                for i in range(4)
            ]
        )
        client.get(server.url("/other"), source_id="blog", politeness=cheap)
        client.get(server.url("/api?slow", "localhost"), source_id="a", politeness=Politeness(min_interval=5))

    arxiv = sorted(server.hits("/api"), key=lambda s: s.start)
    for earlier, later in itertools.pairwise(arxiv):
        assert later.start >= earlier.end, "two arXiv requests were in flight at once"
    assert len({s.port for s in arxiv}) == 1, "arXiv requests should reuse one connection"
    assert limiter.calls[:4] == [(ARXIV_LIMITER_KEY, 3.0)] * 4  # configured 0.5 s raised to the floor
    assert limiter.calls[4:] == [("127.0.0.1", 0.5), (ARXIV_LIMITER_KEY, 5.0)]


def test_arxiv_hosts_share_one_3s_slot(server: LocalServer) -> None:
    server.routes["/rss"] = lambda s: Reply(200, b"<rss/>")
    hosts = frozenset({"localhost", "127.0.0.1"})  # stand-ins for rss.arxiv.org and export.arxiv.org
    limiter = SlotLog()
    with PoliteClient(arxiv_hosts=hosts, respect_robots=False, limiter=limiter) as client:
        run_in_threads(
            lambda: client.get(server.url("/rss", "localhost"), source_id="rss", politeness=NO_WAIT),
            lambda: client.get(server.url("/rss", "127.0.0.1"), source_id="api", politeness=NO_WAIT),
        )
    hits = server.hits("/rss")
    assert {h.host for h in hits} == hosts
    assert limiter.slots == [(ARXIV_LIMITER_KEY, 0.0), (ARXIV_LIMITER_KEY, ARXIV_MIN_INTERVAL)]
    assert limiter.waits == [ARXIV_MIN_INTERVAL]


# --------------------------------------------------------------------------- retries


def test_429_retry_after_seconds_is_honoured(server: LocalServer) -> None:
    server.routes["/busy"] = scripted(Reply(429, b"slow down", {"Retry-After": "7"}), Reply(200, b"done"))
    slept: list[float] = []
    with PoliteClient(sleep=slept.append, respect_robots=False) as client:
        page = client.get(server.url("/busy"), source_id="s", politeness=NO_WAIT)
    assert page.content == b"done"
    assert slept == [7.0]
    assert [r.status for r in client.records] == [429, 200]
    assert "retry 1/4 in 7.0 s" in (client.records[0].error or "")
    assert client.records[1].error is None


def test_503_retry_after_http_date_is_honoured(server: LocalServer) -> None:
    when = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    server.routes["/busy"] = scripted(Reply(503, b"", {"Retry-After": when}), Reply(200, b"done"))
    slept: list[float] = []
    with PoliteClient(sleep=slept.append, respect_robots=False) as client:
        assert client.get(server.url("/busy"), source_id="s", politeness=NO_WAIT).content == b"done"
    assert len(slept) == 1 and 27.0 <= slept[0] <= 30.0


def test_5xx_retried_with_capped_exponential_backoff_then_success(server: LocalServer) -> None:
    server.routes["/flaky"] = scripted(Reply(500), Reply(502), Reply(503), Reply(504), Reply(200, b"ok"))
    slept: list[float] = []
    with PoliteClient(sleep=slept.append, backoff_base=2.0, backoff_cap=5.0, respect_robots=False) as client:
        page = client.get(server.url("/flaky"), source_id="s", politeness=NO_WAIT)
    assert page.content == b"ok"
    assert slept == [2.0, 4.0, 5.0, 5.0]
    assert [r.status for r in client.records] == [500, 502, 503, 504, 200]


def test_retries_exhausted_raise_fetch_error_with_status(server: LocalServer) -> None:
    server.routes["/down"] = lambda s: Reply(503, b"maintenance")
    slept: list[float] = []
    client = PoliteClient(sleep=slept.append, max_retries=2, respect_robots=False)
    with client, pytest.raises(FetchError) as info:
        client.get(server.url("/down"), source_id="blog", politeness=NO_WAIT)
    assert info.value.status == 503 and info.value.source_id == "blog"
    assert len(server.hits("/down")) == 3 and slept == [1.0, 2.0]
    assert "gave up after 3 attempts" in (client.records[-1].error or "")


def test_excessive_retry_after_gives_up_instead_of_stalling(server: LocalServer) -> None:
    server.routes["/later"] = lambda s: Reply(429, b"", {"Retry-After": "86400"})
    slept: list[float] = []
    client = PoliteClient(sleep=slept.append, respect_robots=False)
    with client, pytest.raises(FetchError) as info:
        client.get(server.url("/later"), source_id="s", politeness=NO_WAIT)
    assert info.value.status == 429 and slept == []
    assert len(server.hits("/later")) == 1


def test_transport_errors_are_retried_then_reported() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if len(calls) == 1 or "dead" in str(request.url):
            raise httpx.ReadError("connection reset by peer", request=request)
        return httpx.Response(200, content=b"up")

    slept: list[float] = []
    transport = httpx.MockTransport(handler)
    with PoliteClient(transport=transport, sleep=slept.append, max_retries=1, respect_robots=False) as client:
        assert client.get("https://blog.example/feed", source_id="s", politeness=NO_WAIT).content == b"up"
        with pytest.raises(FetchError) as info:
            client.get("https://dead.example/feed", source_id="s", politeness=NO_WAIT)
    assert info.value.status is None and "ReadError" in str(info.value)
    assert slept == [1.0, 1.0]
    assert [r.status for r in client.records] == [None, 200, None, None]
    assert all("ReadError" in (r.error or "") for r in client.records if r.status is None)


def _closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_arxiv_host_that_cannot_be_resolved_is_tried_twice_and_said_plainly() -> None:
    """Offline, an arXiv source used to be tried 5 times (~20 s of back-off and spacing)."""
    asked: list[str] = []

    def offline(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.host)
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    slept: list[float] = []
    limiter = RecordingLimiter()
    client = PoliteClient(transport=httpx.MockTransport(offline), limiter=limiter, sleep=slept.append)
    url = "https://export.arxiv.org/api/query?search_query=cat:cs.LG"
    with client, pytest.raises(FetchError) as info:
        client.get(url, source_id="arxiv-api")
    assert asked == ["export.arxiv.org"] * CONNECT_FAILURE_ATTEMPTS and slept == [1.0]
    assert str(info.value) == (
        "[arxiv-api] could not reach export.arxiv.org (name not resolved, 2 attempts): is this machine online?"
    )
    assert (info.value.source_id, info.value.url, info.value.status) == ("arxiv-api", url, None)
    assert OFFLINE_HINT in info.value.detail
    assert [r.error for r in client.records] == [
        "could not reach export.arxiv.org (name not resolved): is this machine online?; retry 1/1 in 1.0 s",
        info.value.detail,
    ]


def test_a_refused_connection_on_a_real_closed_port_is_tried_twice() -> None:
    port = _closed_port()
    slept: list[float] = []
    client = PoliteClient(sleep=slept.append, limiter=RecordingLimiter(), respect_robots=False)
    with client, pytest.raises(FetchError) as info:
        client.get(f"http://127.0.0.1:{port}/feed.xml", source_id="blog", politeness=NO_WAIT)
    assert info.value.detail == f"connection refused by 127.0.0.1:{port} (2 attempts)"
    assert str(info.value) == f"[blog] {info.value.detail}"
    assert OFFLINE_HINT not in info.value.detail  # the machine is online: a server is down
    assert len(client.records) == 2 and slept == [1.0]


def test_a_refused_robots_txt_on_a_real_closed_port_fails_at_once_naming_host_and_port() -> None:
    port = _closed_port()
    client = PoliteClient(sleep=lambda s: None, limiter=RecordingLimiter())
    with client, pytest.raises(SiteUnreachable) as info:
        client.get(f"http://127.0.0.1:{port}/feed.xml", source_id="blog", politeness=NO_WAIT)
    assert str(info.value) == f"[blog] connection refused by 127.0.0.1:{port}"
    assert [r.url for r in client.records] == [f"http://127.0.0.1:{port}/robots.txt", info.value.url]


def test_a_name_resolution_blip_is_ridden_out_by_the_one_retry() -> None:
    calls: list[int] = []

    def blip(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)
        return httpx.Response(200, content=b"<feed/>")

    client = PoliteClient(
        transport=httpx.MockTransport(blip), limiter=RecordingLimiter(), sleep=lambda s: None
    )
    with client:
        page = client.get("https://export.arxiv.org/api/query?id_list=2106.10165", source_id="arxiv-api")
    assert page.content == b"<feed/>" and len(calls) == 2


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("timed out"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol"),
    ],
)
def test_timeouts_and_other_network_errors_keep_the_full_retry_policy(failure: httpx.TransportError) -> None:
    calls: list[int] = []

    def failing(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise failure

    slept: list[float] = []
    client = PoliteClient(
        transport=httpx.MockTransport(failing), limiter=RecordingLimiter(), sleep=slept.append
    )
    with client, pytest.raises(FetchError) as info:
        client.get("https://export.arxiv.org/api/query?id_list=2106.10165", source_id="arxiv-api")
    assert len(calls) == 5 and slept == [1.0, 2.0, 4.0, 8.0]
    assert "(after 5 attempts)" in str(info.value)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (
            "[Errno -2] Name or service not known",
            "could not reach h.example (name not resolved): " + OFFLINE_HINT,
        ),
        (
            "[Errno 8] nodename nor servname provided, or not known",
            "could not reach h.example (name not resolved): " + OFFLINE_HINT,
        ),
        (
            "[Errno 101] Network is unreachable",
            "could not reach h.example (network unreachable): " + OFFLINE_HINT,
        ),
        ("[Errno 113] No route to host", "could not reach h.example (no route to host)"),
        ("[Errno 111] Connection refused", "connection refused by h.example:8080"),
        ("[WinError 10061] the target machine actively refused it", "connection refused by h.example:8080"),
    ],
)
def test_connection_failures_read_as_sentences(said: str, expected: str) -> None:
    failure = httpx.ConnectError(said)
    assert connection_failure(failure) is not None
    assert unreachable_message("h.example", failure, port=8080) == expected


def test_other_errors_are_not_connection_failures() -> None:
    assert connection_failure(httpx.ConnectTimeout("timed out")) is None
    assert connection_failure(httpx.ReadError("[Errno 111] Connection refused")) is None
    assert connection_failure(httpx.ConnectError("[SSL] certificate verify failed")) is None


# --------------------------------------------------------------------------- cache


def test_unchanged_page_costs_a_304_on_the_next_run(server: LocalServer, tmp_path: Path) -> None:
    body = b"<rss><item>2106.10165</item></rss>"
    validators = {"ETag": '"abc"', "Last-Modified": "Mon, 16 Nov 2026 10:00:00 GMT"}

    def page(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == '"abc"':
            return Reply(304, b"", {**validators, "Cache-Control": "no-cache"})
        return Reply(200, body, {**validators, "Cache-Control": "no-cache", "Content-Type": "text/xml"})

    server.routes["/rss"] = page
    cache = tmp_path / "cache" / "http.sqlite"
    with PoliteClient(cache_path=cache) as first_run:
        first = first_run.get(server.url("/rss"), source_id="rss", politeness=NO_WAIT)
    assert first.content == body and first.from_cache is False
    assert cache.exists()

    with PoliteClient(cache_path=cache) as second_run:  # fresh client, same file
        second = second_run.get(server.url("/rss"), source_id="rss", politeness=NO_WAIT)

    hits = server.hits("/rss")
    assert len(hits) == 2
    assert hits[1].headers.get("if-none-match") == '"abc"'
    assert hits[1].headers.get("if-modified-since") == validators["Last-Modified"]
    assert hits[1].status == 304
    assert second.status == 200 and second.content == body and second.from_cache is True
    record = second_run.records[-1]
    assert record.url == server.url("/rss") and record.cache_hit is True and record.bytes == len(body)


def test_fresh_cache_entry_is_served_without_any_request(server: LocalServer, tmp_path: Path) -> None:
    server.routes["/listing"] = lambda s: Reply(200, b"ids", {"Cache-Control": "max-age=3600"})
    limiter = RecordingLimiter()
    with PoliteClient(cache_path=tmp_path / "c.sqlite", limiter=limiter, respect_robots=False) as client:
        # a caller content with a copy the server called fresh (a paper's metadata) opts out
        client.get(server.url("/listing"), source_id="s", politeness=NO_WAIT, revalidate=False)
        cached = client.get(server.url("/listing"), source_id="s", politeness=NO_WAIT, revalidate=False)
    assert len(server.hits("/listing")) == 1
    assert cached.content == b"ids" and cached.from_cache is True
    assert len(limiter.calls) == 1  # a cache hit does not wait for a slot


def test_no_cache_when_cache_path_is_none(server: LocalServer) -> None:
    server.routes["/listing"] = lambda s: Reply(200, b"ids", {"Cache-Control": "max-age=3600"})
    with PoliteClient(respect_robots=False) as client:
        client.get(server.url("/listing"), source_id="s", politeness=NO_WAIT)
        again = client.get(server.url("/listing"), source_id="s", politeness=NO_WAIT)
    assert len(server.hits("/listing")) == 2 and again.from_cache is False


# --------------------------------------------------------------------------- robots.txt


def test_robots_disallowed_url_is_never_requested(server: LocalServer) -> None:
    robots = b"User-agent: *\nDisallow: /private/\n\nUser-agent: dltheory-digest\nDisallow: /no-bots/\n"
    server.routes["/robots.txt"] = lambda s: Reply(200, robots, {"Content-Type": "text/plain"})
    server.routes["/public"] = lambda s: Reply(200, b"fine")
    server.routes["/no-bots/page"] = lambda s: Reply(200, b"secret")
    with PoliteClient() as client:
        with pytest.raises(RobotsDisallowed) as info:
            client.get(server.url("/no-bots/page"), source_id="notes", politeness=NO_WAIT)
        assert client.get(server.url("/public"), source_id="notes", politeness=NO_WAIT).content == b"fine"
    assert info.value.source_id == "notes" and isinstance(info.value, FetchError)
    assert server.hits("/no-bots/page") == []
    refused = [r for r in client.records if r.url == server.url("/no-bots/page")]
    assert len(refused) == 1
    assert (refused[0].error, refused[0].status, refused[0].bytes) == (ROBOTS_ERROR, None, 0)
    assert len(server.hits("/robots.txt")) == 1


def test_robots_fetched_once_per_host_under_concurrency(server: LocalServer) -> None:
    server.routes["/robots.txt"] = lambda s: Reply(200, b"User-agent: *\nAllow: /\n", delay=0.2)
    server.routes["/p"] = lambda s: Reply(200, b"ok")
    with PoliteClient() as client:
        run_in_threads(
            *[
                lambda i=i: client.get(server.url(f"/p?{i}"), source_id="s", politeness=NO_WAIT)
                for i in range(5)
            ]
        )
        client.get(server.url("/p", "localhost"), source_id="s", politeness=NO_WAIT)
    assert [h.host for h in server.hits("/robots.txt")] == ["127.0.0.1", "localhost"]
    assert len(server.hits("/p")) == 6


def test_robots_crawl_delay_raises_the_interval(server: LocalServer) -> None:
    server.routes["/robots.txt"] = lambda s: Reply(200, b"User-agent: *\nCrawl-delay: 7\n")
    server.routes["/p"] = lambda s: Reply(200, b"ok")
    limiter = RecordingLimiter()
    with PoliteClient(limiter=limiter) as client:
        client.get(server.url("/p"), source_id="s", politeness=Politeness(min_interval=1.0))
    assert limiter.calls == [("127.0.0.1", 1.0), ("127.0.0.1", 7.0)]  # robots.txt itself, then the page


def test_redirect_hops_are_checked_against_robots(server: LocalServer) -> None:
    server.routes["/robots.txt"] = lambda s: Reply(200, b"User-agent: *\nDisallow: /private\n")
    server.routes["/old"] = lambda s: Reply(301, b"", {"Location": "/new"})
    server.routes["/new"] = lambda s: Reply(200, b"moved here")
    server.routes["/sneaky"] = lambda s: Reply(302, b"", {"Location": "/private/x"})
    with PoliteClient() as client:
        page = client.get(server.url("/old"), source_id="s", politeness=NO_WAIT)
        with pytest.raises(RobotsDisallowed):
            client.get(server.url("/sneaky"), source_id="s", politeness=NO_WAIT)
    assert page.url == server.url("/new") and page.content == b"moved here"
    assert server.hits("/private/x") == []
    assert [r.status for r in client.records if r.url.endswith(("/old", "/new"))] == [301, 200]


# --------------------------------------------------------------------------- size cap


def test_size_cap_stops_reading_a_huge_streamed_body(server: LocalServer) -> None:
    chunk = b"x" * 65536
    total = 4096 * len(chunk)  # 256 MiB offered
    server.routes["/huge"] = lambda s: Reply(200, chunks=(chunk for _ in range(4096)))
    with PoliteClient(respect_robots=False) as client, pytest.raises(FetchError) as info:
        client.get(
            server.url("/huge"), source_id="s", politeness=Politeness(min_interval=0, max_bytes=100_000)
        )
    assert info.value.status == 200 and "cap" in str(info.value)
    seen = server.wait_finished("/huge")
    assert seen.broken and seen.sent_bytes < total // 4  # the client hung up long before the end
    record = client.records[-1]
    assert record.status == 200 and 100_000 < record.bytes < 100_000 + 2 * len(chunk)
    assert record.error == "response larger than the 100000-byte cap"


def test_size_cap_refuses_a_declared_large_body(server: LocalServer) -> None:
    server.routes["/big"] = lambda s: Reply(200, b"y" * 5000)
    with PoliteClient(respect_robots=False) as client, pytest.raises(FetchError) as info:
        client.get(server.url("/big"), source_id="s", politeness=Politeness(min_interval=0, max_bytes=1000))
    assert "response declares 5000 bytes, more than the 1000-byte cap" in str(info.value)
    assert client.records[-1].bytes == 0


def test_arxiv_machine_interfaces_skip_robots_but_not_the_limiter() -> None:
    """export.arxiv.org's robots.txt disallows everything; its API has its own terms of use."""
    asked: list[str] = []

    def arxiv(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.url.host}{request.url.path}")
        if request.url.path == "/robots.txt":
            return httpx.Response(200, content=b"User-agent: *\nDisallow: /\n")
        return httpx.Response(200, content=b"<feed/>")

    limiter = RecordingLimiter()
    with PoliteClient(transport=httpx.MockTransport(arxiv), limiter=limiter) as client:
        api = client.get("https://export.arxiv.org/api/query?id_list=2106.10165", source_id="arxiv-api")
        rss = client.get("https://rss.arxiv.org/rss/cs.LG+stat.ML", source_id="arxiv-rss")
        with pytest.raises(RobotsDisallowed):
            client.get("https://export.arxiv.org/abs/2106.10165", source_id="arxiv-api")
    assert api.content == rss.content == b"<feed/>"
    assert asked == [
        "export.arxiv.org/api/query",
        "rss.arxiv.org/rss/cs.LG+stat.ML",
        "export.arxiv.org/robots.txt",
    ]
    assert limiter.calls == [(ARXIV_LIMITER_KEY, ARXIV_MIN_INTERVAL)] * 3


def test_decoded_body_does_not_keep_wire_headers(server: LocalServer) -> None:
    body = b"<rss>" + b"theory " * 2000 + b"</rss>"
    packed = gzip.compress(body)
    server.routes["/gz"] = lambda s: Reply(
        200, packed, {"Content-Encoding": "gzip", "Content-Type": "text/xml"}
    )
    with PoliteClient(respect_robots=False) as client:
        page = client.get(server.url("/gz"), source_id="s", politeness=NO_WAIT)
    assert page.content == body
    assert page.header("content-encoding") is None and page.header("content-length") is None
    assert page.content_type == "text/xml"
    assert client.records[-1].bytes == len(body)


def test_a_body_cut_at_the_cap_is_not_cached(server: LocalServer, tmp_path: Path) -> None:
    server.routes["/long"] = lambda s: Reply(
        200, chunks=(b"z" * 1000 for _ in range(10)), headers={"Cache-Control": "max-age=3600"}
    )
    with PoliteClient(cache_path=tmp_path / "c.sqlite", respect_robots=False) as client:
        with pytest.raises(FetchError):
            client.get(
                server.url("/long"), source_id="s", politeness=Politeness(min_interval=0, max_bytes=3000)
            )
        page = client.get(server.url("/long"), source_id="s", politeness=NO_WAIT)
    assert page.content == b"z" * 10_000 and page.from_cache is False
    assert len(server.hits("/long")) == 2


def test_download_streams_to_a_file_bypassing_the_cache(tmp_path: Path) -> None:
    """A model-sized body goes to disk in chunks, a failed first attempt is rewritten, nothing is cached."""
    body = bytes(range(256)) * 4096  # 1 MiB
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        if calls.count("/model.argosmodel") == 1:
            return httpx.Response(503, content=b"busy", headers={"retry-after": "0"})
        return httpx.Response(200, content=body, headers={"content-length": str(len(body))})

    seen: list[tuple[int, int | None]] = []
    client = PoliteClient(
        transport=httpx.MockTransport(handler), cache_path=tmp_path / "cache.sqlite", sleep=lambda s: None
    )
    with client:
        path = client.download(
            "https://models.example/model.argosmodel",
            tmp_path / "dl" / "model.argosmodel",
            source_id="argos-models",
            progress=lambda done, total: seen.append((done, total)),
        )
        assert path.read_bytes() == body
        assert not (tmp_path / "dl" / "model.argosmodel.part").exists()
        assert seen[-1] == (len(body), len(body))
        client.download(
            "https://models.example/model.argosmodel", tmp_path / "again", source_id="argos-models"
        )
    assert calls.count("/model.argosmodel") == 3  # no-store: the second download is not served from the cache
    assert [r.bytes for r in client.records if r.url.endswith("model.argosmodel") and r.status == 200] == [
        len(body),
        len(body),
    ]


# --------------------------------------------------------------------------- time limits


class FakeClock:
    """A monotonic clock that only moves when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_trickling_body_is_given_up_at_the_whole_request_deadline() -> None:
    """Headers at once, then one byte every 2 s: no single wait reaches the 5 s timeout."""
    clock = FakeClock()
    body = b"<rss>" + b" " * 40 + b"</rss>"
    sent: list[int] = []

    def drip() -> Iterator[bytes]:
        for byte in body:
            clock.now += 2.0  # the server's pause before each byte
            sent.append(byte)
            yield bytes([byte])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=drip(), headers={"Content-Type": "application/rss+xml"})

    slept: list[float] = []
    client = PoliteClient(
        transport=httpx.MockTransport(handler), clock=clock, sleep=slept.append, respect_robots=False
    )
    with client, pytest.raises(FetchError) as info:
        client.get("https://slow.example/feed", source_id="slow", politeness=Politeness(timeout=5))
    # 4 x 5 s = 20 s allowed; the 11th byte arrives at 22 s
    message = "gave up after 22 s: the response was still arriving (11 bytes so far; the limit is 4 x the 5 s timeout)"
    assert info.value.detail == f"{message}: https://slow.example/feed"
    assert info.value.status == 200 and info.value.source_id == "slow"
    assert len(sent) == 11, "the body was not read any further"
    assert slept == [] and len(client.records) == 1, "a deadline overrun is not retried"
    record = client.records[0]
    assert (record.status, record.bytes, record.error) == (200, 11, message)
    assert record.elapsed_ms == 22_000.0


def test_a_large_download_may_outlast_the_deadline_while_it_keeps_arriving(
    server: LocalServer, tmp_path: Path
) -> None:
    """Past 4 x timeout a body goes on only at MIN_BODY_RATE or faster (a model on a slow link)."""
    body = bytes(range(256)) * 4096  # 1 MiB
    server.routes["/model"] = lambda s: Reply(200, body)
    clock = FakeClock()
    start = clock.now

    def at_rate(bytes_per_second: float) -> Callable[[int, int | None], None]:
        def progress(done: int, total: int | None) -> None:
            clock.now = start + done / bytes_per_second  # the time this much took to arrive

        return progress

    polite = Politeness(min_interval=0, timeout=1, max_bytes=len(body))
    with PoliteClient(clock=clock, respect_robots=False) as client:
        # 50 kB/s: 21 s for the whole file, well past the 4 s deadline, and never below the rate
        path = client.download(
            server.url("/model"),
            tmp_path / "fast",
            source_id="m",
            politeness=polite,
            progress=at_rate(50_000),
        )
        assert path.read_bytes() == body
        clock.now = start = 5000.0
        with pytest.raises(FetchError) as info:  # 1 kB/s: given up soon after the deadline
            client.download(
                server.url("/model"),
                tmp_path / "slow",
                source_id="m",
                politeness=polite,
                progress=at_rate(1_000),
            )
    assert "the response was still arriving" in str(info.value)
    assert not (tmp_path / "slow").exists() and not (tmp_path / "slow.part").exists()
    assert len(server.hits("/model")) == 2
    slow = client.records[-1]
    assert slow.status == 200 and 4_000 < slow.bytes < len(body)


def test_repeated_retry_after_stops_at_the_total_wait_budget(server: LocalServer) -> None:
    server.routes["/busy"] = lambda s: Reply(429, b"slow down", {"Retry-After": "599"})
    slept: list[float] = []
    client = PoliteClient(sleep=slept.append, respect_robots=False)  # 600 s per wait and in total
    with client, pytest.raises(HTTPStatusError) as info:
        client.get(server.url("/busy"), source_id="s", politeness=NO_WAIT)
    assert slept == [599.0] and len(server.hits("/busy")) == 2
    assert info.value.status == 429
    assert "the server asked to wait 599 s again; gave up after 599 s of waiting" in str(info.value)
    assert [r.error for r in client.records] == [
        "HTTP 429; retry 1/4 in 599.0 s",
        "HTTP 429: the server asked to wait 599 s again; gave up after 599 s of waiting",
    ]


def test_backoff_and_network_retries_share_the_wait_budget(server: LocalServer) -> None:
    server.routes["/down"] = lambda s: Reply(503, b"maintenance")
    slept: list[float] = []
    client = PoliteClient(sleep=slept.append, max_total_wait=5, respect_robots=False)
    with client, pytest.raises(HTTPStatusError) as info:
        client.get(server.url("/down"), source_id="s", politeness=NO_WAIT)
    assert slept == [1.0, 2.0] and len(server.hits("/down")) == 3  # a 4 s wait would make 7 s
    assert "gave up after 3 attempts: another wait would exceed the 5 s budget (3 s already spent" in str(
        info.value
    )

    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset by peer", request=request)

    slept.clear()
    flaky = PoliteClient(
        transport=httpx.MockTransport(reset), sleep=slept.append, max_total_wait=2.5, respect_robots=False
    )
    with flaky, pytest.raises(FetchError) as gone:
        flaky.get("https://gone.example/feed", source_id="s")
    assert slept == [1.0]
    assert "ReadError: connection reset by peer; gave up after 2 attempts" in str(gone.value)


def test_the_wait_budget_covers_every_redirect_hop(server: LocalServer) -> None:
    server.routes["/old"] = scripted(
        Reply(429, b"", {"Retry-After": "4"}), Reply(302, b"", {"Location": "/new"})
    )
    server.routes["/new"] = scripted(Reply(429, b"", {"Retry-After": "4"}), Reply(200, b"ok"))
    slept: list[float] = []
    client = PoliteClient(sleep=slept.append, max_total_wait=6, respect_robots=False)
    with client, pytest.raises(HTTPStatusError) as info:
        client.get(server.url("/old"), source_id="s", politeness=NO_WAIT)
    assert slept == [4.0] and info.value.url == server.url("/new")
    assert "asked to wait 4 s again" in str(info.value)


# --------------------------------------------------------------------------- unreadable robots.txt


@pytest.mark.parametrize("status", [500, 503, 429])
def test_robots_txt_answering_an_error_disallows_the_site(server: LocalServer, status: int) -> None:
    """RFC 9309 §2.3.1.4: a robots.txt that cannot be read means complete disallow."""
    server.routes["/robots.txt"] = lambda s: Reply(status, b"<h1>busy</h1>")
    server.routes["/feed.xml"] = lambda s: Reply(200, b"<rss/>")
    with PoliteClient(sleep=lambda s: None) as client:
        for _ in range(2):
            with pytest.raises(RobotsUnreadable) as info:
                client.get(server.url("/feed.xml"), source_id="blog", politeness=NO_WAIT)
    assert isinstance(info.value, RobotsDisallowed) and info.value.source_id == "blog"
    assert f"robots.txt could not be read (HTTP {status})" in str(info.value)
    assert server.hits("/feed.xml") == []
    # not kept for the run: the next URL of the site asks again
    assert len(server.hits("/robots.txt")) == 2
    robots = [r for r in client.records if r.url.endswith("/robots.txt")]
    refused = [r for r in client.records if r.url.endswith("/feed.xml")]
    assert all(
        r.status == status and "every URL of the site is disallowed" in (r.error or "") for r in robots
    )
    assert [(r.url, r.status) for r in refused] == [(server.url("/feed.xml"), None)] * 2
    assert all(ROBOTS_UNREADABLE in (r.error or "") for r in refused)


def test_a_robots_txt_that_recovers_lets_the_site_be_fetched(server: LocalServer) -> None:
    replies = iter([Reply(503, b"busy"), Reply(200, b"User-agent: *\nAllow: /\n")])
    server.routes["/robots.txt"] = lambda s: next(replies)
    server.routes["/feed.xml"] = lambda s: Reply(200, b"<rss/>")
    with PoliteClient(sleep=lambda s: None) as client:
        with pytest.raises(RobotsUnreadable):
            client.get(server.url("/feed.xml"), source_id="blog", politeness=NO_WAIT)
        page = client.get(server.url("/feed.xml"), source_id="blog", politeness=NO_WAIT)
    assert page.status == 200 and len(server.hits("/feed.xml")) == 1


def test_unreachable_site_fails_but_arxiv_interfaces_stay_exempt() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.url.host}{request.url.path}")
        if request.url.host == "blog.example" and request.url.path == "/robots.txt":
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.host == "export.arxiv.org" and request.url.path == "/robots.txt":
            return httpx.Response(503)
        return httpx.Response(200, content=b"<feed/>")

    with PoliteClient(transport=httpx.MockTransport(handler), limiter=RecordingLimiter()) as client:
        with pytest.raises(SiteUnreachable) as info:
            client.get("https://blog.example/feed", source_id="blog")
        api = client.get("https://export.arxiv.org/api/query?id_list=2106.10165", source_id="arxiv-api")
        with pytest.raises(RobotsUnreadable):  # not a machine interface: robots.txt governs it
            client.get("https://export.arxiv.org/abs/2106.10165", source_id="arxiv-api")
    assert str(info.value) == "[blog] connection refused by blog.example:443"
    assert info.value.url == "https://blog.example/feed"
    assert api.content == b"<feed/>"
    assert asked == ["blog.example/robots.txt", "export.arxiv.org/api/query", "export.arxiv.org/robots.txt"]


def test_a_site_that_cannot_be_resolved_fails_as_a_network_error_naming_the_host() -> None:
    """DNS failure on robots.txt: the page fails as unreachable, not as a robots refusal."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    with PoliteClient(transport=httpx.MockTransport(handler), limiter=RecordingLimiter()) as client:
        for path in ("/feed.xml", "/archive"):
            with pytest.raises(SiteUnreachable) as info:
                client.get(f"https://offconvex.org{path}", source_id="offconvex")
    error = info.value
    assert isinstance(error, FetchError) and not isinstance(error, RobotsDisallowed)
    assert (error.source_id, error.url, error.status) == ("offconvex", "https://offconvex.org/archive", None)
    assert error.detail == "could not reach offconvex.org (name not resolved): is this machine online?"
    assert "robots" not in str(error)
    # not kept for the run: each URL asks robots.txt again, and no page was requested
    assert asked == ["/robots.txt", "/robots.txt"]
    assert [(r.url, r.status, r.error) for r in client.records] == [
        (f"https://offconvex.org{path}", None, error.detail)
        for path in ("/robots.txt", "/feed.xml", "/robots.txt", "/archive")
    ]


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectTimeout(""), "could not reach slow.example (timed out)"),
        # connected: the host is reachable, it went silent
        (httpx.ReadTimeout(""), "slow.example took the connection but did not answer in time"),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            "could not reach slow.example: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed "
            "(ConnectError)",
        ),
        (httpx.RemoteProtocolError(""), "could not reach slow.example (RemoteProtocolError)"),
    ],
)
def test_timeouts_and_tls_failures_on_robots_txt_read_as_unreachable(
    failure: httpx.TransportError, expected: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    client = PoliteClient(transport=httpx.MockTransport(handler), limiter=RecordingLimiter())
    with client, pytest.raises(SiteUnreachable) as info:
        client.get("https://slow.example/feed", source_id="blog")
    assert info.value.detail == expected and info.value.url == "https://slow.example/feed"


def test_a_503_robots_txt_still_reads_as_unreadable_not_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503 if request.url.path == "/robots.txt" else 200, content=b"<rss/>")

    client = PoliteClient(transport=httpx.MockTransport(handler), limiter=RecordingLimiter())
    with client, pytest.raises(RobotsUnreadable) as info:
        client.get("https://busy.example/feed", source_id="blog")
    assert not isinstance(info.value, SiteUnreachable)
    assert info.value.detail == (
        "robots.txt could not be read (HTTP 503), so the site is treated as disallowed: https://busy.example/feed"
    )


def test_add_record_joins_the_client_records() -> None:
    delivered: list[FetchRecord] = []
    note = FetchRecord("blog", "https://blog.example/feed", 200, 10, 0.0, False, "unusable response: x")
    with PoliteClient(on_record=delivered.append) as client:
        client.add_record(note)
        assert client.drain_records("blog") == [note] and client.records == []
    assert delivered == [note]


# --------------------------------------------------------------------------- oversized robots.txt


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_robots_txt_is_parsed_up_to_the_cap_by_whole_lines(
    server: LocalServer, chunked: bool
) -> None:
    """RFC 9309 §2.5: at least the first 500 KiB are parsed; a rule cut by the cap is dropped."""
    assert ROBOTS_MAX_BYTES >= 500 * 1024
    head = b"User-agent: *\nDisallow: /private/\n"
    filler = b"# " + b"x" * 97 + b"\n"  # 100-byte comment lines
    cut_line = b"Disallow: /a/b\n"
    before_cut = ROBOTS_MAX_BYTES - len(b"Disallow: /a")  # the cap falls inside cut_line
    body = head + filler * ((before_cut - len(head)) // len(filler))
    body += b"#" * (before_cut - len(body) - 1) + b"\n"
    body += cut_line + b"Disallow: /late/\n" + filler * 500
    assert body.index(cut_line) + len(b"Disallow: /a") == ROBOTS_MAX_BYTES < len(body)
    if chunked:
        pieces = [body[i : i + 8192] for i in range(0, len(body), 8192)]
        server.routes["/robots.txt"] = lambda s: Reply(200, chunks=iter(pieces))
    else:
        server.routes["/robots.txt"] = lambda s: Reply(200, body, {"Content-Type": "text/plain"})
    for path in ("/private/paper", "/a/other", "/late/paper"):
        server.routes[path] = lambda s: Reply(200, b"ok")

    with PoliteClient() as client:
        with pytest.raises(RobotsDisallowed):
            client.get(server.url("/private/paper"), source_id="notes", politeness=NO_WAIT)
        # "Disallow: /a" (the half line) would refuse this; the rule past the cap is not read
        allowed = [
            client.get(server.url(path), source_id="notes", politeness=NO_WAIT).content
            for path in ("/a/other", "/late/paper")
        ]
    assert allowed == [b"ok", b"ok"]
    assert server.hits("/private/paper") == [] and len(server.hits("/robots.txt")) == 1
    robots = client.records[0]
    assert robots.url == server.url("/robots.txt") and robots.status == 200
    assert robots.bytes > ROBOTS_MAX_BYTES
    assert robots.error == (
        f"robots.txt larger than the {ROBOTS_MAX_BYTES}-byte cap: "
        f"only its first {before_cut} bytes (whole lines) were parsed"
    )


# --------------------------------------------------------------------------- header trickle


class HeaderTrickleServer:
    """A raw socket server on 127.0.0.1 that answers every request with a header trickled byte by byte."""

    def __init__(self, *, pause: float, header_bytes: int) -> None:
        self.pause = pause
        self.response = (
            b"HTTP/1.1 200 OK\r\nX-Pad: " + b"p" * header_bytes + b"\r\nContent-Length: 2\r\n\r\nok"
        )
        self.stop = threading.Event()
        self.headers_done = threading.Event()
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            self.requests.append(request)
            try:
                for byte in self.response:
                    if self.stop.wait(self.pause):
                        return
                    conn.sendall(bytes([byte]))
                self.headers_done.set()
            except OSError:  # the client hung up: what the deadline is for
                return


@pytest.fixture
def trickle() -> Iterator[HeaderTrickleServer]:
    srv = HeaderTrickleServer(pause=0.05, header_bytes=600)  # about 30 s of headers
    srv.thread.start()
    yield srv
    srv.stop.set()
    srv.thread.join(5)
    srv.sock.close()


@pytest.mark.timeout(60)
def test_trickled_headers_are_given_up_at_the_whole_request_deadline(trickle: HeaderTrickleServer) -> None:
    """A byte every 0.05 s never trips the 0.5 s read timeout; the 4 x 0.5 s deadline stops it."""
    url = f"http://127.0.0.1:{trickle.port}/feed.xml"
    slept: list[float] = []
    client = PoliteClient(respect_robots=False, sleep=slept.append)
    with client, pytest.raises(FetchError) as info:
        client.get(url, source_id="slow-headers", politeness=Politeness(min_interval=0, timeout=0.5))
    assert not trickle.headers_done.is_set(), "the fetch waited for the whole header"
    assert info.value.source_id == "slow-headers" and info.value.url == url
    assert info.value.status is None
    expected = (
        "the response was still arriving (its headers not complete; the limit is 4 x the 0.5 s timeout)"
    )
    assert expected in info.value.detail and info.value.detail.endswith(f": {url}")
    assert slept == [] and len(trickle.requests) == 1, "a deadline overrun is not retried"
    (record,) = client.records
    assert (record.url, record.status, record.bytes) == (url, None, 0)
    assert "its headers not complete" in (record.error or "")


@pytest.mark.timeout(60)
def test_a_robots_txt_with_trickled_headers_makes_the_site_unreadable(trickle: HeaderTrickleServer) -> None:
    url = f"http://127.0.0.1:{trickle.port}/feed.xml"
    with PoliteClient() as client, pytest.raises(RobotsUnreadable) as info:
        client.get(url, source_id="slow-robots", politeness=Politeness(min_interval=0, timeout=0.5))
    assert not trickle.headers_done.is_set()
    assert "robots.txt could not be read (still arriving after" in str(info.value)
    assert [r.split(b" ")[1] for r in trickle.requests] == [b"/robots.txt"]


def test_a_huge_crawl_delay_is_capped_and_said_once(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    from dltheory_digest.fetch import MAX_CRAWL_DELAY

    server.routes["/robots.txt"] = lambda s: Reply(200, b"User-agent: *\nCrawl-delay: 86400\n")
    server.routes["/p1"] = server.routes["/p2"] = server.routes["/p3"] = lambda s: Reply(200, b"ok")
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the limiter's clock moves only while it sleeps
        slept.append(seconds)
        now[0] += seconds

    limiter = LocalLimiter(clock=lambda: now[0], sleep=sleep)
    with caplog.at_level("WARNING", logger="dltheory_digest.fetch"), PoliteClient(limiter=limiter) as client:
        for path in ("/p1", "/p2", "/p3"):
            client.get(server.url(path), source_id="s", politeness=Politeness(min_interval=1.0))
    # robots.txt, then the first page 1 s later, then a minute between pages, not a day
    assert slept == [1.0, MAX_CRAWL_DELAY, MAX_CRAWL_DELAY]
    warnings = [r.getMessage() for r in caplog.records if "Crawl-delay" in r.getMessage()]
    assert len(warnings) == 1 and "asks for 86400 s between requests" in warnings[0]
    assert f"at most {MAX_CRAWL_DELAY:g} s" in warnings[0]


def test_a_capped_crawl_delay_is_a_warning_of_every_source_it_slows(server: LocalServer) -> None:
    from dltheory_digest.fetch import MAX_CRAWL_DELAY

    server.routes["/robots.txt"] = lambda s: Reply(200, b"User-agent: *\nCrawl-delay: 86400\n")
    server.routes["/p1"] = server.routes["/p2"] = lambda s: Reply(200, b"ok")
    limiter = LocalLimiter(sleep=lambda s: None)
    with PoliteClient(limiter=limiter, sleep=lambda s: None) as client:
        for source_id in ("blog", "blog", "list"):  # two sources on one site share its robots.txt
            client.get(server.url("/p1"), source_id=source_id, politeness=NO_WAIT)
        blog, listing, other = (
            client.drain_warnings("blog"),
            client.drain_warnings("list"),
            client.drain_warnings("x"),
        )
        # drained: the next run's report says it again
        client.get(server.url("/p2"), source_id="blog", politeness=NO_WAIT)
        again = client.drain_warnings("blog")
    origin = server.url("/").rstrip("/")
    expected = (
        f"{origin}/robots.txt asks for 86400 s between requests (Crawl-delay); "
        f"this crawler waits at most {MAX_CRAWL_DELAY:g} s between two requests to a site"
    )
    assert blog == [expected] and listing == [expected] and again == [expected] and other == []


def test_a_crawl_delay_within_the_cap_warns_no_report(server: LocalServer) -> None:
    server.routes["/robots.txt"] = lambda s: Reply(200, b"User-agent: *\nCrawl-delay: 2\n")
    server.routes["/p1"] = lambda s: Reply(200, b"ok")
    with PoliteClient(limiter=LocalLimiter(sleep=lambda s: None), sleep=lambda s: None) as client:
        client.get(server.url("/p1"), source_id="blog", politeness=NO_WAIT)
        assert client.drain_warnings("blog") == []


def test_a_download_leaves_nothing_in_the_http_cache(tmp_path: Path) -> None:
    import sqlite3

    body = b"\x00model" * 500_000  # 3 MB, as an Argos model would be (only bigger)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        # served as cacheable as can be: the model is still not stored, the index is
        content = body if request.url.path.endswith(".argosmodel") else b'{"models": []}'
        return httpx.Response(200, content=content, headers={"cache-control": "max-age=86400"})

    cache = tmp_path / "cache.sqlite"
    with PoliteClient(
        transport=httpx.MockTransport(handler), cache_path=cache, sleep=lambda s: None
    ) as client:
        client.download("https://models.example/m.argosmodel", tmp_path / "m", source_id="argos-models")
        # the cache is still used for pages (the model index opts out of revalidation)
        index = "https://models.example/index.json"
        client.get(index, source_id="argos-models", politeness=NO_WAIT, revalidate=False)
        again = client.get(index, source_id="argos-models", politeness=NO_WAIT, revalidate=False)
    assert again.from_cache is True
    with sqlite3.connect(cache) as db:
        stored = db.execute("select coalesce(sum(length(chunk_data)), 0) from streams").fetchone()[0]
        entries = [bytes(row[0]) for row in db.execute("select data from entries")]
    assert stored < len(body) and all(b"m.argosmodel" not in data for data in entries)
    assert any(b"index.json" in data for data in entries)
    assert cache.stat().st_size < len(body)


# --------------------------------------------------------------------------- unreachable as a fact


@pytest.mark.parametrize("robots", [False, True], ids=["page", "robots.txt"])
@pytest.mark.parametrize(
    ("said", "reason"),
    [
        ("[Errno -2] Name or service not known", "name not resolved"),
        ("[Errno 101] Network is unreachable", "network unreachable"),
        ("[Errno 111] Connection refused", "connection refused"),
        ("[Errno 113] No route to host", "no route to host"),
    ],
)
def test_a_host_that_cannot_be_reached_says_why_in_a_field(said: str, reason: str, robots: bool) -> None:
    from dltheory_digest.errors import Unreachable

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(said, request=request)

    client = PoliteClient(
        transport=httpx.MockTransport(handler),
        limiter=RecordingLimiter(),
        sleep=lambda s: None,
        respect_robots=robots,
    )
    with client, pytest.raises(FetchError) as info:
        client.get("https://blog.example/feed", source_id="blog")
    assert isinstance(info.value, SiteUnreachable) is robots
    assert info.value.unreachable is Unreachable(reason)
    # the field and the sentence agree: only "no name, no network" is this machine's doing
    assert info.value.unreachable.offline is (OFFLINE_HINT in info.value.detail)


def test_a_robots_txt_that_times_out_is_unreachable_but_not_offline() -> None:
    from dltheory_digest.errors import Unreachable

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    client = PoliteClient(transport=httpx.MockTransport(handler), limiter=RecordingLimiter())
    with client, pytest.raises(SiteUnreachable) as info:
        client.get("https://blog.example/feed", source_id="blog")
    assert info.value.unreachable is Unreachable.TIMED_OUT and not info.value.unreachable.offline


def test_an_answer_with_an_error_status_is_not_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404 if request.url.path == "/robots.txt" else 500)

    client = PoliteClient(transport=httpx.MockTransport(handler), sleep=lambda s: None, max_retries=1)
    with client, pytest.raises(HTTPStatusError) as info:
        client.get("https://blog.example/feed", source_id="blog")
    assert info.value.status == 500 and info.value.unreachable is None


def test_an_oversized_robots_txt_is_a_warning_of_every_source_reading_the_site() -> None:
    rules = b"User-agent: *\nDisallow: /private/\n"
    body = rules + (b"# " + b"x" * 97 + b"\n") * (ROBOTS_MAX_BYTES // 100 + 10)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body if request.url.path == "/robots.txt" else b"ok")

    with PoliteClient(transport=httpx.MockTransport(handler), limiter=RecordingLimiter()) as client:
        for source_id in ("blog", "blog", "notes"):  # two sources on one site share its robots.txt
            client.get("https://blog.example/feed", source_id=source_id, politeness=NO_WAIT)
        blog, notes, other = (client.drain_warnings(s) for s in ("blog", "notes", "x"))
        robots = client.records[0]
    assert robots.url == "https://blog.example/robots.txt" and robots.error is not None
    assert blog == notes == [f"https://blog.example/{robots.error}"] and other == []
    assert blog[0].startswith(f"https://blog.example/robots.txt larger than the {ROBOTS_MAX_BYTES}-byte cap")


def test_a_huge_not_found_page_for_robots_txt_warns_no_report() -> None:
    # a 4xx allows everything: how long its page is does not matter
    def handler(request: httpx.Request) -> httpx.Response:
        big = b"x" * (ROBOTS_MAX_BYTES + 10)
        return httpx.Response(404, content=big) if request.url.path == "/robots.txt" else httpx.Response(200)

    with PoliteClient(transport=httpx.MockTransport(handler), limiter=RecordingLimiter()) as client:
        client.get("https://blog.example/feed", source_id="blog", politeness=NO_WAIT)
        assert client.drain_warnings("blog") == []


# --------------------------------------------------------------------------- limiter waits in the budget


def _queued(limiter: LocalLimiter, key: str, seconds: float) -> None:
    """Other requests under `key` hold the limiter for the next `seconds` seconds."""
    limiter.acquire(key, seconds)


def test_a_limiter_wait_longer_than_the_budget_stops_the_request_at_once() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(200, text="ok")

    limiter_slept: list[float] = []
    limiter = LocalLimiter(clock=lambda: 100.0, sleep=limiter_slept.append)
    _queued(limiter, "blog.example.org", 700.0)  # the slot after them: 700 s away
    client = PoliteClient(
        transport=httpx.MockTransport(handler), limiter=limiter, sleep=lambda s: None, respect_robots=False
    )
    with client, pytest.raises(FetchError) as info:
        client.get("https://blog.example.org/feed.xml", source_id="blog", politeness=NO_WAIT)
    assert asked == [] and limiter_slept == []  # no sleeping past the budget, no request
    assert info.value.source_id == "blog" and info.value.url == "https://blog.example.org/feed.xml"
    assert str(info.value).startswith(
        "[blog] the politeness limit for blog.example.org would hold this request 700 s, "
        "more than the 600 s left of its 600 s wait budget"
    )
    assert client.records[-1].error is not None and "700 s" in client.records[-1].error
    # the slot it did not use is given back: the next request waits for the others only
    assert limiter.acquire("blog.example.org", 0.0) == 800.0


def test_limiter_waits_and_back_off_share_the_wait_budget(server: LocalServer) -> None:
    server.routes["/busy"] = scripted(Reply(503, b"busy", {"Retry-After": "250"}), Reply(200, b"ok"))
    limiter_slept: list[float] = []
    backoff: list[float] = []
    limiter = LocalLimiter(clock=lambda: 100.0, sleep=limiter_slept.append)
    _queued(limiter, "127.0.0.1", 400.0)
    client = PoliteClient(limiter=limiter, sleep=backoff.append, respect_robots=False)
    with client, pytest.raises(HTTPStatusError) as info:
        client.get(server.url("/busy"), source_id="s", politeness=NO_WAIT)
    # 400 s in the limiter leave 200 s: the 250 s the server asks for would pass the budget
    assert limiter_slept == [400.0] and backoff == []
    assert "gave up after 400 s of waiting" in str(info.value)


def test_a_retry_that_would_queue_past_the_budget_is_not_sent(server: LocalServer) -> None:
    server.routes["/busy"] = lambda s: Reply(503, b"busy", {"Retry-After": "100"})
    now = [100.0]
    limiter_slept: list[float] = []
    limiter = LocalLimiter(clock=lambda: now[0], sleep=limiter_slept.append)

    def back_off(seconds: float) -> None:
        now[0] += seconds
        _queued(limiter, "127.0.0.1", 550.0)  # meanwhile other sources queued up for the site

    client = PoliteClient(limiter=limiter, sleep=back_off, respect_robots=False)
    with client, pytest.raises(FetchError) as info:
        client.get(server.url("/busy"), source_id="s", politeness=NO_WAIT)
    assert len(server.hits("/busy")) == 1 and limiter_slept == []
    assert "would hold this request 550 s, more than the 500 s left of its 600 s wait budget" in str(
        info.value
    )


def test_the_store_backed_limiter_wait_counts_in_the_budget_too(tmp_path: Path) -> None:
    from dltheory_digest.store import open_store
    from dltheory_digest.store.locks import StoreLimiter

    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    slept: list[float] = []
    other_worker = StoreLimiter(store, clock=lambda: 1_000.0, sleep=slept.append)
    other_worker.acquire("blog.example.org", 900.0)  # another process holds the site 900 s
    limiter = StoreLimiter(store, clock=lambda: 1_000.0, sleep=slept.append)
    client = PoliteClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, text="ok")),
        limiter=limiter,
        sleep=lambda s: None,
        respect_robots=False,
    )
    with client, pytest.raises(FetchError, match=r"^\[blog\] the politeness limit for blog.example.org "):
        client.get("https://blog.example.org/feed.xml", source_id="blog", politeness=NO_WAIT)
    assert slept == []
    assert limiter.acquire("blog.example.org", 0.0) == 1_900.0  # its slot went back
    store.close()


def test_a_robots_txt_queued_past_the_budget_fails_the_request_naming_the_source() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(404 if request.url.path == "/robots.txt" else 200, text="ok")

    limiter = LocalLimiter(clock=lambda: 100.0, sleep=lambda s: None)
    _queued(limiter, "blog.example.org", 650.0)
    client = PoliteClient(transport=httpx.MockTransport(handler), limiter=limiter, sleep=lambda s: None)
    with client:
        with pytest.raises(FetchError) as info:
            client.get("https://blog.example.org/feed.xml", source_id="blog", politeness=NO_WAIT)
        assert asked == []
        assert not isinstance(info.value, RobotsDisallowed)  # the site allows it: it is only busy
        assert str(info.value).startswith("[blog] the politeness limit for blog.example.org would hold")
        limiter.release("blog.example.org", 100.0, 650.0)  # the others are done
        # the robots.txt that was not read is not remembered: the next request asks for it
        page = client.get("https://blog.example.org/feed.xml", source_id="blog", politeness=NO_WAIT)
        assert page.status == 200
        assert asked == ["/robots.txt", "/feed.xml"]


def test_waiting_for_arxivs_one_connection_counts_in_the_budget_too() -> None:
    """Another source's request holds arXiv's one connection: this one gives up when its budget
    is spent waiting, instead of queueing for as long as that request and its retries take."""
    holding, done = threading.Event(), threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("id_list") == "first":
            holding.set()
            done.wait(30)
        return httpx.Response(200, text="<feed/>")

    client = PoliteClient(
        transport=httpx.MockTransport(handler),
        limiter=RecordingLimiter(),
        sleep=lambda s: None,
        max_total_wait=0.2,
    )
    with client:
        first = threading.Thread(
            target=client.get,
            args=("https://export.arxiv.org/api/query?id_list=first",),
            kwargs={"source_id": "a"},
        )
        first.start()
        try:
            assert holding.wait(30)
            with pytest.raises(FetchError) as info:
                client.get("https://export.arxiv.org/api/query?id_list=second", source_id="b")
        finally:
            done.set()
            first.join(30)
    assert str(info.value) == (
        "[b] arXiv's one connection stayed taken by other requests for the 0 s left of this "
        "request's 0.2 s wait budget; not sent: https://export.arxiv.org/api/query?id_list=second"
    )
    [refused] = [r for r in client.records if r.source_id == "b"]
    assert refused.status is None and refused.error is not None and "one connection" in refused.error


# --------------------------------------------------------------------------- hostile bodies and hops


def _gzip_of_zeros(mib: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(packer.compress(bytes(1 << 20)) for _ in range(mib)) + packer.flush()


def test_stacked_content_codings_are_refused_naming_them(server: LocalServer) -> None:
    # 2 KB on the wire that inflated to 1 GiB in memory before the cap was looked at
    body = gzip.compress(_gzip_of_zeros(64))
    server.routes["/feed.xml"] = lambda s: Reply(200, body, {"Content-Encoding": "gzip, gzip"})
    with PoliteClient(respect_robots=False) as client, pytest.raises(FetchError) as info:
        client.get(server.url("/feed.xml"), source_id="bomb", politeness=NO_WAIT)
    assert str(info.value) == (
        "[bomb] stacked content codings refused (Content-Encoding: gzip, gzip): " + server.url("/feed.xml")
    )
    assert len(server.hits("/feed.xml")) == 1  # not retried
    assert client.records[-1].status == 200 and client.records[-1].bytes == 0


def test_a_gzip_bomb_is_inflated_no_further_than_the_cap(server: LocalServer) -> None:
    bomb = _gzip_of_zeros(32)  # ~32 KB: httpx inflated a network chunk like it whole, 32 MiB at once
    server.routes["/bomb"] = lambda s: Reply(200, bomb, {"Content-Encoding": "gzip"})
    cap = Politeness(min_interval=0, max_bytes=1_000_000)
    with PoliteClient(respect_robots=False) as client, pytest.raises(FetchError) as info:
        client.get(server.url("/bomb"), source_id="s", politeness=cap)
    assert "response larger than the 1000000-byte cap" in str(info.value)
    assert 1_000_000 < client.records[-1].bytes <= 1_000_000 + 64 * 1024  # one inflated piece past it


def test_an_endless_tail_after_the_gzip_stream_is_capped_on_the_wire(server: LocalServer) -> None:
    head = gzip.compress(b"<rss/>")
    tail = (b"x" * 65536 for _ in range(4096))  # 256 MiB that inflate to nothing
    server.routes["/tail"] = lambda s: Reply(
        200, chunks=itertools.chain([head], tail), headers={"Content-Encoding": "gzip"}
    )
    with PoliteClient(respect_robots=False) as client, pytest.raises(FetchError) as info:
        client.get(
            server.url("/tail"), source_id="s", politeness=Politeness(min_interval=0, max_bytes=200_000)
        )
    assert "larger than the 200000-byte cap" in str(info.value)
    assert server.wait_finished("/tail").broken


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_a_deflate_body_whose_first_chunk_is_one_byte_is_read_right(server: LocalServer, wbits: int) -> None:
    # one byte cannot tell a zlib header from raw deflate: a zlib body was read as raw and failed
    body = b"<rss>" + b"neural tangent kernel " * 2_000 + b"</rss>"
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    packed = packer.compress(body) + packer.flush()

    def one_byte_first() -> Iterator[bytes]:
        yield packed[:1]
        time.sleep(0.05)  # so the client reads it alone
        yield packed[1:]

    server.routes["/d"] = lambda s: Reply(
        200, chunks=one_byte_first(), headers={"Content-Encoding": "deflate"}
    )
    with PoliteClient(respect_robots=False, max_retries=0) as client:
        page = client.get(server.url("/d"), source_id="s", politeness=NO_WAIT)
    assert page.content == body


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_bodies_read_right_with_or_without_their_zlib_header(server: LocalServer, wbits: int) -> None:
    body = b"<rss>" + b"generalization bounds " * 20_000 + b"</rss>"  # inflates in several pieces
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    packed = packer.compress(body) + packer.flush()
    server.routes["/d"] = lambda s: Reply(200, packed, {"Content-Encoding": "deflate"})
    with PoliteClient(respect_robots=False) as client:
        page = client.get(server.url("/d"), source_id="s", politeness=NO_WAIT)
    assert page.content == body and client.records[-1].bytes == len(body)
    assert server.hits("/d")[0].headers["accept-encoding"] == "gzip, deflate"


def test_a_coding_without_a_bounded_decoder_is_refused(server: LocalServer) -> None:
    server.routes["/br"] = lambda s: Reply(200, b"\x1b\x00\x00", {"Content-Encoding": "br"})
    with PoliteClient(respect_robots=False) as client, pytest.raises(FetchError) as info:
        client.get(server.url("/br"), source_id="s", politeness=NO_WAIT)
    assert "content coding 'br' not supported (this client asks for gzip, deflate)" in str(info.value)


def test_a_corrupt_gzip_body_is_an_error_not_a_page(server: LocalServer) -> None:
    corrupt = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 8  # a gzip header, then block type 3
    server.routes["/bad"] = lambda s: Reply(200, corrupt, {"Content-Encoding": "gzip"})
    with PoliteClient(respect_robots=False, max_retries=0) as client, pytest.raises(FetchError) as info:
        client.get(server.url("/bad"), source_id="s", politeness=NO_WAIT)
    assert "DecodingError: gzip body could not be decoded" in str(info.value)


def test_the_cache_keeps_the_gzip_body_and_the_cap_holds_when_it_is_served(
    server: LocalServer, tmp_path: Path
) -> None:
    body = b"<rss>" + b"<item>2106.10165</item>" * 50_000 + b"</rss>"  # 1.15 MB, ~5 KB gzipped
    validators = {"ETag": '"v1"', "Content-Encoding": "gzip", "Content-Type": "text/xml"}

    def page(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"', "Cache-Control": "no-cache"})
        return Reply(200, gzip.compress(body), {**validators, "Cache-Control": "no-cache"})

    server.routes["/rss"] = page
    cache = tmp_path / "http.sqlite"
    with PoliteClient(cache_path=cache, respect_robots=False) as client:
        first = client.get(server.url("/rss"), source_id="rss", politeness=NO_WAIT)
        revalidated = client.get(server.url("/rss"), source_id="rss", politeness=NO_WAIT)
        with pytest.raises(FetchError) as info:
            client.get(
                server.url("/rss"), source_id="rss", politeness=Politeness(min_interval=0, max_bytes=500_000)
            )
        after = client.get(server.url("/rss"), source_id="rss", politeness=NO_WAIT)
    assert first.content == body and first.from_cache is False
    assert revalidated.content == body and revalidated.from_cache is True
    assert revalidated.header("content-encoding") is None
    assert after.content == body and after.from_cache is True  # the refusal left the entry whole
    assert [h.status for h in server.hits("/rss")] == [200, 304, 304, 304]
    # the cached body is inflated under the cap like a fresh one
    assert "response larger than the 500000-byte cap" in str(info.value)
    [capped] = [r for r in client.records if r.error is not None]
    assert 500_000 < capped.bytes <= 500_000 + 64 * 1024


def _public_host_client(server: LocalServer, **options: object) -> PoliteClient:
    """A client whose every request goes through `server` as its proxy: public host names reach
    it, and a hop to any other address would be seen there instead of leaving the machine."""
    proxied = httpx.HTTPTransport(proxy=server.url("/"))
    return PoliteClient(transport=proxied, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://2852039166/latest/meta-data/", "link-local"),  # the same address, as a resolver reads it
        ("http://127.0.0.1:8080/admin", "loopback"),
        ("http://localhost/admin", "loopback"),
        ("http://[::1]/admin", "loopback"),
        ("http://[::ffff:10.0.0.7]/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://[fd00::1]/", "private"),
        ("http://[fe80::1]/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
    ],
)
def test_a_public_page_redirecting_to_a_non_public_address_is_refused(
    server: LocalServer, location: str, kind: str
) -> None:
    server.routes["/feed"] = lambda s: Reply(302, b"", {"Location": location})
    article = "an" if kind == "unspecified" else "a"
    with _public_host_client(server) as client, pytest.raises(FetchError) as info:
        client.get("http://blog.example.org/feed", source_id="blog", politeness=NO_WAIT)
    assert str(info.value).startswith(
        f"[blog] redirected from http://blog.example.org/feed to {location}: {article} {kind} address, refused"
    )
    assert [h.host for h in server.seen] == ["blog.example.org", "blog.example.org"]  # robots.txt, feed
    assert client.records[-1].url == location and client.records[-1].error is not None


def test_a_public_robots_txt_redirecting_to_a_non_public_address_is_not_followed(server: LocalServer) -> None:
    server.routes["/robots.txt"] = lambda s: Reply(
        301, b"", {"Location": "http://169.254.169.254/robots.txt"}
    )
    with _public_host_client(server) as client, pytest.raises(RobotsUnreadable) as info:
        client.get("http://blog.example.org/feed", source_id="blog", politeness=NO_WAIT)
    assert "redirected from http://blog.example.org/feed to http://169.254.169.254/robots.txt" in str(
        info.value
    )
    assert [h.host for h in server.seen] == ["blog.example.org"]


def test_redirects_between_public_hosts_and_from_a_local_source_are_followed(server: LocalServer) -> None:
    server.routes["/old"] = lambda s: Reply(301, b"", {"Location": "http://www.example.org/new"})
    server.routes["/new"] = lambda s: Reply(200, b"moved")
    server.routes["/local"] = lambda s: Reply(302, b"", {"Location": server.url("/new", "localhost")})
    with _public_host_client(server) as client:
        assert client.get("http://example.org/old", source_id="s", politeness=NO_WAIT).content == b"moved"
    with PoliteClient() as client:  # a source on 127.0.0.1 (the demo) may hop to localhost
        page = client.get(server.url("/local"), source_id="s", politeness=NO_WAIT)
    assert page.content == b"moved" and page.url == server.url("/new", "localhost")


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("169.254.169.254", "link-local"),
        ("0xa9.0xfe.0xa9.0xfe", "link-local"),
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("127.1", "loopback"),
        ("LocalHost.", "loopback"),
        ("api.localhost", "loopback"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("fc00::1", "private"),
        ("8.8.8.8", None),
        ("172.32.0.1", None),
        ("arxiv.org", None),  # names are not resolved
    ],
)
def test_non_public_addresses_are_told_by_kind(host: str, kind: str | None) -> None:
    assert non_public_address(host) == kind


def test_an_error_after_a_redirect_names_the_configured_url_too(server: LocalServer) -> None:
    server.routes["/feed"] = lambda s: Reply(301, b"", {"Location": "/moved/feed"})
    with PoliteClient() as client, pytest.raises(HTTPStatusError) as info:
        client.get(server.url("/feed"), source_id="blog", politeness=NO_WAIT)
    assert str(info.value) == (
        f"[blog] HTTP 404 for {server.url('/moved/feed')} (redirected from {server.url('/feed')})"
    )


@pytest.fixture
def names_on_loopback(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Host names (added by the test) that the resolver answers with 127.0.0.1, as a name an
    attacker controls may answer with any address; every other name resolves as usual."""
    names: set[str] = set()
    resolve = socket.getaddrinfo

    def fake(host: object, port: object, *args: object, **kwargs: object) -> object:
        if isinstance(host, str) and host in names:
            return resolve("127.0.0.1", port, *args, **kwargs)  # type: ignore[arg-type]
        return resolve(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return names


@pytest.mark.parametrize("respect_robots", [True, False], ids=["robots", "no-robots"])
def test_a_hop_to_a_name_that_resolves_to_a_non_public_address_is_refused(
    server: LocalServer, names_on_loopback: set[str], respect_robots: bool
) -> None:
    names_on_loopback.update({"blog.example.org", "metadata.example.org"})
    server.routes["/feed"] = lambda s: Reply(
        302, b"", {"Location": server.url("/latest", "metadata.example.org")}
    )
    client = PoliteClient(respect_robots=respect_robots)
    with client, pytest.raises(FetchError) as info:
        client.get(server.url("/feed", "blog.example.org"), source_id="blog", politeness=NO_WAIT)
    assert not isinstance(info.value, RobotsUnreadable)  # the hop is refused, not its robots.txt
    assert str(info.value).startswith(
        f"[blog] redirected from {server.url('/feed', 'blog.example.org')} to metadata.example.org "
        "(127.0.0.1): a loopback address, refused"
    )
    # the configured host itself may be anywhere (the operator chose it); the hop never connected
    assert {h.host for h in server.seen} == {"blog.example.org"}


@pytest.mark.parametrize("respect_robots", [True, False], ids=["robots", "no-robots"])
def test_a_linked_page_on_a_name_that_resolves_to_a_non_public_address_is_refused_as_linked(
    server: LocalServer, names_on_loopback: set[str], respect_robots: bool
) -> None:
    """Its robots.txt is refused at connect before the page is: still a refused link, not a
    robots.txt outage that the next run would read past."""
    names_on_loopback.add("wiki.corp.example")
    linking = "http://93.184.216.34/api/feed"
    linked = server.url("/x", "wiki.corp.example")
    with PoliteClient(respect_robots=respect_robots, max_retries=0) as client:
        with pytest.raises(FetchError) as info:
            client.get(linked, source_id="s", politeness=NO_WAIT, origin=linking)
        records = client.drain_records("s")
    assert not isinstance(info.value, RobotsUnreadable)
    assert str(info.value).startswith(
        f"[s] linked from {linking} to wiki.corp.example (127.0.0.1): a loopback address, refused"
    )
    assert "robots.txt" not in str(info.value)
    assert [r.url for r in records] == [linked] and "linked from" in (records[0].error or "")
    assert server.seen == []


@pytest.fixture
def rebinding_name(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """ "blog.example.org" answers a public address (that this test's sockets map to 127.0.0.1, where
    the site's server runs) the first time, then 127.0.0.1 itself, as an attacker's DNS may;
    returns the addresses it answered, in order."""
    public = "93.184.216.34"
    answered: list[str] = []
    resolve, connect = socket.getaddrinfo, socket.create_connection

    def fake_resolve(host: object, port: object, *args: object, **kwargs: object) -> object:
        if host == "blog.example.org":
            answered.append(public if not answered else "127.0.0.1")
            host = answered[-1]
        return resolve(host, port, *args, **kwargs)  # type: ignore[arg-type]

    def fake_connect(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        # resolved as socket.create_connection does, through the fake resolver
        host = socket.getaddrinfo(address[0], address[1], type=socket.SOCK_STREAM)[0][4][0]
        return connect(("127.0.0.1" if host == public else host, address[1]), *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake_resolve)
    monkeypatch.setattr(socket, "create_connection", fake_connect)
    return answered


def test_a_public_host_that_rebinds_its_name_to_loopback_is_refused(
    server: LocalServer, rebinding_name: list[str]
) -> None:
    # the site redirects to its own name on another port, now pointed at this machine
    secret = LocalServer()
    secret.thread.start()
    try:
        secret.routes["/admin"] = lambda s: Reply(200, b"internal")
        server.routes["/feed"] = lambda s: Reply(
            302, b"", {"Location": secret.url("/admin", "blog.example.org")}
        )
        with PoliteClient(respect_robots=False, max_retries=0) as client, pytest.raises(FetchError) as info:
            client.get(server.url("/feed", "blog.example.org"), source_id="blog", politeness=NO_WAIT)
    finally:
        secret.httpd.shutdown()
        secret.httpd.server_close()
    assert rebinding_name == ["93.184.216.34", "127.0.0.1"]
    assert (
        "blog.example.org now resolves to 127.0.0.1, a loopback address, after public ones: refused"
        in str(info.value)
    )
    assert [h.path for h in server.seen] == ["/feed"] and secret.seen == []


def test_a_public_host_that_rebinds_between_two_gets_is_refused(
    server: LocalServer, rebinding_name: list[str]
) -> None:
    # the first page's connection is kept open: the second get's first connection (another
    # port) is its first answer in that get, and must still be public
    secret = LocalServer()
    secret.thread.start()
    try:
        secret.routes["/admin"] = lambda s: Reply(200, b"internal")
        server.routes["/feed"] = lambda s: Reply(200, b"<rss/>")
        with PoliteClient(respect_robots=False, max_retries=0) as client:
            assert client.get(server.url("/feed", "blog.example.org"), source_id="blog", politeness=NO_WAIT)
            with pytest.raises(FetchError, match=r"now resolves to 127\.0\.0\.1"):
                client.get(secret.url("/admin", "blog.example.org"), source_id="blog", politeness=NO_WAIT)
    finally:
        secret.httpd.shutdown()
        secret.httpd.server_close()
    assert secret.seen == []


def test_an_intranet_host_may_redirect_within_itself(
    server: LocalServer, names_on_loopback: set[str]
) -> None:
    # its first answer is not public: the operator chose a source on this machine or network
    names_on_loopback.add("wiki.intranet.example")
    other = LocalServer()
    other.thread.start()
    try:
        other.routes["/page"] = lambda s: Reply(200, b"moved here")
        server.routes["/old"] = lambda s: Reply(
            302, b"", {"Location": other.url("/page", "wiki.intranet.example")}
        )
        with PoliteClient(respect_robots=False) as client:
            page = client.get(
                server.url("/old", "wiki.intranet.example"), source_id="wiki", politeness=NO_WAIT
            )
    finally:
        other.httpd.shutdown()
        other.httpd.server_close()
    assert page.content == b"moved here"


class _ScriptedSockets(httpcore.NetworkBackend):
    """httpcore's sockets, but connecting to an address in `failing` fails as given."""

    def __init__(self, failing: dict[str, Exception]) -> None:
        self.failing = failing
        self.tried: list[str] = []
        self._real = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        self.tried.append(host)
        if host in self.failing:
            raise self.failing[host]
        return self._real.connect_tcp("127.0.0.1", port, timeout, local_address, socket_options)


@pytest.mark.parametrize(
    "first_failure",
    [httpcore.ConnectTimeout("timed out"), httpcore.ConnectError("[Errno 101] Network is unreachable")],
    ids=["timeout", "unreachable"],
)
def test_an_address_that_does_not_answer_falls_back_to_the_next(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, first_failure: Exception
) -> None:
    # a host's IPv6 address whose route drops packets times out; its IPv4 address answers
    v6, v4 = "2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34"

    real_resolve = socket.getaddrinfo

    def resolve(host: object, port: int, *args: object, **kwargs: object) -> object:
        if host != "blog.example.org":
            return real_resolve(host, port, *args, **kwargs)  # type: ignore[arg-type]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (v6, port, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (v4, port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    sockets = _ScriptedSockets({v6: first_failure})
    backend = fetch._DeadlineBackend()
    backend._inner = sockets  # type: ignore[assignment]
    token = fetch._PUBLIC_ORIGIN.set("https://blog.example.org/feed")
    try:
        backend.connect_tcp("blog.example.org", server.port, timeout=5.0).close()
        sockets.failing[v4] = httpcore.ConnectTimeout("timed out again")
        with pytest.raises(httpcore.ConnectTimeout, match="timed out again"):  # the last failure
            backend.connect_tcp("blog.example.org", server.port, timeout=5.0)
    finally:
        fetch._PUBLIC_ORIGIN.reset(token)
    assert sockets.tried == [v6, v4, v6, v4]


# --------------------------------------------------------------------------- session 12 fixes


def test_a_page_still_fresh_in_the_cache_is_asked_again_on_the_next_get(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub Pages sends max-age=600: a refresh right after a run must still see a new post."""
    posts: list[bytes] = [b"<rss>post 1</rss>"]
    # each answer dated a second after the one before, as minutes apart would be: the cache
    # revalidates its most recent copy by Date, and one test runs within a second
    dates = itertools.count(int(time.time()) - 100)
    monkeypatch.setattr(
        server.httpd.RequestHandlerClass,
        "date_time_string",
        lambda self, timestamp=None: email.utils.formatdate(next(dates), usegmt=True),
    )

    def feed(seen: Seen) -> Reply:
        etag = f'"v{len(posts)}"'
        if seen.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"ETag": etag, "Cache-Control": "max-age=600"})
        return Reply(200, posts[-1], {"ETag": etag, "Cache-Control": "max-age=600"})

    server.routes["/feed.xml"] = feed
    cache = tmp_path / "http.sqlite"
    with PoliteClient(cache_path=cache, respect_robots=False) as run:
        assert run.get(server.url("/feed.xml"), source_id="blog", politeness=NO_WAIT).content == posts[0]
    posts.append(b"<rss>post 1, post 2</rss>")
    with PoliteClient(cache_path=cache, respect_robots=False) as refresh:  # minutes later
        changed = refresh.get(server.url("/feed.xml"), source_id="blog", politeness=NO_WAIT)
        unchanged = refresh.get(server.url("/feed.xml"), source_id="blog", politeness=NO_WAIT)

    hits = server.hits("/feed.xml")
    assert len(hits) == 3, "a fresh cache entry stood in for the page"
    assert changed.content == posts[1] and changed.from_cache is False
    # a revalidation, not a full download: the page unchanged costs a 304
    assert hits[2].headers.get("if-none-match") == '"v2"' and hits[2].status == 304
    assert unchanged.content == posts[1] and unchanged.from_cache is True
    assert [r.cache_hit for r in refresh.records] == [False, True]


def test_robots_txt_and_fetches_that_opt_out_keep_a_fresh_entry(server: LocalServer, tmp_path: Path) -> None:
    server.routes["/robots.txt"] = lambda s: Reply(
        200, b"User-agent: *\nAllow: /\n", {"Cache-Control": "max-age=3600"}
    )
    server.routes["/api"] = lambda s: Reply(200, b"<feed/>", {"Cache-Control": "max-age=3600"})
    server.routes["/feed.xml"] = lambda s: Reply(200, b"<rss/>", {"Cache-Control": "max-age=3600"})
    cache = tmp_path / "http.sqlite"
    for _run in range(2):
        with PoliteClient(cache_path=cache) as client:
            client.get(server.url("/api"), source_id="arxiv-metadata", politeness=NO_WAIT, revalidate=False)
            client.get(server.url("/feed.xml"), source_id="blog", politeness=NO_WAIT)
    # robots.txt (RFC 9309 lets a crawler keep it up to a day) and metadata lookups that opt out
    # are taken from a fresh entry; a source page is asked every time
    assert (len(server.hits("/robots.txt")), len(server.hits("/api")), len(server.hits("/feed.xml"))) == (
        1,
        1,
        2,
    )
    assert "no-cache" not in server.hits("/robots.txt")[0].headers.get("cache-control", "")
    assert all(h.headers.get("cache-control") == "no-cache" for h in server.hits("/feed.xml"))


def test_without_a_cache_no_cache_control_is_sent(server: LocalServer) -> None:
    server.routes["/feed.xml"] = lambda s: Reply(200, b"<rss/>")
    with PoliteClient(respect_robots=False) as client:
        client.get(server.url("/feed.xml"), source_id="blog", politeness=NO_WAIT)
        client.get(
            server.url("/feed.xml"),
            source_id="blog",
            politeness=NO_WAIT,
            headers={"Cache-Control": "max-age=0"},
        )
    first, second = server.hits("/feed.xml")
    assert "cache-control" not in first.headers and second.headers["cache-control"] == "max-age=0"


SECRET = "SECRETTOKEN123"


def test_a_token_in_a_source_url_shows_in_no_error_record_warning_or_log(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.routes["/private/feed.xml"] = scripted(Reply(503), Reply(404, b"not here"))
    server.routes["/robots.txt"] = lambda s: Reply(
        200, b"User-agent: *\nAllow: /\n" + b"#" * ROBOTS_MAX_BYTES
    )
    url = server.url(f"/private/feed.xml?access_token={SECRET}").replace("http://", f"http://me:{SECRET}@")
    seen: list[FetchRecord] = []
    caplog.set_level("DEBUG", logger="dltheory_digest")
    caplog.set_level("INFO", logger="httpx")  # httpx's own line per request names the URL
    with PoliteClient(sleep=lambda s: None, on_record=seen.append) as client:
        with pytest.raises(HTTPStatusError) as info:
            client.get(url, source_id="private-feed", politeness=NO_WAIT)
        with pytest.raises(FetchError) as bad:
            client.get(f"ftp://h.example/f?token={SECRET}", source_id="private-feed")
        warnings = client.drain_warnings("private-feed")
    assert info.value.status == 404 and len(server.hits("/private/feed.xml")) == 2
    assert server.hits("/private/feed.xml")[0].path.endswith(SECRET)  # the server still gets it
    said = [str(info.value), info.value.detail, str(bad.value), bad.value.detail, *warnings]
    said += [f"{r.url} {r.error}" for r in seen] + [r.getMessage() for r in caplog.records]
    assert "access_token=REDACTED" in str(info.value) and any("robots.txt" in w for w in warnings)
    assert any(r.name == "httpx" and "access_token=REDACTED" in r.getMessage() for r in caplog.records)
    assert [s for s in said if SECRET in s] == []
    assert info.value.page.url.endswith(SECRET)  # the page keeps its real URL, for its parser


def test_retries_before_an_answer_are_told_to_the_sources_report(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.routes["/flaky"] = scripted(Reply(503), Reply(503), Reply(200, b"<rss/>"))
    server.routes["/steady"] = lambda s: Reply(200, b"<rss/>")
    caplog.set_level("INFO", logger="dltheory_digest")
    calls: list[str] = []

    def reset_once(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if len(calls) == 1:
            raise httpx.ReadError("connection reset by peer", request=request)
        return httpx.Response(404, content=b"gone")

    with PoliteClient(sleep=lambda s: None, respect_robots=False) as client:
        client.get(server.url("/flaky"), source_id="flaky-blog", politeness=NO_WAIT)
        client.get(server.url("/steady"), source_id="steady-blog", politeness=NO_WAIT)
        flaky, steady = client.drain_warnings("flaky-blog"), client.drain_warnings("steady-blog")
    assert flaky == [f"answered only after 2 retries (HTTP 503, HTTP 503): {server.url('/flaky')}"]
    assert steady == []
    assert any("answered only after 2 retries" in r.getMessage() for r in caplog.records)

    with PoliteClient(
        transport=httpx.MockTransport(reset_once), sleep=lambda s: None, respect_robots=False
    ) as client:
        with pytest.raises(HTTPStatusError):
            client.get("https://blog.example/feed", source_id="s", politeness=NO_WAIT)
        assert client.drain_warnings("s") == [
            "answered only after 1 retry (ReadError): https://blog.example/feed"
        ]


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8765/notes", True),
        ("http://localhost/feed", True),
        ("http://[::1]:80/q", True),
        ("http://127.0.0.2/x", True),
        ("https://export.arxiv.org/api/query", False),
        ("http://10.0.0.5/q", False),  # private, but another machine
        ("not a url", False),
    ],
)
def test_on_this_machine_is_the_loopback_only(url: str, local: bool) -> None:
    from dltheory_digest.fetch import on_this_machine

    assert on_this_machine(url) is local
