"""Bytes -> text for every page a source kind reads.

The charset comes from the HTTP header first, then from what the document declares
(`<meta charset>`, `<meta http-equiv="Content-Type">`, the XML declaration), and only
then from detection (charset-normalizer). Labels are mapped the way browsers map them
(GB2312/GBK -> GB18030, Big5 -> Big5-HKSCS, Latin-1 -> Windows-1252), because pages
that declare the narrow charset routinely use the wider one. Mojibake left by a
site that double-encoded its text is repaired with ftfy so it never reaches the store.
"""

from __future__ import annotations

import codecs
import re

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


def _detect(content: bytes) -> str | None:
    match = from_bytes(content[:200_000]).best()
    if match is None:
        return None
    encoding = normalize_charset(match.encoding) or match.encoding
    return _strict(content, encoding) or content.decode(encoding, errors="replace")


def decode_page(content: bytes, content_type: str | None = None) -> str:
    """Decode a response body to text (header charset, then declared, then detected).

    Raises UndecodableContent for bytes that are not text at all.
    """
    if not content:
        return ""
    text: str | None = None
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            text = _strict(content, encoding)
            break
    if text is None:
        for declared in (charset_from_content_type(content_type), declared_charset(content)):
            if declared:
                text = _strict(content, declared)
                if text is not None:
                    break
    if text is None:
        # Undeclared (or wrongly declared): valid UTF-8 is almost never an accident.
        text = _strict(content, "utf-8") or _detect(content)
    if text is None or _looks_binary(text):
        raise UndecodableContent("the bytes are not text in any recognisable encoding")
    # Only the encoding repair of ftfy: keep quotes, widths and line breaks as the page has them.
    return ftfy.fix_encoding(text)


def page_text(page: RawPage) -> str:
    """decode_page for a fetched page; undecodable bytes become a ParseError carrying the source id."""
    content_type = page.content_type or page.header("content-type")
    try:
        return decode_page(page.content, content_type)
    except UndecodableContent as exc:
        raise ParseError(page.source_id, str(exc), url=page.url or None) from exc
