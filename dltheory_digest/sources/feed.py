"""`feed`: any RSS or Atom blog (offconvex, Windows on Theory, Francis Bach, LessWrong, Distill).

Each entry becomes a post item: plain text of its body, every link in it, and one
mention item per paper it links to (an arXiv id in any URL form, or a DOI), so the
digest can list a post next to the papers it discusses.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import html
import re
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from dltheory_digest.errors import ParseError
from dltheory_digest.ids import (
    abs_url,
    arxiv_id_from_doi,
    find_arxiv_ids,
    find_dois,
    mirror_arxiv_id,
    parse_arxiv_id,
)
from dltheory_digest.models import Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind

# Elements after which a line break belongs in the plain text.
_BLOCKS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "tr",
        "figure",
        "figcaption",
        "section",
        "hr",
    ]
)


class FeedOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_entries: int | None = Field(None, ge=1, description="read only the first N entries")


def _options(options: BaseModel) -> FeedOptions:
    return options if isinstance(options, FeedOptions) else FeedOptions.model_validate(options)


def _when(parsed: time.struct_time | None) -> dt.datetime | None:
    # feedparser normalizes every date it understands to a UTC struct_time
    if not parsed:
        return None
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def html_to_text_and_links(markup: str, base_url: str | None) -> tuple[str, list[tuple[str, str]]]:
    """HTML fragment -> (plain text with one paragraph a line, [(absolute href, link text)])."""
    if not markup.strip():
        return "", []
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return _collapse(markup), []
    for element in root.iter("script", "style"):
        # MathJax keeps TeX in <script type="math/tex">: keep the formula, drop code
        if element.tag == "style" or "math" not in (element.get("type") or ""):
            element.text = ""
    links: list[tuple[str, str]] = []
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        links.append((urljoin(base_url, href) if base_url else href, _collapse(anchor.text_content())))
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
    lines = (_collapse(line) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line), links


def _mentions(source_id: str, links: list[tuple[str, str]], text: str, lang: str | None) -> tuple[Item, ...]:
    """One mention per paper linked (arXiv id or DOI), first link text as its title."""
    by_key: dict[str, Item] = {}

    def add(item: Item) -> None:
        key = f"arxiv:{item.arxiv_id}" if item.arxiv_id else f"doi:{item.doi}"
        seen = by_key.get(key)
        if seen is None:
            by_key[key] = item
            return
        # keep the first sighting, but the highest version and the first real link text
        version = max(v for v in (seen.version, item.version, 0) if v is not None) or None
        by_key[key] = dataclasses.replace(
            seen, title=seen.title or item.title, version=version, doi=seen.doi or item.doi
        )

    for href, label in links:
        host = urlsplit(href).netloc.lower()
        found = parse_arxiv_id(href) if "arxiv" in host else None
        found = found or mirror_arxiv_id(href)  # huggingface.co/papers/<id>, papers.cool/arxiv/<id>, ...
        if found:
            arxiv_id, version = found
            add(
                Item(
                    source_id,
                    ItemKind.MENTION,
                    label,
                    url=href,
                    arxiv_id=arxiv_id,
                    version=version,
                    lang=lang,
                )
            )
            continue
        for doi in find_dois(href):
            from_doi = arxiv_id_from_doi(doi)
            add(Item(source_id, ItemKind.MENTION, label, url=href, doi=doi, arxiv_id=from_doi, lang=lang))
            break
    # ids written out without a link ("arXiv:1703.00887")
    for arxiv_id, version in find_arxiv_ids(text):
        if f"arxiv:{arxiv_id}" not in by_key:
            add(
                Item(
                    source_id,
                    ItemKind.MENTION,
                    "",
                    url=abs_url(arxiv_id),
                    arxiv_id=arxiv_id,
                    version=version,
                    lang=lang,
                )
            )
    return tuple(by_key.values())


def _entry_html(entry: Any) -> str:
    contents = entry.get("content") or []
    html_parts = [part.get("value", "") for part in contents if part.get("value")]
    return "\n".join(html_parts) if html_parts else entry.get("summary", "") or ""


def _entry_title(entry: Any) -> str:
    title = entry.get("title", "") or ""
    if "html" in (entry.get("title_detail") or {}).get("type", ""):
        title = html_to_text_and_links(title, None)[0]
    # some generators escape entities twice ("&amp;#58;"): unescape what is left
    return _collapse(html.unescape(title))


_NAME_LIST = re.compile(r"\s*(?:,\s*and\s+|,|;|\s+and\s+|\s*&\s*)\s*")


def _split_names(name: str) -> list[str]:
    """ "Sanjeev Arora, Nadav Cohen and Elad Hazan" (one dc:creator) -> three names.

    Split only when every piece is a full name of several words, so "Bach, Francis"
    and "Smith & Sons" stay whole."""
    parts = [part for part in _NAME_LIST.split(name) if part]
    if len(parts) > 1 and all(" " in part for part in parts):
        return parts
    return [name]


def _authors(entry: Any) -> tuple[str, ...]:
    names = [_collapse(a.get("name", "")) for a in entry.get("authors", []) if a.get("name")]
    if not names and entry.get("author"):
        names = [_collapse(entry["author"])]
    return tuple(dict.fromkeys(part for name in names for part in _split_names(name)))


def _web_url(link: str | None) -> str | None:
    # feedparser falls back to an entry's id, which may be "urn:uuid:..." or "tag:...": no page
    return link if link and link.lower().startswith(("http://", "https://")) else None


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    opts = _options(options)
    headers = {"content-location": page.url} if page.url else {}
    # without a declared type feedparser flags every saved or cached body as suspect
    headers["content-type"] = page.content_type or "application/xml"
    parsed = feedparser.parse(page.content, response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise ParseError(
            page.source_id, f"not an RSS/Atom feed ({reason or 'no feed elements'})", url=page.url
        )
    feed_lang = (parsed.feed.get("language") or "").split("-")[0].lower() or None
    entries = parsed.entries[: opts.max_entries] if opts.max_entries else parsed.entries
    items: list[Item] = []
    warnings: list[str] = []
    seen: set[str] = set()
    # relative entry links: against where the feed came from, else the site it names
    site = page.url or _web_url(parsed.feed.get("link")) or ""
    for entry in entries:
        title = _entry_title(entry)
        link = entry.get("link") or ""
        # no link is no page: joined, "" would give the feed's own address to every such entry
        url = _web_url(urljoin(site, link) if site and link else link)
        if not title and not url:
            warnings.append("feed entry without title or link skipped")
            continue
        # a feed that repeats an entry (same id, else same link and title) lists one post
        identity = entry.get("id") or f"{url}|{title}"
        if identity in seen:
            continue
        seen.add(identity)
        body = _entry_html(entry)
        text, links = html_to_text_and_links(body, url or site or None)
        # dict.get: feedparser's own lookup silently swaps `updated` for a missing `published`
        published_parsed = dict.get(entry, "published_parsed")
        updated_parsed = dict.get(entry, "updated_parsed")
        published = _when(published_parsed) or _when(updated_parsed)
        lang = (entry.get("language") or "").split("-")[0].lower() or feed_lang
        guid = entry.get("id")
        items.append(
            Item(
                source_id=page.source_id,
                kind=ItemKind.POST,
                title=title,
                url=url,
                authors=_authors(entry),
                lang=lang,
                text=text,
                published=published,
                updated=_when(updated_parsed),
                links=tuple(dict.fromkeys(href for href, _ in links)),
                cited=_mentions(page.source_id, links, text, lang),
                extra=(("guid", guid),) if guid else (),
            )
        )
    if not items:
        warnings.append("0 items parsed: the feed has no entries")
    if parsed.get("bozo") and items:
        warnings.append(f"feed is not well-formed, read leniently: {parsed.get('bozo_exception')}")
    dated = [item for item in items if item.published]
    cursor: tuple[tuple[str, str], ...] = ()
    if dated:
        latest = max(dated, key=lambda item: item.published or dt.datetime.min.replace(tzinfo=dt.UTC))
        cursor = (("latest_published", (latest.published or dt.datetime.min).isoformat()),)
        cursor += (("latest_url", latest.url or ""),)
    return ParseResult(items=tuple(items), warnings=tuple(warnings), cursor=cursor)


KIND = SourceKind(
    name="feed",
    parse=parse,
    options=FeedOptions,
    description="RSS/Atom blog feed (feedparser); posts with the papers they link to",
)
