"""Text normalization before detection and translation; the original is always kept by callers."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import ftfy

# Arabic tatweel (kashida) only stretches a word; harakat and Quranic marks are optional
# vowel signs that sources use inconsistently, so they would split one word into many.
_ARABIC_STRIP = re.compile("[\u0640\u064b-\u065f\u0670\u06d6-\u06ed]")
# NFKC turns U+3000 into a space; runs of spaces (and NBSP) collapse to one.
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,  # parsers already unescaped; a literal "&amp;" in a title stays
    uncurl_quotes=False,  # curly quotes are content, not damage
    fix_line_breaks=False,
    normalization="NFKC",
)


def normalize_text(text: str, lang: str | None = None) -> str:
    """Repair mojibake, apply NFKC (full-width letters and punctuation become ASCII),
    and drop Arabic tatweel and diacritics (presentation forms become letters through NFKC).

    Chinese script is not converted here; use `to_simplified` for that (zh→en only).
    """
    if not text:
        return text
    fixed = ftfy.fix_text(text, config=_FTFY_CONFIG)
    fixed = unicodedata.normalize("NFKC", fixed)
    if lang in (None, "ar", "fa", "ur", "mixed") or _has_arabic(fixed):
        fixed = _ARABIC_STRIP.sub("", fixed)
    return _SPACES.sub(" ", fixed).strip()


def _has_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


@functools.cache
def _t2s() -> Any:
    import opencc  # a C extension with its dictionaries; loaded once

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (OpenCC t2s); other scripts pass through unchanged."""
    if not text:
        return text
    return str(_t2s().convert(text))
