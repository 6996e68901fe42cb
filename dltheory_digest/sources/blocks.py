"""Pages as lines of text with their links: the common ground of the HTML, Markdown and
plain-text parsers.

A page becomes a list of `Block`s, one per visual line (paragraph, list item, heading,
table cell or `<br>`-separated line), each keeping the links written inside it with their
character spans. Parsers that read "a title, then its commentary" work on these blocks
whatever markup the page came in. Markdown and plain text go through markdown-it first,
so `[title](url)` links and lists look exactly like their HTML equivalents.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from urllib.parse import parse_qs, unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import dateutil.parser
from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, Doctype, NavigableString, PageElement, ProcessingInstruction
from markdown_it import MarkdownIt

from dltheory_digest.models import Item, ParseResult, RawPage
from dltheory_digest.sources.decode import charset_warning

ZERO_ITEMS_WARNING = "0 items parsed from a {status} response"

_BLOCK_TAGS = frozenset(
    {
        *(
            "address",
            "article",
            "aside",
            "blockquote",
            "body",
            "caption",
            "center",
            "dd",
            "details",
            "dialog",
        ),
        *(
            "div",
            "dl",
            "dt",
            "fieldset",
            "figcaption",
            "figure",
            "footer",
            "header",
            "hr",
            "html",
            "li",
            "main",
        ),
        *("h1", "h2", "h3", "h4", "h5", "h6", "ol", "p", "pre", "section", "summary", "table", "tbody", "td"),
        *("tfoot", "th", "thead", "tr", "ul"),
    }
)
_SKIP_TAGS = frozenset(
    {
        *("script", "style", "noscript", "svg", "template", "head", "button", "iframe", "select", "textarea"),
        *("option", "nav", "form", "object", "canvas"),
    }
)
_SPACE = re.compile(r"\s+")
# a URL ends at a bracket it did not open: "(see https://x.org/a)", but .../Kernel_(statistics)
_BARE_URL = re.compile(r"""https?://(?:[^\s<>"'\]\[()（）]|\([^\s<>"'\]\[()（）]*\))+""")
_HTML_START = re.compile(r"<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_HTML_TAGS = re.compile(r"<(?:div|p|a|li|span|h[1-6]|table|br|article)\b[^>]*>", re.IGNORECASE)
_TIDDLY_LINK = re.compile(r"\[(?:ext)?\[([^\]|]+)\|(https?://[^\]]+)\]\]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

# setext headings ("text" over a "-" line) are accidents in plain text, never intended
_MARKDOWN = MarkdownIt("commonmark", {"breaks": True, "html": True}).enable("table").disable("lheading")


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    href: str  # absolute, redirect wrappers removed
    start: int  # span of the link text inside Block.text
    end: int
    relative: bool = False  # written as a relative/fragment link (a page of the same site)


@dataclass(frozen=True, slots=True)
class Block:
    text: str
    links: tuple[Link, ...] = ()
    tag: str = "p"


def clean(text: str | None) -> str:
    """Collapse whitespace (including NBSP and zero-width spaces) to single spaces."""
    if not text:
        return ""
    return _SPACE.sub(" ", text.replace("\u200b", "").replace("\xa0", " ")).strip()


_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def plain_text(text: str | None) -> str:
    """A title given as markup ("NTK &amp; <b>宽网络</b>") -> its text, collapsed; text that only
    looks like markup ("n < d") is kept as written."""
    if not text:
        return ""
    if _TAG.search(text):
        return clean(" ".join(block.text for block in html_blocks(text)))
    if _ENTITY.search(text):
        return clean(html.unescape(text))
    return clean(text)


# Author lists as aggregators write them: "A, B and C", "张三，李四、王五", "A; B"
_NAME_SEPARATORS = re.compile(r"\s*(?:[,，、;；]\s*(?:and\s+)?|\s+and\s+|\s+&\s+)\s*")


def split_names(text: str | None) -> tuple[str, ...]:
    """An author line -> the names, in order, each once."""
    if not text:
        return ()
    # spaces collapsed first: the separators' optional spaces overlap, cubic on a long run of them
    return tuple(
        dict.fromkeys(name for name in (clean(n) for n in _NAME_SEPARATORS.split(clean(text))) if name)
    )


# Link texts that name no paper ("[pdf]", "here", "论文链接"): the title is elsewhere
_GENERIC_ANCHOR = re.compile(
    r"^(?:\[?(?:pdf|abs|abstract|paper|arxiv|link|here|code|html|doi|slides|video|url|project|website|"
    r"this paper|the paper|paper link|论文|原文|原论文|这篇论文|这篇文章|这篇|论文链接|链接|地址|这里|全文|下载)\]?[\s:：]*)+$",
    re.I,
)


def is_generic_anchor(text: str) -> bool:
    """A link text that names no paper: "pdf", "[arXiv]", "here", "论文链接"."""
    return _GENERIC_ANCHOR.match(text) is not None


def looks_like_html(text: str) -> bool:
    head = text[:5000]
    return bool(_HTML_START.search(head)) or len(_HTML_TAGS.findall(head)) >= 3


_FEED_ROOT = re.compile(
    r"\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<\?[^>]*\?>\s*)*<(?:rss|feed|rdf:RDF)\b", re.DOTALL
)


def looks_like_feed(text: str) -> bool:
    """An RSS, Atom or RDF document (which an HTML reader would take for plain text)."""
    return bool(_FEED_ROOT.match(text[:5000]))


def soup_of(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "lxml")


def _has_value(value: str) -> Callable[[str | list[str] | None], bool]:
    """An attribute matcher for BeautifulSoup, case-insensitive, also inside multi-valued `rel`."""

    def matches(found: str | list[str] | None) -> bool:
        words = found if isinstance(found, list) else (found or "").split()
        return value in (word.lower() for word in words)

    return matches


def canonical_url(document: Tag | str | bytes, fallback: str = "") -> str:
    """The page's own address (`<link rel=canonical>`, else `og:url`), else where it was fetched from.

    Mirrors, caches and test servers then still name the page by its real address. Takes the
    page's soup when the caller has one (no second parse), or its HTML.
    """
    soup = document if isinstance(document, Tag) else BeautifulSoup(document, "lxml")
    candidates = (
        (soup.find("link", attrs={"rel": _has_value("canonical")}), "href"),
        (soup.find("meta", attrs={"property": _has_value("og:url")}), "content"),
        (soup.find("meta", attrs={"name": _has_value("og:url")}), "content"),
    )
    for node, attribute in candidates:
        if not isinstance(node, Tag):
            continue
        written = clean(str(node.get(attribute) or ""))
        # a relative canonical ("/paper/123") is allowed: it names a page of the site fetched
        try:
            found = urljoin(fallback, written) if fallback.startswith(("http://", "https://")) else written
        except ValueError:  # "http://[oops/": not an address
            continue
        if written and found.startswith(("http://", "https://")):
            return found
    return fallback


def unwrap_redirect(href: str) -> str:
    """Zhihu, Google and similar link wrappers -> the URL they point to (`href` itself when it
    is no wrapper, or cannot be parsed)."""
    try:
        parts = urlsplit(href)
    except ValueError:  # "http://[oops/"; `followable_href` tells the caller
        return href
    host = parts.netloc.lower()
    if host in {"link.zhihu.com", "www.google.com", "google.com", "l.facebook.com", "t.umblr.com"} or (
        host.endswith("link.csdn.net")
    ):
        query = parse_qs(parts.query)
        for key in ("target", "q", "url", "u", "z"):
            if query.get(key):
                return unquote(query[key][0])
    return href


def followable_href(href: str, base_url: str = "") -> str | None:
    """A link as written on a page -> the absolute address it leads to (redirect wrapper
    removed), or None when it cannot be parsed ("http://[oops/"), so one bad link on a page
    costs that link, not the page."""
    try:
        target = unwrap_redirect(urljoin(base_url, href) if base_url else href)
        urlsplit(target)  # a wrapper's target must parse too
    except ValueError:
        return None
    return "https:" + target if target.startswith("//") else target


def script_lang(text: str) -> str:
    """Language by script: "zh" for Han characters, "ar" for Arabic, else "en"."""
    if _CJK.search(text):
        return "zh"
    if _ARABIC.search(text):
        return "ar"
    return "en"


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(text))


class _Walker:
    """Depth-first walk that cuts the DOM into blocks at block tags and <br>."""

    def __init__(self, base_url: str, keep_bare: Callable[[str], bool] | None = None) -> None:
        self.base_url = base_url
        self.keep_bare = keep_bare
        self.blocks: list[Block] = []
        self._parts: list[str] = []
        self._length = 0
        self._links: list[Link] = []
        self._tag = "p"

    def _append(self, text: str) -> None:
        text = _SPACE.sub(" ", text.replace("\u200b", "").replace("\xa0", " "))
        if not text:
            return
        if text.startswith(" ") and (self._length == 0 or self._parts[-1].endswith(" ")):
            text = text[1:]
        if text:
            self._parts.append(text)
            self._length += len(text)

    def flush(self) -> None:
        raw = "".join(self._parts)
        stripped = raw.rstrip()
        lead = len(stripped) - len(stripped.lstrip())
        text = stripped.strip()
        # a line with no words is kept when it links where `keep_bare` says (an empty anchor or
        # an image-only badge linking a paper: the link is the whole line)
        bare = (
            not text
            and self.keep_bare is not None
            and any(not link.relative and self.keep_bare(link.href) for link in self._links)
        )
        if text or bare:
            links = tuple(
                Link(
                    link.text,
                    link.href,
                    max(0, link.start - lead),
                    max(0, min(len(text), link.end - lead)),
                    link.relative,
                )
                for link in self._links
                # on a bare line, only the links asked for (not a logo's link beside a badge)
                if text or (not link.relative and self.keep_bare is not None and self.keep_bare(link.href))
            )
            self.blocks.append(Block(text, links, self._tag))
        self._parts, self._length, self._links = [], 0, []

    def _end_link(self, raw_href: str, flushes: int, start: int) -> None:
        """After an <a>'s content was walked: record the link over the text it produced."""
        if raw_href.startswith(("javascript:", "mailto:", "tel:")):
            return
        relative = not re.match(r"^(?:https?:)?//", raw_href)
        href = followable_href(raw_href, self.base_url)
        if href is None:  # the text stays, without the link
            return
        if len(self.blocks) == flushes:
            text = "".join(self._parts)[start : self._length]
            self._links.append(Link(clean(text), href, start, self._length, relative))
        elif self._length:  # the link wrapped block elements: it covers what is pending
            self._links.append(Link(clean("".join(self._parts)), href, 0, self._length, relative))
        elif self.blocks:  # ... or the block it just closed
            last = self.blocks[-1]
            link = Link(last.text, href, 0, len(last.text), relative)
            self.blocks[-1] = Block(last.text, (*last.links, link), last.tag)

    def _end_block(self, previous_tag: str) -> None:
        self.flush()
        self._tag = previous_tag

    def walk(self, node: Tag) -> None:
        # An explicit stack instead of recursion: broken pages (thousands of unclosed <div>
        # or <font>) nest deeper than Python's recursion limit.
        stack: list[Iterator[PageElement] | Callable[[], None]] = [iter(node.children)]
        while stack:
            top = stack[-1]
            if callable(top):  # what to do when an element's content is done
                stack.pop()
                top()
                continue
            child = next(top, None)
            if child is None:
                stack.pop()
                continue
            if isinstance(child, (Comment, Doctype, ProcessingInstruction)):
                continue
            if isinstance(child, NavigableString):
                self._append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if name in _SKIP_TAGS or _is_header_row(child):
                continue
            if name == "br":
                self.flush()
            elif name == "img":
                self._append(_formula(child))
            elif formula := _formula_block(child):  # a line of its own, as the editor shows it
                self.flush()
                self._append(formula)
                self.flush()
            elif name in ("td", "th") and self._tag == "tr":
                # a table row reads as one line, "title | link | note", like a list item
                if self._length:
                    self._append(" | ")
                stack.append(iter(child.children))
            elif name in _BLOCK_TAGS:
                self.flush()
                previous_tag, self._tag = self._tag, name
                stack.append(partial(self._end_block, previous_tag))
                stack.append(iter(child.children))
            elif name == "a" and child.get("href"):
                raw_href, flushes, start = str(child.get("href")).strip(), len(self.blocks), self._length
                stack.append(partial(self._end_link, raw_href, flushes, start))
                stack.append(iter(child.children))
            else:
                stack.append(iter(child.children))


def _is_header_row(node: Tag) -> bool:
    """A table's column labels ("Paper | Link | Note"): a heading, not a line of the list."""
    if node.name == "thead":
        return True
    if node.name != "tr":
        return False
    cells = [cell.name for cell in node.find_all(("td", "th"), recursive=False)]
    return bool(cells) and all(cell == "th" for cell in cells)


# Editors that show formulas as images, the TeX in `alt` and in the address: Zhihu (<img eeimg="1"
# src=".../equation?tex=TeX">), WordPress.com and Jetpack (<img class="latex"
# src="https://s0.wp.com/latex.php?latex=TeX&bg=…">); without the TeX a sentence reads "a rate
# of  in n".
_EQUATION_SRC = re.compile(r"/(?:equation\?(?:.*&)?tex|latex\.php\?(?:.*&)?latex)=([^&]+)")


def _formula(image: Tag) -> str:
    source = str(image.get("src") or image.get("data-src") or "")
    found = _EQUATION_SRC.search(source)
    if not (image.get("eeimg") or found or "latex" in class_names(image)):
        return ""
    tex = clean(str(image.get("alt") or "")) or (
        clean(unquote(found.group(1).replace("+", " "))) if found else ""
    )
    return f" ${tex}$" if tex else ""


def class_names(node: Tag) -> list[str]:
    """An element's `class` words (bs4 gives a list, or a string when it was parsed as XML)."""
    found: str | list[str] = node.get("class") or []
    return [found] if isinstance(found, str) else list(found)


def _formula_block(node: Tag) -> str:
    """Substack's display formula: an empty <div class="latex-rendered"> whose `data-attrs` JSON
    holds the TeX as `persistentExpression`; "" for any other element."""
    attrs = node.get("data-attrs")
    if not isinstance(attrs, str) or "persistentExpression" not in attrs:
        return ""
    try:
        expression = json.loads(attrs).get("persistentExpression")
    except (ValueError, AttributeError):  # not JSON, or JSON that is no object
        return ""
    tex = clean(expression) if isinstance(expression, str) else ""
    return f"${tex}$" if tex else ""


def html_blocks(
    root: Tag | str, base_url: str = "", *, keep_bare: Callable[[str], bool] | None = None
) -> list[Block]:
    """An HTML document or element -> its lines with their links. A line without text is left
    out, unless `keep_bare` accepts the address of one of its (absolute) links: it then stays,
    its text "", so a caller can keep an image-only or empty link it counts on."""
    node = soup_of(root) if isinstance(root, str) else root
    walker = _Walker(base_url, keep_bare)
    walker.walk(node)
    walker.flush()
    return _with_bare_urls(walker.blocks)


def markdown_to_html(text: str) -> str:
    """Markdown or plain text -> HTML (one line per line: soft breaks become <br>)."""
    html: str = _MARKDOWN.render(_TIDDLY_LINK.sub(lambda m: f"[{m.group(1)}]({m.group(2)})", text))
    return html


def text_blocks(
    text: str, base_url: str = "", *, keep_bare: Callable[[str], bool] | None = None
) -> list[Block]:
    """Markdown, TiddlyWiki markup or plain text -> lines with their links (`keep_bare`: as
    html_blocks)."""
    return html_blocks(markdown_to_html(text), base_url, keep_bare=keep_bare)


def _with_bare_urls(blocks: Iterable[Block]) -> list[Block]:
    """URLs written as plain text become links too (plain-text pages have no <a>)."""
    result = []
    for block in blocks:
        extra = []
        for match in _BARE_URL.finditer(block.text):
            start = match.start()
            if any(link.start <= start < link.end for link in block.links):
                continue
            url = match.group(0).rstrip(".,;:!?'\"")
            href = followable_href(url)
            if href is not None:
                extra.append(Link(url, href, start, start + len(url)))
        if extra:
            links = tuple(sorted(block.links + tuple(extra), key=lambda link: link.start))
            block = Block(block.text, links, block.tag)
        result.append(block)
    return result


def sub_block(block: Block, start: int, end: int) -> Block:
    """The part of a block between two offsets, links re-based (for splitting "[1] .. [2] .." lines)."""
    piece = block.text[start:end]
    lead = len(piece) - len(piece.lstrip())
    text = piece.strip()
    offset = start + lead
    links = tuple(
        Link(link.text, link.href, link.start - offset, link.end - offset, link.relative)
        for link in block.links
        if start <= link.start < end
    )
    return Block(text, links, block.tag)


def finish(
    page: RawPage,
    items: Sequence[Item],
    warnings: Sequence[str] = (),
    *,
    next_urls: Sequence[str] = (),
    total_results: int | None = None,
    cursor: Sequence[tuple[str, str]] = (),
) -> ParseResult:
    """A ParseResult that says so when a page parsed to nothing (a changed layout), and when
    its header charset was overruled (the text was read in another encoding)."""
    all_warnings = list(warnings)
    charset_note = charset_warning(page)
    if charset_note:
        all_warnings.insert(0, charset_note)
    if not items:
        all_warnings.append(ZERO_ITEMS_WARNING.format(status=page.status))
    return ParseResult(
        items=tuple(items),
        warnings=tuple(all_warnings),
        next_urls=tuple(next_urls),
        total_results=total_results,
        cursor=tuple(cursor),
    )


def latin_words(text: str) -> int:
    return len(_LATIN_WORD.findall(text))


def plain_blocks(text: str) -> list[Block]:
    """Plain text -> one block per non-empty line, exactly as written (no Markdown reading)."""
    return _with_bare_urls(Block(clean(line)) for line in text.splitlines() if line.strip())


def any_blocks(text: str, base_url: str = "") -> list[Block]:
    """HTML -> html_blocks; anything else -> plain_blocks (for pages with fixed line shapes)."""
    return html_blocks(text, base_url) if looks_like_html(text) else plain_blocks(text)


# Zhihu and arxivdaily write times without offset, in China Standard Time (UTC+8, no DST since 1991)
BEIJING = ZoneInfo("Asia/Shanghai")
# A Unix timestamp: seconds (9-10 digits since 1973) or milliseconds, never a compact date "20210621"
_EPOCH = re.compile(r"[0-9]{9,13}(?:\.[0-9]+)?")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 2822 ("Mon, 27 Apr 2026 00:00:00 -0400"): email.utils knows its zone names (EST, PDT), dateutil doesn't
_RFC_2822 = re.compile(r"(?:[A-Za-z]{3},\s*)?[0-9]{1,2}\s+[A-Za-z]{3}\s+[0-9]{4}\s+[0-9]{1,2}:[0-9]{2}")
_CJK_DATE = str.maketrans({"年": "-", "月": "-", "日": " "})
# A date inside other words ("发布于 2014-09-24", "Submitted 2021/06/18 17:59 +08:00 (CST)"), with
# its time and offset if any
_DATE_IN_TEXT = re.compile(
    r"(?<![0-9])[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}"
    r"(?:[T ]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:\.[0-9]+)?(?:\s*(?:Z|UTC|GMT|[+-][0-9]{2}:?[0-9]{2})\b)?)?"
    r"(?![0-9])"
)
# Two defaults differing in year, month, day and hour: a field the text leaves out shows as a difference
_DEFAULTS = (dt.datetime(1904, 1, 1, 0), dt.datetime(1905, 2, 2, 1))


def _offset_zone(name: str | None, offset: int | None) -> dt.tzinfo | None:
    """dateutil's zone hook: a stated offset (UTC, GMT and Z come as 0); an unknown name ("CST"
    is China's and America's) is no zone, so the page's own zone applies."""
    return dt.timezone(dt.timedelta(seconds=offset)) if offset is not None else None


def _without_own_zone_name(text: str, zone: dt.tzinfo) -> str:
    """The text without the names the page's own zone goes by ("CST" on a Beijing page), so
    its time is read in that zone: email.utils would take "CST" for US Central (RFC 2822),
    dateutil would ignore it, and the two forms of one page's dates would disagree."""
    year = dt.datetime.now(dt.UTC).year
    names = {zone.tzname(dt.datetime(year, month, 1)) for month in (1, 7)}  # winter and summer
    for name in names:
        if name and name.isalpha() and name.upper() not in {"UTC", "GMT"}:
            text = re.sub(
                rf"\(?(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])\)?", " ", text, flags=re.IGNORECASE
            )
    return clean(text)


def _read_date(text: str) -> tuple[dt.datetime, bool] | None:
    """(moment, whether a time of day is given), or None unless year, month and day are all written.

    Not fuzzy: dateutil's fuzzy mode finds dates in any noise, and its defaults fill a missing
    year or day with today's.
    """
    try:
        first, second = (
            dateutil.parser.parse(text, default=default, tzinfos=_offset_zone) for default in _DEFAULTS
        )
    except (ValueError, OverflowError):
        return None
    if first.date() != second.date():
        return None
    return first, first.hour == second.hour


def _from_epoch(seconds: float) -> dt.datetime | None:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    if seconds <= 0:  # 0 stands for "unknown" in the JSON APIs that send timestamps
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_date(value: str | float | None, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """A date as pages write it -> an aware datetime in UTC, or None when the text is not a date.

    Reads ISO 8601, RFC 2822, "2026/11/22 23:10", "22 November 2026", "Nov 22, 2026",
    "2021年6月21日" and Unix timestamps (seconds or milliseconds, as number or text).
    `zone` is where a time without offset was written (Zhihu and arxivdaily show Beijing time).
    A date without a time names a calendar day, not an instant: it stays that day (00:00 UTC),
    so the digest shows the day the site shows.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _from_epoch(float(value))
    text = clean(str(value))
    if not text.isascii():  # full-width digits, 年月日
        text = clean(unicodedata.normalize("NFKC", text).translate(_CJK_DATE))
    if _EPOCH.fullmatch(text):
        return _from_epoch(float(text))
    text = _without_own_zone_name(text, zone)
    parsed: tuple[dt.datetime, bool] | None = None
    if _ISO_DAY.match(text):
        try:
            parsed = dt.datetime.fromisoformat(text), len(text) > 10
        except ValueError:
            parsed = None
    if parsed is None and _RFC_2822.match(text):
        try:
            parsed = email.utils.parsedate_to_datetime(text), True
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        parsed = _read_date(text)
    if parsed is None and (found := _DATE_IN_TEXT.search(text)):
        parsed = _read_date(found.group(0))
    if parsed is None:
        return None
    moment, has_time = parsed
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone if has_time else dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00, 9999-12-31T23:59-14:00: before or after any date
        return None
