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
import time
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser
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
from dltheory_digest.sources.blocks import clean, html_blocks, is_generic_anchor, plain_text, split_names


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


def _text_and_links(markup: str, base_url: str | None, own: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """An entry's HTML -> (plain text, one line a paragraph; [(absolute href, link text)]).

    Read as notes pages are (blocks.html_blocks): redirect wrappers removed, URLs written as
    text linked. `own`: the post's and the feed's addresses, which a footnote link ("#fn1")
    points into (feedparser has already joined it to the feed's)."""
    if not markup.strip():
        return "", []
    blocks = html_blocks(markup, base_url or "")
    links = [
        (link.href, link.text)
        for block in blocks
        for link in block.links
        if not (urldefrag(link.href).fragment and urldefrag(link.href).url in own)
    ]
    return "\n".join(block.text for block in blocks), links


def _label(text: str) -> str:
    """A link text as a paper's title: none for "pdf", "here", the URL or the id itself."""
    unnamed = is_generic_anchor(text) or text.startswith(("http://", "https://")) or parse_arxiv_id(text)
    return "" if unnamed else text


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

    for href, text_of_link in links:
        label = _label(text_of_link)
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
    # DOIs and ids written out without a link ("doi:10.1145/3446776", "arXiv:1703.00887")
    for doi in find_dois(text):
        found_id = arxiv_id_from_doi(doi)
        if f"doi:{doi}" not in by_key and f"arxiv:{found_id}" not in by_key:
            add(
                Item(
                    source_id,
                    ItemKind.MENTION,
                    "",
                    url=f"https://doi.org/{doi}",
                    doi=doi,
                    arxiv_id=found_id,
                    lang=lang,
                )
            )
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
        title = plain_text(title)
    # some generators escape entities twice ("&amp;#58;"): unescape what is left
    return clean(html.unescape(title))


def _names(name: str) -> tuple[str, ...]:
    """ "Sanjeev Arora, Nadav Cohen and Elad Hazan" (one dc:creator) -> three names.

    Split only when every piece is a full name of several words, so "Bach, Francis"
    and "Smith & Sons" stay whole."""
    parts = split_names(name)
    return parts if len(parts) > 1 and all(" " in part for part in parts) else (name,)


def _authors(entry: Any) -> tuple[str, ...]:
    names = [clean(a.get("name", "")) for a in entry.get("authors", []) if a.get("name")]
    if not names and entry.get("author"):
        names = [clean(entry["author"])]
    return tuple(dict.fromkeys(part for name in names if name for part in _names(name)))


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
        own = {urldefrag(address).url for address in (url, page.url, site) if address}
        text, links = _text_and_links(body, url or site or None, own)
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
