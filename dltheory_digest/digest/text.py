"""Text helpers: sentence splitting and summaries, author lists, and Markdown escaping of scraped text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

# Tokens that end in a period without ending a sentence (compared lower-case, without the dot).
_ABBREVIATIONS = frozenset(
    """e.g i.e cf vs etc al fig figs eq eqs sec secs ref refs thm lem prop def cor tab app
    approx resp w.r.t i.i.d a.k.a ch vol no nos pp dr prof mr mrs ms jr sr st inc ltd co
    viz et seq ca est min max std var avg""".split()  # noqa: SIM905  (a word list reads better as text)
)
# Inline math: `$...$` (not "$5 and $10") and `\(...\)`.
MATH_SPAN = re.compile(r"\$(?=\S)(?:[^$\\]|\\.){1,300}?(?<=\S)\$(?!\d)|\\\((?:[^\\]|\\.)*?\\\)", re.DOTALL)
_MATH_OR_COMMAND = re.compile(rf"{MATH_SPAN.pattern}|`(?P<command>[^`]{{1,200}})`", re.DOTALL)
# A candidate sentence end: terminal punctuation, optional closing quotes/brackets, then space.
_LAST_WORD = re.compile(r"([\w.\-]+)$")
_WESTERN_END = re.compile(r"[.!?][\"'”’)\]]*\s+")
_CJK_END = re.compile(r"[。！？][”’」』）)]*\s*")
_PLACEHOLDER = "\x00{}\x00"
_EMPTY_BRACKETS = re.compile(r"[(（\[【]\s*[)）\]】]")
_SUMMARY_MAX_CHARS = 480


def _protect_math(text: str) -> tuple[str, list[str]]:
    spans: list[str] = []

    def keep(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return _PLACEHOLDER.format(len(spans) - 1)

    return MATH_SPAN.sub(keep, text), spans


def _restore_math(text: str, spans: Sequence[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], text)


def _is_sentence_end(text: str, end: re.Match[str]) -> bool:
    """Whether the punctuation matched at `end` really closes a sentence."""
    if text[end.start()] != ".":
        return True
    following = text[end.end() : end.end() + 1]
    if following and (following.islower() or following in ",;:"):
        return False  # "e.g. the", "et al. show" (a lower-case word never starts a sentence here)
    # the word before the dot; a window of the text before it, as a search anchored at its end
    # would scan the whole abstract for every dot (a word longer than the window is no abbreviation)
    word = _LAST_WORD.search(text, max(0, end.start() - 40), end.start())
    token = word.group(1).lower() if word else ""
    if token in _ABBREVIATIONS or token.rstrip(".") in _ABBREVIATIONS:
        # "etc." can close a sentence; the others ("Fig. 2", "et al. Smith") do not.
        return token == "etc" and bool(following) and following.isupper()
    if len(token) == 1 and token.isalpha() and word and word.group(1).isupper():
        return False  # an initial: "J. Smith"
    return not (following.isdigit() and token in {"no", "fig", "eq", "sec", "ref", "thm"})


def split_sentences(text: str) -> list[str]:
    """Sentences of an abstract, robust to abbreviations, initials, decimals and inline LaTeX."""
    text = " ".join(text.split())
    if not text:
        return []
    protected, spans = _protect_math(text)
    sentences: list[str] = []
    start = 0
    boundaries = sorted(
        [m for m in _WESTERN_END.finditer(protected) if _is_sentence_end(protected, m)]
        + list(_CJK_END.finditer(protected)),
        key=lambda m: m.start(),
    )
    for match in boundaries:
        if match.start() < start:
            continue
        piece = protected[start : match.end()].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    tail = protected[start:].strip()
    if tail:
        sentences.append(tail)
    return [_restore_math(s, spans) for s in sentences]


def summarize(abstract: str, sentences: int = 2) -> str:
    """The first `sentences` sentences of an abstract, capped so one long sentence cannot flood the digest."""
    parts = split_sentences(abstract)
    if not parts:
        return ""
    summary = ""
    counted = 0
    for part in parts:
        if counted == sentences:
            break
        # CJK sentences are written without a space between them
        summary += part if not summary or summary[-1] in "。！？”’」』）" else " " + part
        # a label of a structured abstract ("Context.", "Background.") is not a sentence of its own
        if len(part.split()) > 1 or _is_cjk(part):
            counted += 1
    return summary if len(summary) <= _SUMMARY_MAX_CHARS else _shortened(summary, _SUMMARY_MAX_CHARS)


def _shortened(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a space (any character for CJK text), with "…".
    An inline formula is never cut: the cut goes before it, or after it when what comes before
    is less than half of `limit` (a title that is mostly one long formula)."""
    maths = [m.span() for m in MATH_SPAN.finditer(text)]

    def formula_around(index: int) -> tuple[int, int] | None:
        return next(((start, end) for start, end in maths if start < index < end), None)

    cut = text.rfind(" ", 0, limit)
    while cut > limit // 2 and formula_around(cut):  # a space inside "$O(1 / n)$"
        cut = text.rfind(" ", 0, cut)
    if cut <= limit // 2:  # no space to cut at (CJK text): any character, outside a formula
        cut = limit
        around = formula_around(cut)
        if around:
            cut = around[0] if around[0] > limit // 2 else around[1]
    return text[:cut].rstrip(" ,;:，；：、") + "…"


def excerpt(text: str, limit: int = 200) -> str:
    """The first sentence of a comment, cut at a word (or, for CJK text, any character) within `limit`."""
    # brackets a scraper emptied (a citation it took out) say nothing: "（ ）线性可分…"
    parts = split_sentences(_EMPTY_BRACKETS.sub(" ", text))
    if not parts:
        return ""
    first = parts[0]
    return first if len(first) <= limit else _shortened(first, limit)


# A title longer than this is no title (a machine translation that ran away, a scraper
# that took a paragraph): it is cut, so a heading or link never fills the screen.
TITLE_MAX_CHARS = 300


def display_title(text: str | None, limit: int = TITLE_MAX_CHARS) -> str:
    """A title as the digest prints it: whitespace collapsed, cut with "…" past `limit` characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else _shortened(text, limit - 1)


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def shorten_authors(authors: Sequence[str], limit: int = 3, et_al: str = "{} et al.") -> str:
    """'A, B, C' or 'A, B, C et al.' past `limit` authors; `et_al` is the edition's wording
    ("{} 等" in Chinese, "{} وآخرون" in Arabic)."""
    names = [" ".join(a.split()) for a in authors if a and a.strip()]
    if len(names) <= limit:
        return ", ".join(names)
    return et_al.format(", ".join(names[:limit]))


_MD_SPECIALS = re.compile(r"([\\`*\[\]<>|~$])")
_LONE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
# Where a backslash goes so a line start is no heading, quote or list: before "#", ">", "+",
# "=", "-"; between the number and the "." or ")" of "1. " (a backslash before a digit is shown).
_LINE_START = re.compile(r"^\s*(?:\d{1,9}(?=[.)](?:\s|$))|(?=[#>+=\-]))")


def _escape_plain(text: str) -> str:
    text = _MD_SPECIALS.sub(r"\\\1", text)
    text = _LONE_UNDERSCORE.sub(r"\\_", text)  # snake_case stays readable: intraword "_" is inert
    return _ENTITY_LIKE.sub(r"\\&", text)


def _code_span(content: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def md_text(text: str | None, *, commands: bool = False) -> str:
    """Scraped text as inert inline Markdown: whitespace collapsed, specials escaped,
    inline LaTeX kept verbatim as a code span so `$O(1/\\sqrt{n})$` reads the same in text and HTML.
    With `commands`, a `quoted command` in the text is a code span too (run notes)."""
    if not text:
        return ""
    text = " ".join(unicodedata.normalize("NFC", text).replace("\x00", "").split())
    out: list[str] = []
    last = 0
    spans = _MATH_OR_COMMAND if commands else MATH_SPAN
    for match in spans.finditer(text):
        out.append(_escape_plain(text[last : match.start()]))
        out.append(_code_span(match.groupdict().get("command") or match.group(0)))
        last = match.end()
    out.append(_escape_plain(text[last:]))
    escaped = "".join(out)
    # a line that starts with "#", "-", "1." ... would become a heading or a list
    line_start = _LINE_START.match(escaped)
    if line_start:
        escaped = escaped[: line_start.end()] + "\\" + escaped[line_start.end() :]
    return escaped


def safe_url(url: str | None) -> str | None:
    """An http(s)/mailto URL made safe inside `[text](url)`, or None for anything else."""
    if not url:
        return None
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https", "mailto"):
        return None
    return quote(url, safe="/:?&=#%@+,;~!*'.-_")


def md_link(text: str | None, url: str | None) -> str:
    label = md_text(text) or md_text(url)
    target = safe_url(url)
    return f"[{label}]({target})" if target else label


def slugify(text: str) -> str:
    """GitHub's heading anchor: lower-case, punctuation dropped, spaces to hyphens."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")
