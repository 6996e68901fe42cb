"""`feed`: any RSS or Atom blog (offconvex, Windows on Theory, Francis Bach, LessWrong, Distill).

Each entry becomes a post item: plain text of its body, every link in it, and one
mention item per paper it links to (an arXiv id in any URL form, a DOI, or a link with a
title to a paper site notes pages know: `notes_page.classify_url`), so the digest can list
a post next to the papers it discusses.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import html
import re
import time
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser
from bs4 import Tag
from pydantic import BaseModel, ConfigDict, Field

from dltheory_digest.errors import ParseError
from dltheory_digest.ids import (
    abs_url,
    arxiv_id_from_doi,
    find_arxiv_ids,
    find_dois,
    is_arxiv_host,
    mirror_arxiv_id,
    parse_arxiv_id,
)
from dltheory_digest.models import Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind, read_entries
from dltheory_digest.sources.blocks import (
    Block,
    class_names,
    clean,
    html_blocks,
    is_generic_anchor,
    parse_date,
    plain_text,
    soup_of,
    split_names,
)
from dltheory_digest.sources.decode import bom_encoding, check_nesting
from dltheory_digest.sources.notes_page import classify_url, looks_like_title


class FeedOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_entries: int | None = Field(None, ge=1, description="read only the first N entries")


def _options(options: BaseModel) -> FeedOptions:
    return options if isinstance(options, FeedOptions) else FeedOptions.model_validate(options)


def _when(parsed: time.struct_time | None) -> dt.datetime | None:
    # feedparser normalizes every date it understands to a UTC struct_time
    if not parsed:
        return None
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)
    except (OverflowError, ValueError, OSError):  # year 0 or 10000: no date rather than no feed
        return None


def _entry_date(entry: Any, field: str) -> tuple[dt.datetime | None, str]:
    """An entry's `published` or `updated` -> (the moment, "") or (None, the text when there is
    one that cannot be read). feedparser reads no RFC 822 date without a zone ("Mon, 04 Jan 2027
    00:30:00"): the package's own reader then does, as UTC, as it reads every other page."""
    # dict.get: feedparser's own lookup silently swaps `updated` for a missing `published`
    moment = _when(dict.get(entry, f"{field}_parsed"))
    text = dict.get(entry, field)
    if moment is not None or not isinstance(text, str) or not text.strip():
        return moment, ""
    moment = parse_date(text)
    return moment, "" if moment is not None else clean(text)


_WEB_SCHEMES = frozenset({"", "http", "https", "ftp"})


def _text_and_links(
    markup: str, base_url: str | None, own: set[str], source_id: str
) -> tuple[str, list[tuple[str, str]]]:
    """An entry's HTML -> (plain text, one line a paragraph; [(absolute href, link text)]).

    Read as notes pages are (blocks.html_blocks): redirect wrappers removed, URLs written as
    text linked. `own`: the post's and the feed's addresses, which a footnote link ("#fn1")
    points into (feedparser has already joined it to the feed's)."""
    if not markup.strip():
        return "", []
    check_nesting(markup, source_id, base_url)  # a broken entry is left out, not read for minutes
    soup = soup_of(markup)
    for element in soup.find_all(_is_platform_widget):
        if not element.decomposed:  # not inside a widget removed already
            element.decompose()
    blocks = _without_platform_lines(html_blocks(soup, base_url or ""))
    links = [
        (link.href, link.text)
        for block in blocks
        for link in block.links
        if not (urldefrag(link.href).fragment and urldefrag(link.href).url in own)
        # no data:/vbscript: addresses (the sanitizer used to blank them): links of the web only
        and urlsplit(link.href).scheme.lower() in _WEB_SCHEMES
    ]
    return "\n".join(block.text for block in blocks), links


# What a blog platform adds to every post, not the author's words (scored and keyword-matched,
# a post's text must not say "subscribe" or "Unsplash" every week). Removed by element where the
# platform marks it, else only as a whole first or last line of a fixed shape, so a sentence of
# the post that happens to say the same words stays.
# Substack: the subscribe box ("Thanks for reading …! Subscribe for free …") and the Share/
# Subscribe buttons (<p class="button-wrapper">)
_WIDGET_CLASS = re.compile(r"^(?:subscription-widget\S*|button-wrapper|subscribe-widget|share-dialog)$")
# a figure's credit line (Medium, Ghost, WordPress): "Photo by Jane Doe on Unsplash", "Image by author"
_CREDIT_CAPTION = re.compile(
    r"^(?:(?:cover|header|featured|hero)\s+)?(?:photo|image|picture|illustration)s?\s+(?:by|from|via|courtesy of)\s+"
    r"(?:(?:the\s+)?authors?|.{1,80}?\s+(?:on|via|from)\s+(?:Unsplash|Pexels|Pixabay|Shutterstock|iStock|"
    r"Getty Images|Adobe Stock|Wikimedia Commons))\s*\.?$",
    re.IGNORECASE,
)
# LessWrong / Alignment Forum: "Published on March 4, 2026 5:21 PM GMT" opens every post
_PUBLISHED_ON = re.compile(
    r"^Published on (?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December) \d{1,2}, \d{4}(?: \d{1,2}:\d{2}(?: ?[AP]M)?(?: [A-Z]{2,5})?)?$"
)
# ... and a "Discuss" link to its comments closes it
_DISCUSS = "Discuss"
# Medium, last paragraph: "<post> was originally published in <publication> on Medium, where
# people are continuing the conversation by highlighting and responding to this story."
_MEDIUM_FOOTER = re.compile(
    r"^.{1,400}? was originally published in .{1,200}? on Medium, where people are .*$"
)
# Substack's subscribe box written as a paragraph, Ghost's sign-up line, as the post's last line
_SUBSCRIBE_LINE = re.compile(
    r"^Thanks for reading\b[^.!?]{0,100}[.!]\s+(?:Subscribe|Sign up)\b[^.!?]{0,150}[.!]?$", re.IGNORECASE
)


def _is_platform_widget(element: Tag) -> bool:
    if any(_WIDGET_CLASS.match(name) for name in class_names(element)):
        return True
    return element.name == "figcaption" and _CREDIT_CAPTION.match(clean(element.get_text(" "))) is not None


def _without_platform_lines(blocks: list[Block]) -> list[Block]:
    """A post's lines without the platform's opening and closing lines (`_PUBLISHED_ON` first;
    "Discuss" as a link, Medium's footer, a subscribe line last)."""
    if blocks and _PUBLISHED_ON.match(blocks[0].text):
        blocks = blocks[1:]
    while blocks:
        last = blocks[-1]
        discuss = last.text == _DISCUSS and any(link.text == _DISCUSS for link in last.links)
        if not (discuss or _MEDIUM_FOOTER.match(last.text) or _SUBSCRIBE_LINE.match(last.text)):
            break
        blocks = blocks[:-1]
    return blocks


def _label(text: str) -> str:
    """A link text as a paper's title: none for "pdf", "here", the URL or the id itself."""
    unnamed = is_generic_anchor(text) or text.startswith(("http://", "https://")) or parse_arxiv_id(text)
    return "" if unnamed else text


# a blog's link text that cites rather than names: "Rumelhart et al.", "Lipton and Young 1994",
# "ZWL'15"; searched on arXiv as a title, it would only cost a request and show as a paper
_CITATION = re.compile(r"\bet\.? al\b|\b(?:19|20)\d\d\b|['’]\d\d\b", re.IGNORECASE)


# a citation written next to the title in the same link text: "Deep Residual Learning for Image
# Recognition (He et al. 2016)", "He et al. (2016), Deep residual learning for image recognition"
_CITED_NAMES = r"[A-Z][\w'’\-]+(?:\s+(?:and|&)\s+[A-Z][\w'’\-]+|\s+et\.?\s+al\.?)?"
_CITED_YEAR = r"(?:19|20)\d\d[a-z]?"
_TRAILING_CITATION = re.compile(rf"\s*[(\[]\s*(?:{_CITED_NAMES},?\s*)?{_CITED_YEAR}\s*[)\]]\s*$")
_LEADING_CITATION = re.compile(
    rf"^\s*{_CITED_NAMES},?\s*(?:\(\s*{_CITED_YEAR}\s*\)|{_CITED_YEAR})\s*[,:.\-–—]\s*"
)


# a link text made only of surnames: "Chizat, Oyallon and Bach", "Belkin, Hsu, Ma and Mandal",
# "Jacot & Hongler" cite a paper by its authors, as "et al." does
_SURNAME = r"(?:(?:van|von|der|den|de|da|di|du|le|la)\s+)*[A-Z][\w'’]*(?:-[A-Z][\w'’]*)?"
_AUTHOR_LIST = re.compile(rf"^{_SURNAME}(?:\s*,\s*{_SURNAME}){{0,4}},?\s+(?:and|&)\s+{_SURNAME}$")
# ... unless a word is a noun no surname is: "Memorization, Generalization and Robustness"
_NOUN_ENDING = re.compile(r"(?:tion|sion|ness|ity|ance|ence|ment|ics|ogy|ism|ship)s?$", re.IGNORECASE)
# a title that asks, then says: "Approximation beats concentration? An approximation view on …"
_QUESTION_THEN_SUBTITLE = re.compile(r"^([^?]{3,}?)\?\s+(?=[A-Z])")


def _author_list(label: str) -> bool:
    return _AUTHOR_LIST.match(label) is not None and not any(
        _NOUN_ENDING.search(word) for word in re.findall(r"[A-Za-z]+", label)
    )


def _cited_title(label: str) -> str:
    """A link text without a citation written around it; "" when it is only a citation
    ("Rumelhart et al.", "Nesterov 2004") or an author list."""
    title = _LEADING_CITATION.sub("", _TRAILING_CITATION.sub("", label)).strip()
    return "" if not title or _CITATION.search(title) or _author_list(title) else title


def _paper_title(label: str) -> str:
    """The paper title a link text to a paper page gives, without a citation written around it;
    "" when the text is not a few words shaped as a title (`notes_page.looks_like_title`) but a
    citation ("Rumelhart et al.", "Arora, Cohen and Hazan") or a phrase of the sentence."""
    title = _cited_title(label)
    if not title:
        return ""
    # one question before a capitalised subtitle is a title's, not a second sentence's: read
    # as if a colon stood there (a link to a paper page, so not a sentence of the post)
    shape = _QUESTION_THEN_SUBTITLE.sub(r"\1: ", title, count=1)
    return title if looks_like_title(shape, min_words=4) else ""


# a DOI link's text that points at a version or a record rather than naming the paper: "PNAS
# version", "journal version", "doi:10.1214/09-EJS521", "a journal paper", "our Zenodo record"
_VERSION_WORDS = re.compile(r"^(?:\S+\s+){0,2}(?:version|copy|record|paper|article)s?\s*$", re.IGNORECASE)
_DOI_WRITTEN = re.compile(r"^\s*(?:doi\s*:|10\.\d{4,9}/)", re.IGNORECASE)


def _doi_title(label: str) -> str:
    """The title a DOI link's text gives. The DOI already names the paper, so unlike
    `_paper_title` no title shape is asked for (a short title, one in Chinese or Arabic, is
    kept: Crossref may not know a DOI that ISTIC or CNKI registered); only a citation, an
    author list or a phrase pointing at a version or a record of the paper is dropped."""
    title = _cited_title(label)
    return "" if not title or _VERSION_WORDS.match(title) or _DOI_WRITTEN.match(title) else title


# DataCite prefixes of data and software repositories: a DOI there names a record of code or
# data (Zenodo, figshare, Dryad, OSF projects, Harvard Dataverse, Code Ocean), not a paper
_DATA_DOI_PREFIXES = ("10.5281/", "10.6084/", "10.5061/", "10.17605/", "10.7910/", "10.24433/")


def _data_doi(doi: str) -> bool:
    return doi.lower().startswith(_DATA_DOI_PREFIXES)


def _mentions(source_id: str, links: list[tuple[str, str]], text: str, lang: str | None) -> tuple[Item, ...]:
    """One mention per paper linked (arXiv id, DOI or paper site), first link text as its title."""
    by_key: dict[str, Item] = {}

    def add(item: Item) -> None:
        key = (
            f"arxiv:{item.arxiv_id}"
            if item.arxiv_id
            else f"doi:{item.doi}"
            if item.doi
            else f"url:{item.url}"
        )
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
        host = urlsplit(href).netloc
        found = parse_arxiv_id(href) if is_arxiv_host(host) else None
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
        doi = next(iter(find_dois(href)), None)
        if doi and _data_doi(doi):
            continue
        if doi:
            from_doi = arxiv_id_from_doi(doi)
            # as for arXiv, a DOI cited as "PNAS version" or "doi:10.1214/…" has no title here:
            # later stages title it by Crossref's record, else by the DOI, never by that text
            title = label if from_doi else _doi_title(label)
            add(Item(source_id, ItemKind.MENTION, title, url=href, doi=doi, arxiv_id=from_doi, lang=lang))
        elif (title := _paper_title(label)) and classify_url(href) == "paper":
            # a paper on a publisher's or proceedings' site (JMLR, NeurIPS, nature.com), known by
            # its link text alone, as notes pages keep one
            add(
                Item(
                    source_id,
                    ItemKind.MENTION,
                    title,
                    url=href,
                    lang=lang,
                    extra=(("evidence", "paper_link"),),
                )
            )
    # DOIs and ids written out without a link ("doi:10.1145/3446776", "arXiv:1703.00887")
    for doi in find_dois(text):
        found_id = arxiv_id_from_doi(doi)
        if _data_doi(doi):
            continue
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


def _authors(entry: Any, feed_authors: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The entry's authors; else those of the feed it was copied from (atom:source); else
    `feed_authors`, the feed's own, which RFC 4287 §4.2.1 gives every entry naming none (a
    single-author blog often names its author once, on the feed)."""
    return _named(entry) or _named(entry.get("source") or {}) or feed_authors


def _named(element: Any) -> tuple[str, ...]:
    """The author names feedparser read from an entry, an atom:source or a feed."""
    names = [clean(a.get("name", "")) for a in element.get("authors", []) if a.get("name")]
    if not names and element.get("author"):
        names = [clean(element["author"])]
    return tuple(dict.fromkeys(part for name in names if name for part in _names(name)))


def _web_url(link: str | None) -> str | None:
    # feedparser falls back to an entry's id, which may be "urn:uuid:..." or "tag:...": no page
    return link if link and link.lower().startswith(("http://", "https://")) else None


# Numeric references to no character at all (&#0;, a lone surrogate &#xD800;, &#99999999;):
# feedparser's lenient reader hands them to chr() and fails, losing the feed for one typo.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));")
# An encoding label that is no label ("UT\0F-8"): feedparser fails on it instead of ignoring it.
_ODD_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*(["'])(?![A-Za-z0-9_.:-]+\2)[^"']*\2""")


def _xml_char(match: re.Match[bytes]) -> bytes:
    hex_digits, digits = match.group(1), match.group(2)
    written = (hex_digits or digits).lstrip(b"0")
    value = int(written or b"0", 16 if hex_digits else 10) if len(written) <= 8 else -1
    allowed = value in (0x9, 0xA, 0xD) or 0x20 <= value <= 0xD7FF or 0xE000 <= value <= 0x10FFFF
    return match.group(0) if allowed and value not in (0xFFFE, 0xFFFF) else b"&#xFFFD;"


def _repaired(content: bytes) -> bytes:
    """The feed with what feedparser cannot survive replaced: references to no character become
    U+FFFD, an encoding label that is no label is dropped (the bytes then decide)."""
    return _ODD_ENCODING.sub(rb"\1", _CHAR_REF.sub(_xml_char, content), count=1)


def _as_utf8(content: bytes, content_type: str) -> tuple[bytes, str]:
    """A body that starts with a byte order mark, re-encoded as UTF-8: the mark wins over a
    stale `encoding="UTF-8"` declaration or header (as in browsers), which feedparser would
    try first on UTF-16 bytes."""
    encoding = bom_encoding(content)
    if encoding is None:
        return content, content_type
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        return content, content_type
    media_type = content_type.split(";")[0].strip() or "application/xml"
    return text.removeprefix("\ufeff").encode("utf-8"), f"{media_type}; charset=utf-8"


def _feedparser(page: RawPage) -> tuple[Any, list[str]]:
    """feedparser's reading of the page, and a warning when the bytes had to be repaired first."""
    written, content_type = _as_utf8(page.content, page.content_type or "application/xml")
    # as XML: feedparser keeps a Python frame per open element (any ASCII-compatible charset reads)
    check_nesting(written.decode("latin-1"), page.source_id, page.url or None, html=False)
    content = _repaired(written)
    headers = {"content-location": page.url} if page.url else {}
    # without a declared type feedparser flags every saved or cached body as suspect
    headers["content-type"] = content_type
    try:
        # unsanitized: the sanitizer drops `data-*` attributes (Substack's formulas live in one);
        # nothing here is shown as HTML, and html_blocks skips scripts, forms and buttons itself
        parsed = feedparser.parse(content, response_headers=headers, sanitize_html=False)
    except (ValueError, UnicodeError) as exc:  # what the repair did not foresee
        reason = f"{type(exc).__name__}: {exc}"
        raise ParseError(page.source_id, f"feedparser cannot read the feed ({reason})", url=page.url) from exc
    repaired = "a reference to no character, or an encoding label naming none, replaced"
    return parsed, [f"feed read after repair ({repaired})"] if content != written else []


def _join(site: str, link: str) -> str | None:
    """An entry's link as a web address; None when there is none or it cannot be parsed."""
    if not link:  # no link is no page: joined, "" would give the feed's own address to every such entry
        return None
    try:
        joined = urljoin(site, link) if site else link
        urlsplit(joined)
    except ValueError:  # "http://[oops/"
        return None
    return _web_url(joined)


_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml"})


def advertised_feeds(page: RawPage) -> list[str]:
    """The feeds an HTML page (a blog's home page given as a feed's url) advertises with
    `<link rel="alternate" type="application/rss+xml" href=…>`, as absolute URLs."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fromstring(page.content)
    except (etree.ParserError, ValueError):  # empty, or not markup at all
        return []
    found: list[str] = []
    for link in root.iter("link"):
        rel = str(link.get("rel") or "").lower().split()
        kind = str(link.get("type") or "").split(";")[0].strip().lower()
        url = _join(page.url or "", str(link.get("href") or "").strip())
        if "alternate" in rel and kind in _FEED_TYPES and url and url not in found:
            found.append(url)
    return found


def _entry_name(entry: Any) -> str:
    return str(entry.get("title") or entry.get("link") or entry.get("id") or "")


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    opts = _options(options)
    parsed, warnings = _feedparser(page)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        advertised = advertised_feeds(page)
        hint = f"; the page names its feed: {advertised[0]} (use it as the url)" if advertised else ""
        raise ParseError(
            page.source_id, f"not an RSS/Atom feed ({reason or 'no feed elements'}){hint}", url=page.url
        )
    feed_lang = (parsed.feed.get("language") or "").split("-")[0].lower() or None
    entries = parsed.entries[: opts.max_entries] if opts.max_entries else parsed.entries
    seen: set[str] = set()
    # relative entry links: against where the feed came from, else the site it names
    site = page.url or _join("", parsed.feed.get("link") or "") or ""
    # Atom only: in RSS feedparser reads the channel's managingEditor (an editor's address,
    # not the posts' author) as the feed's author too
    feed_authors = _named(parsed.feed) if str(parsed.get("version", "")).startswith("atom") else ()

    def read(entry: Any) -> Item | None:
        title = _entry_title(entry)
        url = _join(site, entry.get("link") or "")
        if not title and not url:
            warnings.append("feed entry without title or link skipped")
            return None
        # a feed that repeats an entry (same id, else same link and title) lists one post
        identity = entry.get("id") or f"{url}|{title}"
        if identity in seen:
            return None
        seen.add(identity)
        body = _entry_html(entry)
        own = {urldefrag(address).url for address in (url, page.url, site) if address}
        text, links = _text_and_links(body, url or site or None, own, page.source_id)
        published, bad_published = _entry_date(entry, "published")
        updated, bad_updated = _entry_date(entry, "updated")
        unread = list(dict.fromkeys(text for text in (bad_published, bad_updated) if text))
        if unread:  # said, as an undated post is placed in the week being run, not its own
            dates = " and ".join(repr(text[:60]) for text in unread)
            outcome = "" if published or updated else "; the post is undated"
            warnings.append(f"entry {_entry_name(entry)[:80]!r}: date {dates} cannot be read{outcome}")
        lang = (entry.get("language") or "").split("-")[0].lower() or feed_lang
        guid = entry.get("id")
        return Item(
            source_id=page.source_id,
            kind=ItemKind.POST,
            title=title,
            url=url,
            authors=_authors(entry, feed_authors),
            lang=lang,
            text=text,
            published=published or updated,
            updated=updated,
            links=tuple(dict.fromkeys(href for href, _ in links)),
            cited=_mentions(page.source_id, links, text, lang),
            extra=(("guid", guid),) if guid else (),
        )

    # one entry that cannot be read is left out with a warning naming it; the others are kept
    read_items, skipped = read_entries(
        entries, read, source_id=page.source_id, name=_entry_name, url=page.url
    )
    items = [item for item in read_items if item is not None]
    warnings.extend(skipped)
    if not items:
        warnings.append("0 items parsed: the feed has no entries")
    # a feed served as text/html or application/octet-stream that parsed as XML is well-formed:
    # feedparser flags the header (NonXMLContentType), which is the site's, not the user's, to fix;
    # a real parse error replaces that flag, so it still warns
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and items and not isinstance(problem, feedparser.NonXMLContentType):
        warnings.append(f"feed is not well-formed, read leniently: {problem}")
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
