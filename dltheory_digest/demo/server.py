"""The demo's local web: the bundled snapshot of the product's sources on 127.0.0.1.

`SnapshotServer` serves `snapshot/` as a small static site (with validators, so the real
HTTP cache revalidates and gets 304s) plus `/api/query`, a stand-in for the arXiv API that
answers `id_list` and `search_query` from the snapshot's Atom entries in the API's own
2026 format, error feed and empty result included. The demo therefore runs the real
fetch, cache, politeness, robots.txt and parsing code, only against another host.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import re
import string
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from lxml import etree
from rapidfuzz import fuzz

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshot"
SOURCES_TEMPLATE = Path(__file__).resolve().parent / "sources.yaml"
ENTRIES_FILE = SNAPSHOT_DIR / "arxiv_api" / "entries.atom.xml"

DEMO_WEEK = "2026-W47"
# Every snapshot file was "last modified" when the snapshot was taken: stable validators.
SNAPSHOT_TAKEN = dt.datetime(2026, 11, 20, 6, 0, 0, tzinfo=dt.UTC)

# By file suffix, longest first (".rss.xml" and ".atom.xml" keep the files under the package-data globs).
CONTENT_TYPES: Mapping[str, str] = {
    ".rss.xml": "application/rss+xml; charset=utf-8",
    ".atom.xml": "application/atom+xml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",  # crossref/works/<doi>.json: Crossref's answer for a DOI a post cites
}
API_CONTENT_TYPE = "application/atom+xml; charset=utf-8"

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
_A = f"{{{ATOM_NS}}}"
_OS = f"{{{OPENSEARCH_NS}}}"
# Namespace order and prefixes as the 2026 API writes them.
NSMAP = {"opensearch": OPENSEARCH_NS, "arxiv": ARXIV_NS, None: ATOM_NS}

# Id shapes the API accepts: 2106.10165, 2106.10165v2, 1806.07572, math/0309136v1, cond-mat.dis-nn/0001001.
_NEW_ID = re.compile(r"^(?P<id>\d{4}\.\d{4,5})(?:v(?P<version>\d+))?$")
_OLD_ID = re.compile(r"^(?P<id>[a-z][a-z-]*(?:\.[A-Za-z-]+)?/\d{7})(?:v(?P<version>\d+))?$")
_ABS_ID = re.compile(r"/abs/(?P<id>.+?)v(?P<version>\d+)$")
# search_query clauses: field:"a phrase" or field:word, joined by AND / OR / ANDNOT.
_CLAUSE = re.compile(r'(?P<field>[a-z_]+):(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s()"]+))')
_BOOLEAN = re.compile(r"\b(AND|OR|ANDNOT)\b")
_FIELDS = frozenset({"ti", "au", "abs", "co", "jr", "cat", "rn", "id", "all"})
# Title clauses also match near-identical titles, as arXiv's stemming/stop-word search does.
TITLE_SIMILARITY = 90.0
MAX_RESULTS_CAP = 2000


def _fold(text: str) -> str:
    """Lower case, accents off, punctuation to spaces: the comparison form of titles and names."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", plain.lower()).split())


@dataclass(frozen=True, slots=True)
class _Entry:
    arxiv_id: str
    version: int
    title: str
    authors: tuple[str, ...]
    summary: str
    categories: tuple[str, ...]
    published: str
    updated: str
    element: etree._Element

    def text_of(self, field: str) -> str:
        if field == "ti":
            return self.title
        if field == "au":
            return " ; ".join(self.authors)
        if field == "abs":
            return self.summary
        if field == "cat":
            return " ".join(self.categories)
        if field == "id":
            return self.arxiv_id
        return " ".join((self.title, self.summary, *self.authors))


def load_entries(path: Path = ENTRIES_FILE) -> dict[str, _Entry]:
    """The snapshot's API entries by arXiv id (without version), in file order."""
    root = etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    entries: dict[str, _Entry] = {}
    for element in root.iterfind(_A + "entry"):
        match = _ABS_ID.search((element.findtext(_A + "id") or "").strip())
        if match is None:
            raise ValueError(f"{path}: entry without a versioned abs id")
        element.tail = None
        entries[match.group("id")] = _Entry(
            arxiv_id=match.group("id"),
            version=int(match.group("version")),
            title=" ".join((element.findtext(_A + "title") or "").split()),
            authors=tuple(
                " ".join((a.findtext(_A + "name") or "").split()) for a in element.iterfind(_A + "author")
            ),
            summary=" ".join((element.findtext(_A + "summary") or "").split()),
            categories=tuple(c.get("term", "") for c in element.iterfind(_A + "category")),
            published=element.findtext(_A + "published") or "",
            updated=element.findtext(_A + "updated") or "",
            element=element,
        )
    return entries


class ApiError(ValueError):
    """A request the arXiv API answers with its error feed (HTTP 400)."""

    def __init__(self, fragment: str, message: str) -> None:
        super().__init__(message)
        self.fragment = fragment
        self.message = message


def _parse_id(raw: str) -> tuple[str, int | None]:
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.match(raw)
        if match:
            version = match.group("version")
            return match.group("id"), int(version) if version else None
    raise ApiError(f"incorrect_id_format_for_{raw}", f"incorrect id format for {raw}")


def _clause_matches(entry: _Entry, field: str, value: str, phrase: bool) -> float:
    """0 for no match, else a relevance score (title similarity for `ti`)."""
    if field not in _FIELDS:
        return 0.0
    wanted = _fold(value)
    if not wanted:
        return 0.0
    haystack = _fold(entry.text_of(field))
    if field == "cat":
        return 100.0 if value.lower() in (c.lower() for c in entry.categories) else 0.0
    if field == "au":
        # au:hanin, au:"Boris Hanin", au:Jacot_A (arXiv's surname_initial form)
        surname = _fold(value.split("_")[0]) if "_" in value else wanted
        names = [_fold(name) for name in entry.authors]
        return 100.0 if any(surname in name.split() or surname == name for name in names) else 0.0
    if re.search(rf"\b{re.escape(wanted)}\b", haystack):
        return 100.0 if field != "ti" else max(fuzz.ratio(wanted, haystack), 95.0)
    if field == "ti" and phrase:
        # a whole title spelled slightly differently ("Visualising ..."), never a loose word overlap
        score = fuzz.ratio(wanted, haystack)
        return score if score >= TITLE_SIMILARITY else 0.0
    return 0.0


def search(entries: Iterable[_Entry], query: str) -> list[tuple[_Entry, float]]:
    """Entries matching an arXiv `search_query`, best first (ties keep snapshot order)."""
    parts = _BOOLEAN.split(query.replace("(", " ").replace(")", " "))
    clauses: list[tuple[str, list[tuple[str, str, bool]]]] = []
    operator = "AND"
    for part in parts:
        if part in ("AND", "OR", "ANDNOT"):
            operator = part
            continue
        found = [(m["field"], m["phrase"] if m["phrase"] is not None else m["word"], m["phrase"] is not None)
                 for m in _CLAUSE.finditer(part)]  # fmt: skip
        if not found and part.strip():
            found = [("all", word, False) for word in part.split()]  # bare words search everything
        if found:
            clauses.append((operator, found))
    if not clauses:
        return []
    scored: list[tuple[_Entry, float]] = []
    for entry in entries:
        ok: bool | None = None
        total = 0.0
        for operator, terms in clauses:
            scores = [_clause_matches(entry, field, value, phrase) for field, value, phrase in terms]
            hit = all(scores)
            if ok is None:
                ok = hit
            elif operator == "AND":
                ok = ok and hit
            elif operator == "OR":
                ok = ok or hit
            else:  # ANDNOT
                ok = ok and not hit
            if hit and operator != "ANDNOT":
                total += sum(scores) / len(scores)
        if ok:
            scored.append((entry, total))
    scored.sort(key=lambda pair: -pair[1])
    return scored


def _query_id(text: str) -> str:
    # The API's feed id is an opaque hash of the query: 27 URL-safe base64 characters.
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii").rstrip("=")


def _feed(
    title: str, link: str | None, feed_id: str, per_page: int, total: int, start: int
) -> etree._Element:
    root = etree.Element(_A + "feed", nsmap=NSMAP)
    etree.SubElement(root, _A + "id").text = feed_id
    etree.SubElement(root, _A + "title").text = title
    etree.SubElement(root, _A + "updated").text = SNAPSHOT_TAKEN.strftime("%Y-%m-%dT%H:%M:%SZ")
    if link is not None:
        etree.SubElement(root, _A + "link", href=link, type="application/atom+xml")
    etree.SubElement(root, _OS + "itemsPerPage").text = str(per_page)
    etree.SubElement(root, _OS + "totalResults").text = str(total)
    etree.SubElement(root, _OS + "startIndex").text = str(start)
    return root


def _serialize(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    body: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return body + b"\n"


def error_feed(fragment: str, message: str) -> bytes:
    root = _feed("arXiv Search Results", None, "https://arxiv.org/", 1, 1, 0)
    entry = etree.SubElement(root, _A + "entry")
    url = f"https://arxiv.org/api/errors#{fragment}"
    etree.SubElement(entry, _A + "id").text = url
    etree.SubElement(entry, _A + "title").text = "Error"
    etree.SubElement(entry, _A + "updated").text = SNAPSHOT_TAKEN.strftime("%Y-%m-%dT%H:%M:%SZ")
    etree.SubElement(entry, _A + "link", href=url, rel="alternate", type="text/html")
    etree.SubElement(entry, _A + "summary").text = message
    author = etree.SubElement(entry, _A + "author")
    etree.SubElement(author, _A + "name").text = "arXiv api core"
    return _serialize(root)


def _at_version(entry: _Entry, version: int | None) -> etree._Element:
    """A copy of the entry; an older version asked for by id keeps the metadata, with that version's links."""
    element = copy.deepcopy(entry.element)
    if version is None or version == entry.version:
        return element
    old, new = f"{entry.arxiv_id}v{entry.version}", f"{entry.arxiv_id}v{version}"
    id_node = element.find(_A + "id")
    if id_node is not None and id_node.text:
        id_node.text = id_node.text.replace(old, new)
    for link in element.iterfind(_A + "link"):
        link.set("href", link.get("href", "").replace(old, new))
    updated = element.find(_A + "updated")
    if version == 1 and updated is not None:
        updated.text = entry.published  # a first version was last updated when it was submitted
    return element


def _int_param(params: Mapping[str, list[str]], name: str, default: int) -> int:
    raw = (params.get(name) or [str(default)])[0].strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(f"{name}_must_be_an_integer", f"{name} must be an integer") from None
    if value < 0:
        raise ApiError(f"{name}_must_be_non-negative", f"{name} must be non-negative")
    return value


def api_response(entries: Mapping[str, _Entry], query_string: str) -> tuple[int, bytes]:
    """(HTTP status, Atom body) for one `/api/query` request, as the arXiv API would answer it."""
    params = parse_qs(query_string, keep_blank_values=True)
    search_query = (params.get("search_query") or [""])[0].strip()
    raw_ids = [part.strip() for part in (params.get("id_list") or [""])[0].split(",") if part.strip()]
    try:
        start = _int_param(params, "start", 0)
        max_results = _int_param(params, "max_results", 10)
        if max_results > MAX_RESULTS_CAP:
            raise ApiError("max_results_too_large", f"max_results must be at most {MAX_RESULTS_CAP}")
        wanted = [_parse_id(raw) for raw in raw_ids]
    except ApiError as exc:
        return HTTPStatus.BAD_REQUEST, error_feed(exc.fragment, exc.message)

    if wanted:
        found = [(entries[aid], version) for aid, version in wanted
                 if aid in entries and (version is None or version <= entries[aid].version)]  # fmt: skip
        if search_query:
            allowed = {entry.arxiv_id for entry, _ in search(entries.values(), search_query)}
            found = [(entry, version) for entry, version in found if entry.arxiv_id in allowed]
        results = found
    elif search_query:
        results = [(entry, None) for entry, _ in search(entries.values(), search_query)]
        sort_by = (params.get("sortBy") or [""])[0]
        if sort_by in ("submittedDate", "lastUpdatedDate"):
            attr = "published" if sort_by == "submittedDate" else "updated"
            descending = (params.get("sortOrder") or ["descending"])[0] != "ascending"
            results.sort(key=lambda pair: getattr(pair[0], attr), reverse=descending)
    else:
        results = []

    id_text = ",".join(raw_ids)
    title = (
        f"arXiv Query: search_query={search_query}&id_list={id_text}&start={start}&max_results={max_results}"
    )
    link = (
        f"https://arxiv.org/api/query?search_query={quote(search_query, safe=':, ')}"
        f"&start={start}&max_results={max_results}&id_list={id_text}"
    )
    page = results[start : start + max_results]
    root = _feed(title, link, f"https://arxiv.org/api/{_query_id(title)}", max_results, len(results), start)
    for entry, version in page:
        root.append(_at_version(entry, version))
    return HTTPStatus.OK, _serialize(root)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _not_modified(headers: Mapping[str, str], etag: str, last_modified: dt.datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since (keys lower-case)."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        return last_modified <= since
    return False


def content_type_of(path: Path) -> str:
    return next(
        (kind for suffix, kind in CONTENT_TYPES.items() if path.name.endswith(suffix)),
        "application/octet-stream",
    )


def resolve_path(root: Path, url_path: str) -> Path | None:
    """URL path -> snapshot file: exact name, name + a known suffix, or the folder's index file."""
    relative = unquote(url_path).lstrip("/")
    base = (root / relative).resolve()
    if not base.is_relative_to(root.resolve()):
        return None
    candidates = [base] if base.is_file() else []
    if url_path.endswith("/") or base.is_dir():
        candidates += [base / f"index{suffix}" for suffix in CONTENT_TYPES]
    else:
        candidates += [base.with_name(base.name + suffix) for suffix in CONTENT_TYPES]
    return next((path for path in candidates if path.is_file()), None)


@dataclass(frozen=True, slots=True)
class ServedRequest:
    method: str
    path: str
    status: int
    headers: tuple[tuple[str, str], ...]


class _Handler(BaseHTTPRequestHandler):
    server: _SnapshotHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "dltheory-digest-snapshot/1"

    def do_GET(self) -> None:  # http.server dispatches on the method name
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        return  # the demo prints its own summary; no per-request noise on stderr

    def _answer(self, send_body: bool) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/api/query":
            status, body = api_response(self.server.entries, parts.query)
            content_type = API_CONTENT_TYPE
        else:
            found = resolve_path(self.server.root, parts.path)
            if found is None:
                status, body, content_type = (
                    HTTPStatus.NOT_FOUND,
                    b"not in the snapshot\n",
                    CONTENT_TYPES[".txt"],
                )
            else:
                status, body = HTTPStatus.OK, found.read_bytes()
                content_type = content_type_of(found)
        self._send(int(status), body, content_type, send_body)

    def _send(self, status: int, body: bytes, content_type: str, send_body: bool) -> None:
        etag = _etag(body)
        headers = {key.lower(): value for key, value in self.headers.items()}
        if status == HTTPStatus.OK and _not_modified(headers, etag, SNAPSHOT_TAKEN):
            status, body = HTTPStatus.NOT_MODIFIED, b""
        self.server.record(ServedRequest(self.command, self.path, status, tuple(headers.items())))
        self.send_response(status)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Content-Length", "0")
        if status in (HTTPStatus.OK, HTTPStatus.NOT_MODIFIED):
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", format_datetime(SNAPSHOT_TAKEN, usegmt=True))
            # stored by the cache but revalidated on every use: a rerun costs a 304
            self.send_header("Cache-Control", "max-age=0")
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)


class _SnapshotHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, root: Path, entries: Mapping[str, _Entry], on_request: Callable[[ServedRequest], None]
    ):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.entries = entries
        self.record = on_request


class SnapshotServer:
    """The bundled snapshot on 127.0.0.1 at a free port, for the lifetime of a `with` block.

    >>> with SnapshotServer() as server:
    ...     url = server.base_url + "/robots.txt"
    """

    def __init__(self, root: Path = SNAPSHOT_DIR) -> None:
        self.root = root
        self._entries = load_entries(root / "arxiv_api" / "entries.atom.xml")
        self._requests: list[ServedRequest] = []
        self._lock = threading.Lock()
        self._httpd: _SnapshotHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the snapshot server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> tuple[ServedRequest, ...]:
        """Every request answered so far (method, path, status, request headers)."""
        with self._lock:
            return tuple(self._requests)

    def _record(self, request: ServedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def start(self) -> SnapshotServer:
        if self._httpd is None:
            self._httpd = _SnapshotHTTPServer(self.root, self._entries, self._record)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="snapshot-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._httpd = self._thread = None

    def __enter__(self) -> SnapshotServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def write_demo_sources(base_url: str, path: Path) -> Path:
    """Write the demo's sources.yaml (every URL on `base_url`) to `path` and return it."""
    template = string.Template(SOURCES_TEMPLATE.read_text(encoding="utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template.substitute(base_url=base_url.rstrip("/")), encoding="utf-8")
    return path


def demo_settings_overrides(base_url: str, data_dir: Path, output_dir: Path) -> dict[str, Any]:
    """`Settings` fields for a demo run: its own store, sources and the local arXiv and Crossref APIs."""
    data_dir = Path(data_dir)
    return {
        "sources_file": data_dir / "demo-sources.yaml",
        "store_url": f"sqlite:///{(data_dir / 'demo.sqlite').as_posix()}",
        "data_dir": data_dir,
        "output_dir": Path(output_dir),
        "arxiv_api_base": f"{base_url.rstrip('/')}/api/query",
        "crossref_api_base": f"{base_url.rstrip('/')}/crossref/works",
        "timezone": "UTC",
    }
