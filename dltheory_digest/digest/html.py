"""The email's HTML part: Markdown -> HTML (markdown-it-py) -> nh3 -> inline CSS."""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from functools import cache
from importlib import resources

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin

from dltheory_digest.digest.render import bidi_marks, environment, labels_for
from dltheory_digest.digest.text import CODE_SPAN, slugify
from dltheory_digest.mathtext import MATH_SYMBOL_CHARS

_ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2", "h3", "h4",
    "hr", "li", "ol", "p", "pre", "span", "strong", "summary", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "h2": {"id"},
    "h3": {"id"},
    "span": {"dir", "lang"},  # the language and direction of a run in another script
    "td": {"colspan"},
    "th": {"colspan"},
}
_BLOCK_TAGS = ("h1", "h2", "h3", "h4", "p", "li", "td", "th", "summary", "blockquote")
# A block holding no other block: its lines (split at <br>) are what gets a direction of its own.
_LEAF_BLOCK = re.compile(
    r"<(p|li|h[1-4]|td|th|summary)\b([^>]*)>"
    r"((?:(?!<(?:p|li|h[1-4]|td|th|summary|ul|ol|table|blockquote|details|div|pre)\b).)*?)</\1>",
    re.DOTALL,
)
_LINE_BREAK = re.compile(r"(<br\s*/?>\s*)")
_TAG = re.compile(r"<[^>]*>")
_ISOLATE_OPEN, _ISOLATE_CLOSE = "\u2066\u2067\u2068", "\u2069"
# A first-strong isolate (FSI…PDI) the Markdown puts around text quoted in the other direction
# (an Arabic remark in an English line), and a left-to-right or right-to-left one (LRI, RLI: a
# formula, a date or an id in an Arabic line); in HTML an element: some mail clients ignore the
# characters.
_ISOLATE_RUN = re.compile("([\u2066\u2067\u2068])([^\u2066-\u2069<>]*)\u2069")
_ISOLATE_DIRECTION = {"\u2066": "ltr", "\u2067": "rtl", "\u2068": "auto"}


# Runs of text in another script than the edition's, for their `lang`: CJK glyphs differ by
# language (a Chinese remark drawn with Japanese forms), and a screen reader switches voice.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KANA = "\u3040-\u30ff"
_HANGUL = "\uac00-\ud7af\u1100-\u11ff"
_CJK_MARKS = "\u3000-\u303f\uff00-\uffef"  # ideographic punctuation, fullwidth forms
_ARABIC = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc"
_LATIN = "A-Za-z\u00c0-\u024f"


def _script_run(letters: str, marks: str = "") -> re.Pattern[str]:
    """A run from a letter of `letters` to the last one that follows it with at most 30 other
    characters between two of them (a Chinese sentence holds "NTK" or "2026"), within one
    text node; `marks` may open, close or join it."""
    own = f"[{letters}{marks}]"
    return re.compile(f"{own}(?:[^<>{letters}{marks}]{{0,30}}{own})*")


_CJK_RUN = _script_run(_HAN + _KANA + _HANGUL, _CJK_MARKS)
_ARABIC_RUN = _script_run(_ARABIC)
# What English text holds between its words, besides punctuation: digits, Greek letters, math
# symbols and arrows, super/subscripts, letterlike and math-alphanumeric letters ("Rate O(1/√T)
# under the PL* Condition", "ℓ₁-Regularized"), so a screen reader keeps one voice across it
_MATH_IN_TEXT = "0-9+=<>*|^_~\\[\\]{}·" + MATH_SYMBOL_CHARS
_LATIN_WORD = rf"[{_LATIN}][{_LATIN}'’\-]*"
# English in a Chinese or Arabic edition: two words or more (a lone "arXiv" or "PDF" is a name).
# It starts only where a run could not have started one character earlier (not after a letter,
# digit, math sign or "(", nor after a letter's "-" or "'"), so a start inside a long run of
# digits, Greek or one word fails at once instead of rescanning the run (quadratic on 10k digits).
_LATIN_RUN = re.compile(
    rf"(?<![{_MATH_IN_TEXT}({_LATIN}])(?<![{_LATIN}]['’\-])"
    rf"(?:[{_MATH_IN_TEXT}(][{_MATH_IN_TEXT}(\-]*+)?{_LATIN_WORD}"
    rf"(?:[\s,.:;!?()/&\-–—{_MATH_IN_TEXT}]++{_LATIN_WORD})+"
    rf"[.!?){_MATH_IN_TEXT}]*"
)
# a text node, or a code element, whose text is the formula as written and never tagged
_TEXT_NODE = re.compile(r"(?P<code><code\b[^>]*>.*?</code>)|(?<=>)(?P<text>[^<>]+)(?=<)", re.DOTALL)
_ISOLATED = re.compile("\u2068[^\u2066-\u2069]*\u2069")
# where English runs are tagged, a left-to-right isolate (a formula, an id in an Arabic line) is
# one run too: its span goes around the isolate, which can then become an element
_ISOLATED_OR_LEFT_TO_RIGHT = re.compile("[\u2066\u2068][^\u2066-\u2069]*\u2069")


def _escape_text(text: str) -> str:
    """Text escaped as nh3 serializes a text node ("&", "<", ">", no-break space), so a node
    rebuilt from its unescaped text reads as nh3 wrote it."""
    return html_lib.escape(text, quote=False).replace("\xa0", "&nbsp;")


def _run_lang(run: str) -> str | None:
    if re.search(f"[{_KANA}]", run):
        return "ja"
    if re.search(f"[{_HANGUL}]", run):
        return "ko"
    if re.search(f"[{_HAN}]", run):
        return "zh"
    if re.search(f"[{_ARABIC}]", run):
        return "ar"
    return "en" if re.search(f"[{_LATIN}]", run) else None


def _tag_languages(html: str, language: str) -> str:
    """Each run of text in another language than the edition's `language` in a span with its
    `lang` (by script: Han "zh", kana "ja", hangul "ko", Arabic "ar"; Latin "en" in a zh or ar
    edition), so mail clients pick the right glyphs and screen readers the right voice. A run
    the Markdown isolated (FSI…PDI; LRI…PDI too where English is tagged) keeps its isolates
    inside the span. Code (a formula as written) is left alone."""
    english_tagged = language in ("zh", "ar")
    patterns = [_CJK_RUN, _ARABIC_RUN] + ([_LATIN_RUN] if english_tagged else [])
    isolates = _ISOLATED_OR_LEFT_TO_RIGHT if english_tagged else _ISOLATED
    runs = re.compile("|".join(f"(?:{p.pattern})" for p in patterns))

    def tagged(text: str) -> str:
        out, last = [], 0
        for run in runs.finditer(text):
            lang = _run_lang(run.group(0))
            if lang is None or lang == language:
                continue
            out += [
                _escape_text(text[last : run.start()]),
                f'<span lang="{lang}">{_escape_text(run.group(0))}</span>',
            ]
            last = run.end()
        return "".join(out) + _escape_text(text[last:])

    def node(text: re.Match[str]) -> str:
        if text["code"]:
            return text["code"]
        # runs are found in the text as read, not as serialized: "x &gt; 0" would end an English
        # run after "&gt" and "&lt;img" start one at "lt", cutting the reference in two
        out, last = [], 0
        value = html_lib.unescape(text["text"])
        for isolated in isolates.finditer(value):
            # one language for the whole isolated run (an Arabic title with its final period)
            out.append(tagged(value[last : isolated.start()]))
            lang = _run_lang(isolated.group(0))
            run = _escape_text(isolated.group(0))
            out.append(f'<span lang="{lang}">{run}</span>' if lang and lang != language else run)
            last = isolated.end()
        return "".join(out) + tagged(value[last:])

    return _TEXT_NODE.sub(node, html)


# A span of `_tag_languages` holding or held by just a span with a direction: one span, both attributes.
_NESTED_SPANS = re.compile(
    r'<span lang="(?P<lang>[a-z]{2})"><span dir="(?P<dir>auto|ltr)">(?P<text>[^<>]*)</span></span>'
    r'|<span dir="(?P<dir2>ltr|rtl)"><span lang="(?P<lang2>[a-z]{2})">(?P<text2>[^<>]*)</span></span>'
)


def _merge_spans(found: re.Match[str]) -> str:
    direction, lang = found["dir"] or found["dir2"], found["lang"] or found["lang2"]
    text = found["text"] if found["text"] is not None else found["text2"]
    return f'<span dir="{direction}" lang="{lang}">{text}</span>'


@cache
def _markdown_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    parser.enable("table").enable("strikethrough")
    parser.use(anchors_plugin, min_level=2, max_level=2, slug_func=slugify, permalink=False)
    return parser


@cache
def email_styles(name: str = "email.css") -> dict[str, str]:
    """tag -> inline style, read from templates/email.css (simple `tag { decls }` rules);
    `email-dark.css` gives the colours for dark mode."""
    css = resources.files("dltheory_digest").joinpath(f"templates/{name}").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    styles: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = "; ".join(d.strip() for d in body.split(";") if d.strip())
        for selector in selectors.split(","):
            styles[selector.strip()] = declarations
    return styles


def sanitize_html(html: str) -> str:
    """Only structural tags and http(s)/mailto links survive; no script, handler, style or image."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _first_strong_direction(fragment: str) -> str | None:
    """ "ltr" or "rtl" after the first strong character of an HTML fragment's text (as dir="auto"
    decides, skipping isolated runs such as the edition's "\u20662026-W47\u2069")."""
    depth = 0
    for ch in html_lib.unescape(_TAG.sub("", fragment)):
        if ch in _ISOLATE_OPEN:
            depth += 1
        elif ch in _ISOLATE_CLOSE:
            depth = max(0, depth - 1)
        elif not depth:
            kind = unicodedata.bidirectional(ch)
            if kind == "L":
                return "ltr"
            if kind in ("R", "AL"):
                return "rtl"
    return None


def _isolate_lines(html: str, direction: str) -> str:
    """Each line of a block that runs the other way gets its own direction, in a span.

    The blocks take the edition's direction: with dir="auto" a paper's block went right to left
    when its first line was Arabic, English summary included (its period at the left edge), and
    the contents alternated left and right bullets. A `<span dir>` isolates the line, so the
    English line reads left to right inside the Arabic block, aligned with the rest."""

    def fix(block: re.Match[str]) -> str:
        tag, attrs, content = block.groups()
        lines = []
        for part in _LINE_BREAK.split(content):
            line_direction = None if _LINE_BREAK.fullmatch(part) else _first_strong_direction(part)
            if line_direction and line_direction != direction:
                part = f'<span dir="{line_direction}">{part}</span>'
            lines.append(part)
        return f"<{tag}{attrs}>{''.join(lines)}</{tag}>"

    return _LEAF_BLOCK.sub(fix, html)


# A paper's "PDF" link, as the renderer writes it (`paper_ids`), after nh3.
_PDF_LINK = re.compile(r'<a href="https://arxiv\.org/pdf/([\w.\-/]+)"([^<>]*)>PDF</a>')


def _name_pdf_links(html: str) -> str:
    """Each "PDF" link named after its paper (aria-label; title for a pointer and for clients
    that drop ARIA): a screen reader's list of links showed one "PDF" per paper, none saying
    which. The visible text stays short."""

    def named(link: re.Match[str]) -> str:
        arxiv_id, attributes = link.groups()
        name = f"PDF arXiv:{arxiv_id}"
        return f'<a href="https://arxiv.org/pdf/{arxiv_id}"{attributes} title="{name}" aria-label="{name}">PDF</a>'

    return _PDF_LINK.sub(named, html)


def _inline_styles(html: str, direction: str = "ltr") -> str:
    styles = email_styles()
    tags = sorted((t for t in styles if re.fullmatch(r"[a-z][a-z0-9]*", t)), key=len, reverse=True)
    if not tags:
        return html

    # minified: a big week repeats these on thousands of tags
    inline = {t: html_lib.escape(re.sub(r"\s*([:;,])\s*", r"\1", styles[t]), quote=True) for t in tags}

    def add(match: re.Match[str]) -> str:
        tag = match.group(1)
        extra = f' dir="{direction}"' if tag in _BLOCK_TAGS else ""
        return f'<{tag} style="{inline[tag]}"{extra}'

    # After nh3 every "<" left in the text is a real tag (text "<" is "&lt;"), and no tag has a style yet.
    return re.sub(rf"<({'|'.join(tags)})(?=[\s>])", add, html)


def render_html(markdown: str, *, language: str = "en", title: str = "") -> str:
    """The email's HTML part: Markdown -> HTML (markdown-it-py) -> nh3 -> inline CSS, in a full document."""
    direction = "rtl" if language == "ar" else "ltr"
    body = _isolate_lines(_name_pdf_links(sanitize_html(_markdown_parser().render(markdown))), direction)
    body = _tag_languages(body, language)
    body = _ISOLATE_RUN.sub(lambda run: f'<span dir="{_ISOLATE_DIRECTION[run[1]]}">{run[2]}</span>', body)
    body = _NESTED_SPANS.sub(_merge_spans, body)
    body = _inline_styles(body, direction)
    template = environment().get_template("email.html.j2")
    return template.render(
        body=body,
        language=language,
        direction=direction,
        title=title,
        styles=email_styles(),
        dark_styles={
            selector: "; ".join(f"{d} !important" for d in declarations.split("; "))
            for selector, declarations in email_styles("email-dark.css").items()
        },
    )


# Markdown our template writes that means nothing as plain text: the <details> toggle (the line
# before it says what the list is) and links to a heading of the same document.
_DETAILS_LINE = re.compile(r"^\s*</?details>\s*$")
_SUMMARY_LINE = re.compile(r"^\s*<summary>(.*)</summary>\s*$")
_RAW_TAG = re.compile(r"(?<!\\)</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?>")
_IN_PAGE_LINK = re.compile(r"(?<!\\)\[((?:\\.|[^\]\\])*)\]\(#[^()\s]*\)")
# `\*`, `\[`, `\<`: escapes that keep scraped text literal in Markdown; as text they are noise
_ESCAPED_PUNCTUATION = re.compile(r"\\([!-/:-@\[-`{-~])")


def render_plain_text(markdown: str, *, language: str | None = None) -> str:
    """The email's text/plain part: the digest's Markdown (it reads well as text) without HTML
    tags and without links to the document's own headings (`[Name (4)](#name-4)` -> `Name (4)`).
    A `<summary>` is dropped after the bold line that names the list, else kept as a bold line.
    Scraped text reads as written ("n > d", "[12]", not "n \\> d"): a text part is shown, never
    parsed. Code spans are kept as written: a formula may hold "<". Direction isolates become
    the older marks (`bidi_marks`): text-only clients draw isolates as boxes. With the
    edition's `language`, each line reads in its direction (right to left for "ar", as the
    HTML part); without, in the direction of its first letter."""
    toggles = {labels_for(edition)["below_toggle"] for edition in ("en", language or "en")}
    lines: list[str] = []
    for line in markdown.split("\n"):
        if _DETAILS_LINE.match(line):
            continue
        summary = _SUMMARY_LINE.match(line)
        if summary:
            said = next((kept for kept in reversed(lines) if kept.strip()), "")
            if said.startswith("**") or summary.group(1) in toggles:
                # the bold line or the intro before <details> already says what the list is;
                # a toggle ("Show the list") means nothing where the list is always shown
                continue
            line = f"**{summary.group(1)}**"  # a digest rendered before that line existed
        pieces, last = [], 0
        for code in CODE_SPAN.finditer(line):
            pieces.append(_plain_prose(line[last : code.start()]))
            pieces.append(code.group(0))
            last = code.end()
        pieces.append(_plain_prose(line[last:]))
        lines.append("".join(pieces))
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return bidi_marks(text.rstrip("\n") + "\n", rtl=None if language is None else language == "ar")


def _plain_prose(text: str) -> str:
    # tags are dropped before the escapes go, so an escaped "\<script\>" stays as text
    return _ESCAPED_PUNCTUATION.sub(r"\1", _RAW_TAG.sub("", _IN_PAGE_LINK.sub(r"\1", text)))
