"""`arxiv_oai`: incremental harvesting of an arXiv set through OAI-PMH `ListRecords`.

For users who backfill: `from` comes from `--since`, else from the cursor the last
harvest left (the server's `responseDate`, no later than the last `until`; at most the
catch-up weeks before the window, with a warning naming the days left out), else from the
week window; `until` is the week window's last UTC day. Each response may end in a
`resumptionToken`; the next request carries only that token. Metadata
formats: `arXiv` (structured authors), `arXivRaw` (adds version history) and `oai_dc`.
A harvest that matches nothing answers with the `noRecordsMatch` error: that is an
empty result, not a failure.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from dltheory_digest.config import SourceSpec
from dltheory_digest.errors import ParseError
from dltheory_digest.ids import abs_url, normalize_doi, parse_arxiv_id
from dltheory_digest.models import Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.arxiv_api import collapse, load_xml
from dltheory_digest.sources.arxiv_rss import split_creator
from dltheory_digest.sources.base import PlanContext, SourceKind, always, read_entries
from dltheory_digest.weeks import CATCH_UP_WEEKS, utc_or_none

OAI_BASE = "https://arxiv.org/oai"

_OAI = "{http://www.openarchives.org/OAI/2.0/}"
_ARXIV = "{http://arxiv.org/OAI/arXiv/}"
_ARXIV_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
_OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"
_DC = "{http://purl.org/dc/elements/1.1/}"

_VERSION = re.compile(r"^v(\d+)$")
# arXivRaw version dates: "Wed, 20 Jun 2018 15:48:55 GMT"
_RAW_DATE_FORMAT = "%a, %d %b %Y %H:%M:%S %Z"


class ArxivOaiOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    set: str | None = Field(None, description='OAI set, e.g. "cs" or "physics:cond-mat"')
    metadata_prefix: Literal["arXiv", "arXivRaw", "oai_dc"] = "arXiv"
    categories: tuple[str, ...] = Field((), description="keep only records in one of these categories")

    @field_validator("categories")
    @classmethod
    def _categories_need_a_format_that_has_them(
        cls, value: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        # Dublin Core records carry no arXiv categories (only the archive's setSpec, such as
        # `cs`, and subject names in words): filtering them would keep nothing, silently
        if value and info.data.get("metadata_prefix") == "oai_dc":
            raise ValueError(
                "oai_dc records carry no arXiv categories, so none would be kept: "
                "use metadata_prefix arXiv or arXivRaw, or drop categories (and narrow with set)"
            )
        return value


def _options(options: BaseModel) -> ArxivOaiOptions:
    return options if isinstance(options, ArxivOaiOptions) else ArxivOaiOptions.model_validate(options)


def harvest_dates(ctx: PlanContext) -> tuple[str | None, str | None]:
    """`from` and `until` of the harvest, inclusive UTC days (arXiv's OAI-PMH granularity).

    `until` is the week window's last UTC day, so a harvest run days after its week ends
    does not take the records of the next week into this one. A backfill (`since`, or a
    cursor left weeks ago) reaches back to what it missed, never forward: what came after the
    week is the next week's all the same, and the cursor this harvest leaves (`parse`) starts
    the next harvest no later than this `until`. A cursor reaches back no further than the
    catch-up weeks (`skipped_backlog` says what that leaves out). Without a window both ends
    stay open.
    """
    start, until, _ = _harvest_span(ctx)
    return start, until


def skipped_backlog(ctx: PlanContext) -> tuple[dt.date, dt.date] | None:
    """The UTC days, first and last, that a cursor older than the catch-up weeks asked for and
    this harvest leaves out; None when the harvest starts where the cursor says."""
    return _harvest_span(ctx)[2]


def _harvest_span(ctx: PlanContext) -> tuple[str | None, str | None, tuple[dt.date, dt.date] | None]:
    # OAI-PMH datestamps are UTC days: the UTC dates the window touches, not the local ones
    utc_dates = ctx.utc_dates()
    first, until = (day.isoformat() for day in utc_dates) if utc_dates else (None, None)
    cursor_from = (ctx.cursor.get("from") or "")[:10] if ctx.cursor else ""
    start = ctx.since.isoformat() if ctx.since else cursor_from or first
    if start and until and start > until:
        # a cursor past this week (a rerun of an earlier week): its own days, not a range
        # the server refuses (badArgument)
        start = first
    skipped = None
    if utc_dates and start and not ctx.since:
        # A cursor left months ago (the source failed or was off that long) would ask for all
        # of it: a harvest too long for the page cap fails, keeps that cursor and is cut at the
        # same place every week, never reaching this one. Reach back as far as a run catches up
        # on missed weeks (`pipeline.backfill_since`); older records need an explicit --since.
        floor = utc_dates[0] - dt.timedelta(weeks=CATCH_UP_WEEKS)
        if start < floor.isoformat():
            try:
                skipped = (dt.date.fromisoformat(start), floor - dt.timedelta(days=1))
            except ValueError:  # a cursor that is not a date: nothing to name, still clamped
                skipped = None
            start = floor.isoformat()
    return start, until, skipped


def plan_warnings(spec: SourceSpec, options: BaseModel, ctx: PlanContext) -> tuple[str, ...]:
    skipped = skipped_backlog(ctx)
    if skipped is None:
        return ()
    first, last = skipped
    return (
        f"records from {first} to {last} not harvested: older than the {CATCH_UP_WEEKS}-week "
        f"catch-up; run with --since {first} to fetch them",
    )


def list_records_url(
    base: str,
    *,
    metadata_prefix: str,
    set_spec: str | None = None,
    from_date: str | None = None,
    until_date: str | None = None,
) -> str:
    params = [("verb", "ListRecords"), ("metadataPrefix", metadata_prefix)]
    if set_spec:
        params.append(("set", set_spec))
    if from_date:
        params.append(("from", from_date))
    if until_date:
        params.append(("until", until_date))
    return f"{base}?{urlencode(params, safe=':')}"


def resumption_url(page_url: str, token: str) -> str:
    """OAI-PMH: a resumed request carries the verb and the token, nothing else."""
    parts = urlsplit(page_url)
    query = urlencode([("verb", "ListRecords"), ("resumptionToken", token)])
    return urlunsplit(parts._replace(query=query, fragment=""))


def plan(spec: SourceSpec, options: BaseModel, ctx: PlanContext) -> tuple[str, ...]:
    opts = _options(options)
    base = spec.url or OAI_BASE
    start, until = harvest_dates(ctx)
    url = list_records_url(
        base, metadata_prefix=opts.metadata_prefix, set_spec=opts.set, from_date=start, until_date=until
    )
    return (url,)


def _next_from(page_url: str, response_date: str) -> tuple[tuple[str, str], ...]:
    """The cursor a page leaves: where the next harvest starts.

    Only the first page of a harvest says it (resumed pages leave it be): its server date is
    when the harvest began, so what changed while it was paged through is read again, not
    lost. A harvest cut by `until` starts the next one on that day (read again, inclusive),
    not on the server's date: the days between belong to the next week's harvest.
    """
    query = parse_qs(urlsplit(page_url).query)
    if "resumptionToken" in query or not response_date:
        return ()
    day = response_date[:10]
    until = (query.get("until") or [""])[0][:10]
    return (("from", min(day, until) if until else day),)


def _text(node: etree._Element | None) -> str:
    return collapse(node.text) if node is not None else ""


def _date(text: str | None) -> dt.datetime | None:
    """An OAI date (day, ISO moment or arXivRaw's RFC 2822 form) -> UTC; None when it is no date
    (year 0, 31 February) or has no UTC moment (0001-01-01T00:00:00+14:00)."""
    if not text:
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text)
        return utc_or_none(moment)
    except ValueError:
        pass
    try:
        return dt.datetime.strptime(text, _RAW_DATE_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _arxiv_record(meta: etree._Element, source_id: str) -> Item | None:
    ns = _ARXIV
    found = parse_arxiv_id(meta.findtext(ns + "id") or "")
    if not found:
        return None
    arxiv_id, _ = found
    authors = []
    for author in meta.iterfind(f"{ns}authors/{ns}author"):
        name = " ".join(
            part
            for part in (_text(author.find(ns + "forenames")), _text(author.find(ns + "keyname")))
            if part
        )
        suffix = _text(author.find(ns + "suffix"))
        if name:
            authors.append(f"{name}, {suffix}" if suffix else name)
    categories = tuple((meta.findtext(ns + "categories") or "").split())
    return Item(
        source_id=source_id,
        kind=ItemKind.PAPER,
        title=_text(meta.find(ns + "title")),
        url=abs_url(arxiv_id),
        arxiv_id=arxiv_id,
        doi=normalize_doi(meta.findtext(ns + "doi") or ""),
        authors=tuple(authors),
        lang="en",
        text=_text(meta.find(ns + "abstract")),
        published=_date(meta.findtext(ns + "created")),
        updated=_date(meta.findtext(ns + "updated")),
        categories=categories,
        primary_category=categories[0] if categories else None,
        comment=_text(meta.find(ns + "comments")) or None,
        journal_ref=_text(meta.find(ns + "journal-ref")) or None,
        extra=(("license", license_url),) if (license_url := _text(meta.find(ns + "license"))) else (),
    )


def _arxiv_raw_record(meta: etree._Element, source_id: str) -> Item | None:
    ns = _ARXIV_RAW
    found = parse_arxiv_id(meta.findtext(ns + "id") or "")
    if not found:
        return None
    arxiv_id, _ = found
    versions: list[tuple[int, dt.datetime | None]] = []
    for node in meta.iterfind(ns + "version"):
        match = _VERSION.match(node.get("version", ""))
        if match:
            versions.append((int(match.group(1)), _date(node.findtext(ns + "date"))))
    versions.sort(key=lambda pair: pair[0])
    categories = tuple((meta.findtext(ns + "categories") or "").split())
    return Item(
        source_id=source_id,
        kind=ItemKind.PAPER,
        title=_text(meta.find(ns + "title")),
        url=abs_url(arxiv_id),
        arxiv_id=arxiv_id,
        version=versions[-1][0] if versions else None,
        doi=normalize_doi(meta.findtext(ns + "doi") or ""),
        authors=split_creator(meta.findtext(ns + "authors")),
        lang="en",
        text=_text(meta.find(ns + "abstract")),
        published=versions[0][1] if versions else None,
        updated=versions[-1][1] if versions else None,
        categories=categories,
        primary_category=categories[0] if categories else None,
        comment=_text(meta.find(ns + "comments")) or None,
        journal_ref=_text(meta.find(ns + "journal-ref")) or None,
    )


def _dc_record(meta: etree._Element, source_id: str) -> Item | None:
    arxiv_id = doi = None
    for identifier in meta.iterfind(_DC + "identifier"):
        value = (identifier.text or "").strip()
        found = parse_arxiv_id(value) if "arxiv.org/abs/" in value else None
        if found and arxiv_id is None:
            arxiv_id = found[0]
        elif value.lower().startswith("doi:"):
            doi = normalize_doi(value)
    if arxiv_id is None:
        return None
    authors = []
    for creator in meta.iterfind(_DC + "creator"):
        # "Jacot, Arthur" -> "Arthur Jacot"
        surname, _, forenames = _text(creator).partition(", ")
        authors.append(f"{forenames} {surname}".strip())
    descriptions = [_text(node) for node in meta.iterfind(_DC + "description")]
    abstract = next((d for d in descriptions if not d.startswith("Comment:")), "")
    comment = next(
        (d.removeprefix("Comment:").strip() for d in descriptions if d.startswith("Comment:")), None
    )
    dates = sorted(filter(None, (_date(node.text) for node in meta.iterfind(_DC + "date"))))
    return Item(
        source_id=source_id,
        kind=ItemKind.PAPER,
        title=_text(meta.find(_DC + "title")),
        url=abs_url(arxiv_id),
        arxiv_id=arxiv_id,
        doi=doi,
        authors=tuple(authors),
        lang="en",
        text=abstract,
        published=dates[0] if dates else None,
        updated=dates[-1] if dates else None,
        comment=comment,
    )


_READERS = {
    _ARXIV + "arXiv": _arxiv_record,
    _ARXIV_RAW + "arXivRaw": _arxiv_raw_record,
    _OAI_DC + "dc": _dc_record,
}


_DELETED = "deleted record"


def _read_record(record: etree._Element, source_id: str) -> Item | str:
    """A record's paper, or `_DELETED`, or a warning saying why it has none."""
    header = record.find(_OAI + "header")
    if header is not None and header.get("status") == "deleted":
        return _DELETED
    metadata = record.find(_OAI + "metadata")
    meta = metadata[0] if metadata is not None and len(metadata) else None
    reader = _READERS.get(meta.tag) if meta is not None else None
    item = reader(meta, source_id) if reader and meta is not None else None
    if item is None:
        identifier = header.findtext(_OAI + "identifier") if header is not None else "?"
        return f"record {identifier} skipped: no arXiv metadata in a known format"
    return item


def _record_name(record: etree._Element) -> str:
    """How a warning names a record: its OAI identifier (oai:arXiv.org:2106.10165)."""
    return f"record {(record.findtext(f'{_OAI}header/{_OAI}identifier') or '?').strip()}"


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    opts = _options(options)
    root = load_xml(page.content, page.source_id, "OAI-PMH response")
    if root.tag != _OAI + "OAI-PMH":
        raise ParseError(page.source_id, f"not an OAI-PMH response (root element {root.tag!r})", url=page.url)
    cursor = _next_from(page.url, (root.findtext(_OAI + "responseDate") or "").strip())
    error = root.find(_OAI + "error")
    if error is not None:
        code = error.get("code", "")
        if code == "noRecordsMatch":
            bounded = "until" in parse_qs(urlsplit(page.url).query)
            span = "between the `from` and `until` dates" if bounded else "since the `from` date"
            return ParseResult(warnings=(f"no records changed in this set {span}",), cursor=cursor)
        return ParseResult(error=f"OAI-PMH error {code}: {_text(error)}".rstrip(": "))
    listing = root.find(_OAI + "ListRecords")
    if listing is None:
        raise ParseError(page.source_id, "OAI-PMH response without ListRecords", url=page.url)

    wanted = set(opts.categories)
    items: list[Item] = []
    deleted = 0
    outcomes, warnings = read_entries(
        listing.iterfind(_OAI + "record"),
        lambda record: _read_record(record, page.source_id),
        source_id=page.source_id,
        name=_record_name,
        url=page.url,
    )
    for outcome in outcomes:
        if outcome is _DELETED:
            deleted += 1
        elif isinstance(outcome, str):
            warnings.append(outcome)
        elif not wanted or wanted.intersection(outcome.categories):
            items.append(outcome)
    if deleted:
        warnings.append(f"{deleted} deleted record(s) skipped")

    token_node = listing.find(_OAI + "resumptionToken")
    token = (token_node.text or "").strip() if token_node is not None else ""
    next_urls = (resumption_url(page.url, token),) if token and page.url else ()
    total = None
    if token_node is not None and (size := token_node.get("completeListSize", "")).isdigit():
        total = int(size)
    return ParseResult(
        items=tuple(items), warnings=tuple(warnings), next_urls=next_urls, total_results=total, cursor=cursor
    )


KIND = SourceKind(
    name="arxiv_oai",
    parse=parse,
    plan=plan,
    options=ArxivOaiOptions,
    description="arXiv OAI-PMH ListRecords harvest of a set, incremental with `from` dates",
    arxiv=True,
    needs_url=False,
    max_pages=200,
    paged_results=True,
    dated_plan=always,
    linked_page=False,
    plan_warnings=plan_warnings,
)
