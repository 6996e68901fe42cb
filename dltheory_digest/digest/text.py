"""Text helpers: sentence splitting and summaries, author lists, and Markdown escaping of scraped text."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from pylatexenc import latex2text, latexwalker, macrospec

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


# --- inline LaTeX as Unicode text -------------------------------------------------------
# pylatexenc parses the formula (groups, macro arguments) and knows the symbols (\alpha, \leq,
# \infty ...); the layout is ours, so a formula is either shown faithfully or not converted:
# its latex2text drops grouping ("n^{k-1}" -> "n^k-1") and unknown macros ("\foo{x}" -> "x").


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# capitals other than T (transpose) are left out: "2ᴼ⁽ᵈ⁾" is harder to read than "2^(O(d))"
_SUPERSCRIPTS = dict(
    zip(
        "0123456789+-−=()abcdefghijklmnoprstuvwxyzTβγδθφϕχ*∗′⊤⊺†∘",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵀᵝᵞᵟᶿᵠᵠᵡ**′ᵀᵀ†°",
        strict=True,
    )
)
_SUBSCRIPTS = dict(
    zip("0123456789+-−=()aehijklmnoprstuvxβγρφϕχ", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵩᵪ", strict=True)
)
_SCRIPT_FORMS = frozenset(_SUPERSCRIPTS.values()) | frozenset(_SUBSCRIPTS.values())
_ACCENTS = {
    "tilde": "\u0303", "widetilde": "\u0303", "hat": "\u0302", "widehat": "\u0302", "bar": "\u0304",
    "overline": "\u0305", "dot": "\u0307", "ddot": "\u0308", "vec": "\u20d7", "check": "\u030c",
    "breve": "\u0306",
}  # fmt: skip
# \mathbb{R} -> ℝ: the Unicode name's style word (letters without a "MATHEMATICAL" form are
# in the Letterlike block: ℝ, ℒ, ℭ)
_ALPHABETS = {
    "mathbb": "DOUBLE-STRUCK", "mathds": "DOUBLE-STRUCK", "mathcal": "SCRIPT", "mathscr": "SCRIPT",
    "mathfrak": "FRAKTUR", "mathbf": "BOLD", "boldsymbol": "BOLD ITALIC", "bm": "BOLD ITALIC",
    "mathsf": "SANS-SERIF", "mathtt": "MONOSPACE",
}  # fmt: skip

_LETTERLIKE = {"DOUBLE-STRUCK": "DOUBLE-STRUCK", "SCRIPT": "SCRIPT", "FRAKTUR": "BLACK-LETTER"}
_PLAIN_TEXT = _words("mathrm text textrm textit textnormal mathnormal mathit mbox")
_OPERATOR_NAMES = _words(
    "log ln lg exp sin cos tan sinh cosh tanh arg det dim ker deg gcd max min sup inf lim liminf "
    "limsup Pr argmin argmax tr Tr poly polylog diag rank sgn sign Var Cov"
)
_RELATIONS = _words(
    "leq le geq ge neq ne approx sim simeq asymp lesssim gtrsim ll gg to rightarrow leftarrow "
    "mapsto Rightarrow Leftrightarrow implies iff in notin subset subseteq supset supseteq equiv "
    "propto cong coloneqq"
)
_SIZING = _words(
    "left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr displaystyle "
    "textstyle scriptstyle limits nolimits"
)
_OWN_SYMBOLS = {
    "|": "‖", "prime": "′", ",": " ", ";": " ", ":": " ", " ": " ", "quad": " ", "qquad": " ",
    "!": "", "colon": ":", "ne": "≠", "intercal": "⊺",
}  # fmt: skip
_MATH_CHARS = frozenset("+-=<>()[]|,.;:!/*'? ")
_MATH_TEXT_MAX_CHARS = 80  # a longer formula is no inline formula: it stays LaTeX


class _NoTextForm(Exception):
    """A formula part that Unicode text cannot show faithfully."""


@functools.cache
def _contexts() -> tuple[Any, Any]:
    walker_db = latexwalker.get_default_latex_context_db()
    walker_db.add_context_category(
        "dltheory-math",
        macros=[macrospec.MacroSpec(name, "{") for name in ("bm", "boldsymbol", "mathds", "operatorname")]
        + [macrospec.MacroSpec(name, "{{") for name in ("dfrac", "tfrac")],
        prepend=True,
    )
    return walker_db, latex2text.get_default_latex_context_db()


def _symbol(name: str) -> str:
    """A macro that stands for a symbol (\\alpha, \\leq), as latex2text knows it."""
    if name in _OWN_SYMBOLS:
        return _OWN_SYMBOLS[name]
    spec = _contexts()[1].get_macro_spec(name)
    text = getattr(spec, "simplify_repl", None)
    # a replacement with letters is a word ("\today"), not a symbol; "%" takes arguments
    if not isinstance(text, str) or "%" in text or re.search(r"[A-Za-z\\]", text) or not text.isprintable():
        raise _NoTextForm(name)
    return text


def _styled(text: str, style: str) -> str:
    out = []
    for char in text:
        if char == " ":
            continue
        name = unicodedata.name(char, "")
        if name.startswith("LATIN CAPITAL LETTER "):
            letter = "CAPITAL " + name.removeprefix("LATIN CAPITAL LETTER ")
        elif name.startswith("LATIN SMALL LETTER "):
            letter = "SMALL " + name.removeprefix("LATIN SMALL LETTER ")
        elif name.startswith("DIGIT "):
            letter = name
        elif name.startswith("GREEK ") and style.startswith("BOLD"):
            letter = name.removeprefix("GREEK ").replace(" LETTER", "")
        else:
            raise _NoTextForm(style)
        try:
            out.append(unicodedata.lookup(f"MATHEMATICAL {style} {letter}"))
        except KeyError:
            try:
                out.append(unicodedata.lookup(f"{_LETTERLIKE.get(style, style)} {letter}"))
            except KeyError:
                raise _NoTextForm(style) from None
    return "".join(out)


def _scripted(text: str, forms: dict[str, str], mark: str) -> str:
    """A super/subscript in Unicode forms, or written out ("^(k−1/2)", "_θ") when a character has none."""
    if not text:
        raise _NoTextForm(mark)
    if all(char in forms for char in text):
        return "".join(forms[char] for char in text)
    return mark + (text if len(text) == 1 or _enclosed(text) else f"({text})")


_SCRIPTS_AFTER = f"[{re.escape(''.join(sorted(_SCRIPT_FORMS - {'*'})))}]*"
_ONE_TERM = re.compile(rf"√?(?:\d+(?:\.\d+)?|[^\W\d_][\u0300-\u036f\u20d7]*|∞){_SCRIPTS_AFTER}")
_ONE_PRODUCT = re.compile(rf"√?\w+{_SCRIPTS_AFTER}")


def _enclosed(text: str) -> bool:
    return text.startswith("(") and text.endswith(")") and "(" not in text[1:-1]


def _bare(text: str, *, product: bool = False) -> bool:
    """Whether `text` reads as one term after "/" or "√" (no brackets needed): a number, a
    letter with its accents and scripts, or (`product`, for a numerator) "2n"."""
    return bool((_ONE_PRODUCT if product else _ONE_TERM).fullmatch(text)) or _enclosed(text)


class _MathText:
    """The text of a parsed formula; `script` for a super/subscript's content (no spaces)."""

    def __init__(self, *, script: bool = False, words: bool = False) -> None:
        self.script = script
        self.words = words  # inside \text{...}: "-" and "'" as written
        self.parts: list[str] = []
        self.space_before_word = False

    def text(self) -> str:
        return "".join(self.parts)

    def add(self, piece: str) -> None:
        if self.space_before_word and piece[:1].isalnum():
            self.parts.append(" ")
        self.space_before_word = False
        self.parts.append(piece)

    def word(self, name: str) -> None:
        """An operator name ("log"), kept apart from the letters around it: "n log n"."""
        last = self.text()[-1:]
        if last and (last.isalnum() or last in ")]′*\x03" or last in _SCRIPT_FORMS):
            self.parts.append(" ")
        self.add(name)
        self.space_before_word = True

    def nodes(self, nodes: Sequence[Any]) -> str:
        tokens: list[Any] = []
        for node in nodes:  # characters one by one, so "^" and "_" find what they raise or lower
            tokens.extend(node.chars if isinstance(node, latexwalker.LatexCharsNode) else [node])
        index = 0
        while index < len(tokens):
            token = tokens[index]
            index += 1
            if isinstance(token, str) and token in "^_":
                while index < len(tokens) and isinstance(tokens[index], str) and tokens[index].isspace():
                    index += 1  # "x^ 2"
                if index == len(tokens) or not self.parts:
                    raise _NoTextForm(token)
                operand = _MathText(script=True).node_text(tokens[index])
                index += 1
                forms = _SUPERSCRIPTS if token == "^" else _SUBSCRIPTS
                self.parts.append(_scripted(operand, forms, token))
            else:
                self.node(token)
        return self.text()

    def node_text(self, node: Any) -> str:
        self.node(node)
        return self.text()

    def node(self, node: Any) -> None:
        if isinstance(node, str):
            self.char(node)
        elif isinstance(node, latexwalker.LatexCharsNode):  # an argument without braces: \frac12
            self.nodes([node])
        elif isinstance(node, latexwalker.LatexGroupNode):
            self.add(_MathText(script=self.script, words=self.words).nodes(node.nodelist))
        elif isinstance(node, latexwalker.LatexMacroNode):
            self.macro(node)
        elif isinstance(node, latexwalker.LatexSpecialsNode) and node.specials_chars in ("~", "''"):
            self.char(" " if node.specials_chars == "~" else "″")
        else:  # an environment, a comment, "&", nested math
            raise _NoTextForm(type(node).__name__)

    def char(self, char: str) -> None:
        if char.isspace():
            if not self.script and self.parts and not self.text().endswith(" "):
                self.parts.append(" ")
            return
        if not (char.isalnum() or char in _MATH_CHARS or char in "″"):
            raise _NoTextForm(char)
        if char in "=<>" and not self.script:  # spaced as TeX spaces a relation: "θ̂ = Xᵀy"
            colon = self.text().endswith(":")  # ":="
            if colon:
                self.parts[-1] = self.parts[-1][:-1]
            self.parts.append(f"\x01{':' if colon else ''}{char}\x01")
            return
        self.add(char if self.words else {"-": "−", "'": "′"}.get(char, char))

    def argument(self, node: Any, index: int, *, words: bool = False) -> str | None:
        args = node.nodeargd.argnlist if node.nodeargd else []
        if index >= len(args) or args[index] is None:
            return None
        return _MathText(script=self.script, words=words).node_text(args[index])

    def required(self, node: Any, index: int, *, words: bool = False) -> str:
        text = self.argument(node, index, words=words)
        if text is None or not text.strip(" \x01"):  # "\sqrt{}", "\mathbb\,"
            raise _NoTextForm(node.macroname)
        return text

    def macro(self, node: Any) -> None:
        name = node.macroname
        argspec = node.nodeargd.argspec if node.nodeargd else ""
        if name in ("frac", "dfrac", "tfrac"):
            top, bottom = self.required(node, 0), self.required(node, 1)
            top = top if _bare(top, product=True) else f"({top})"
            # marked, so its brackets are decided once its neighbours are known (`_fractions_bracketed`)
            self.add(f"\x02{top}/{bottom if _bare(bottom) else f'({bottom})'}\x03")
        elif name == "sqrt":
            root = {None: "√", "3": "∛", "4": "∜"}.get(self.argument(node, 0))
            inside = self.required(node, 1)
            if root is None:  # \sqrt[k]{x}
                raise _NoTextForm(name)
            self.add(root + (inside if _bare(inside) else f"({inside})"))
        elif name in _ACCENTS:
            base = self.required(node, 0)
            if len(base) != 1:  # \overline{AB}: a combining mark sits on one character only
                raise _NoTextForm(name)
            self.add(unicodedata.normalize("NFC", base + _ACCENTS[name]))
        elif name in _ALPHABETS:
            self.add(_styled(self.required(node, 0), _ALPHABETS[name]))
        elif name in _PLAIN_TEXT:
            self.add(" ".join(self.required(node, 0, words=True).split()))
        elif name == "operatorname":
            self.word(self.required(node, 0, words=True))
        elif argspec:
            raise _NoTextForm(name)  # a macro with arguments we do not lay out
        elif name in _SIZING:
            pass
        elif name in _OPERATOR_NAMES:
            self.word(name)
        elif name in _RELATIONS and not self.script:
            self.parts.append(f"\x01{_symbol(name)}\x01")  # spaced evenly once the formula is whole
        else:
            symbol = _symbol(name)
            # "a \cdot b" -> "a · b" and "\pm 1" -> "±1": a space after an operator only to match one before
            spaced = self.text().endswith(" ") and not symbol.isalpha()
            self.add(symbol)
            if spaced and node.macro_post_space and not self.script:
                self.parts.append(" ")


# What may stand next to "a/b" without changing what it means: the formula's ends, brackets
# opened before it or closed after it, and the operators, relations and separators that bind
# less tightly than "/" ("\x01" spaces a relation). Not "/" ("a/b/c"), a script ("a/b²"), a
# term ("1/2x"), a sum sign ("1/n∑ᵢ") nor "|" (which may open or close).
_LOOSER_THAN_SLASH = frozenset("\x01,;:=<>+−±∓·×⋅∘⊗⊕∪∩∧∨≤≥≠≈∼≃≍≲≳≪≫→←↦⇒⇔⟹⟺∈∉⊂⊆⊃⊇≡∝≅≔…⋯")
_FRACTION = re.compile("\x02([^\x02\x03]*)\x03")


def _fractions_bracketed(text: str) -> str:
    """The formula's fractions ("\x02a/b\x03", innermost first) bare where nothing next to them
    binds tighter than "/", else in brackets: "a/(b/c)", "(1/2)x", "(a/b)²", "log(1/δ)"."""

    def bracketed(match: re.Match[str]) -> str:
        before = match.string[: match.start()].rstrip(" ")[-1:]
        after = match.string[match.end() :].lstrip(" ")[:1]
        alone = (not before or before in "([{⟨⌊⌈" or before in _LOOSER_THAN_SLASH) and (
            not after or after in ")]}⟩⌋⌉" or after in _LOOSER_THAN_SLASH
        )
        return match.group(1) if alone else f"({match.group(1)})"

    found = 1
    while found:
        text, found = _FRACTION.subn(bracketed, text, count=1)
    return text


def math_text(formula: str) -> str | None:
    """An inline formula (`$...$` or `\\(...\\)`) as Unicode text: `$O(n^{k-1}\\log n)$` ->
    "O(nᵏ⁻¹ log n)", `$\\mathbb{R}^d$` -> "ℝᵈ". None when it has no faithful text form (an
    unknown macro, an environment, an accent over several letters) or is longer than a line."""
    body = formula[1:-1] if formula.startswith("$") else formula[2:-2]
    try:
        walker = latexwalker.LatexWalker(body, latex_context=_contexts()[0], tolerant_parsing=False)
        nodes = walker.get_latex_nodes()[0]
        text = _MathText().nodes(nodes)
    except (_NoTextForm, latexwalker.LatexWalkerError):
        return None
    text = " ".join(_fractions_bracketed(text).replace("\x01", " ").split())
    return text if text and len(text) <= _MATH_TEXT_MAX_CHARS else None


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
        formula = None if command else math_text(match.group(0))
        out.append(
            isolate.format(_escape_plain(formula)) if formula else _code_span(command or match.group(0))
        )
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
