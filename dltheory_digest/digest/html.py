"""The email's HTML part: Markdown -> HTML (markdown-it-py) -> nh3 -> inline CSS."""

from __future__ import annotations

import html as html_lib
import re
from functools import cache
from importlib import resources

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin

from dltheory_digest.digest.render import environment
from dltheory_digest.digest.text import slugify

_ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2", "h3", "h4",
    "hr", "li", "ol", "p", "pre", "span", "strong", "summary", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "h2": {"id"},
    "h3": {"id"},
    "td": {"colspan"},
    "th": {"colspan"},
}
_BLOCK_TAGS = ("h1", "h2", "h3", "h4", "p", "li", "td", "th", "summary", "blockquote")


@cache
def _markdown_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    parser.enable("table").enable("strikethrough")
    parser.use(anchors_plugin, min_level=2, max_level=2, slug_func=slugify, permalink=False)
    return parser


@cache
def email_styles() -> dict[str, str]:
    """tag -> inline style, read from templates/email.css (simple `tag { decls }` rules)."""
    css = resources.files("dltheory_digest").joinpath("templates/email.css").read_text(encoding="utf-8")
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


def _inline_styles(html: str) -> str:
    styles = email_styles()
    tags = sorted((t for t in styles if re.fullmatch(r"[a-z][a-z0-9]*", t)), key=len, reverse=True)
    if not tags:
        return html

    # minified: a big week repeats these on thousands of tags
    inline = {t: html_lib.escape(re.sub(r"\s*([:;,])\s*", r"\1", styles[t]), quote=True) for t in tags}

    def add(match: re.Match[str]) -> str:
        tag = match.group(1)
        extra = ' dir="auto"' if tag in _BLOCK_TAGS else ""
        return f'<{tag} style="{inline[tag]}"{extra}'

    # After nh3 every "<" left in the text is a real tag (text "<" is "&lt;"), and no tag has a style yet.
    return re.sub(rf"<({'|'.join(tags)})(?=[\s>])", add, html)


def render_html(markdown: str, *, language: str = "en", title: str = "") -> str:
    """The email's HTML part: Markdown -> HTML (markdown-it-py) -> nh3 -> inline CSS, in a full document."""
    body = _inline_styles(sanitize_html(_markdown_parser().render(markdown)))
    template = environment().get_template("email.html.j2")
    return template.render(
        body=body,
        language=language,
        direction="rtl" if language == "ar" else "ltr",
        title=title,
        styles=email_styles(),
    )
