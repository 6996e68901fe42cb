"""Inline LaTeX formulas as Unicode text: `$O(1/\\sqrt{n})$` -> "O(1/√n)".

A neutral module (no stage of the pipeline): the digest shows formulas with it (`digest.text`),
and the reader keyword filters (`directions`) match what a formula says rather than how it was
typed, and resolve compares a page's Unicode title with arXiv's TeX one. `math_text`
converts one formula (as `MATH_SPAN` finds them); `formulas_as_text` every formula of a text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from pylatexenc import latex2text, latexwalker, macrospec

# The characters math puts into a line of text, as a regex character-class body: ± × ² ³ µ,
# combining accents (θ̂), Greek, ‖ and primes, super/subscripts, letterlike (ℓ ℋ ℝ), arrows and
# operators (√ ≤ ∞ ∇), ceilings and floors, ⟨⟩, math alphanumerics (𝔼 𝒪). Reading-list titles
# and the English runs of zh/ar HTML both run through them.
MATH_SYMBOL_CHARS = (
    r"\u00b1-\u00b3\u00b5\u00b9\u00d7\u0300-\u036f\u0370-\u03ff\u2016\u2032-\u2034\u2070-\u209f"
    r"\u20d7\u2100-\u214f\u2190-\u22ff\u2308-\u230b\u27e8\u27e9\U0001d400-\U0001d7ff"
)

# Inline math: `$...$` (not "$5 and $10"), `$$...$$` (a display written inside a line) and `\(...\)`.
MATH_SPAN = re.compile(
    r"\$\$(?=\S)(?:[^$\\]|\\.){1,300}?(?<=\S)\$\$"
    r"|\$(?=\S)(?:[^$\\]|\\.){1,300}?(?<=\S)\$(?!\d)|\\\((?:[^\\]|\\.)*?\\\)",
    re.DOTALL,
)

# TeX accents and letters outside formulas ("Schr\"odinger", "Erd\H{o}s", "\o"), which arXiv
# titles and BibTeX write: the digest shows them as Unicode (`digest.text.tex_prose`) and title
# matching folds them (`identity.normalize`). An accent command gives its combining mark...
TEX_ACCENT_MARKS = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
}
# ...matched with its letter (group 2) as `\"u`, `\'{e}`, `{\c c}`, `\'\i`
TEX_ACCENT_COMMAND = re.compile(r"\{?\\([\"'`^~=.]|[uvHckr](?=[\s{]))\s*\{?\s*\\?([A-Za-z])\}?\}?")
# a letter command gives its Unicode letter and the ASCII letters it folds to
TEX_LETTERS = {
    "ss": ("ß", "ss"),
    "o": ("ø", "o"),
    "O": ("Ø", "O"),
    "ae": ("æ", "ae"),
    "AE": ("Æ", "AE"),
    "oe": ("œ", "oe"),
    "l": ("ł", "l"),
    "i": ("ı", "i"),
}
TEX_LETTER_COMMAND = re.compile(r"\\(ss|o|O|ae|AE|oe|l|i)(?![A-Za-z])\s*(?:\{\})?")

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
# a word in these styles is shown in plain letters ("\mathsf{TC}" -> "TC", not "𝖳𝖢"): styled
# letters read one by one or not at all with a screen reader, and a search for "TC" misses them;
# a single styled letter stays one (𝐱, a vector)
_PLAIN_WHEN_A_WORD = _words("mathbf mathsf mathtt")
_A_WORD = re.compile(r"[A-Za-z]{2,}")
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
_SPACING = _words(", ; : quad qquad !") | {" "}  # nothing inside a script: "d^{\\,2}" is "d²"
# operators TeX spaces on both sides: a space written before one is kept after a macro ate it
_BINARY_OPERATORS = frozenset("+−±∓·×÷∘⊗⊕∪∩∧∨")
_MATH_CHARS = frozenset("+-=<>()[]|,.;:!/*'? ")
_MATH_TEXT_MAX_CHARS = 80  # a longer formula is no inline formula: it stays LaTeX


class _NoTextForm(Exception):
    """A formula part that Unicode text cannot show faithfully."""


@functools.cache
def _contexts() -> tuple[Any, Any]:
    walker_db = latexwalker.get_default_latex_context_db()
    walker_db.add_context_category(
        "dltheory-math",
        macros=[macrospec.MacroSpec(name, "{") for name in ("bm", "boldsymbol", "mathds")]
        + [macrospec.MacroSpec(name, "{{") for name in ("dfrac", "tfrac")]
        # \operatorname*{argmin}: the star puts the limits under the name, it is no character
        + [macrospec.MacroSpec("operatorname", "*{")],
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
    """The text of a parsed formula; `script` for a super/subscript's content (no spaces);
    `attached` for a formula written right after a word ("ReLU$^2$"), whose opening script
    raises or lowers that word's last character."""

    def __init__(self, *, script: bool = False, words: bool = False, attached: bool = False) -> None:
        self.script = script
        self.words = words  # inside \text{...}: "-" and "'" as written
        self.attached = attached
        self.parts: list[str] = []
        self.space_before_word = False
        # pylatexenc gives the space after "\alpha" to the macro: "\alpha - \beta" would read "α− β"
        self.space_after_macro = False

    def text(self) -> str:
        return "".join(self.parts)

    def add(self, piece: str) -> None:
        if (self.space_before_word and piece[:1].isalnum()) or (
            self.space_after_macro and piece[:1] in _BINARY_OPERATORS
        ):
            self.parts.append(" ")
        self.space_before_word = self.space_after_macro = False
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
                if index == len(tokens) or not (self.parts or self.attached):
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
            letters = self.required(node, 0)
            plain = name in _PLAIN_WHEN_A_WORD and _A_WORD.fullmatch(letters)
            self.add(letters if plain else _styled(letters, _ALPHABETS[name]))
        elif name in _PLAIN_TEXT:
            self.add(" ".join(self.required(node, 0, words=True).split()))
        elif name == "operatorname":
            self.word(self.required(node, 1, words=True))
        elif argspec:
            raise _NoTextForm(name)  # a macro with arguments we do not lay out
        elif name in _SIZING or (name in _SPACING and self.script):
            pass
        elif name in _OPERATOR_NAMES:
            self.word(name)
        elif name in _RELATIONS and not self.script:
            self.parts.append(f"\x01{_symbol(name)}\x01")  # spaced evenly once the formula is whole
        else:
            symbol = _symbol(name)
            # "a \cdot b" -> "a · b" and "\pm 1" -> "±1": a space after an operator only to match one before
            spaced = (self.text().endswith(" ") or self.space_after_macro) and not symbol.isalpha()
            self.add(symbol)
            if spaced and node.macro_post_space and not self.script:
                self.parts.append(" ")
        if not self.script and _ate_a_space(node):
            self.space_after_macro = True


def _ate_a_space(node: Any) -> bool:
    """Whether a macro, or the macro that is its last argument ("\\hat\\beta "), took the space after it."""
    if node.macro_post_space:
        return True
    args = node.nodeargd.argnlist if node.nodeargd else []
    last = args[-1] if args else None
    return isinstance(last, latexwalker.LatexMacroNode) and bool(last.macro_post_space)


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


@functools.lru_cache(maxsize=4096)
def math_text(formula: str, *, attached: bool = False) -> str | None:
    """An inline formula (`$...$`, `$$...$$` or `\\(...\\)`, as `MATH_SPAN` finds them) as
    Unicode text: `$O(n^{k-1}\\log n)$` -> "O(nᵏ⁻¹ log n)", `$\\mathbb{R}^d$` -> "ℝᵈ". None when
    it has no faithful text form (an unknown macro, an environment, an accent over several
    letters) or is longer than a line. `attached`: the formula follows a word with no space
    ("ReLU$^2$"), so a script it opens with is that word's: "²". Cached (a digest shows the
    same formulas in every edition)."""
    delimiter = 2 if formula.startswith(("$$", "\\(")) else 1
    body = formula[delimiter:-delimiter]
    try:
        walker = latexwalker.LatexWalker(body, latex_context=_contexts()[0], tolerant_parsing=False)
        nodes = walker.get_latex_nodes()[0]
        text = _MathText(attached=attached).nodes(nodes)
    except (_NoTextForm, latexwalker.LatexWalkerError):
        return None
    text = " ".join(_fractions_bracketed(text).replace("\x01", " ").split())
    return text if text and len(text) <= _MATH_TEXT_MAX_CHARS else None


def formulas_as_text(text: str) -> str:
    """`text` with each inline formula as its Unicode text, where it has one:
    "$\\widetilde{O}(\\sqrt{T})$ Regret" -> "Õ(√T) Regret"; a formula without a text form stays
    as written."""
    if "$" not in text and "\\(" not in text:
        return text
    return MATH_SPAN.sub(lambda formula: math_text(formula.group(0)) or formula.group(0), text)
