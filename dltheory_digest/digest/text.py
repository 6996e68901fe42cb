"""Text helpers: sentence splitting and summaries, author lists, and Markdown escaping of scraped text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

# formulas as text live in a neutral module (the reader filters use them too); re-exported here
from dltheory_digest.mathtext import MATH_SPAN as MATH_SPAN
from dltheory_digest.mathtext import TEX_ACCENT_COMMAND, TEX_ACCENT_MARKS, TEX_LETTER_COMMAND, TEX_LETTERS
from dltheory_digest.mathtext import math_text as math_text

# Tokens that end in a period without ending a sentence (compared lower-case, without the dot).
_ABBREVIATIONS = frozenset(
    """e.g i.e cf vs etc al fig figs eq eqs sec secs ref refs thm lem prop def cor tab app
    approx resp w.r.t i.i.d a.k.a ch vol no nos pp dr prof mr mrs ms jr sr st inc ltd co
    viz et seq ca est min max std var avg""".split()  # noqa: SIM905  (a word list reads better as text)
)
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


def _joined(text: str, sentence: str) -> str:
    """`text` with `sentence` after it: CJK sentences are written without a space between them."""
    return text + sentence if not text or text[-1] in "。！？”’」』）" else f"{text} {sentence}"


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
        summary = _joined(summary, part)
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


# What a page says about a paper or talk: a curator describes it, then judges it ("…先拟合、后压缩。
# 结论争议很大，建议和后来的反驳文章一起读。"), so the judgement, the part worth reading, is kept too.
COMMENTARY_SENTENCES = 3
COMMENTARY_MAX_CHARS = 280


def excerpt(text: str, limit: int = COMMENTARY_MAX_CHARS, sentences: int = COMMENTARY_SENTENCES) -> str:
    """The first `sentences` sentences of a comment that fit in `limit` whole (cut at a sentence
    end); a first sentence over `limit` is cut at a word (or, for CJK text, any character)."""
    # brackets a scraper emptied (a citation it took out) say nothing: "（ ）线性可分…"
    parts = split_sentences(_EMPTY_BRACKETS.sub(" ", text))
    if not parts:
        return ""
    kept = parts[0]
    if len(kept) > limit:
        return _shortened(kept, limit)
    for part in parts[1:sentences]:
        longer = _joined(kept, part)
        if len(longer) > limit:
            break
        kept = longer
    return kept


_CAPS_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_MINOR_WORDS = frozenset("a an the of and or for in on to with via by at from as vs".split())  # noqa: SIM905
# A short word used fewer times than this in pyspellchecker's corpus is an acronym ("GAN" 166,
# "BERT" 427, "ODE" 479), else a word ("NETS" 3050, "DEEP" 151006).
_ACRONYM_MAX_USES = 1000
_ACRONYM_MAX_LETTERS = 4  # a longer rare word is more often an English one ("NORMS") than an acronym
# a word's prefix written apart ("PRE-TRAINING"), never an acronym
_WORD_PREFIXES = frozenset(
    ("pre", "post", "non", "multi", "self", "semi", "over", "under", "re", "co", "anti", "sub",
     "super", "inter", "intra", "meta", "mid", "cross", "one", "two", "three")
)  # fmt: skip


def caps_title_cased(title: str) -> str:
    """A title a page wrote in capitals ("FLAT MINIMA") in title case ("Flat Minima"), short
    words that are no English words kept as the acronyms they are ("NTK", "SGD", "BERT").
    Any other title is returned as it is."""
    latin = [c for c in title if c.isascii() and c.isalpha()]
    if len(latin) < 4 or not all(c.isupper() for c in latin):
        return title
    from dltheory_digest.sources.notes_page import english_word_counts  # loaded only for such a title

    english = english_word_counts()

    def acronym(lower: str) -> bool:
        return len(lower) <= _ACRONYM_MAX_LETTERS and english.get(lower, 0) < _ACRONYM_MAX_USES

    def cased(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        if title[match.end() : match.end() + 1] == "-" and lower in _WORD_PREFIXES:
            return word.capitalize()  # "PRE-TRAINING" -> "Pre-Training"
        if len(lower) >= 4 and lower.endswith("s") and acronym(lower[:-1]) and acronym(lower):
            return word[:-1] + "s"  # "GANS" -> "GANs" ("RMS", "NETS" stay themselves)
        if acronym(lower):
            return word
        before = title[: match.start()].rstrip()
        if lower in _MINOR_WORDS and before and before[-1] not in ":—–-(\"'“‘[":  # "…: A Study"
            return lower
        return word.capitalize()

    return _CAPS_WORD.sub(cased, title)


# A title longer than this is no title (a machine translation that ran away, a scraper
# that took a paragraph): it is cut, so a heading or link never fills the screen.
TITLE_MAX_CHARS = 300


# Bidi embedding/override controls (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI)
# in scraped text: an RLO shows "gpj.exe" as "exe.jpg" and, in the text part, reverses the rest
# of the line, link included. LRM/RLM and ZWJ/ZWNJ stay: Arabic, Persian and emoji need them.
_EMBEDDING_CONTROLS = re.compile("[\u202a-\u202e]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_ISOLATE_OPENERS, _ISOLATE_END = "\u2066\u2067\u2068", "\u2069"


def without_bidi_controls(text: str) -> str:
    """Text without embedding, override or isolate controls (a subject, a scraped title)."""
    return _BIDI_CONTROLS.sub("", text)


def _only_paired_isolates(text: str) -> str:
    """Text without embedding/override controls and without isolates that open or close
    nothing. Paired isolates stay: the renderer wraps a title or a date in them before it is
    escaped, and a pair changes nothing outside itself."""
    text = _EMBEDDING_CONTROLS.sub("", text)
    if not any(ch in text for ch in _ISOLATE_OPENERS + _ISOLATE_END):
        return text
    unpaired: list[int] = []
    opened: list[int] = []
    for index, ch in enumerate(text):
        if ch in _ISOLATE_OPENERS:
            opened.append(index)
        elif ch == _ISOLATE_END:
            if opened:
                opened.pop()
            else:
                unpaired.append(index)
    dropped = set(unpaired + opened)
    return "".join(ch for index, ch in enumerate(text) if index not in dropped)


def display_title(text: str | None, limit: int = TITLE_MAX_CHARS) -> str:
    """A title as the digest prints it: whitespace collapsed, no bidi controls (the digest
    isolates what needs it), cut with "…" past `limit` characters."""
    text = " ".join(without_bidi_controls(text or "").split())
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


_ENDS_A_WORD = re.compile(r"[^\W_]|[)\]]")


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
    """Scraped text as inert inline Markdown: whitespace collapsed, specials escaped, inline
    LaTeX as Unicode text (`$O(1/\\sqrt{n})$` -> "O(1/√n)", see `math_text`), or, when it has
    no faithful text form, kept verbatim as a code span, so it reads the same in text and HTML.
    With `commands`, a `quoted command` in the text is a code span too (run notes). Bidi
    embedding/override controls are dropped, and isolates that pair with nothing."""
    if not text:
        return ""
    text = " ".join(_only_paired_isolates(unicodedata.normalize("NFC", text).replace("\x00", "")).split())
    out: list[str] = []
    last = 0
    spans = _MATH_OR_COMMAND if commands else MATH_SPAN
    # in Arabic text a formula is isolated left-to-right (as its code span was by its style),
    # so "O(1/√n)" keeps its brackets in place
    isolate = "\u2066{}\u2069" if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text) else "{}"
    for match in spans.finditer(text):
        out.append(_escape_plain(text[last : match.start()]))
        command = match.groupdict().get("command")
        # "ReLU$^2$": a formula that opens with a script, written against a word, is that
        # word's script (and is not isolated from it); any other formula stands alone, also
        # one glued to an Arabic word ("و$O(n)$"), which keeps its left-to-right isolate
        attached = (
            match.group(0).lstrip("$").startswith(("^", "_"))
            and _ENDS_A_WORD.match(text, max(0, match.start() - 1), match.start()) is not None
        )
        formula = None if command else math_text(match.group(0), attached=attached)
        if formula:
            out.append(_escape_plain(formula) if attached else isolate.format(_escape_plain(formula)))
        else:
            out.append(_code_span(command or match.group(0)))
        last = match.end()
    out.append(_escape_plain(text[last:]))
    escaped = "".join(out)
    # a line that starts with "#", "-", "1." ... would become a heading or a list
    line_start = _LINE_START.match(escaped)
    if line_start:
        escaped = escaped[: line_start.end()] + "\\" + escaped[line_start.end() :]
    return escaped


# A code span of inline Markdown (an escaped "\\`" opens none).
CODE_SPAN = re.compile(r"(?<![`\\])(`+).*?(?<!`)\1(?!`)")


def table_cell(markdown: str) -> str:
    """Inline Markdown (`md_text`'s) made safe in a GFM table cell: a "|" inside a code span is
    escaped, as GFM splits a row at every unescaped "|", code spans included (and drops the
    backslash of "\\|" inside one, so the span still shows "|"). Outside code, `md_text`
    escaped it already."""
    return CODE_SPAN.sub(lambda code: code.group(0).replace("|", "\\|"), markdown)


# What arXiv writes in TeX outside formulas, which its abstract page shows typeset: "--" and
# "---" as dashes, escaped "%", "&", "#", and accented letters ("Schr\\"odinger", "Erd\\H{o}s")
# with the accent tables title matching folds them with too (`mathtext`).
_TEX_DASH = re.compile(r"(?<![-!<])-{2,3}(?![->])")
_TEX_ESCAPED = re.compile(r"\\([%&#])")


def tex_prose(text: str) -> str:
    """Text arXiv gave (a title, an abstract) with the TeX outside its formulas as Unicode:
    `Schr\\"odinger on Erd\\H{o}s--R\\'enyi graphs` -> "Schrödinger on Erdős–Rényi graphs".
    Formulas stay as written (`md_text` converts them). Only for arXiv's text: elsewhere "--"
    may be meant as written."""
    if "\\" not in text and "--" not in text:
        return text

    def prose(part: str) -> str:
        part = TEX_ACCENT_COMMAND.sub(
            lambda m: unicodedata.normalize("NFC", m.group(2) + TEX_ACCENT_MARKS[m.group(1)]), part
        )
        part = TEX_LETTER_COMMAND.sub(lambda m: TEX_LETTERS[m.group(1)][0], part)
        part = _TEX_DASH.sub(lambda m: "—" if len(m.group(0)) == 3 else "–", part)
        return _TEX_ESCAPED.sub(r"\1", part)

    out, last = [], 0
    for formula in MATH_SPAN.finditer(text):
        out += [prose(text[last : formula.start()]), formula.group(0)]
        last = formula.end()
    return "".join(out) + prose(text[last:])


def safe_url(url: str | None) -> str | None:
    """An http(s)/mailto URL made safe inside `[text](url)`, or None for anything else."""
    if not url:
        return None
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # a host no browser could open either ("http://a]b/", "http://[::1/")
        return None
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
