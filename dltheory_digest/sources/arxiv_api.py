"""`arxiv_api`: the arXiv API (export.arxiv.org/api/query), keyword searches with paging.

One parser reads both Atom dialects the API has served: the pre-2025 one (namespaces
declared on each element, `<title type="html">ArXiv Query...`) and the 2026 one
(namespaces on the root). Errors come back as a feed with a single entry titled
"Error" whose id is `.../api/errors#...`; that becomes `ParseResult.error`, not items.

With a `query` (or `options.search_query`), the source's `url`, when given, is the API
endpoint the query is sent to (a mirror or a local test server); without one, arXiv's.
Entries whose id is not an arXiv id are skipped with a warning naming them; a withdrawn
paper keeps its entry, marked `extra` ("withdrawn", "true").

`id_list_url` and `parse_feed` are also what `dltheory_digest.resolve` uses to fetch
metadata for ids found elsewhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterator, Sequence
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from dltheory_digest.config import SourceSpec
from dltheory_digest.errors import ConfigError, ParseError
from dltheory_digest.ids import abs_url, is_withdrawn, normalize_doi, parse_arxiv_id
from dltheory_digest.models import Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.base import PlanContext, SourceKind, read_entries
from dltheory_digest.weeks import as_utc

API_BASE = "https://export.arxiv.org/api/query"
# arXiv refuses a single call above 2,000 results and a query beyond 30,000.
MAX_PER_CALL = 2000
MAX_PER_QUERY = 30000

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

A_ENTRY = _ATOM + "entry"
A_ID = _ATOM + "id"
A_TITLE = _ATOM + "title"
A_SUMMARY = _ATOM + "summary"
A_AUTHOR = _ATOM + "author"
A_NAME = _ATOM + "name"
A_PUBLISHED = _ATOM + "published"
A_UPDATED = _ATOM + "updated"
A_CATEGORY = _ATOM + "category"
X_PRIMARY = _ARXIV + "primary_category"
X_DOI = _ARXIV + "doi"
X_JOURNAL_REF = _ARXIV + "journal_ref"
X_COMMENT = _ARXIV + "comment"
OS_TOTAL = _OPENSEARCH + "totalResults"

# `<id>http://arxiv.org/abs/1111.2011v2</id>`, also old style `.../abs/cond-mat/0603029v1`;
# what follows `/abs/` must still pass `parse_arxiv_id`
_ABS_ID = re.compile(r"/abs/(?P<id>.+)$")

# Entities stay unresolved and nothing is fetched from the network while parsing; libxml2's
# size limits stay on (the fetcher caps responses anyway).
XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


def collapse(text: str | None) -> str:
    """Hard-wrapped Atom text (titles and abstracts wrap at ~80 columns) -> one line."""
    if not text:
        return ""
    # Only line breaks need the split (XML parsing already turned \r\n into \n); most fields
    # (names, one-line abstracts) have none, and a stray double space is harmless.
    if "\n" in text:
        return " ".join(text.split())
    return text.strip()


def parse_iso(text: str | None) -> dt.datetime | None:
    """An Atom date -> UTC; None when it is no date (year 0, 31 February, offset +99:99) or has
    no UTC moment (9999-12-31T23:59:59-14:00)."""
    if not text:
        return None
    try:
        # arXiv writes "Z"; a mirror may write an offset or none
        return as_utc(dt.datetime.fromisoformat(text.strip()))
    except (ValueError, OverflowError):
        return None


def load_xml(content: bytes, source_id: str, what: str) -> etree._Element:
    try:
        return etree.fromstring(content, XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(source_id, f"not a readable {what}: {exc}") from None


class RecordStream:
    """The `tags` elements of a document, each handed over once complete and then emptied.

    Streaming keeps only one record's subtree alive, which makes a 2,000-item listing
    about a quarter cheaper to read than building the whole tree first. After the
    iteration, `root` is the document element (records emptied, header elements intact).
    """

    def __init__(self, content: bytes, source_id: str, what: str, tags: tuple[str, ...]) -> None:
        self._content, self._source_id, self._what, self._tags = content, source_id, what, tags
        self.root: etree._Element | None = None

    def __iter__(self) -> Iterator[etree._Element]:
        events = etree.iterparse(
            io.BytesIO(self._content),
            events=("end",),
            tag=self._tags,
            resolve_entities=False,
            no_network=True,
            remove_comments=True,
        )
        try:
            for _, element in events:
                yield element
                element.clear(keep_tail=True)
            self.root = events.root
        except etree.XMLSyntaxError as exc:
            raise ParseError(self._source_id, f"not a readable {self._what}: {exc}") from None


def _shown(text: str, limit: int = 100) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


class _ApiError(str):
    """The message of arXiv's error entry, which stands where results would."""


def _entry_item(entry: etree._Element, source_id: str, position: int) -> Item | str:
    """One API entry -> a paper item, arXiv's error message (`_ApiError`), or why the entry
    was skipped (naming it: every skip is its own warning, also when two entries lack an id the
    same way)."""
    # one pass over the children; repeated elements go to lists, the rest to `text`
    text: dict[str, str | None] = {}
    authors: list[str] = []
    categories: list[str] = []
    primary = None
    for child in entry:
        tag = child.tag
        if tag == A_AUTHOR:
            # <name> comes first; <arxiv:affiliation> may follow
            name = child[0] if len(child) else None
            if name is not None and name.tag == A_NAME and name.text:
                authors.append(name.text.strip())
        elif tag == A_CATEGORY:
            term = child.get("term")
            if term:
                categories.append(term)
        elif tag == X_PRIMARY:
            primary = child.get("term")
        else:
            text[tag] = child.text
    raw_id = (text.get(A_ID) or "").strip()
    title = collapse(text.get(A_TITLE))
    match = _ABS_ID.search(raw_id)
    parsed = parse_arxiv_id(match.group("id")) if match else None
    if parsed is None:
        message = _error_message(entry)
        if message is not None:
            return _ApiError(message)
        why = f"its id {_shown(raw_id)} is not an arXiv abs URL" if raw_id else "it has no id"
        return f"entry {position} {_shown(title)} skipped: {why}"
    arxiv_id, version = parsed
    doi = text.get(X_DOI)
    summary = collapse(text.get(A_SUMMARY))
    comment = collapse(text.get(X_COMMENT)) or None
    return Item(
        source_id=source_id,
        kind=ItemKind.PAPER,
        title=title,
        url=abs_url(arxiv_id),
        arxiv_id=arxiv_id,
        version=version,
        doi=normalize_doi(doi) if doi else None,
        authors=tuple(authors),
        lang="en",
        text=summary,
        published=parse_iso(text.get(A_PUBLISHED)),
        updated=parse_iso(text.get(A_UPDATED)),
        categories=tuple(categories),
        primary_category=primary or (categories[0] if categories else None),
        comment=comment,
        journal_ref=collapse(text.get(X_JOURNAL_REF)) or None,
        extra=(("withdrawn", "true"),) if is_withdrawn(comment, summary) else (),
    )


def _entry_name(position: int, entry: etree._Element) -> str:
    """How a warning names an entry: its position and its id, else its title."""
    label = (entry.findtext(A_ID) or "").strip() or collapse(entry.findtext(A_TITLE))
    return f"entry {position} {_shown(label, 60)}" if label else f"entry {position}"


def _error_message(entry: etree._Element) -> str | None:
    """The message of arXiv's error entry (id `.../api/errors#...`, title "Error"), else None."""
    if (
        "/api/errors" not in (entry.findtext(A_ID) or "")
        and (entry.findtext(A_TITLE) or "").strip() != "Error"
    ):
        return None
    return collapse(entry.findtext(A_SUMMARY)) or "unspecified error"


def parse_feed(content: bytes, source_id: str) -> ParseResult:
    """An API response body -> paper items, total results, or the API's error message.

    No paging here: `parse` (the kind) adds `next_urls`, knowing the request URL.
    """
    stream = RecordStream(content, source_id, "arXiv API feed", (A_ENTRY,))
    items: list[Item] = []
    errors: list[str] = []
    # each entry is read (or left out) before the stream empties it
    read, warnings = read_entries(
        enumerate(stream, start=1),
        lambda numbered: _entry_item(numbered[1], source_id, numbered[0]),
        source_id=source_id,
        name=lambda numbered: _entry_name(*numbered),
    )
    for item in read:
        if isinstance(item, Item):
            items.append(item)
        elif isinstance(item, _ApiError):
            errors.append(item)
        else:
            warnings.append(item)
    root = stream.root
    if root is None or root.tag != _ATOM + "feed":
        raise ParseError(source_id, f"not an Atom feed (root element {getattr(root, 'tag', None)!r})")
    if errors and not items:
        return ParseResult(error=f"arXiv API error: {'; '.join(errors)}", total_results=0)
    total_text = root.findtext(OS_TOTAL)
    total = int(total_text) if total_text and total_text.strip().isdigit() else None
    if not items and not warnings:
        warnings.append("the arXiv API returned no results for this query")
    return ParseResult(items=tuple(items), warnings=tuple(warnings), total_results=total)


def query_url(
    *,
    search_query: str = "",
    id_list: Sequence[str] = (),
    start: int = 0,
    max_results: int = 100,
    sort_by: str | None = None,
    sort_order: str | None = None,
    base: str = API_BASE,
) -> str:
    params: list[tuple[str, str]] = [("search_query", search_query)]
    if id_list:
        params.append(("id_list", ",".join(id_list)))
    params += [("start", str(start)), ("max_results", str(max_results))]
    if sort_by:
        params.append(("sortBy", sort_by))
    if sort_order:
        params.append(("sortOrder", sort_order))
    # ':' and ',' stay readable, as in arXiv's own examples; spaces become '+'.
    return f"{base}?{urlencode(params, safe=':,')}"


def id_list_url(ids: Sequence[str], *, base: str = API_BASE) -> str:
    """Metadata of these ids (latest version unless one is versioned) in one call.

    `max_results` must cover the list: the API's default of 10 would cut it short.
    """
    unique = list(dict.fromkeys(ids))
    return query_url(id_list=unique, max_results=max(len(unique), 1), base=base)


class ArxivApiOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    search_query: str | None = Field(None, description="arXiv search query; defaults to the source's `query`")
    max_results: int = Field(200, ge=1, le=MAX_PER_QUERY, description="results wanted in all pages together")
    page_size: int = Field(100, ge=1, le=MAX_PER_CALL, description="results per request")
    sort_by: Literal["relevance", "lastUpdatedDate", "submittedDate"] = "submittedDate"
    sort_order: Literal["ascending", "descending"] = "descending"
    within_window: bool = Field(
        False, description="only papers submitted (see window_by) in the run's week window (or since --since)"
    )
    # lastUpdatedDate: the week's revisions too (a v2 of an older paper), which the daily RSS
    # listing shows only for the day it is fetched
    window_by: Literal["submittedDate", "lastUpdatedDate"] = Field(
        "submittedDate", description="the date within_window filters on: first version, or latest"
    )


def _options(options: BaseModel) -> ArxivApiOptions:
    return options if isinstance(options, ArxivApiOptions) else ArxivApiOptions.model_validate(options)


def endpoint(spec: SourceSpec, ctx: PlanContext) -> tuple[str, list[tuple[str, str]]]:
    """Where a query goes: the source's `url` when given, else the run's `arxiv_api_base`, else arXiv.

    A query string written in `url` is kept for the parameters the plan does not set itself.
    """
    # PlanContext may carry the settings' arxiv_api_base (a local mirror or test server)
    configured = spec.all_urls[0] if spec.all_urls else ctx.arxiv_api_base or API_BASE
    parts = urlsplit(configured)
    kept = [(key, value) for key, value in parse_qsl(parts.query) if key not in _PLANNED_PARAMS]
    return urlunsplit(parts._replace(query="", fragment="")), kept


_PLANNED_PARAMS = frozenset({"search_query", "id_list", "start", "max_results", "sortBy", "sortOrder"})


def plan(spec: SourceSpec, options: BaseModel, ctx: PlanContext) -> tuple[str, ...]:
    opts = _options(options)
    query = opts.search_query or spec.query
    if not query:
        if spec.all_urls:
            return spec.all_urls
        raise ConfigError(
            f"source {spec.id!r}: field 'query': arxiv_api needs `query` or `options.search_query`",
            source_id=spec.id,
            field="query",
        )
    window = dated_between(ctx, opts.window_by) if opts.within_window else None
    if window:
        query = f"({query}) AND {window}"
    base, kept = endpoint(spec, ctx)
    url = query_url(
        search_query=query,
        start=0,
        max_results=min(opts.page_size, opts.max_results),
        sort_by=opts.sort_by,
        sort_order=opts.sort_order,
        base=base,
    )
    return (f"{url}&{urlencode(kept, safe=':,')}" if kept else url,)


def _gmt_minute(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y%m%d%H%M")


def dated_between(ctx: PlanContext, field: str = "submittedDate") -> str | None:
    """`submittedDate:[YYYYMMDDTTTT TO YYYYMMDDTTTT]` (GMT; or `lastUpdatedDate`) for the window,
    or from `since` to its end.

    arXiv's range includes both ends, while the window [start, end) leaves out its end (the
    next Monday 00:00, which is the next week's): the range stops a minute before it, so a
    paper submitted in that minute is in one week's query only."""
    start = (
        dt.datetime.combine(ctx.since, dt.time(), tzinfo=dt.UTC)
        if ctx.since is not None
        else ctx.window_start
    )
    if start is None:
        return None
    end = ctx.window_end - dt.timedelta(minutes=1) if ctx.window_end else dt.datetime.now(dt.UTC)
    return f"{field}:[{_gmt_minute(start)} TO {_gmt_minute(end)}]"


def next_page_url(
    url: str, total: int | None, returned: int, max_results: int
) -> tuple[str | None, str | None]:
    """The URL of the page after `url`, or None; plus a warning when arXiv stopped early."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    query = dict(params)
    if query.get("id_list"):
        return None, None  # an id_list call is never paged: its size bounds the results
    try:
        start = int(query.get("start", "0"))
        size = int(query.get("max_results", "10"))
    except ValueError:
        return None, None
    limit = min(max_results, total if total is not None else max_results, MAX_PER_QUERY)
    next_start = start + size
    if next_start >= limit:
        return None, None
    if returned == 0:
        # the API occasionally answers a page with nothing although more results exist
        return None, f"arXiv returned an empty page at start={start} of {total} results; paging stopped"
    query["start"] = str(next_start)
    query["max_results"] = str(min(size, limit - next_start))
    ordered = [(key, query[key]) for key in dict.fromkeys(key for key, _ in params)]
    return urlunsplit(parts._replace(query=urlencode(ordered, safe=":,"))), None


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    result = parse_feed(page.content, page.source_id)
    if result.error or not page.url:
        return result
    next_url, warning = next_page_url(
        page.url, result.total_results, len(result.items), _options(options).max_results
    )
    return dataclasses.replace(
        result,
        next_urls=(next_url,) if next_url else (),
        warnings=result.warnings + ((warning,) if warning else ()),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _ApiKind(SourceKind):
    def validate_spec(self, spec: SourceSpec) -> None:
        # at load, with the file's name (exit 2), not as a failed source once the run is under way
        options = _options(self.options_for(spec))
        if not (options.search_query or spec.query or spec.all_urls):
            raise ValueError("field 'query': arxiv_api needs `query`, `options.search_query` or a url")


KIND = _ApiKind(
    name="arxiv_api",
    parse=parse,
    plan=plan,
    options=ArxivApiOptions,
    description="arXiv API search query (Atom), paged with start/max_results",
    arxiv=True,
    needs_url=False,
    max_pages=MAX_PER_QUERY // 100,
    paged_results=True,  # the pages answer one query: stopping short loses part of its results
    dated_plan=lambda options: _options(options).within_window,
    linked_page=False,
)
