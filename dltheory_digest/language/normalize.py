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
# Invisible format characters that carry no text: zero-width space, soft hyphen, word
# joiner, byte-order mark and the bidi marks, embeddings and isolates that pages wrap around
# Arabic. Inside a word they split it in two for detection, glossary and tokenizers. ZWNJ
# and ZWJ go only next to scripts that never join (Latin, Cyrillic, Han, Kana, Hangul):
# Persian spells words with ZWNJ, and emoji sequences join with ZWJ.
_NON_JOINING = "A-Za-z\u00c0-\u024f\u0400-\u04ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
    f"|(?<=[{_NON_JOINING}])[\u200c\u200d]|[\u200c\u200d](?=[{_NON_JOINING}])"
)
INVISIBLE_CHARACTERS = _INVISIBLE  # public: identity matching folds them too
# NFKC turns U+3000 into a space; runs of spaces (and NBSP) collapse to one.
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,  # parsers already unescaped; a literal "&amp;" in a title stays
    uncurl_quotes=False,  # curly quotes are content, not damage
    fix_line_breaks=False,
    normalization="NFKC",
)
_FTFY_CONFIG_NFC = _FTFY_CONFIG._replace(normalization="NFC")


# The compatibility characters that are only another way of typing ordinary text: full-
# and half-width forms, odd-width spaces, Latin ligatures from PDFs (ﬁ), Arabic presentation
# forms, CJK compatibility ideographs, Kangxi radicals, vertical and small form variants.
# Superscripts, subscripts, fractions and mathematical letters (x², ℓ₂, ½, 𝔼) are not among
# them: NFKC would turn them into other mathematics (x2, l2).
_TYPOGRAPHIC_COMPAT = re.compile(
    "[\u2000-\u200a\u202f\u205f\u2e80-\u2fdf\u3000\ufb00-\ufdff\ufe10-\ufe6f\ufe70-\ufefe"
    "\uf900-\ufaff\uff00-\uffef\U0002f800-\U0002fa1f]+"
)


def normalize_text(
    text: str, lang: str | None = None, *, keep_marks: bool = False, keep_maths: bool = False
) -> str:
    """Repair mojibake, apply NFKC (full-width letters and punctuation become ASCII), drop
    invisible format characters, and drop Arabic tatweel and diacritics (presentation forms
    become letters through NFKC).

    `keep_maths` folds only the typographic compatibility forms (full-width, ligatures,
    presentation forms) and keeps x², ℓ₂ and ½ as written: the language stage shows and
    translates text, where NFKC would change its formulas. Matching (directions) folds all.
    Chinese script is not converted here; use `to_simplified` for that (zh→en only).
    `keep_marks` keeps the Arabic diacritics (text shown back to a user as written).
    """
    if not text:
        return text
    fixed = ftfy.fix_text(text, config=_FTFY_CONFIG if not keep_maths else _FTFY_CONFIG_NFC)
    if keep_maths:
        fixed = _TYPOGRAPHIC_COMPAT.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), fixed)
        fixed = unicodedata.normalize("NFC", fixed)
    else:
        fixed = unicodedata.normalize("NFKC", fixed)
    fixed = _INVISIBLE.sub("", fixed)
    if not keep_marks and (lang in (None, "ar", "fa", "ur", "mixed") or _has_arabic(fixed)):
        fixed = _ARABIC_STRIP.sub("", fixed)
    return _SPACES.sub(" ", fixed).strip()


def _has_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


@functools.cache
def opencc_converter(config: str) -> Any:
    """An OpenCC converter ("t2s", "jp2t", ...), loaded once: a C extension with its dictionaries."""
    import opencc

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (OpenCC t2s); other scripts pass through unchanged."""
    if not text:
        return text
    return str(opencc_converter("t2s").convert(text))
