"""`arxiv_rss`: the daily announcement listing at rss.arxiv.org (RSS 2.0, and its Atom twin).

Each item's guid is `oai:arXiv.org:<id>v<n>`; `arxiv:announce_type` says whether the
paper is new (`new`, `cross`) or a revision (`replace`, `replace-cross`). The listing is
empty on weekends and arXiv holidays: that is a normal answer, not an error.

A listing holds one announcement day only: a weekly digest needs it fetched on every
announcement day (or `arxiv_api` with `within_window`, or `arxiv_oai`, for the week).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dltheory_digest.config import SourceSpec
from dltheory_digest.errors import ParseError
from dltheory_digest.ids import abs_url, is_withdrawn, normalize_doi, parse_arxiv_id
from dltheory_digest.models import AnnounceType, Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.arxiv_api import _ARXIV, _ATOM, RecordStream, collapse, parse_iso
from dltheory_digest.sources.base import PlanContext, SourceKind
from dltheory_digest.weeks import as_utc

RSS_BASE = "https://rss.arxiv.org/rss/"

_DC = "{http://purl.org/dc/elements/1.1/}"

X_ANNOUNCE = _ARXIV + "announce_type"
X_DOI = _ARXIV + "DOI"
X_JOURNAL_REF = _ARXIV + "journal_reference"
DC_CREATOR = _DC + "creator"
DC_RIGHTS = _DC + "rights"

# guid / Atom id: oai:arXiv.org:2604.21952v1, oai:arXiv.org:math/0309136v2
_NEW_STYLE = re.compile(r"[0-9]{4}\.[0-9]{4,5}", re.ASCII)
# "arXiv:2604.21952v1 Announce Type: new \nAbstract: ..." -> the announce type
_DESCRIPTION_HEAD = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?")
_DESCRIPTION_ID = re.compile(r"^\s*arXiv:(?P<id>\S+)")
_NAME_SUFFIX = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_CATEGORY = re.compile(r"^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$")

_ANNOUNCE_TYPES = {member.value: member for member in AnnounceType}
EMPTY_LISTING = "no announcements in this listing (arXiv posts nothing on weekends and holidays)"


def split_creator(creator: str | None) -> tuple[str, ...]:
    """`dc:creator` ("A, B, C", sometimes "A, B and C") -> names, "Jr."-style suffixes kept."""
    if not creator:
        return ()
    text = creator.strip()
    if "\n" in text or "  " in text or "\t" in text:
        text = " ".join(text.split())
    if " and " in text:
        text = text.replace(", and ", ", ").replace(" and ", ", ")
    # arXiv writes ", " between names: split on it directly unless some comma lacks its space
    parts = text.split(", ") if text.count(",") == text.count(", ") else [p.strip() for p in text.split(",")]
    if min(map(len, parts)) > 4:  # no "Jr."-like piece and no empty one: the common case
        return tuple(parts)
    names: list[str] = []
    for part in parts:
        if not part:
            continue
        if names and part.lower() in _NAME_SUFFIX:
            names[-1] = f"{names[-1]}, {part}"
        else:
            names.append(part)
    return tuple(names)


def _oai_id(guid: str) -> tuple[str, int | None] | None:
    """`oai:arXiv.org:2604.21952v1` -> ("2604.21952", 1); old style `math/0309136v2` too; a guid
    that names no valid id ("oai:arXiv.org:not-an-id") -> None, so the link is read instead."""
    if guid[:14].lower() == "oai:arxiv.org:":  # the listing's own form: checked without a regex search
        body, sep, version = guid[14:].rpartition("v")
        if sep and version.isdigit() and _NEW_STYLE.fullmatch(body):
            return body, int(version)
        if _NEW_STYLE.fullmatch(guid[14:]):
            return guid[14:], None
    # old-style ids, unusual spacing or case, and junk: ids.parse_arxiv_id decides
    return parse_arxiv_id(guid) if "oai:" in guid.lower() else None


@lru_cache(maxsize=64)
def _rfc822(text: str) -> dt.datetime | None:
    # a listing carries one or two distinct dates for thousands of items: parse each once
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return as_utc(moment)  # the listing writes New York time ("-0400")


class ArxivRssOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: tuple[str, ...] = Field((), description="arXiv categories, e.g. [cs.LG, stat.ML]")
    include_revisions: bool = Field(True, description="keep replace / replace-cross announcements")

    @field_validator("categories")
    @classmethod
    def _category_shape(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for category in value:
            if not _CATEGORY.match(category):
                raise ValueError(f"not an arXiv category: {category!r}")
        return value


def _options(options: BaseModel) -> ArxivRssOptions:
    return options if isinstance(options, ArxivRssOptions) else ArxivRssOptions.model_validate(options)


def listing_url(categories: tuple[str, ...] | list[str]) -> str:
    return RSS_BASE + "+".join(categories)


def plan(spec: SourceSpec, options: BaseModel, ctx: PlanContext) -> tuple[str, ...]:
    return spec.all_urls or (listing_url(_options(options).categories),)


def _item(
    source_id: str, text: dict[str, str | None], categories: list[str], date: dt.datetime | None
) -> Item | str:
    """One listing entry, its fields keyed by their RSS element names -> a paper item."""
    guid = (text.get("guid") or "").strip()
    description = text.get("description") or ""
    # without its guid an item still names itself: in its link, or in "arXiv:<id>v<n>" on the
    # description's first line
    head_id = _DESCRIPTION_ID.match(description)
    found = (
        _oai_id(guid)
        or _arxiv_link_id(text.get("link"))
        or (parse_arxiv_id(head_id.group("id")) if head_id else None)
    )
    if found is None:
        return f"item without an oai:arXiv.org id skipped: {guid or (text.get('title') or '')[:60]!r}"
    arxiv_id, version = found
    # "arXiv:<id>v<n> Announce Type: <type> \nAbstract: <abstract>"
    start = description.find("Abstract:", 0, 160)
    abstract = description[start + 9 :] if start >= 0 else description
    announce_text = text.get(X_ANNOUNCE)
    if not announce_text:
        head = _DESCRIPTION_HEAD.match(description)
        announce_text = head.group("type") if head else ""
    announce = _ANNOUNCE_TYPES.get(announce_text.strip().lower())
    is_revision = announce is not None and announce.is_revision
    link, doi, rights = text.get("link"), text.get(X_DOI), text.get(DC_RIGHTS)
    return Item(
        source_id=source_id,
        kind=ItemKind.PAPER,
        title=collapse(text.get("title")),
        url=link.strip() if link else abs_url(arxiv_id),
        arxiv_id=arxiv_id,
        version=version,
        doi=normalize_doi(doi) if doi else None,
        authors=split_creator(text.get(DC_CREATOR)),
        lang="en",
        text=collapse(abstract),
        # the date is the announcement of *this* version: only for new papers is it the first one
        published=None if is_revision else date,
        updated=date,
        categories=tuple(categories),
        # the listing gives a paper's categories primary first
        primary_category=categories[0] if categories else None,
        announce_type=announce,
        journal_ref=collapse(text.get(X_JOURNAL_REF)) or None,
        extra=_extra(rights, collapse(abstract)),
    )


def _extra(rights: str | None, abstract: str) -> tuple[tuple[str, str], ...]:
    extra = (("license", rights.strip()),) if rights else ()
    # as arxiv_api marks it: the digest badges a withdrawn paper
    return (*extra, ("withdrawn", "true")) if is_withdrawn(None, abstract) else extra


def _arxiv_link_id(link: str | None) -> tuple[str, int | None] | None:
    if not link or "arxiv.org/" not in link.lower():
        return None
    return parse_arxiv_id(link.strip())


def _rss_item(node: etree._Element, source_id: str) -> Item | str:
    text: dict[str, str | None] = {}
    categories: list[str] = []
    for child in node:
        if child.tag == "category":
            if child.text:
                categories.append(child.text.strip())
        else:
            text[child.tag] = child.text
    when = text.get("pubDate")
    return _item(source_id, text, categories, _rfc822(when.strip()) if when else None)


# rss.arxiv.org/atom/<cat> carries the same facts; its elements by their RSS names
_ATOM_AS_RSS = {_ATOM + "id": "guid", _ATOM + "title": "title", _ATOM + "summary": "description"}


def _atom_item(node: etree._Element, source_id: str) -> Item | str:
    text: dict[str, str | None] = {}
    categories: list[str] = []
    date = None
    for child in node:
        tag = child.tag
        if tag == _ATOM + "category":
            term = child.get("term")
            if term:
                categories.append(term)
        elif tag == _ATOM + "link":
            if child.get("rel", "alternate") == "alternate":
                text["link"] = child.get("href")
        elif tag == _ATOM + "published":
            date = parse_iso(child.text)
        else:
            text[_ATOM_AS_RSS.get(tag, tag)] = child.text
    return _item(source_id, text, categories, date)


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    opts = _options(options)
    stream = RecordStream(page.content, page.source_id, "arXiv RSS listing", ("item", _ATOM + "entry"))
    parsed = [_rss_item(node, page.source_id) if node.tag == "item" else _atom_item(node, page.source_id)
              for node in stream]  # fmt: skip
    root = stream.root
    cursor: list[tuple[str, str]] = []
    if root is not None and root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise ParseError(page.source_id, "RSS document without a <channel>", url=page.url)
        for name in ("pubDate", "lastBuildDate"):
            value = channel.findtext(name)
            if value:
                cursor.append((name, value.strip()))
    elif root is not None and root.tag == _ATOM + "feed":
        updated = root.findtext(_ATOM + "updated")
        if updated:
            cursor.append(("updated", updated.strip()))
    else:
        root_tag = getattr(root, "tag", None)
        raise ParseError(
            page.source_id, f"not an RSS or Atom listing (root element {root_tag!r})", url=page.url
        )

    items: list[Item] = []
    warnings: list[str] = []
    unknown_types: set[str] = set()
    skipped_revisions = 0
    seen: set[tuple[str | None, int | None]] = set()
    for entry in parsed:
        if isinstance(entry, str):
            warnings.append(entry)
            continue
        # one announcement of a version is one item, however often the listing repeats it
        if (entry.arxiv_id, entry.version) in seen:
            continue
        seen.add((entry.arxiv_id, entry.version))
        if entry.announce_type is None:
            unknown_types.add(entry.arxiv_id or "?")
        elif entry.announce_type.is_revision and not opts.include_revisions:
            skipped_revisions += 1
            continue
        items.append(entry)
    if not parsed:
        warnings.append(EMPTY_LISTING)
    if unknown_types:
        warnings.append(f"{len(unknown_types)} item(s) without a known announce type, kept as papers")
    if skipped_revisions:
        warnings.append(f"{skipped_revisions} revision(s) skipped (include_revisions is off)")
    return ParseResult(items=tuple(items), warnings=tuple(warnings), cursor=tuple(cursor))


@dataclass(frozen=True, slots=True)
class _RssKind(SourceKind):
    def validate_spec(self, spec: SourceSpec) -> None:
        options = _options(self.options_for(spec))
        if not options.categories and not spec.all_urls:
            raise ValueError("field 'options.categories': give at least one arXiv category (or a url)")


KIND = _RssKind(
    name="arxiv_rss",
    parse=parse,
    plan=plan,
    options=ArxivRssOptions,
    description="arXiv daily announcements (rss.arxiv.org), categories joined with '+'",
    arxiv=True,
    needs_url=False,
    max_pages=0,  # a listing is one page: nothing to follow
    linked_page=False,
)
