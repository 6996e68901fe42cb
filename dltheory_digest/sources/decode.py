"""Bytes -> text for every page a source kind reads.

The charset comes from the HTTP header first, then from what the document declares
(`<meta charset>`, `<meta http-equiv="Content-Type">`, the XML declaration), and only
then from detection (charset-normalizer). Labels are mapped the way browsers map them
(GB2312/GBK -> GB18030, Big5 -> Big5-HKSCS, Latin-1 -> Windows-1252), because pages
that declare the narrow charset routinely use the wider one. Mojibake left by a
site that double-encoded its text is repaired with ftfy so it never reaches the store.

A header charset is overruled when it cannot decode the bytes, or when it is a Latin one
and its text reads as mojibake while another decoding gives clean Chinese or Arabic (a
GBK page served as ISO-8859-1); `finish` then adds "charset header said X; decoded as Y"
to the page's warnings (`charset_warning`).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

import ftfy
from charset_normalizer import from_bytes

from dltheory_digest.errors import ParseError
from dltheory_digest.models import RawPage


class UndecodableContent(ValueError):
    """The bytes are not text in any encoding we can recognise (binary, truncated garbage)."""


# WHATWG Encoding Standard: labels whose real-world content is in a superset charset.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso-8859-6": "cp1256",  # Arabic pages labelled ISO are nearly always Windows-1256
    "arabic": "cp1256",
    "windows-1256": "cp1256",
    "x-mac-arabic": "cp1256",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}

_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# C0 controls other than tab, LF, FF, CR: text never has many of them, binary does.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def normalize_charset(label: str | None) -> str | None:
    """A charset label -> the Python codec that decodes what such pages really contain."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    # codecs.lookup canonicalises some aliases back to the narrow charset; widen again.
    return _SUPERSETS.get(codec, codec)


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return normalize_charset(match.group(1)) if match else None


def declared_charset(content: bytes) -> str | None:
    """The charset the document declares about itself in its first bytes, if any."""
    head = content[:_SNIFF_BYTES]
    match = _XML_DECL.match(head) or _META_CHARSET.search(head)
    if not match:
        return None
    return normalize_charset(match.group(1).decode("ascii", "ignore"))


def bom_encoding(content: bytes) -> str | None:
    """The codec a byte order mark at the start of `content` names (it decodes the mark too)."""
    return next((encoding for bom, encoding in _BOMS if content.startswith(bom)), None)


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    sample = text[:20000]
    return len(_CONTROL.findall(sample)) > max(8, len(sample) // 100) or "\ufffd" * 8 in sample


def _strict(content: bytes, encoding: str) -> str | None:
    try:
        return content.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _detect(content: bytes) -> tuple[str | None, str | None]:
    match = from_bytes(content[:200_000]).best()
    if match is None:
        return None, None
    encoding = normalize_charset(match.encoding) or match.encoding
    return _strict(content, encoding) or content.decode(encoding, errors="replace"), encoding


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded body, the codec that decoded it, and a warning when that was not the header's."""

    text: str
    encoding: str | None
    warning: str | None = None


def _header_label(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def decode_body(content: bytes, content_type: str | None = None) -> Decoded:
    """Decode a response body (BOM, header charset, declared charset, then detection).

    A Latin header charset (ISO-8859-1, Windows-1252, ASCII) whose decoding reads as mojibake
    gives way to a decoding that yields clean Chinese or Arabic; the result then carries a
    warning, as it does when the header's charset cannot decode the bytes at all.
    Raises UndecodableContent for bytes that are not text at all.
    """
    if not content:
        return Decoded("", None)
    text: str | None = None
    encoding: str | None = None
    header = charset_from_content_type(content_type)
    marked = bom_encoding(content)
    if marked:
        text, encoding = _strict(content, marked), marked
    if text is None:
        for declared in (header, declared_charset(content)):
            if declared:
                text, encoding = _strict(content, declared), declared
                if text is not None:
                    break
    if text is None:
        # Undeclared (or wrongly declared): valid UTF-8 is almost never an accident.
        text, encoding = _strict(content, "utf-8"), "utf-8"
        if text is None:
            # detection guesses badly on short pages (a GBK title read as Korean): as browsers
            # do, a page that says it is Chinese or Arabic is tried in that language's charsets
            text, encoding = _by_declared_language(content) or _detect(content)
    elif encoding == header and header in _LATIN_CODECS and is_latin_mojibake(text):
        better = _non_latin_reading(content)
        if better is not None:
            text, encoding = better
    if text is None or _looks_binary(text):
        raise UndecodableContent("the bytes are not text in any recognisable encoding")
    warning = None
    if (
        header
        and encoding
        and encoding != header
        and not encoding.startswith(("utf-8-sig", "utf-16", "utf-32"))
    ):
        warning = f"charset header said {_header_label(content_type)}; decoded as {encoding}"
    # Only the encoding repair of ftfy: keep quotes, widths and line breaks as the page has them.
    return Decoded(ftfy.fix_encoding(text), encoding, warning)


def decode_page(content: bytes, content_type: str | None = None) -> str:
    """Decode a response body to text (see `decode_body`)."""
    return decode_body(content, content_type).text


@lru_cache(maxsize=4)
def _decoded(content: bytes, content_type: str | None) -> Decoded:
    # page_text and charset_warning ask about the same page in one parse: decode it once
    return decode_body(content, content_type)


def _content_type(page: RawPage) -> str | None:
    return page.content_type or page.header("content-type")


def page_text(page: RawPage, *, markup: bool = True) -> str:
    """decode_page for a fetched page; undecodable bytes, and markup nested deeper than
    MAX_NESTING levels, become a ParseError carrying the source id. `markup=False` for a body
    that may be JSON, whose entries' HTML is checked one entry at a time (`check_nesting`)."""
    try:
        text = _decoded(page.content, _content_type(page)).text
    except UndecodableContent as exc:
        raise ParseError(page.source_id, str(exc), url=page.url or None) from exc
    if markup:
        check_nesting(text, page.source_id, page.url or None)
    return text


# ---------------------------------------------------------------------------------------
# Markup nested too deep to read
#
# BeautifulSoup builds every level of a broken page (lxml alone stops at 256), and every walk
# of the tree then costs tens of microseconds a level: 600,000 nested <div> (7 MB) took 30 s
# and 800 MB. Real pages nest a few dozen levels (56 at most among the seeds, the shared
# fixtures and the demo snapshot); Chromium flattens anything beyond 512. Refusing beyond 4,096
# loses no page a browser shows as written and bounds the cost of the deepest one read.
MAX_NESTING = 4096

# Elements that hold nothing, and an <a> (one inside an open <a> ends it).
_NOT_NESTING = frozenset(
    {
        *("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source"),
        *("track", "wbr", "a", "optgroup", "thead", "tbody", "tfoot", "colgroup", "caption"),
        *("rb", "rt", "rtc", "rp"),
    }
)
# Elements the parser ends itself, often left unclosed: kept open as markers that add no
# depth, so their end tag closes what was left open inside them (an unclosed <font> per cell).
_MARKERS = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "option"})
# What a start tag closes while it is the innermost open element, as lxml's parser (libxml2
# 2.14) does: a new cell ends the last and the inline tags left open in it; a block ends a <p>.
_P_ENDERS = (
    *("address", "blockquote", "center", "dir", "div", "dl", "fieldset", "form", "h1", "h2", "h3"),
    *("h4", "h5", "h6", "hr", "menu", "ol", "pre", "table", "ul", "li", "dd", "dt", "listing", "xmp"),
)
_CELL = frozenset({"td", "th", "a", "b", "font", "i", "span", "u"})
_IMPLIED_END: dict[str, frozenset[str]] = {
    **dict.fromkeys(_P_ENDERS, frozenset({"p"})),
    "p": frozenset({"p", "b", "big", "i", "s", "small", "strike", "tt", "u"}),
    "li": frozenset({"p", "li"}),
    "dt": frozenset({"p", "dt", "dd"}),
    "dd": frozenset({"p", "dt", "dd"}),
    "option": frozenset({"option"}),
    "tr": frozenset({"tr", "td", "th"}),
    "td": _CELL,
    "th": _CELL,
}
# An end tag is ignored while an element of higher rank is open inside its element (libxml2's
# end priorities): </span> does not end a <div> opened in the span, </td> does. Others rank 100.
_END_RANK = {
    **{"div": 150, "td": 160, "th": 160, "tr": 170, "thead": 180, "tbody": 180, "tfoot": 180},
    **{"table": 190, "head": 200, "body": 200, "html": 220},
}
_RANKS = sorted(set(_END_RANK.values()))

# Elements whose content is text, never markup.
_RAW_TEXT_END = {
    name: re.compile(rf"</{name}\s*>", re.IGNORECASE)
    for name in ("script", "style", "textarea", "title", "xmp")
}
# A name ends where its attributes start, so a tag left open ("<a" then text) is given up at
# once: overlapping name and attribute patterns would try every split of the run.
_MARKUP_START = re.compile(r"<(?:(!--|!\[CDATA\[)|(/?)([A-Za-z][^\s/<>]*)((?:[\s/][^<>]*)?)>)")


def nesting_exceeds(markup: str, limit: int = MAX_NESTING, *, html: bool = True) -> bool:
    """Whether the elements of `markup` nest more than `limit` levels deep, by a scan of its
    tags (no tree is built): a closing tag closes what was opened since its opening tag.
    `html`: as lxml's HTML parser reads it (void and self-closing elements, the ends a start
    tag implies, <p>, <li> and cells counted as no level, end tags a block keeps from
    closing, <script> text); otherwise as XML (every tag counts). Linear in `markup`."""
    if markup.count("<") <= limit:  # each level needs a tag
        return False
    stack: list[str] = []  # open elements, innermost last
    where: dict[str, list[int]] = {}  # each open name's positions in `stack`
    ranked: dict[int, list[int]] = {rank: [] for rank in _RANKS}  # positions of ranked elements
    any_ranked: list[int] = []  # positions of all of them
    markers = 0  # markers open (in `stack`, no level)
    implied_end = _IMPLIED_END if html else {}
    end_rank = _END_RANK if html else {}
    marker_names = _MARKERS if html else frozenset()

    def close_to(depth: int) -> int:
        """Close the elements above `depth`; the markers closed."""
        closed = 0
        while len(stack) > depth:
            top = stack.pop()
            where[top].pop()
            if top in end_rank:
                ranked[end_rank[top]].pop()
                any_ranked.pop()
            closed += top in marker_names
        return closed

    skip_to = 0  # the end of a comment or raw text: tags before it are text
    for match in _MARKUP_START.finditer(markup):
        # a match that starts inside skipped text holds no other "<", so none is missed
        if match.start() < skip_to:
            continue
        opener, closing, name = match.group(1), match.group(2), match.group(3)
        if opener:  # a comment or CDATA section: skip to its end
            end = markup.find("-->" if opener == "!--" else "]]>", match.end())
            if end < 0:
                return False
            skip_to = end + 3
            continue
        name = name.lower() if html else name
        if closing:
            if not (opened := where.get(name)):
                continue
            at = opened[-1]
            if any_ranked and any_ranked[-1] > at:  # something that may outrank it is open inside
                rank = end_rank.get(name, 100)
                if any(r > rank and ranked[r] and ranked[r][-1] > at for r in _RANKS):
                    continue
            markers -= close_to(at)
            continue
        if stack and stack[-1] == name and name in marker_names:
            continue  # <p> after <p>: the one ends, the other opens in its place
        if (ends := implied_end.get(name)) is not None and stack and stack[-1] in ends:
            depth = len(stack) - 1
            while depth and stack[depth - 1] in ends:
                depth -= 1
            markers -= close_to(depth)
        if match.group(4).endswith("/") or (html and name in _NOT_NESTING):
            continue
        if html and name in _RAW_TEXT_END:
            end_tag = _RAW_TEXT_END[name].search(markup, match.end())
            if end_tag is None:
                return False
            skip_to = end_tag.end()
            continue
        if name in where:
            where[name].append(len(stack))
        else:
            where[name] = [len(stack)]
        if name in end_rank:
            ranked[end_rank[name]].append(len(stack))
            any_ranked.append(len(stack))
        stack.append(name)
        if name in marker_names:
            markers += 1
        elif len(stack) - markers > limit:
            return True
    return False


def check_nesting(markup: str, source_id: str, url: str | None = None, *, html: bool = True) -> None:
    """Raise ParseError when `markup` nests deeper than MAX_NESTING levels (`nesting_exceeds`)."""
    if nesting_exceeds(markup, MAX_NESTING, html=html):
        raise ParseError(
            source_id,
            f"markup nested more than {MAX_NESTING:,} levels deep: not read (a broken page)",
            url=url,
        )


def charset_warning(page: RawPage) -> str | None:
    """The parse warning for a page whose header charset was overruled ("charset header said
    iso-8859-1; decoded as gb18030"), else None."""
    content_type = _content_type(page)
    if not charset_from_content_type(content_type):
        return None
    try:
        return _decoded(page.content, content_type).warning
    except UndecodableContent:
        return None


# ---------------------------------------------------------------------------------------
# Chinese or Arabic pages served with a Latin charset

_LATIN_CODECS = frozenset({"cp1252", "latin_1", "iso8859-1", "ascii"})
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f\s]{3,}")
_CJK_OR_ARABIC = re.compile(
    r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef\u0600-\u06ff\u0750-\u077f]"
)


def is_latin_mojibake(text: str) -> bool:
    """Whether Latin-decoded text reads as mojibake rather than words.

    In French or German the accented letters sit inside ASCII words ("théorie", "Größe"); bytes
    of Chinese or Arabic decoded as Windows-1252 come out as long runs of them ("Éî¶ÈѧϰÀíÂÛ").
    """
    sample = text[:200_000]
    non_ascii = sum(1 for ch in sample if ord(ch) > 0x7F and not ch.isspace())
    if non_ascii < 8:
        return False
    in_runs = sum(len(run) for run in _NON_ASCII_RUN.findall(sample))
    return in_runs * 2 > non_ascii


_HTML_LANG = re.compile(
    rb"""<html[^>]*\slang\s*=\s*["']?\s*([A-Za-z]{2}[\w-]*)"""
    rb"""|<meta[^>]+content-language["'][^>]*content\s*=\s*["']?\s*([A-Za-z]{2}[\w-]*)""",
    re.IGNORECASE,
)
_LEGACY_CHARSETS = {
    "zh": ("gb18030", "big5hkscs"),
    "zh-tw": ("big5hkscs", "gb18030"),
    "zh-hk": ("big5hkscs", "gb18030"),
    "zh-hant": ("big5hkscs", "gb18030"),
    "ar": ("cp1256",),
}


def _reads_native(text: str) -> bool:
    """Whether the non-ASCII letters of a decoding are (mostly) Chinese/Japanese or Arabic, or
    whether there are too few of them to tell."""
    sample = text[:200_000]
    non_ascii = sum(1 for ch in sample if ord(ch) > 0x7F and not ch.isspace())
    return non_ascii < 8 or len(_CJK_OR_ARABIC.findall(sample)) * 10 >= non_ascii * 8


def _by_declared_language(content: bytes) -> tuple[str, str] | None:
    """A clean decoding in the legacy charsets of the language the page declares (`<html lang>`)."""
    match = _HTML_LANG.search(content[:_SNIFF_BYTES])
    if not match:
        return None
    tag = (match.group(1) or match.group(2) or b"").decode("ascii").lower().replace("_", "-")
    # "zh-Hant-TW" -> "zh-hant", "zh-CN" -> "zh", "ar-SY" -> "ar"
    language = next((key for key in ("zh-tw", "zh-hk", "zh-hant") if tag.startswith(key)), tag[:2])
    candidates = _LEGACY_CHARSETS.get(language, ())
    if len(candidates) > 1 and sum(byte > 0x7F for byte in content[:200_000]) >= 200:
        # enough text to tell GB from Big5 by statistics; a short page keeps the language's order
        guess = from_bytes(content[:200_000], cp_isolation=list(candidates)).best()
        if guess is not None:
            chosen = normalize_charset(guess.encoding) or guess.encoding
            candidates = (chosen, *(c for c in candidates if c != chosen))
    for encoding in candidates:
        text = _strict(content, encoding)
        if text is not None and _reads_native(text) and _CJK_OR_ARABIC.search(text):
            return text, encoding
    return None


def _non_latin_reading(content: bytes) -> tuple[str, str] | None:
    """A decoding of the bytes as clean Chinese or Arabic: the page's own declaration, UTF-8,
    then detection, whichever first gives such text without replacement characters."""
    candidates = [declared_charset(content), "utf-8"]
    match = from_bytes(content[:200_000]).best()
    if match is not None:
        candidates.append(normalize_charset(match.encoding) or match.encoding)
    for encoding in dict.fromkeys(c for c in candidates if c and c not in _LATIN_CODECS):
        text = _strict(content, encoding)
        if text is None:
            continue
        non_ascii = sum(1 for ch in text[:200_000] if ord(ch) > 0x7F and not ch.isspace())
        native = len(_CJK_OR_ARABIC.findall(text[:200_000]))
        if non_ascii and native * 10 >= non_ascii * 8:
            return text, encoding
    return None
