"""Text normalization for matching: titles, English runs inside mixed text, author surnames.

Everything here folds away differences that sources introduce without changing the paper:
Unicode forms, case, accents, punctuation, LaTeX markup, HTML entities, hyphenation at line
ends and version suffixes. The output is for comparison only, never for display.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import ftfy

from dltheory_digest.language.normalize import INVISIBLE_CHARACTERS
from dltheory_digest.mathtext import TEX_ACCENT_COMMAND, TEX_ACCENT_MARKS, TEX_LETTER_COMMAND, TEX_LETTERS

# \emph{x}, \textbf{x}, \mathcal{x} ... keep the argument; other commands (\sqrt, \log) keep their name.
_LATEX_WRAPPER = re.compile(
    r"\\(?:emph|textbf|textit|texttt|textrm|textsc|textsf|mathrm|mathbf|mathcal|mathbb|mathit|mathsf|operatorname|text|mbox|url)\s*\{([^{}]*)\}"
)
_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+)")
# "generaliza-\ntion" is one word; "deep-\nlearning" is rare enough that joining it is harmless.
_LINE_BREAK_HYPHEN = re.compile(r"(\w)[-\u00ad\u2010]\s*\n\s*(\w)")
# "(v2)", "[v3]", "v2" at the end of a title, "arXiv:2106.10165v2 " in front of it
_VERSION_SUFFIX = re.compile(r"[\s(\[]*\b(?:v|ver\.?|version)\s*\d{1,2}[)\]]*\s*$", re.IGNORECASE)
_ARXIV_PREFIX = re.compile(
    r"^\s*\[?(?:arxiv\s*:?\s*)?(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?\]?\s*[:.\-–—]?\s*",
    re.IGNORECASE,
)
# what a citation or a search result adds around a title: Google Scholar's "[PDF]", "[CITATION][C]"
# in front, a reference's "arXiv preprint arXiv:2106.10165" after it
_SCHOLAR_TAGS = re.compile(r"^\s*(?:\[(?:pdf|html|doc|book|b|citation|c)\]\s*)+", re.IGNORECASE)
# (after a full stop or comma: "What makes an arXiv preprint ..." keeps its words)
_PREPRINT_TAIL = re.compile(r"\s*[.,;]\s*arxiv\s+preprint\b.*$", re.IGNORECASE)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\s\-:,.'’()/&+?!$\\{}^_=]*[A-Za-z0-9)?!}$]")
# Words that say nothing about which paper a title names; they weigh nothing in a title's evidence.
# fmt: off
FUNCTION_WORDS = frozenset({
    "a", "an", "the", "of", "for", "in", "on", "at", "to", "and", "or", "with", "by",
    "from", "via", "into", "onto", "over", "under", "as", "is", "are", "be", "been", "its", "it",
    "this", "that", "these", "those", "we", "our", "do", "does", "vs", "versus", "using",
    "toward", "towards", "through", "between", "about", "when", "why", "how", "what", "which", "can",
})
# fmt: on
# Short words that turn a title into its opposite ("Attention is not all you need"): content words,
# never function words
NEGATIONS = frozenset({"not", "no", "without", "nor", "never", "cannot"})
# The verb of an "n't" contraction, which `normalize_title` leaves as two words ("don't" ->
# "don t"): the same negation as "do not", for matching only (titles keep their normal form,
# which the ledger's keys are built from)
NEGATED_CONTRACTIONS = {
    "don": "do", "doesn": "does", "didn": "did", "can": "can", "won": "will", "isn": "is",
    "aren": "are", "wasn": "was", "weren": "were", "shouldn": "should", "couldn": "could",
    "wouldn": "would", "haven": "have", "hasn": "has",
}  # fmt: skip
_CONTRACTED_NEGATION = re.compile(rf"\b({'|'.join(NEGATED_CONTRACTIONS)}) t\b|\bcannot\b")
_NOT_A_NAME = frozenset({"etal", "others", "andothers", "anonymous", "unknown"})
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md"})


# Inside $...$: "\ell" is the letter arXiv titles write as "ℓ", and sub/superscripts belong to
# their symbol, so "$\ell_1$", "$L^2$" read "l1", "L2" as the Unicode "ℓ1", "L²" do (NFKC).
_MATH = re.compile(r"\$([^$]*)\$")
_SCRIPT = re.compile(r"\s*[\^_]\s*(?:\{([^{}]*)\}|(?=\S))")
_TEX_ELL = re.compile(r"\\ell(?![A-Za-z])")
_TEX_VARIANT = re.compile(r"\\var(?=(?:epsilon|phi|theta|rho|sigma|pi)(?![A-Za-z]))")  # \varepsilon is ε


def _math_to_text(match: re.Match[str]) -> str:
    inner = _TEX_VARIANT.sub(r"\\", _TEX_ELL.sub("l", match.group(1)))
    return " " + _SCRIPT.sub(lambda m: m.group(1) or "", inner) + " "


# BibTeX's case protection ("{N}eural {T}angent", "{ReLU}"): in LaTeX braces group, they never
# separate words, so a brace next to a letter goes
_GLUED_BRACE = re.compile(r"(?<=[^\W_])[{}]+|[{}]+(?=[^\W_])")
# old font switches inside a group ("{\em Deep} networks") say how, not what
_FONT_SWITCH = re.compile(
    r"\\(?:em|bf|it|sl|sc|rm|tt|sf|normalfont|bfseries|itshape|scshape|upshape)(?![A-Za-z])\s*"
)


def _latex_to_text(text: str) -> str:
    if "\\" not in text and "$" not in text:
        return _GLUED_BRACE.sub("", text) if "{" in text or "}" in text else text
    text = _MATH.sub(_math_to_text, text)
    text = TEX_ACCENT_COMMAND.sub(lambda m: m.group(2) + TEX_ACCENT_MARKS[m.group(1)], text)
    # the ASCII fold of a letter command: "\o" matches "o" as "ø" would once accents go
    text = TEX_LETTER_COMMAND.sub(lambda m: TEX_LETTERS[m.group(1)][1], text)
    for _ in range(3):  # nested wrappers: \emph{\textbf{x}}
        text = _LATEX_WRAPPER.sub(r"\1", text)
    # commands keep their name as a word ("\sqrt{n}" -> "sqrt n") before their braces go
    text = _LATEX_COMMAND.sub(r" \1 ", _FONT_SWITCH.sub("", text))
    return _GLUED_BRACE.sub("", text).replace("$", " ")


# Cyrillic letters drawn like Latin ones, which copied or spoofed text puts inside English words
_CYRILLIC_LOOKALIKES = str.maketrans("аеорсухіјѕԁԛԝАВЕКМНОРСТХІЈЅ", "aeopcyxijsdqwABEKMHOPCTXIJS")
_CYRILLIC_IN_WORD = re.compile(r"\w*[\u0400-\u04ff\u0500-\u052f]\w*")


def _latin_lookalikes(match: re.Match[str]) -> str:
    word = match.group(0)
    latin = sum(c.isascii() and c.isalpha() for c in word)
    folded = word.translate(_CYRILLIC_LOOKALIKES)
    # mostly Latin letters, and every other one a look-alike: an English word ("Understаnding")
    return folded if latin * 2 > len(word) and folded.isascii() else word


def fold_accents(text: str) -> str:
    """NFKD and drop combining marks: "Lüdascher" -> "Ludascher" (CJK and Arabic letters are kept).
    Cyrillic look-alikes inside a Latin word are its Latin letters."""
    if text.isascii():
        return text
    text = _CYRILLIC_IN_WORD.sub(_latin_lookalikes, text)
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


# a letter written as an entity that a tokenizer cut out of its word, with a space on
# both sides ("lud &#228; scher") or after a capital that starts a word ("&#216; ystein")
_SPACED_ENTITY = re.compile(r"((?<=\w) )?(&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);) (?=\w)")


def _glued_letter(match: re.Match[str]) -> str:
    letter = html.unescape(match.group(2))
    if len(letter) != 1 or not letter.isalpha():
        return match.group(0)
    if letter.isupper():  # starts the next word
        return (match.group(1) or "") + letter
    return letter if match.group(1) else letter + " "  # inside a word only when cut out of it


@lru_cache(maxsize=1 << 18)
def clean_text(text: str) -> str:
    """Readable text with markup removed: HTML entities, mojibake, LaTeX, line-end hyphens."""
    if "&" in text:
        text = html.unescape(_SPACED_ENTITY.sub(_glued_letter, text))
    if not text.isascii():  # plain ASCII has no mojibake or Unicode forms to fix
        text = ftfy.fix_text(text, unescape_html=False, normalization="NFKC")
    text = _LINE_BREAK_HYPHEN.sub(r"\1\2", text)
    if not text.isascii():
        # a soft hyphen or zero-width space inside a word splits it in two ("generali\u00adzation")
        text = INVISIBLE_CHARACTERS.sub("", text)
    return _latex_to_text(text)


# Symbols a page shows as Unicode where arXiv writes TeX ("α" / "$\\alpha$", "√n" / "$\\sqrt{n}$"):
# spelled as the TeX command's name, which is how the TeX form normalizes.
_SYMBOL_NAMES = {
    "√": "sqrt",
    "∞": "infty",
    "∇": "nabla",
    "∂": "partial",
    "→": "to",
    "≤": "leq",
    "≥": "geq",
    "×": "times",
}
_GREEK_NAME = re.compile(r"GREEK (?:SMALL |CAPITAL )?(?:LETTER )?(?:FINAL |LUNATE )?([A-Z]+)")


def _is_greek(char: str) -> bool:
    return "\u0370" <= char <= "\u03ff"


def _spell_symbols(text: str) -> str:
    if text.isascii():
        return text
    out: list[str] = []
    for char in text:
        name = _SYMBOL_NAMES.get(char)
        if name is None and _is_greek(char):
            found = _GREEK_NAME.match(unicodedata.name(char, ""))
            name = found.group(1).lower() if found else None
        out.append(f" {name} " if name else char)
    return "".join(out)


@lru_cache(maxsize=1 << 18)
def normalize_title(title: str) -> str:
    """A title reduced to lower-case words separated by single spaces, for comparison.

    Folds Unicode (NFKC), case, accents, punctuation, LaTeX ($..$, \\emph{}, \\"u), HTML entities
    (&#228;), invisible characters, hyphenation at line breaks, trailing version markers ("(v2)")
    and what citations add around a title ("[PDF]", ". arXiv preprint arXiv:...").
    """
    text = _PREPRINT_TAIL.sub("", _SCHOLAR_TAGS.sub("", clean_text(title)))
    text = _ARXIV_PREFIX.sub("", text)
    text = _VERSION_SUFFIX.sub("", text)
    text = _spell_symbols(fold_accents(text).casefold())
    return " ".join(_NON_WORD.sub(" ", text).split())


def expand_negations(normalized: str) -> str:
    """A normalized title with its contracted negations written out: "why don t networks
    overfit" -> "why do not networks overfit"; "cannot" -> "can not"."""
    return _CONTRACTED_NEGATION.sub(_written_out, normalized)


def _written_out(match: re.Match[str]) -> str:
    verb = match.group(1)
    return f"{NEGATED_CONTRACTIONS[verb]} not" if verb else "can not"


def is_latin(text: str) -> bool:
    """Latin letters only once accents are folded (an English-like title, not Chinese or Arabic).

    Greek letters are math in an English title ("α-divergence"), so they neither count for nor against it.
    """
    if text.isascii():
        return any(c.isalpha() for c in text)
    letters = [c for c in fold_accents(text) if c.isalpha() and not _is_greek(c)]
    return bool(letters) and all(c.isascii() for c in letters)


def english_runs(text: str) -> list[str]:
    """The Latin-script stretches of a mixed line, longest first.

    A Chinese reading-list line "Recent advances in deep learning theory 总结了..." embeds the
    English title; this finds it so the line can match the paper.
    """
    runs = [m.group(0).strip() for m in _LATIN_RUN.finditer(fold_accents(clean_text(text)))]
    runs = [r for r in runs if len(r.split()) >= 3]
    return sorted(runs, key=len, reverse=True)


def title_variants(*titles: str | None) -> tuple[str, ...]:
    """Normalized English forms of a record's titles: each title, or the English run inside it."""
    out: list[str] = []
    for title in titles:
        if not title:
            continue
        # a non-Latin title contributes the English title embedded in it, if any
        candidates = [title] if is_latin(title) else english_runs(title)[:1]
        for candidate in candidates:
            norm = normalize_title(candidate)
            if norm and norm not in out:
                out.append(norm)
    return tuple(out)


_DOTTED_INITIALS = re.compile(r"^(?:[^\W\d_]\.[\s-]*){1,3}$")


def split_authors(authors: str) -> tuple[str, ...]:
    """A CSV author cell -> names. "a , b and c", "Doe, J.; Roe, R." and APA's "Doe, J., & Roe, R."
    all work, and "et al." is no name ("Doe, J., et al.")."""
    # before splitting: left on the last part it would hide that part's initials ("J. et al.")
    authors = _ET_AL.sub("", clean_text(authors))
    parts = authors.split(";") if ";" in authors else re.split(r",|\band\b|&", authors)
    names = [p.strip() for p in parts if p.strip()]
    families, givens = names[::2], names[1::2]
    if (
        len(names) % 2 == 0
        and all(_DOTTED_INITIALS.match(g) for g in givens)
        and not any(_DOTTED_INITIALS.match(f) for f in families)
    ):
        # every other part is initials: each belongs to the family name before it
        names = [f"{family}, {given}" for family, given in zip(families, givens, strict=True)]
    return tuple(names)


@lru_cache(maxsize=1 << 18)
def surname(name: str) -> str:
    """The family name of a person, normalized: "Bertram Ludäscher" -> "ludascher", "Doe, J." -> "doe"."""
    name = fold_accents(clean_text(name)).casefold()
    if "," in name:  # "Doe, John" lists the family name first
        name = name.split(",", 1)[0]
        words = _NON_WORD.sub(" ", name).split()
        return "".join(words)
    words = [w for w in _NON_WORD.sub(" ", name).split() if w not in _NAME_SUFFIXES]
    if not words:
        return ""
    # "Smith J" (family name first, initials after) -> the first full word
    if len(words) > 1 and len(words[-1]) == 1:
        return next((w for w in words if len(w) > 1), words[-1])
    return words[-1]


_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_NUMBERED = re.compile(
    r"\b(?:part|vol|volume|chapter|no|number|section|episode)\s*\.?\s*([0-9]+|[ivx]+)\b", re.IGNORECASE
)
_ROMAN = frozenset({"ii", "iii", "iv", "vi", "vii", "viii", "ix"})
# numbers spelled out count as numbers ("two-layer" / "three-layer" / "2-layer"); "one" is left
# out, being as often a pronoun or "one-shot" as a count
_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10",
}  # fmt: skip


# What indexes add around a title to say what kind of item it is, not which paper it is.
_ANNOTATION = (
    r"(?:a\s+)?(?:book\s+review|review|guest\s+editors?\W*s?\s+(?:foreword|introduction|preface)|"
    r"(?:guest\s+editors?\W*s?\s+)?(?:foreword|preface)|"
    r"(?:panel|tutorial|demo|demonstration)(?:\s+(?:session|abstract|description|paper))?|"
    r"(?:extended|short)\s+(?:abstract|version)|abstract(?:\s+only)?|invited\s+talk|keynote(?:\s+address)?|"
    r"experience\s+paper|talk\W+slides.*)"
)
_TRAILING_ANNOTATION = re.compile(rf"\s*(?::|\s[-–—]\s|,)\s*{_ANNOTATION}\s*\.?\s*$", re.IGNORECASE)
_LEADING_ANNOTATION = re.compile(rf"^\s*{_ANNOTATION}\s*:\s*", re.IGNORECASE)


# What a bracket inside a title holds when it is a remark on the title, not part of it: an
# annotation, a version, a year, a venue or an acronym of the words before it ("(SVMs)",
# "(NeurIPS 2018)", "[ICML'19]")
_BRACKETED_REMARK = re.compile(
    rf"^[(\[]\s*(?:{_ANNOTATION}|v\d+|ver(?:\.|sion)?\s*\d+|(?:19|20)\d\d"
    r"|(?-i:[A-Za-z]*[A-Z][A-Za-z]*[A-Z][A-Za-z]*)(?:\s*['’]?\s*(?:\d\d|(?:19|20)\d\d))?)\s*[)\]]$",
    re.IGNORECASE,
)
_BRACKETS_AT_START = re.compile(r"^\s*(?:(?:\([^()]*\)|\[[^\[\]]*\])\s*)+")
_BRACKETS_AT_END = re.compile(r"(?:\s*(?:\([^()]*\)|\[[^\[\]]*\]))+[\s.]*$")


def _without_bracketed_remarks(text: str) -> str:
    """`text` without its bracketed asides: brackets at either end, or one holding a remark; a
    bracket inside the title keeps its words ("Understanding deep learning (still) requires ...")."""
    text = _BRACKETS_AT_END.sub(" ", _BRACKETS_AT_START.sub(" ", text))
    return _BRACKETED.sub(
        lambda m: " " if _BRACKETED_REMARK.match(m.group(0)) else f" {m.group(0)[1:-1]} ", text
    )


def core_title(title: str) -> str:
    """The normalized title without remarks: bracketed asides and labels such as "- book review",
    ": a tutorial", "Panel:" ("DEVise (demo abstract): ..." -> "devise ...")."""
    text = _without_bracketed_remarks(clean_text(title))
    stripped = _LEADING_ANNOTATION.sub("", _TRAILING_ANNOTATION.sub("", text))
    # never strip a title down to nothing ("Book review", "Tutorial: ...")
    return normalize_title(stripped) or normalize_title(text)


_SUBTITLE = re.compile(r"\s*(?::|\s--?\s|[–—]|\?)\s*")


def head_title(title: str) -> str:
    """The normalized main title before a subtitle separator (":", " - ", "—"), or "" when there is none."""
    cleaned = _BRACKETED.sub(" ", clean_text(title))
    parts = _SUBTITLE.split(cleaned, maxsplit=1)
    if len(parts) < 2:
        return ""
    head = normalize_title(parts[0])
    return head if len(head.split()) >= 2 else ""


def numbered_series_tail(title: str) -> str:
    """The title after a numbered series name ("Tensor Programs IV: Feature Learning in ..." ->
    "Feature Learning in ..."), unnormalized; "" when the main part before the first subtitle
    separator has no number."""
    cleaned = _BRACKETED.sub(" ", clean_text(title))
    parts = _SUBTITLE.split(cleaned, maxsplit=1)
    if len(parts) < 2 or not parts[1].strip() or not title_markers(parts[0]):
        return ""
    return parts[1].strip()


def title_markers(title: str) -> frozenset[str]:
    """Numbers that tell apart papers otherwise titled alike.

    "p<n>" for part/volume/chapter numbers ("Part II", "(part 2)", "Vol. 3") and "<n>" for
    any other number in the title ("Workshop 2000", "SQL3", "three-layer"), so "Part I" /
    "Part II", "... 2000" / "... 2001" and "two-layer" / "three-layer" can be told apart.
    """
    cleaned = clean_text(title)
    marks = {"p" + _roman_to_int(m.group(1).lower()) for m in _NUMBERED.finditer(cleaned)}
    without_parts = _NUMBERED.sub(" ", cleaned)
    for word in normalize_title(without_parts).split():
        if word in _ROMAN:
            marks.add("p" + _roman_to_int(word))
        elif word in _NUMBER_WORDS:
            marks.add(_NUMBER_WORDS[word])
    marks.update(d.lstrip("0") or "0" for d in re.findall(r"\d+", fold_accents(without_parts)))
    return frozenset(marks)


def markers_conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """Different part numbers, or numbers on both sides where neither set contains the other."""
    if {m for m in a if m[0] == "p"} != {m for m in b if m[0] == "p"}:
        return True
    da = {m for m in a if m[0] != "p"}
    db = {m for m in b if m[0] != "p"}
    return bool(da) and bool(db) and not (da <= db or db <= da)


# A notice quotes the title of what it is about: "Comment on 'Why does deep and cheap learning
# work so well?'", COLT's "Open problem: ..." restating a paper's question. A comment or reply
# is named at the start, or after an erratum's label ("Erratum: Comment on ...").
_CORRECTION_LABEL = r"^\W*(?:(?:errat(?:um|a)|corrigend(?:um|a))\W+)?"
# "Correction" is also a word of titles ("Error correction codes", "Bias correction for ..."):
# it labels a notice only where publishers put the label, at the start: "Author Correction: X",
# "Publisher Correction: X", "Correction: X", "Correction to: X", "Corrections to 'X'", and
# PNAS's "Correction for Bartlett et al., X" naming the paper's authors before a comma
_CORRECTION_NOTICE = (
    r"^\W*(?:(?:author|publisher|editorial)\W*s?\s+)?corrections?\s*(?:[:：]|to\b"
    r"|for\s+(?:[^,:]*\bet\.?\s*al\b|(?-i:[A-Z])[\w'’-]+(?:\s+(?:and|&)\s+(?-i:[A-Z])[\w'’-]+)?\.?\s*,))"
)
_NOTICE_KINDS = (
    (
        "erratum",
        re.compile(rf"\b(?:errat(?:um|a)|corrigend(?:um|a)|addend(?:um|a))\b|{_CORRECTION_NOTICE}", re.I),
    ),
    ("expression of concern", re.compile(r"\bexpression\s+of\s+concern\b", re.I)),
    ("retraction", re.compile(r"\b(?:retract(?:ion|ed)|withdrawn)\b", re.I)),
    ("reply", re.compile(_CORRECTION_LABEL + r"(?:reply\s+to|response\s+to|rejoinder)\b", re.I)),
    ("comment", re.compile(_CORRECTION_LABEL + r"(?:comments?\s+on|discussion\s+of)\b", re.I)),
    ("open problem", re.compile(r"^\W*open\s+problems?\s*:", re.I)),
)


def notice_kinds(title: str) -> frozenset[str]:
    """What kinds of notice a title is ("erratum", which a correction or an addendum also is,
    "expression of concern", "retraction", "comment", "reply", "open problem"); empty for a
    paper. Two records are one publication only with the same kinds: a comment, the reply to it
    and an erratum of the comment ({"erratum", "comment"}) are three."""
    text = fold_accents(clean_text(title))
    return frozenset(kind for kind, pattern in _NOTICE_KINDS if pattern.search(text))


def is_notice(title: str) -> bool:
    """An erratum, corrigendum, correction, addendum, expression of concern, retraction, comment,
    reply or open problem: a publication of its own, not the paper it is about."""
    return bool(notice_kinds(title))


def _roman_to_int(token: str) -> str:
    if token.isdigit():
        return token.lstrip("0") or "0"
    values = {"i": 1, "v": 5, "x": 10}
    total = 0
    for a, b in zip(token, [*token[1:], ""], strict=True):
        value = values.get(a, 0)
        total += -value if b and values.get(b, 0) > value else value
    return str(total)


def name_key(name: str) -> tuple[str, str]:
    """(surname, all letters of the name run together) for tolerant author comparison.

    Placeholders ("et al.", "others", "...", "?") give ("", "") so they are not people, and
    "Jacot et al." is Jacot.
    """
    name = _ET_AL.sub("", name)
    letters = _NON_WORD.sub("", fold_accents(clean_text(name)).casefold())
    if letters in _NOT_A_NAME or not any(c.isalpha() for c in letters):
        return "", ""
    return surname(name), letters


# Markup a page showed as text ("&lt;script&gt;" rendered), script URLs and Markdown link syntax
# left literal in HTML: no paper title contains them.
_LITERAL_MARKUP = re.compile(
    r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>|<!--|\b(?:javascript|vbscript):(?=\S)|\bdata:[a-z]+/[\w.+-]+[;,]|\]\(",
    re.IGNORECASE,
)
# What readers write next to a reference instead of its title: "must read!", "a classic",
# "Smith et al.", "see also".
_REMARK_START = re.compile(
    r"^(?:a |the |my )?(?:must[- ]?reads?|highly recommended|recommended|classic|seminal|important|"
    r"key paper|worth (?:a )?read(?:ing)?|good read|great read|to ?read|todo|read (?:later|first|this)|"
    r"start here|see (?:also|below|above)|optional|notes?|skim(?:med)?|favou?rite|cf)\b",
    re.IGNORECASE,
)
_AUTHOR_CITATION = re.compile(r"\bet al\b|^by\s", re.IGNORECASE)


class TitleShape:
    """How much a text looks like a paper title (`title_shape`); higher is more title-like."""

    JUNK = 0  # markup, script, no words
    REMARK = 1  # "must read!", "Smith et al. 2019", "see also"
    WEAK = 2  # a single word, or a short lower-case phrase
    TITLE = 3


def title_shape(text: str) -> int:
    """A `TitleShape` level for `text`, so a real title wins over junk when sources disagree.

    Judged on the text alone (any script): literal markup and script URLs make it junk,
    a reader's remark or an author citation a remark.
    """
    text = text.strip()
    if not text or _LITERAL_MARKUP.search(text):
        return TitleShape.JUNK
    letters = sum(ch.isalpha() for ch in text)
    if letters < 3 or letters * 2 < len(text.replace(" ", "")):  # "]]]) [[", "2106.10165", ")"
        return TitleShape.JUNK
    words = text.split()
    if len(words) <= 8 and _AUTHOR_CITATION.search(text):
        return TitleShape.REMARK
    if len(words) <= 5 and (_REMARK_START.match(text) or text.endswith("!")):
        return TitleShape.REMARK
    if is_latin(text) and (len(words) < 2 or (len(words) <= 4 and text[0].islower())):
        return TitleShape.WEAK
    return TitleShape.TITLE


# Lower-case words that join a family name ("da Silva", "van der Vaart"): after a name's first
# word they belong to the family name, so they neither count as a given name nor as its last word
_NAME_PARTICLES = frozenset(
    {"da", "das", "de", "del", "della", "der", "des", "di", "do", "dos", "du", "la", "le", "ten",
     "ter", "van", "von", "zu", "bin", "ibn", "al", "el"}
)  # fmt: skip
# a word of a name: letters, with an apostrophe inside ("O'Donnell"); hyphens and dots separate
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_ET_AL = re.compile(r"\s*\bet\.?\s*al\b\.?|\s*\band\s+others\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PersonName:
    """A name as bibliographies vary it, reduced to what stays: the given names in order, folded
    (case, accents, apostrophes), each hyphen part on its own ("Jean-Christophe" and "J.-C." are
    two), and the last word of the family name ("Ferreira da Silva" -> "silva")."""

    given: tuple[str, ...]
    family: str
    # the family name with the particles before its last word run together ("Le Cun" ->
    # "lecun"), as one-word spellings write it ("LeCun", "VanRoy")
    family_joined: str = ""
    # every word known to be the family name's: "García Márquez, …" and "Hernández-Lobato" say
    # where it starts; "Gabriel García Márquez" does not ("garcia" is read as a given name)
    family_words: tuple[str, ...] = ()

    def same_family(self, other: PersonName) -> bool:
        return bool({self.family, self.family_joined} & {other.family, other.family_joined})


def _fold_name_word(word: str) -> str:
    return fold_accents(word).casefold().replace("'", "").replace("’", "")


@lru_cache(maxsize=1 << 14)
def person_name(name: str) -> PersonName | None:
    """`name` read the ways bibliographies write it: "Sanjeev Arora", "S. Arora", "Arora, Sanjeev",
    "SANJEEV ARORA", "Arora S" (initials after the family name), "ZHANG Wei" (the family name in
    capitals, as Chinese names are often printed). None for no person ("et al.", "others").

    A name written without a mark of its order is read given name first, as arXiv lists every
    author: "Zhang Wei" is Mr Wei, not the "Wei Zhang" of another paper (no guess either way)."""
    # an affiliation or footnote in brackets is not part of the name: "Sanjeev Arora (Princeton)"
    cleaned = _ET_AL.sub("", _BRACKETED.sub(" ", clean_text(name))).strip(" ,;")
    if name_key(cleaned) == ("", ""):
        return None
    family_words: list[str] = []
    if "," in cleaned:  # "Arora, Sanjeev", "Ferreira da Silva, Rodrigo", "Smith, J., Jr."
        family_part, given_part = cleaned.split(",", 1)
        given_words = [w for w in _NAME_WORD.findall(given_part) if w.casefold() not in _NAME_SUFFIXES]
        family_words = _NAME_WORD.findall(family_part)
        words = given_words + family_words
        if not given_words:  # "Sanjeev Arora, Jr.": the comma set off a suffix, not the given name
            family_words = []
    else:
        words = [w for w in _NAME_WORD.findall(cleaned) if w.casefold() not in _NAME_SUFFIXES]
        capitals = [i for i, w in enumerate(words) if len(w) > 1 and w.isupper()]
        if len(words) > 1 and len(capitals) == 1 and not cleaned.isupper():
            # "ZHANG Wei": the one word in capitals is the family name
            words = [w for i, w in enumerate(words) if i != capitals[0]] + [words[capitals[0]]]
        elif len(words) > 1 and len(words[0]) > 1 and len(words[-1]) == 1:
            # "Arora S", "Mourrat J C": initials after the family name
            words = [w for w in words if len(w) == 1] + [w for w in words if len(w) > 1]
        last = cleaned.split()[-1] if cleaned.split() else ""
        if "-" in last and len(words) > len(_NAME_WORD.findall(last)):
            family_words = _NAME_WORD.findall(last)  # "José Hernández-Lobato": both parts
    folded = [_fold_name_word(w) for w in words]
    if not folded:
        return None
    known_family = len(family_words)
    if known_family <= 1 and len(folded) > 2 and all(w in _NAME_PARTICLES for w in folded[:-1]):
        known_family = len(folded)  # "van der Vaart", "de la Cruz": a family name alone
    head = folded[: len(folded) - known_family] if known_family > 1 else folded[:-1]
    given = tuple(w for i, w in enumerate(head) if i == 0 or w not in _NAME_PARTICLES)
    particles = len(folded) - 1
    while particles > 1 and folded[particles - 1] in _NAME_PARTICLES:
        particles -= 1
    return PersonName(
        given=given,
        family=folded[-1],
        family_joined="".join(folded[particles:]),
        family_words=tuple(folded[len(folded) - known_family :]) if known_family > 1 else (),
    )


def _given_names_agree(followed: Sequence[str], written: Sequence[str]) -> bool:
    """Given names that can be one person's: word by word equal, or an initial and a name it
    begins ("s" / "sanjeev"); pinyin written apart or together ("zhi", "qin" / "zhiqin"); a
    middle name one side leaves out ends the comparison ("michael", "i" / "michael")."""
    if not followed or not written:
        return True
    first, second = followed[0], written[0]
    if (
        first == second
        or (len(first) == 1 and second.startswith(first))
        or (len(second) == 1 and first.startswith(second))
    ):
        return _given_names_agree(followed[1:], written[1:])
    if len(first) > 1 and len(second) > 1 and len(followed) > 1 and second.startswith(first):
        return _given_names_agree((first + followed[1], *followed[2:]), written)
    if len(first) > 1 and len(second) > 1 and len(written) > 1 and first.startswith(second):
        return _given_names_agree(followed, (second + written[1], *written[2:]))
    return False


def same_author(followed: str, written: str) -> bool:
    """Whether the author a paper lists as `written` can be the person a reader follows as
    `followed`, in any of the ways bibliographies write one name (see `person_name`): the
    family name's last word is the same, and the given names agree as far as both give them.
    An initial says no more than its letter ("S. Arora" is Sanjeev and Sanjay Arora), while two
    given names must be the same ("Sanjeev Arora" is not "Raman Arora"). A followed family name
    alone ("Arora") is every Arora; a paper's author with no given name is nobody in particular,
    so only a family name alone matches it."""
    wanted, author = person_name(followed), person_name(written)
    return wanted is not None and author is not None and _same_person(wanted, author)


def _same_person(wanted: PersonName, author: PersonName) -> bool:
    if not wanted.same_family(author):
        return False
    # a word one side reads as a given name may start the other's family name ("Gabriel García
    # Márquez" against "García Márquez, Gabriel José")
    wanted_given = _without_family_words(wanted.given, author.family_words)
    author_given = _without_family_words(author.given, wanted.family_words)
    if wanted_given and not author_given:
        return False
    return _given_names_agree(wanted_given, author_given) or _known_by_second_name(wanted_given, author_given)


def _without_family_words(given: tuple[str, ...], family_words: tuple[str, ...]) -> tuple[str, ...]:
    while len(given) > 1 and given[-1] in family_words[:-1]:
        given = given[:-1]
    return given


def _known_by_second_name(followed: Sequence[str], written: Sequence[str]) -> bool:
    """One side leads with an initial the other leaves out, and the full given names that follow
    agree: "J. Zico Kolter" is "Zico Kolter" and "J. Z. Kolter", "H. Sebastian Seung" is
    "Sebastian Seung"."""
    return any(
        len(longer) > 1
        and len(longer[0]) == 1
        and shorter
        and len(shorter[0]) > 1
        and _given_names_agree(longer[1:], shorter)
        for longer, shorter in ((written, followed), (followed, written))
    )


def followed_authors(followed: Sequence[str], authors: Sequence[str]) -> tuple[str, ...]:
    """The paper's `authors` (as written, in order) who are someone in `followed`: `same_author`."""
    wanted = [name for name in map(person_name, followed) if name is not None]
    if not wanted:
        return ()
    found = []
    for author in authors:
        written = person_name(author)
        if written is not None and any(_same_person(w, written) for w in wanted):
            found.append(author)
    return tuple(found)
