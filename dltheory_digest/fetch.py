"""The only network code: one polite HTTP client shared by every source.

Layers, from the caller down:

    PoliteClient.get     robots.txt check, arXiv's one-connection lock, retries with back-off
                         (within a total wait budget), manual redirects (so every hop is
                         checked and rate-limited), size cap, whole-request deadline,
                         one FetchRecord per request
    hishel CacheTransport    RFC 9111 cache in SQLite: an entry is revalidated (ETag /
                             Last-Modified -> 304) on every `get` of a page (revalidate=True);
                             a fresh one is used without asking only for robots.txt and for
                             callers that pass revalidate=False
    _PoliteTransport     waits on the Limiter right before a request really leaves, so cache
                         hits cost no waiting; the wait is part of the `get`'s wait budget
    httpx.HTTPTransport  (or an injected transport in tests)

All arXiv hosts share one limiter key and one connection: arXiv's terms allow one request
every 3 s, one connection at a time, for the API, RSS and OAI-PMH together.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import email.utils
import ipaddress
import logging
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, runtime_checkable
from urllib.parse import urljoin, urlsplit

import hishel
import httpcore
import httpx
from hishel.httpx import CacheTransport
from protego import Protego

from dltheory_digest import __version__
from dltheory_digest.config import Politeness
from dltheory_digest.errors import FetchError, RobotsDisallowed, SourceError, Unreachable
from dltheory_digest.models import FetchRecord, RawPage
from dltheory_digest.redaction import redact, redact_url

log = logging.getLogger(__name__)

ARXIV_HOSTS: frozenset[str] = frozenset(
    {"arxiv.org", "www.arxiv.org", "export.arxiv.org", "rss.arxiv.org", "oaipmh.arxiv.org"}
)
ARXIV_MIN_INTERVAL = 3.0
ARXIV_LIMITER_KEY = "arxiv"
DEFAULT_POLITENESS = Politeness.model_validate({})
DEFAULT_CONTACT = "https://github.com/dltheory-digest/dltheory-digest"
# The product token robots.txt groups are matched against.
ROBOTS_AGENT = "dltheory-digest"
ROBOTS_ERROR = "disallowed by robots.txt"
# RFC 9309 §2.3.1.4: a robots.txt that cannot be read (5xx) forbids the whole site until it
# can be read again; a missing one (4xx) allows everything. 429 is read as "unreachable" too:
# it says we are too fast, not that there are no rules. A site that does not answer at all
# (DNS, refused, TLS, timeout) is reported as unreachable (SiteUnreachable), not as a refusal.
ROBOTS_UNREADABLE = "robots.txt could not be read"
# RFC 9309 §2.5: a crawler must parse at least the first 500 KiB of a robots.txt; a longer
# one is read up to this cap and parsed up to its last whole line.
ROBOTS_MAX_BYTES = 500 * 1024
# arXiv's documented machine interfaces (API, RSS, OAI-PMH), as "host/path" prefixes. Their
# own terms of use govern programmatic access (one request per 3 s, one connection), while
# export.arxiv.org's robots.txt disallows everything for generic crawlers; so robots.txt is
# not consulted for them, and the arXiv limiter still applies. Pass robots_exempt=() to be strict.
ARXIV_MACHINE_INTERFACES: tuple[str, ...] = (
    "export.arxiv.org/api/",
    "export.arxiv.org/oai2",
    "oaipmh.arxiv.org/oai",
    "rss.arxiv.org/",
)
# Headers describing the wire form of a body that RawPage holds decoded.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
# The content codings asked for, each inflated here piece by piece (_inflate) so that the size
# cap bounds memory: httpx inflates a whole network chunk at once, 64 KiB of gzip into ~64 MB.
# Set explicitly, since httpx would add br/zstd once their decoders are installed.
CACHE_IDLE_SECONDS = 35 * 86_400
ACCEPT_ENCODING = "gzip, deflate"
_ZLIB_WBITS = {"gzip": zlib.MAX_WBITS | 32, "x-gzip": zlib.MAX_WBITS | 32, "deflate": zlib.MAX_WBITS}
# Codings that compress but have no bounded decoder here; never asked for, so refused.
_UNBOUNDED_CODINGS = frozenset({"br", "zstd", "compress", "x-compress"})
_INFLATE_PIECE = 64 * 1024
MAX_REDIRECTS = 5
# httpx's timeout bounds each single wait (connect, one read), so a server that sends a byte
# every few seconds never trips it. The whole request, headers and body, gets this many times
# the source's `timeout`: the sockets themselves enforce it until the headers are in
# (_DeadlineBackend), the body is checked as it arrives.
REQUEST_DEADLINE_FACTOR = 4.0
# Past the deadline a body may still finish while it keeps arriving at least this fast on
# average (a large model download on a slow link); a trickle is given up.
MIN_BODY_RATE = 32_768  # bytes per second
# Sum of all back-off, Retry-After and politeness-limiter waits one `get` may spend before
# giving up.
MAX_TOTAL_WAIT = 600.0
# A robots.txt Crawl-delay (not in RFC 9309; some crawlers ignore it) is honoured up to this
# many seconds. A weekly run asks a site for a few pages, so one a minute is light on any
# site, while "Crawl-delay: 86400" honoured in full would hold the run for days.
MAX_CRAWL_DELAY = 60.0
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Where a request carries its politeness state through hishel down to _PoliteTransport;
# hishel sends the caller's own request object, so this dict arrives intact.
_STATE_EXTENSION = "dltheory_digest.politeness"


class _RedactedHttpxLog(logging.Filter):
    """httpx logs each request's URL at INFO ("HTTP Request: GET https://...?token=..."): an
    operator who turns INFO on must not find a source's credentials in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(str(a)) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


logging.getLogger("httpx").addFilter(_RedactedHttpxLog())


def _redact_error(exc: SourceError) -> None:
    """Redact, in place, the message of an error that is about to leave this module."""
    exc.detail = redact(exc.detail)
    exc.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in exc.args)


def user_agent(contact: str) -> str:
    """A descriptive User-Agent that tells a site operator who we are and how to reach us."""
    return f"dltheory-digest/{__version__} (+{contact})"


class Limiter(Protocol):
    """Spaces requests that share a key; a cross-process implementation can replace LocalLimiter."""

    def acquire(self, key: str, min_interval: float) -> float:
        """Block until a request under `key` may be sent, `min_interval` s after the previous one;
        returns the slot taken (its start, on the limiter's own clock) for `release`."""
        ...

    def release(self, key: str, slot: float, min_interval: float) -> None:
        """Give back `slot` (from `acquire(key, min_interval)`) when its request never reached
        the server (DNS, refused): the next request under `key` need not wait for it. Only the
        latest reservation of the key can be given back; a slot someone queued behind is kept."""
        ...


@runtime_checkable
class ReservingLimiter(Limiter, Protocol):
    """A Limiter that tells the wait before it is taken (LocalLimiter, store.StoreLimiter), so a
    request that would wait past its budget gives its slot back instead of sleeping."""

    clock: Callable[[], float]  # the clock slots are on
    sleep: Callable[[float], None]

    def reserve(self, key: str, min_interval: float) -> float:
        """Reserve the next slot of `key` without waiting for it; returns its start."""
        ...


class LocalLimiter:
    """In-process limiter: each caller reserves the next free slot of its key, then sleeps to it.

    Reserving under a lock and sleeping outside it keeps different keys fully independent
    while callers of the same key queue up in order.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}

    def reserve(self, key: str, min_interval: float) -> float:
        with self._lock:
            now = self.clock()
            slot = max(now, self._next_free.get(key, now))
            self._next_free[key] = slot + max(0.0, min_interval)
        return slot

    def acquire(self, key: str, min_interval: float) -> float:
        slot = self.reserve(key, min_interval)
        wait = slot - self.clock()
        if wait > 0:
            self.sleep(wait)
        return slot

    def release(self, key: str, slot: float, min_interval: float) -> None:
        with self._lock:
            # Rewinding past a later reservation would let its successor crowd it, so only
            # the key's latest slot goes back; `slot` is already past, so the next one is free.
            if self._next_free.get(key) == slot + max(0.0, min_interval):
                self._next_free[key] = slot


def limiter_slot(
    host: str, min_interval: float, arxiv_hosts: frozenset[str] = ARXIV_HOSTS
) -> tuple[str, float]:
    """The limiter key and interval for a host: arXiv hosts share one key and a 3 s floor."""
    host = host.lower()
    if host in arxiv_hosts:
        return ARXIV_LIMITER_KEY, max(min_interval, ARXIV_MIN_INTERVAL)
    return host, min_interval


@dataclass(slots=True)
class _RequestState:
    """Mutable per-request scratch shared with _PoliteTransport."""

    min_interval: float
    waited: float = 0.0  # seconds spent in the limiter (not counted as elapsed)
    budget: _WaitBudget | None = None  # the `get`'s wait budget, which limiter waits draw on too
    sent: int = 0  # requests that really left (0 for a fresh cache hit)
    deadline: float | None = None  # seconds the request may take until its headers are in


@dataclass(frozen=True, slots=True)
class _Deadline:
    at: float  # time.monotonic() value

    def left(self) -> float:
        return self.at - time.monotonic()


# The deadline of the request this thread is sending, from after the limiter until its
# response headers are in; the sockets of _DeadlineBackend shorten every wait to it.
_HEADER_DEADLINE: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar(
    "dltheory_digest_header_deadline", default=None
)


# The URL a `get` in this thread decides its guard from (its own, or the page that linked to
# it), when its host is public: no request it makes (the page, redirect hops, robots.txt and its
# redirects) may then go to a non-public address.
_PUBLIC_ORIGIN: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dltheory_digest_public_origin", default=None
)
# The host of the URL a `get` in this thread fetches when a page linked to it (its `origin`):
# a refusal to connect to that host is then worded "linked from", not "redirected from".
_LINKED_HOST: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dltheory_digest_linked_host", default=None
)


def non_public_address(host: str) -> str | None:
    """What kind of non-public address `host` is ("loopback", "link-local", "private", ...), or
    None for a public address or a host name. Literal addresses only, in every form the system
    resolver reads (2852039166 and 0xa9.0xfe.0xa9.0xfe are 169.254.169.254), plus "localhost";
    other names are not resolved here: the address checked would not be the one connected to."""
    name = host.lower().rstrip(".").strip("[]")
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback"
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, matches in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("private", address.is_private),
        ("non-public", not address.is_global),
    ):
        if matches:
            return kind
    return None


def on_this_machine(url: str) -> bool:
    """Whether `url`'s host is this machine (localhost, 127.0.0.0/8, ::1): a demo's or a test's
    stand-in, not a site readers can open or one to be polite to."""
    return non_public_address(urlsplit(url).hostname or "") == "loopback"


def redirect_refusal(configured: str, target: str, kind: str, how: str = "redirected") -> str:
    """Why a hop from the configured URL to `target`, a `kind` address, is not taken; `how` the
    configured page got there ("redirected", "linked": a next page its content named)."""
    article = "an" if kind[0] in "aeiou" else "a"
    return (
        f"{how} from {configured} to {target}: {article} {kind} address, refused for a URL on a "
        "public host (it could reach this machine's or network's internal services)"
    )


def _checked_addresses(host: str, port: int, public_hosts: set[str]) -> list[str]:
    """Where to connect for `host` within a `get` whose configured URL names a host (or a public
    address): the addresses `host` resolves to, refused if any is not public. The configured
    host itself is exempt only while it has never resolved to public addresses only (an
    intranet source): once it has (noted in `public_hosts`, for the client's life), every later
    answer must be public too, so a site cannot redirect to its own name on another port, or be
    asked again later, after pointing that name at 127.0.0.1 (DNS rebinding). Connecting to the
    very addresses checked leaves no time for the name to point elsewhere in between."""
    origin = _PUBLIC_ORIGIN.get()
    if origin is None:
        return [host]  # a source on a non-public address: the operator chose it, wherever it is
    name = host.lower()
    configured = name == httpx.URL(origin).raw_host.decode("ascii").lower()
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:  # worded as httpcore words its own resolver's failures
        raise httpcore.ConnectError(str(exc)) from exc
    addresses = list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))
    refused = next(((a, kind) for a in addresses if (kind := non_public_address(a)) is not None), None)
    if refused is None:
        if configured:
            public_hosts.add(name)
        return addresses
    address, kind = refused
    if not configured:
        how = "linked" if name == _LINKED_HOST.get() else "redirected"
        raise _AddressRefused(name, redirect_refusal(origin, f"{host} ({address})", kind, how))
    if name in public_hosts:
        article = "an" if kind[0] in "aeiou" else "a"
        raise _AddressRefused(
            name,
            f"{host} now resolves to {address}, {article} {kind} address, after public ones: refused "
            "(a site pointing its name at internal services after the first answer, DNS rebinding)",
        )
    return addresses  # an intranet source: it may redirect within its own host


def _wait_within_deadline(timeout: float | None, overdue: type[httpcore.TimeoutException]) -> float | None:
    """`timeout` shortened to the current header deadline; `overdue` is raised once it has passed."""
    deadline = _HEADER_DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline.left()
    if left <= 0:
        raise overdue("the deadline for the response headers has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every wait ends by the header deadline (a header trickle cannot stall it)."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _wait_within_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _wait_within_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        wait = _wait_within_deadline(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, wrapped so the header deadline bounds connecting, sending and reading."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        # configured hosts seen resolving to public addresses only (_checked_addresses)
        self._public_hosts: set[str] = set()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in _checked_addresses(host, port, self._public_hosts):
            # each address gets `timeout` at most, all of them together the header deadline
            wait = _wait_within_deadline(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(address, port, wait, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                # the next address, as socket.create_connection does: an IPv6 route that drops
                # packets times out while the IPv4 address behind it answers at once
                failure = exc
                continue
            return _DeadlineStream(stream)
        raise failure or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        wait = _wait_within_deadline(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, wait, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _deadline_transport() -> httpx.HTTPTransport:
    """httpx's transport on sockets that honour the header deadline.

    httpx does not let a caller choose httpcore's network backend, so the transport's
    connection pool is rebuilt with httpx's default settings and _DeadlineBackend.
    """
    transport = httpx.HTTPTransport()
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's defaults
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_DeadlineBackend(),
    )
    return transport


class _PoliteTransport(httpx.BaseTransport):
    """Waits on the limiter for the request's own host, just before it goes out."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        limiter: Limiter,
        arxiv_hosts: frozenset[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._limiter = limiter
        self._arxiv_hosts = arxiv_hosts
        self._clock = clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        state = request.extensions.get(_STATE_EXTENSION)
        public_origin = _PUBLIC_ORIGIN.get()
        if public_origin is not None and (kind := non_public_address(request.url.host)) is not None:
            # a page's own hops are refused in `get`; this catches the redirects httpx follows
            # itself (robots.txt's), which never come back up to it
            raise _Refused(None, redirect_refusal(public_origin, str(request.url), kind))
        interval = state.min_interval if isinstance(state, _RequestState) else 0.0
        key, interval = limiter_slot(request.url.host, interval, self._arxiv_hosts)
        started = self._clock()
        slot = self._take_slot(key, interval, state.budget if isinstance(state, _RequestState) else None)
        try:
            return self._send(request, state, started)
        except httpx.ConnectError as exc:
            # DNS or a refused connection: no request reached the server, so the slot was not
            # used (offline, each arXiv attempt would otherwise wait 3 s for nothing). A TLS
            # failure or any timeout may have reached it, and keeps the slot.
            if connection_failure(exc) is not None:
                self._limiter.release(key, slot, interval)
            raise

    def _take_slot(self, key: str, interval: float, budget: _WaitBudget | None) -> float:
        """Wait for the limiter's slot, the wait taken from `budget`; _QueuedTooLong (the slot
        given back, nothing slept) when the budget has not that much left."""
        limiter = self._limiter
        if budget is None or not isinstance(limiter, ReservingLimiter):
            return limiter.acquire(key, interval)  # it cannot say the wait before taking it
        slot = limiter.reserve(key, interval)
        wait = max(0.0, slot - limiter.clock())
        left = budget.left
        if not budget.take(wait):
            limiter.release(key, slot, interval)
            raise _QueuedTooLong(key, wait, left)
        if wait > 0:
            limiter.sleep(wait)
        return slot

    def _send(self, request: httpx.Request, state: object, started: float) -> httpx.Response:
        if not isinstance(state, _RequestState):
            return self._inner.handle_request(request)
        state.waited += self._clock() - started
        state.sent += 1
        if state.deadline is None:
            return self._inner.handle_request(request)
        # The clock starts after the limiter: waiting for our own turn is not the server's delay.
        deadline = _Deadline(time.monotonic() + state.deadline)
        sending = self._clock()
        token = _HEADER_DEADLINE.set(deadline)
        try:
            return self._inner.handle_request(request)  # returns once the headers are in
        except httpx.TimeoutException:
            if deadline.left() > 0:
                raise  # one wait ran out (httpx's timeout): a network error, retried as such
            # the whole-request deadline, like a body trickle: passes through hishel and httpx
            # unchanged up to PoliteClient, which reports it and does not retry
            raise _TooSlow(None, 0, self._clock() - sending, in_headers=True) from None
        finally:
            _HEADER_DEADLINE.reset(token)

    def close(self) -> None:
        self._inner.close()


class HTTPStatusError(FetchError):
    """A final response with status >= 400; `page` keeps its body (arXiv's error feed comes as a 400)."""

    def __init__(self, source_id: str, message: str, *, page: RawPage) -> None:
        self.page = page
        super().__init__(source_id, message, url=page.url, status=page.status)


class RobotsUnreadable(RobotsDisallowed):
    """robots.txt answered 5xx/429 or could not be parsed: the site is off limits for now (RFC 9309)."""


class SiteUnreachable(FetchError):
    """The site did not answer its robots.txt at all (DNS, refused, TLS, timeout): a network
    failure like any other, so callers stop on it instead of reading it as a robots refusal."""


# Words of the OS resolver and socket errors, mapped to what a user would say.
_NETWORK_REASONS: tuple[tuple[tuple[str, ...], Unreachable], ...] = (
    (
        (
            "name or service not known",
            "nodename nor servname",
            "temporary failure in name resolution",
            "no address associated",
            "getaddrinfo failed",
        ),
        Unreachable.NAME_NOT_RESOLVED,
    ),
    (("connection refused", "actively refused"), Unreachable.REFUSED),
    (("network is unreachable", "network unreachable"), Unreachable.NETWORK_UNREACHABLE),
    (("no route to host",), Unreachable.NO_ROUTE),
)
# Said of a host that cannot be resolved or a network that cannot be reached (the error's
# `unreachable.offline`); a run whose every source failed this way is told once that the
# machine looks offline (decided from SourceReport.offline, not from these words).
OFFLINE_HINT = "is this machine online?"
# Connection failures that do not clear up within seconds (DNS, refused, no network) are
# tried this many times in all, whatever max_retries says: offline, four more tries and their
# back-off only delay the report by ~20 s per arXiv source. One retry still rides out a blip
# (a resolver hiccup, a server restarting). Timeouts and 5xx/429 keep the full policy.
CONNECT_FAILURE_ATTEMPTS = 2
_DEFAULT_PORTS = {"http": 80, "https": 443}


def connection_failure(exc: BaseException) -> Unreachable | None:
    """The reason ("name not resolved", "connection refused", ...) when `exc` is a failure to
    connect that retrying will not fix in seconds; None for anything else (timeouts, TLS, resets)."""
    if not isinstance(exc, httpx.ConnectError):
        return None
    lowered = str(exc).lower()
    return next((said for words, said in _NETWORK_REASONS if any(w in lowered for w in words)), None)


def unreachable_reason(exc: httpx.TransportError) -> Unreachable:
    """Why no response came, for `FetchError.unreachable` (the fact unreachable_message words)."""
    if (reason := connection_failure(exc)) is not None:
        return reason
    return Unreachable.TIMED_OUT if isinstance(exc, httpx.TimeoutException) else Unreachable.OTHER


def unreachable_message(
    host: str, exc: httpx.TransportError, *, port: int | None = None, attempts: int = 1
) -> str:
    """A sentence a user can act on, e.g. `could not reach HOST (name not resolved): is this
    machine online?` or `connection refused by HOST:PORT`; the library's words if not known."""
    reason = unreachable_reason(exc)
    tries = f"{attempts} attempts" if attempts > 1 else ""
    if reason is Unreachable.REFUSED:
        where = f"{host}:{port}" if port else host
        return f"connection refused by {where}" + (f" ({tries})" if tries else "")
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
        # connected, so reachable: the server took the request and then went silent
        return f"{host} took the connection but did not answer in time" + (f" ({tries})" if tries else "")
    if reason is not Unreachable.OTHER:
        hint = f": {OFFLINE_HINT}" if reason.offline else ""
        return f"could not reach {host} ({', '.join(filter(None, (reason, tries)))}){hint}"
    raw = str(exc).strip()
    kind = ", ".join(filter(None, (type(exc).__name__, tries)))
    return f"could not reach {host}: {raw} ({kind})" if raw else f"could not reach {host} ({kind})"


def _port_of(url: httpx.URL) -> int | None:
    return url.port or _DEFAULT_PORTS.get(url.scheme)


class _TooLarge(Exception):
    def __init__(
        self, status: int, size: int, declared: int | None = None, head: bytes | None = None
    ) -> None:
        self.status = status
        self.size = size  # bytes read before stopping
        self.declared = declared  # the Content-Length that alone refused it
        self.head = head  # the first max_bytes bytes, when the caller asked to keep them


class _Refused(Exception):
    """A response (or a hop to it) refused whatever its status: not retried."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _AddressRefused(_Refused):
    """A connection to `host` refused before it was made: the host resolves to a non-public
    address where the request may not reach one (`_checked_addresses`)."""

    def __init__(self, host: str, message: str) -> None:
        super().__init__(None, message)
        self.host = host


def _content_coding(status: int, headers: httpx.Headers) -> str | None:
    """The one coding `_inflate` undoes (None: the body is used as sent, as httpx does with a
    coding it does not know); _Refused for stacked codings and for ones it cannot bound."""
    listed = [c.strip().lower() for c in headers.get_list("content-encoding", split_commas=True)]
    codings = [c for c in listed if c and c != "identity"]
    if len(codings) > 1:
        # each layer multiplies: 2 KB of "gzip, gzip" inflate to 1 GB
        raise _Refused(status, f"stacked content codings refused (Content-Encoding: {', '.join(codings)})")
    if not codings:
        return None
    if codings[0] in _UNBOUNDED_CODINGS:
        raise _Refused(
            status, f"content coding {codings[0]!r} not supported (this client asks for {ACCEPT_ENCODING})"
        )
    return codings[0] if codings[0] in _ZLIB_WBITS else None


def _zlib_header(data: bytes) -> bool:
    """RFC 1950: method 8 (deflate) and a header that is a multiple of 31."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0


def _inflate(raw: Iterable[bytes], coding: str | None) -> Iterator[bytes]:
    """The body of `raw` decoded, in pieces of at most _INFLATE_PIECE bytes, and at least one
    (maybe empty) per raw chunk so the caller checks its caps as the wire delivers. Whatever
    follows the end of the compressed stream is read (the cache stores only a complete body)
    but ignored, as httpx does."""
    if coding is None:
        yield from raw
        return
    inflater: zlib._Decompress | None = None
    try:
        # a deflate body's first chunk may be 1 byte: its first two tell a zlib header apart
        for data in _first_bytes_together(raw, 2) if coding == "deflate" else raw:
            if not data:
                continue
            if inflater is None:
                wbits = _ZLIB_WBITS[coding]
                if coding == "deflate" and not _zlib_header(data):
                    wbits = -zlib.MAX_WBITS  # a raw deflate stream, as some servers send
                inflater = zlib.decompressobj(wbits)
            if inflater.eof:
                yield b""
                continue
            while True:
                yield inflater.decompress(data, _INFLATE_PIECE)
                data = inflater.unconsumed_tail
                if not data:
                    break
        if inflater is not None:
            yield inflater.flush()  # at most the rest of one back-reference (258 bytes)
    except zlib.error as exc:
        raise httpx.DecodingError(f"{coding} body could not be decoded: {exc}") from exc


def _first_bytes_together(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """`chunks` with the first `size` bytes (or all, if fewer) in one chunk."""
    head = b""
    rest = iter(chunks)
    for data in rest:
        head += data
        if len(head) >= size:
            break
    if head:
        yield head
    yield from rest


class _Counted:
    """An iterable of byte chunks that counts the bytes taken from it."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.size += len(chunk)
            yield chunk


class _TooSlow(Exception):
    """The whole-request deadline passed while the response (or its headers) was still arriving."""

    def __init__(self, status: int | None, size: int, elapsed: float, *, in_headers: bool = False) -> None:
        self.status = status
        self.size = size
        self.elapsed = elapsed
        self.in_headers = in_headers


class _QueuedTooLong(Exception):
    """The politeness limiter would hold a request longer than its `get`'s wait budget has left
    (other requests to the site queued ahead; the slot is given back, nothing slept), or
    arXiv's one connection stayed taken that long (`wait` None)."""

    def __init__(self, key: str, wait: float | None, left: float) -> None:
        self.key = key
        self.wait = wait
        self.left = left

    def message(self, budget: float) -> str:
        if self.wait is None:
            return (
                f"arXiv's one connection stayed taken by other requests for the {self.left:.0f} s "
                f"left of this request's {budget:g} s wait budget; not sent"
            )
        return (
            f"the politeness limit for {self.key} would hold this request {self.wait:.0f} s, more "
            f"than the {self.left:.0f} s left of its {budget:g} s wait budget (requests to the site "
            "are queued ahead of it); not sent"
        )


@dataclass(slots=True)
class _WaitBudget:
    """Seconds of back-off, Retry-After and limiter waits one `get` may still spend, across its
    redirect hops and its robots.txt."""

    left: float
    spent: float = 0.0

    def take(self, seconds: float) -> bool:
        if seconds > self.left:
            return False
        self.left -= seconds
        self.spent += seconds
        return True


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT by definition
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _is_retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


@dataclass(frozen=True, slots=True)
class _RobotsVerdict:
    """What an origin's robots.txt says: its rules, allow-all (no rules), unreadable (why), or
    unreachable (the network failure, worded by unreachable_message, and its reason); `warning`
    is what every source fetching from the site should be told (a file cut at the size cap)."""

    rules: Protego | None = None
    unreadable: str | None = None
    unreachable: str | None = None
    unreachable_reason: Unreachable | None = None
    warning: str | None = None


class PoliteClient:
    """One HTTP client for the whole run; safe to share between threads.

    `get` returns a RawPage for a final status below 400 and raises FetchError otherwise
    (HTTPStatusError, with the page, for an HTTP error status; RobotsDisallowed when
    robots.txt forbids the URL, RobotsUnreadable when robots.txt answered 5xx/429,
    SiteUnreachable when the site did not answer its robots.txt at all). Every
    request it makes, including robots.txt, retries and redirect hops, is appended to
    `records` and passed to `on_record`.

    Time limits: `politeness.timeout` bounds each wait on the network; the whole request
    (headers and body) must end within `deadline_factor` times that, unless its body is still
    arriving at MIN_BODY_RATE or faster. One `get` sleeps at most `max_total_wait` seconds in
    back-off, Retry-After, limiter and arXiv-connection waits overall (a limiter queue longer
    than what is left fails the request before it sleeps), and never more than
    `max_retry_after` at once. A limiter that cannot tell its wait beforehand (not a
    ReservingLimiter) is not bounded by it.

    `sleep` is used for retry back-off only (tests inject a recorder) and `clock` measures
    elapsed time and deadlines (tests inject a fake one); request spacing is the limiter's
    job, with its own clock. `robots_exempt` lists "host/path" prefixes of machine interfaces
    whose terms replace robots.txt (default: arXiv's API, RSS, OAI-PMH).
    """

    def __init__(
        self,
        *,
        contact: str = DEFAULT_CONTACT,
        cache_path: Path | None = None,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        arxiv_hosts: frozenset[str] = ARXIV_HOSTS,
        max_retries: int = 4,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        respect_robots: bool = True,
        robots_exempt: tuple[str, ...] = ARXIV_MACHINE_INTERFACES,
        sleep: Callable[[float], None] = time.sleep,
        on_record: Callable[[FetchRecord], None] | None = None,
        max_retry_after: float = 600.0,
        max_total_wait: float = MAX_TOTAL_WAIT,
        deadline_factor: float = REQUEST_DEADLINE_FACTOR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_agent = user_agent(contact)
        self.arxiv_hosts = frozenset(host.lower() for host in arxiv_hosts)
        self.limiter: Limiter = limiter or LocalLimiter()
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        # A Retry-After beyond this means "come back much later": give up rather than stall the run.
        self.max_retry_after = max_retry_after
        self.max_total_wait = max_total_wait
        self.deadline_factor = deadline_factor
        self.respect_robots = respect_robots
        self.robots_exempt = tuple(prefix.lower() for prefix in robots_exempt)
        self.records: list[FetchRecord] = []
        self._sleep = sleep
        self._clock = clock
        self._on_record = on_record
        self._records_lock = threading.Lock()
        # Held for a whole request and its retries; re-entrant so a nested use can never self-deadlock.
        self._arxiv_lock = threading.RLock()
        self._robots: dict[str, _RobotsVerdict] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._robots_guard = threading.Lock()
        self._capped_delays: set[str] = set()  # origins whose Crawl-delay was capped (logged once)
        # what each source's report should say about its fetches (`drain_warnings`), in order
        self._source_warnings: dict[str, dict[str, None]] = {}

        polite: httpx.BaseTransport = _PoliteTransport(
            transport or _deadline_transport(), self.limiter, self.arxiv_hosts, clock
        )
        # downloads skip the cache (hishel stores a body despite a request's no-store): the same
        # polite transport, without the cache in front of it
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": ACCEPT_ENCODING}
        self._direct = httpx.Client(transport=polite, headers=headers)
        self._http = self._direct
        if cache_path is not None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            # an entry idle for five weeks is dropped: weekly pages keep their validators, while
            # the arXiv API pages, keyed by their week's dates, are never asked for again
            storage = hishel.SqliteStorage(database_path=cache_path, default_tti=CACHE_IDLE_SECONDS)
            cached = CacheTransport(next_transport=polite, storage=storage, rfc=True)
            self._http = httpx.Client(transport=cached, headers=headers)

    # -- public API -------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        source_id: str,
        politeness: Politeness = DEFAULT_POLITENESS,
        headers: Mapping[str, str] | None = None,
        sink: BinaryIO | None = None,
        progress: Callable[[int, int | None], None] | None = None,
        use_cache: bool = True,
        revalidate: bool = True,
        origin: str | None = None,
    ) -> RawPage:
        """GET `url` politely; redirects are followed hop by hop (each checked and limited).
        Without `use_cache` the response is neither taken from the HTTP cache nor stored in it.

        With `revalidate` (the default) a cached copy is only used once the server has said it
        is unchanged (a conditional request: a 304 costs no body), even while its max-age says
        it is fresh: a source page must show what is on the site now, so a refresh minutes
        after a run sees the post published in between. Pass False where a copy the server
        called fresh will do (metadata of a paper, a model index). robots.txt keeps its own
        freshness (RFC 9309 lets a crawler keep it up to a day).

        `origin` is the page whose content named `url` (API paging, an index's links), None for
        a URL of the operator's own: the guard against non-public addresses is decided from it,
        so a page on a public host cannot send the fetcher to 127.0.0.1 by naming it.

        Messages of the errors raised, warnings and records have credentials in URLs
        (`redact_url`) replaced; the page (`RawPage.url`, `FetchError.url`) keeps the real URL."""
        asked = {name.lower() for name in headers or {}}
        if revalidate and use_cache and self._http is not self._direct and "cache-control" not in asked:
            headers = {**(headers or {}), "Cache-Control": "no-cache"}  # hishel then revalidates
        try:
            parsed = self._parse_url(url, source_id)
            # a source configured on a non-public address (the demo, tests on 127.0.0.1) may
            # redirect anywhere; one on a public host never reaches a non-public address (a host
            # name whose first answer is not public, an intranet source, may redirect within it:
            # _checked_addresses). A linked page is judged by the page that linked to it.
            configured = url if origin is None else origin
            configured_host = parsed.host if origin is None else httpx.URL(origin).host
            public = configured if non_public_address(configured_host) is None else None
            token = _PUBLIC_ORIGIN.set(public)
            linked = _LINKED_HOST.set(None if origin is None else parsed.raw_host.decode("ascii").lower())
            try:
                if origin is not None:
                    self._check_hop(origin, url, source_id, how="linked")
                return self._get(url, source_id, politeness, headers, sink, progress, use_cache)
            finally:
                _LINKED_HOST.reset(linked)
                _PUBLIC_ORIGIN.reset(token)
        except FetchError as exc:
            _redact_error(exc)  # a token in the URL must not reach logs, reports or the UI
            raise

    def _get(
        self,
        url: str,
        source_id: str,
        politeness: Politeness,
        headers: Mapping[str, str] | None,
        sink: BinaryIO | None,
        progress: Callable[[int, int | None], None] | None,
        use_cache: bool,
    ) -> RawPage:
        current = url
        http = self._http if use_cache else self._direct
        budget = _WaitBudget(self.max_total_wait)
        for _hop in range(MAX_REDIRECTS + 1):
            target = self._parse_url(current, source_id)
            min_interval = politeness.min_interval
            try:
                if self.respect_robots and not self._is_robots_exempt(target):
                    verdict = self._robots_for(target, source_id, politeness, budget)
                    self._check_robots(verdict, current, source_id)
                    if verdict.warning is not None:
                        self._warn(source_id, verdict.warning)
                    delay = verdict.rules.crawl_delay(ROBOTS_AGENT) if verdict.rules is not None else None
                    if delay:
                        min_interval = max(min_interval, self._crawl_delay(target, float(delay), source_id))
                with self._connection_slot(target.host, budget):
                    page = self._fetch_with_retries(
                        current, source_id, politeness, min_interval, headers, budget, sink, progress, http
                    )
            except _QueuedTooLong as exc:
                # waiting for arXiv's connection, or for the site's robots.txt in its queue
                message = exc.message(self.max_total_wait)
                self._record(FetchRecord(source_id, current, None, 0, 0.0, False, message, _utcnow()))
                raise FetchError(source_id, f"{message}: {current}", url=current) from None
            except _AddressRefused as exc:  # met asking for its robots.txt: the page's own host
                self._record(FetchRecord(source_id, current, None, 0, 0.0, False, exc.message, _utcnow()))
                raise FetchError(source_id, f"{exc.message}: {current}", url=current) from None
            location = page.header("location")
            if page.status in REDIRECT_STATUSES and location:
                current = urljoin(current, location)
                self._check_hop(url, current, source_id)
                continue
            if page.status >= 400:
                via = f" (redirected from {url})" if current != url else ""  # the URL to fix
                raise HTTPStatusError(source_id, f"HTTP {page.status} for {current}{via}", page=page)
            return page
        raise FetchError(source_id, f"more than {MAX_REDIRECTS} redirects from {url}", url=url)

    def download(
        self,
        url: str,
        dest: Path,
        *,
        source_id: str,
        politeness: Politeness = DEFAULT_POLITENESS,
        progress: Callable[[int, int | None], None] | None = None,
        origin: str | None = None,
    ) -> Path:
        """Stream a large file (a translation model) to `dest` politely, never whole in memory.

        It bypasses the page cache (a model is not stored twice); the file appears at `dest`
        only once it is complete. `origin`: the page that linked to `url` (as for `get`).
        """
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".part")
        try:
            with partial.open("wb") as sink:
                self.get(
                    url,
                    source_id=source_id,
                    politeness=politeness,
                    sink=sink,
                    progress=progress,
                    use_cache=False,
                    origin=origin,
                )
            partial.replace(dest)
        finally:
            partial.unlink(missing_ok=True)
        return dest

    def add_record(self, record: FetchRecord) -> None:
        """Append a record made outside the client (the pipeline's note that a page was unusable)."""
        self._record(record)

    def drain_warnings(self, source_id: str) -> list[str]:
        """Remove and return what `source_id`'s fetches should warn its report of (a Crawl-delay
        capped at MAX_CRAWL_DELAY, a robots.txt cut at its size cap), each once, in the order
        they arose."""
        with self._records_lock:
            return list(self._source_warnings.pop(source_id, {}))

    def drain_records(self, source_id: str | None = None) -> list[FetchRecord]:
        """Remove and return the records of `source_id` (all when None), for storing them."""
        with self._records_lock:
            taken = [r for r in self.records if source_id is None or r.source_id == source_id]
            self.records = [r for r in self.records if source_id is not None and r.source_id != source_id]
        return taken

    def close(self) -> None:
        self._http.close()
        self._direct.close()  # the cached client closed the same transport: closing is idempotent

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------

    def _parse_url(self, url: str, source_id: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            problem = f"invalid URL {url!r}: {exc}"
        else:
            if parsed.scheme in ("http", "https") and parsed.host:
                return parsed
            problem = f"not an http(s) URL: {url!r}"
        self._record(FetchRecord(source_id, url, None, 0, 0.0, False, problem, _utcnow()))
        raise FetchError(source_id, problem, url=url)

    def _check_hop(self, configured: str, target: str, source_id: str, how: str = "redirected") -> None:
        """Refuse (recorded) a redirect (or a link, `how`) to a non-public address from a URL on
        a public host."""
        public_origin = _PUBLIC_ORIGIN.get()
        try:
            host = httpx.URL(target).host
        except httpx.InvalidURL:
            return  # the next hop's _parse_url reports it
        kind = non_public_address(host)
        if public_origin is None or kind is None:
            return
        message = redirect_refusal(configured, target, kind, how)
        self._record(FetchRecord(source_id, target, None, 0, 0.0, False, message, _utcnow()))
        raise FetchError(source_id, message, url=configured)

    def _is_robots_exempt(self, target: httpx.URL) -> bool:
        where = f"{target.host}{target.path}".lower()
        return any(where.startswith(prefix) for prefix in self.robots_exempt)

    def _check_robots(self, verdict: _RobotsVerdict, url: str, source_id: str) -> None:
        """Raise (after recording the refusal) when robots.txt forbids `url` or could not be read."""
        if verdict.unreachable is not None:
            self._record(FetchRecord(source_id, url, None, 0, 0.0, False, verdict.unreachable, _utcnow()))
            # the sentence names the host, which is all a user can act on; .url keeps the page
            raise SiteUnreachable(
                source_id, verdict.unreachable, url=url, unreachable=verdict.unreachable_reason
            )
        if verdict.unreadable is not None:
            why = f"{ROBOTS_UNREADABLE} ({verdict.unreadable}), so the site is treated as disallowed"
            self._record(FetchRecord(source_id, url, None, 0, 0.0, False, why, _utcnow()))
            raise RobotsUnreadable(source_id, f"{why}: {url}", url=url)
        if verdict.rules is not None and not verdict.rules.can_fetch(url, ROBOTS_AGENT):
            self._record(FetchRecord(source_id, url, None, 0, 0.0, False, ROBOTS_ERROR, _utcnow()))
            raise RobotsDisallowed(source_id, f"{ROBOTS_ERROR}: {url}", url=url)

    def _crawl_delay(self, target: httpx.URL, asked: float, source_id: str) -> float:
        """A robots.txt Crawl-delay, capped at MAX_CRAWL_DELAY: logged once per site and client,
        and a warning of every source it slows down (its report says the site asked for more)."""
        if asked <= MAX_CRAWL_DELAY:
            return asked
        origin = f"{target.scheme}://{target.netloc.decode('ascii')}"
        warning = (
            f"{origin}/robots.txt asks for {asked:g} s between requests (Crawl-delay); "
            f"this crawler waits at most {MAX_CRAWL_DELAY:g} s between two requests to a site"
        )
        self._warn(source_id, warning)
        with self._robots_guard:
            first = origin not in self._capped_delays
            self._capped_delays.add(origin)
        if first:
            log.warning(
                "%s/robots.txt asks for %g s between requests (Crawl-delay); this crawler waits at "
                "most %g s between two requests to a site, so the site gets one request a minute at most",
                origin,
                asked,
                MAX_CRAWL_DELAY,
            )
        return MAX_CRAWL_DELAY

    def _warn(self, source_id: str, warning: str) -> None:
        """Keep `warning` for `source_id`'s report (`drain_warnings`), once."""
        with self._records_lock:
            self._source_warnings.setdefault(source_id, {})[redact(warning)] = None

    @contextmanager
    def _connection_slot(self, host: str, budget: _WaitBudget | None = None) -> Iterator[None]:
        """arXiv allows one connection at a time: hold its lock for a whole request and its
        retries. Waiting for it draws on `budget`: _QueuedTooLong when the lock stays taken
        for all that is left."""
        if host.lower() not in self.arxiv_hosts:
            yield
            return
        left = budget.left if budget is not None else -1.0  # -1: wait as long as it takes
        started = time.monotonic()  # the lock waits in real time, whatever self._clock says
        if not self._arxiv_lock.acquire(timeout=left):
            raise _QueuedTooLong(ARXIV_LIMITER_KEY, None, left)
        try:
            if budget is not None:
                budget.take(min(budget.left, time.monotonic() - started))
            yield
        finally:
            self._arxiv_lock.release()

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * (2**attempt)))

    def _record(self, record: FetchRecord) -> None:
        # stored and shown (`sources check`, the fetches table): never with a URL's credentials
        record = dataclasses.replace(
            record, url=redact_url(record.url), error=redact(record.error) if record.error else None
        )
        with self._records_lock:
            self.records.append(record)
        if self._on_record is not None:
            try:
                self._on_record(record)
            except Exception:
                # Losing one bookkeeping row must not turn a good fetch into a failed one.
                log.exception("on_record failed for %s", record.url)

    def _fetch_with_retries(
        self,
        url: str,
        source_id: str,
        politeness: Politeness,
        min_interval: float,
        headers: Mapping[str, str] | None,
        budget: _WaitBudget,
        sink: BinaryIO | None = None,
        progress: Callable[[int, int | None], None] | None = None,
        http: httpx.Client | None = None,
    ) -> RawPage:
        attempts = self.max_retries + 1
        transient: list[str] = []  # what each retried attempt met, for the source's report
        for attempt in range(attempts):
            is_last = attempt == attempts - 1
            state = _RequestState(min_interval, budget=budget)
            fetched_at = _utcnow()
            started = self._clock()

            def elapsed_ms(state: _RequestState = state, started: float = started) -> float:
                return max(0.0, (self._clock() - started - state.waited) * 1000.0)

            def fail(
                status: int | None,
                size: int,
                message: str,
                fetched_at: dt.datetime = fetched_at,
                with_url: bool = True,
                unreachable: Unreachable | None = None,
            ) -> FetchError:
                """Record the final failure of this request and make its error."""
                self._record(
                    FetchRecord(source_id, url, status, size, elapsed_ms(), False, message, fetched_at)
                )
                detail = f"{message}: {url}" if with_url else message
                return FetchError(source_id, detail, url=url, status=status, unreachable=unreachable)

            try:
                page = self._send(
                    url,
                    source_id,
                    politeness.timeout,
                    politeness.max_bytes,
                    headers,
                    state,
                    sink=sink,
                    progress=progress,
                    http=http,
                )
            except _QueuedTooLong as exc:
                raise fail(None, 0, exc.message(self.max_total_wait)) from None
            except _Refused as exc:
                raise fail(exc.status, 0, exc.message) from None
            except _TooLarge as exc:
                if exc.declared is not None:
                    message = (
                        f"response declares {exc.declared} bytes, "
                        f"more than the {politeness.max_bytes}-byte cap"
                    )
                else:
                    message = f"response larger than the {politeness.max_bytes}-byte cap"
                raise fail(exc.status, exc.size, message) from None
            except _TooSlow as exc:
                # Not retried: the overrun already cost deadline_factor x timeout, and a server
                # that slow is rarely faster a few seconds later.
                so_far = "its headers not complete" if exc.in_headers else f"{exc.size} bytes so far"
                message = (
                    f"gave up after {exc.elapsed:.0f} s: the response was still arriving "
                    f"({so_far}; the limit is {self.deadline_factor:g} x the "
                    f"{politeness.timeout:g} s timeout)"
                )
                raise fail(exc.status, exc.size, message) from None
            except httpx.RequestError as exc:
                reason = connection_failure(exc)
                if isinstance(exc, httpx.ConnectError) and reason is not None:
                    # DNS, refused, no network: one more try at most (CONNECT_FAILURE_ATTEMPTS),
                    # reported as a sentence naming the host (it is not the URL that failed)
                    limit = min(attempts, CONNECT_FAILURE_ATTEMPTS)
                    target = httpx.URL(url)
                    host, port = target.host, _port_of(target)
                    if attempt >= limit - 1:
                        message = unreachable_message(host, exc, port=port, attempts=attempt + 1)
                        raise fail(None, 0, message, with_url=False, unreachable=reason) from exc
                    failure = unreachable_message(host, exc, port=port)
                    retries = limit - 1
                    transient.append(str(reason))
                else:
                    failure = f"{type(exc).__name__}: {exc}".rstrip(": ")
                    retries = self.max_retries
                    transient.append(type(exc).__name__)
                    if is_last:
                        raise fail(None, 0, f"{failure} (after {attempts} attempts)") from exc
                delay = self._backoff(attempt)
                if not budget.take(delay):
                    message = f"{failure}; {self._out_of_budget(budget, attempt)}"
                    raise fail(None, 0, message, unreachable=reason) from exc
                self._record(
                    FetchRecord(
                        source_id,
                        url,
                        None,
                        0,
                        elapsed_ms(),
                        False,
                        f"{failure}; retry {attempt + 1}/{retries} in {delay:.1f} s",
                        fetched_at,
                    )
                )
                self._sleep(delay)
                continue

            record = FetchRecord(
                source_id,
                url,
                page.status,
                len(page.content) if sink is None else sink.tell(),
                elapsed_ms(),
                page.from_cache,
                None,
                fetched_at,
            )
            if not _is_retryable(page.status):
                self._record(_with_error(record, f"HTTP {page.status}" if page.status >= 400 else None))
                if transient:
                    self._tell_retries(source_id, url, transient)
                return page
            if is_last:
                self._record(_with_error(record, f"HTTP {page.status}, gave up after {attempts} attempts"))
                raise HTTPStatusError(
                    source_id, f"HTTP {page.status} after {attempts} attempts: {url}", page=page
                )
            asked = _retry_after(page.header("retry-after"), _utcnow())
            # The server's Retry-After wins over our own schedule; otherwise exponential, capped.
            delay = asked if asked is not None else self._backoff(attempt)
            if asked is not None and asked > self.max_retry_after:
                why = f"the server asked to wait {asked:.0f} s; gave up"
            elif not budget.take(delay):
                why = (
                    f"the server asked to wait {asked:.0f} s again; gave up after {budget.spent:.0f} s of waiting"
                    if asked is not None
                    else self._out_of_budget(budget, attempt)
                )
            else:
                why = None
            if why is not None:
                self._record(_with_error(record, f"HTTP {page.status}: {why}"))
                raise HTTPStatusError(source_id, f"HTTP {page.status}: {why}: {url}", page=page)
            self._record(
                _with_error(
                    record, f"HTTP {page.status}; retry {attempt + 1}/{self.max_retries} in {delay:.1f} s"
                )
            )
            transient.append(f"HTTP {page.status}")
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _tell_retries(self, source_id: str, url: str, transient: list[str]) -> None:
        """A request that was answered only after retries: its source's report says so (a flaky
        site is worth knowing of before it fails outright), and the log at INFO (the report
        is where a user reads it; the console shows the report)."""
        count = f"{len(transient)} {'retry' if len(transient) == 1 else 'retries'}"
        warning = f"answered only after {count} ({', '.join(transient)}): {url}"
        self._warn(source_id, warning)
        log.info("[%s] %s", source_id, redact(warning))

    def _out_of_budget(self, budget: _WaitBudget, attempt: int) -> str:
        return (
            f"gave up after {attempt + 1} attempts: another wait would exceed the "
            f"{self.max_total_wait:g} s budget ({budget.spent:.0f} s already spent waiting)"
        )

    def _send(
        self,
        url: str,
        source_id: str,
        timeout: float,
        max_bytes: int,
        headers: Mapping[str, str] | None,
        state: _RequestState,
        follow_redirects: bool = False,
        sink: BinaryIO | None = None,
        progress: Callable[[int, int | None], None] | None = None,
        keep_head: bool = False,
        http: httpx.Client | None = None,
    ) -> RawPage:
        """One request (possibly answered by the cache), body read under the size cap and deadline.

        With a `sink` the body is streamed into it (from its start: a retry rewrites it)
        instead of being held in memory, and `progress(done, total)` follows the transfer.
        With `keep_head` a body over the cap is read up to it and handed over in _TooLarge.head.
        """
        if sink is not None:
            sink.seek(0)
            sink.truncate()
        started = self._clock()
        deadline = timeout * self.deadline_factor
        state.deadline = deadline

        def check_deadline(status: int, size: int) -> None:
            # Checked as data arrives; httpx's own timeout bounds the gap between two checks.
            elapsed = self._clock() - started - state.waited  # time queued in the limiter is free
            if elapsed > deadline and size < MIN_BODY_RATE * elapsed:
                raise _TooSlow(status, size, elapsed)

        with (http or self._http).stream(
            "GET",
            url,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(timeout),
            follow_redirects=follow_redirects,
            extensions={_STATE_EXTENSION: state},
        ) as response:
            check_deadline(response.status_code, 0)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes and not keep_head:
                raise _TooLarge(response.status_code, 0, declared=int(declared))
            coding = _content_coding(response.status_code, response.headers)
            chunks: list[bytes] = []
            size = 0
            if response.is_stream_consumed:  # made whole in memory (a MockTransport's), and decoded
                wire, coding = _Counted([response.content]), None
            else:
                wire = _Counted(response.iter_raw())
            total = int(declared) if declared.isdigit() else None
            # Both the decoded and the wire bytes are capped, so a small gzip bomb is caught as it
            # inflates, and so is an endless tail after its end; leaving the block closes the
            # connection without reading the rest.
            for chunk in _inflate(wire, coding):
                size += len(chunk)
                if size > max_bytes or wire.size > max_bytes:
                    head = (b"".join(chunks) + chunk)[:max_bytes] if keep_head else None
                    raise _TooLarge(response.status_code, size, head=head)
                check_deadline(response.status_code, wire.size)
                if not chunk:
                    continue
                if sink is None or response.status_code >= 300:
                    chunks.append(chunk)
                else:
                    sink.write(chunk)
                    if progress is not None:
                        progress(size, total)
            caching = response.extensions.get("caching") or {}
            return RawPage(
                source_id=source_id,
                url=str(response.url),
                status=response.status_code,
                content=b"".join(chunks),
                content_type=response.headers.get("content-type", ""),
                fetched_at=_utcnow(),
                from_cache=bool(caching.get("from_cache", False)),
                headers=tuple(
                    (key, value)
                    for key, value in response.headers.multi_items()
                    # the body is already decoded: its wire length and encoding no longer apply
                    if not (key.lower() in _WIRE_HEADERS and "content-encoding" in response.headers)
                ),
            )

    def _robots_for(
        self, target: httpx.URL, source_id: str, politeness: Politeness, budget: _WaitBudget | None = None
    ) -> _RobotsVerdict:
        """What the URL's origin's robots.txt says, fetched once per client (so once per run)."""
        origin = f"{target.scheme}://{target.netloc.decode('ascii')}"
        with self._robots_guard:
            if origin in self._robots:
                return self._robots[origin]
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        # Per-origin lock: concurrent first requests to one site fetch robots.txt once.
        with lock:
            if origin in self._robots:
                return self._robots[origin]
            verdict = self._fetch_robots(origin, target.host, source_id, politeness, budget)
            if verdict.unreadable is None and verdict.unreachable is None:
                # an unreadable robots.txt (a 503, a network blip) is asked again by the next
                # URL of the site, so one failure does not shut the site for the whole run
                with self._robots_guard:
                    self._robots[origin] = verdict
            return verdict

    def _fetch_robots(
        self,
        origin: str,
        host: str,
        source_id: str,
        politeness: Politeness,
        budget: _WaitBudget | None = None,
    ) -> _RobotsVerdict:
        url = f"{origin}/robots.txt"
        state = _RequestState(politeness.min_interval, budget=budget)
        fetched_at = _utcnow()
        started = self._clock()
        status: int | None = None
        size = 0
        error: str | None = None
        verdict = _RobotsVerdict()  # allow all
        cached = False
        with self._connection_slot(host, budget):
            try:
                page = self._send(
                    url,
                    source_id,
                    politeness.timeout,
                    ROBOTS_MAX_BYTES,  # the site's file, not the source's pages: its own cap
                    None,
                    state,
                    follow_redirects=True,
                    keep_head=True,
                )
                status, size, cached = page.status, len(page.content), page.from_cache
                verdict = _robots_verdict(page.status, page.content)
            except _TooLarge as exc:
                status, size = exc.status, exc.size
                head = _whole_lines(exc.head or b"")
                verdict = _robots_verdict(exc.status, head)
                error = f"robots.txt larger than the {ROBOTS_MAX_BYTES}-byte cap" + (
                    f": only its first {len(head)} bytes (whole lines) were parsed"
                    if verdict.rules is not None
                    else ""
                )
                log.warning("%s: %s", redact_url(url), error)
                if verdict.rules is not None:
                    # the record and the log are read by few: each source's report says it too
                    verdict = dataclasses.replace(verdict, warning=f"{origin}/{error}")
            except _TooSlow as exc:
                status, size = exc.status, exc.size
                verdict = _RobotsVerdict(unreadable=f"still arriving after {exc.elapsed:.0f} s")
            except _Refused as exc:  # stacked codings, a redirect to a non-public address
                if (
                    isinstance(exc, _AddressRefused)
                    and exc.host == httpx.URL(origin).raw_host.decode("ascii").lower()
                ):
                    raise  # the site itself may not be reached, not only its robots.txt
                status, verdict = exc.status, _RobotsVerdict(unreadable=exc.message)
            except httpx.TransportError as exc:
                port = _port_of(httpx.URL(origin))
                verdict = _RobotsVerdict(
                    unreachable=unreachable_message(host, exc, port=port),
                    unreachable_reason=unreachable_reason(exc),
                )
                error = verdict.unreachable
            except httpx.RequestError as exc:  # too many redirects, an undecodable body
                verdict = _RobotsVerdict(unreadable=f"{type(exc).__name__}: {exc}".rstrip(": "))
        if verdict.unreadable is not None:
            error = f"{ROBOTS_UNREADABLE} ({verdict.unreadable}): every URL of the site is disallowed"
        elapsed = max(0.0, (self._clock() - started - state.waited) * 1000.0)
        self._record(FetchRecord(source_id, url, status, size, elapsed, cached, error, fetched_at))
        return verdict


def _robots_verdict(status: int, content: bytes) -> _RobotsVerdict:
    """RFC 9309 §2.3.1: rules from a 2xx; unreadable on 429/5xx; any other status allows all."""
    if 200 <= status < 300:
        return _RobotsVerdict(Protego.parse(content.decode("utf-8", errors="replace")))
    if status == 429 or status >= 500:
        return _RobotsVerdict(unreadable=f"HTTP {status}")
    return _RobotsVerdict()  # a 4xx; a redirect loop raises before reaching here


def _whole_lines(head: bytes) -> bytes:
    """`head` up to its last line end (LF, CR or CRLF), so a rule cut in half is not parsed."""
    return head[: max(head.rfind(b"\n"), head.rfind(b"\r")) + 1]


def _with_error(record: FetchRecord, error: str | None) -> FetchRecord:
    return dataclasses.replace(record, error=error)
