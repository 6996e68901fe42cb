"""The `shamra` kind: Shamra Academia (shamra-academia.com) paper pages (seed 004 shape).

An Arabic interface around (mostly arXiv) papers:

    <English title>
    <views> <downloads> <rating> ( <votes> )
    نشر من قبل <uploader>                  "published by": who put it on Shamra (`uploaded_by`)
    تاريخ النشر <year>                     "publication date"
    والبحث باللغة English                  "and the paper is in English"
    [الملخص بالإنكليزية | لا يوجد ملخص باللغة العربية] <abstract>
    قيم البحث                              "rate the paper"
    اقرأ أيضاً                              "read also": related papers, each
        <count> - <first author> <year>, <title (a link on the HTML page)>, <abstract>

No arXiv id is shown: the main item is a PAPER without id (resolved later by title),
related papers are MENTION items. A `/show/<hex>` page is one paper plus its related list, so
as a weekly source it mostly brings that list. Works on the HTML page and on its text rendering.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Tag
from pydantic import BaseModel

from dltheory_digest.errors import ParseError
from dltheory_digest.models import Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind, read_entries
from dltheory_digest.sources.blocks import (
    Block,
    canonical_url,
    clean,
    finish,
    has_arabic,
    html_blocks,
    latin_words,
    looks_like_html,
    plain_blocks,
    script_lang,
    soup_of,
)
from dltheory_digest.sources.decode import page_text

SITE_URL = "https://shamra-academia.com/"
PUBLISHED_BY = "نشر من قبل"
PUBLICATION_DATE = "تاريخ النشر"
PAPER_LANGUAGE = "والبحث باللغة"
ENGLISH_ABSTRACT = "الملخص بالإنكليزية"
ARABIC_ABSTRACT = "الملخص بالعربية"
NO_ARABIC_ABSTRACT = "لا يوجد ملخص باللغة العربية"
RATE_PAPER = "قيم البحث"
READ_ALSO = "اقرأ أيضاً"
# Where the related list ends: suggested questions, comments, footer.
_RELATED_END = ("الأسئلة المقترحة", "التعليقات", "سجل دخول", "هل ترغب")
_STATS = re.compile(r"^\d+\s+\d+\s+\d+(?:\.\d+)?\s*\(\s*\d+\s*\)$")
_RELATED_HEAD = re.compile(r"^(?P<count>\d+)\s*-\s*(?P<author>.+?)\s+(?P<year>(?:19|20)\d{2})$")
_ALEF_VARIANTS = str.maketrans({"ﻻ": "لا", "أ": "ا", "إ": "ا", "آ": "ا"})


def _norm(text: str) -> str:
    """Arabic compared loosely: presentation forms and hamza variants folded."""
    return clean(text).translate(_ALEF_VARIANTS)


def _starts(text: str, label: str) -> bool:
    return _norm(text).startswith(_norm(label))


def _after(text: str, label: str) -> str:
    position = _norm(text).find(_norm(label))
    return clean(text[position + len(label) :]) if position >= 0 else ""


@dataclass(slots=True)
class _Related:
    title: str = ""
    url: str | None = None
    count: str | None = None
    author: str | None = None
    year: str | None = None
    abstract: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.title or self.abstract)


def _page_title(soup: BeautifulSoup | None, blocks: list[Block]) -> str:
    if soup is not None:
        for selector in ("h1", "meta[property='og:title']", "title"):
            node = soup.select_one(selector)
            if isinstance(node, Tag):
                value = clean(str(node.get("content")) if node.name == "meta" else node.get_text(" "))
                value = re.split(r"\s[-|]\s(?:شمرا|Shamra)", value)[0]
                if value and not has_arabic(value):
                    return value
    for block in blocks:  # text rendering: the first line in Latin script
        if not has_arabic(block.text) and latin_words(block.text) >= 2:
            return block.text
    return ""


def _related(blocks: list[Block]) -> list[_Related]:
    """Related papers; the HTML page gives title, header, abstract, the text rendering header, abstract."""
    entries: list[_Related] = []
    current = _Related()

    def push() -> _Related:
        if not current.empty:
            entries.append(current)
        return _Related()

    for block in blocks:
        text = block.text
        if any(_starts(text, end) for end in _RELATED_END):
            break
        head = _RELATED_HEAD.match(text)
        show_link = next((link for link in block.links if "/show/" in link.href), None)
        if head:
            if current.count is not None or current.abstract:
                current = push()
            current.count, current.author, current.year = (
                head.group("count"),
                clean(head.group("author")),
                head.group("year"),
            )
        elif show_link is not None and not has_arabic(show_link.text) and latin_words(show_link.text) >= 2:
            if current.title or current.abstract:
                current = push()
            current.title, current.url = clean(show_link.text), show_link.href
            rest = clean(text.replace(show_link.text, "", 1))
            if latin_words(rest) >= 8:
                current.abstract.append(rest)
        elif has_arabic(text) and current.title and not current.abstract and len(text.split()) >= 5:
            current.abstract.append(text)  # Shamra's own Arabic summary of the related paper
        elif latin_words(text) >= 8 and not has_arabic(text):
            if current.abstract:  # a second paragraph without a header of its own: the next related paper
                current = push()
            current.abstract.append(text)
    push()
    return entries


# Arabic-Indic and Persian digits ("٢٠١٥", "۹۶") as ASCII, one character for one, so link spans hold
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _ascii_digits(block: Block) -> Block:
    links = tuple(dataclasses.replace(link, text=link.text.translate(_DIGITS)) for link in block.links)
    return Block(block.text.translate(_DIGITS), links, block.tag)


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    text = page_text(page)
    soup = soup_of(text) if looks_like_html(text) else None  # one parse for address, lines and title
    if soup is not None:
        page = dataclasses.replace(page, url=canonical_url(soup, page.url))
    # a page saved without its address still links its related papers on Shamra's own site
    base_url = page.url or SITE_URL
    lines = html_blocks(soup, base_url) if soup is not None else plain_blocks(text)
    blocks = [_ascii_digits(block) for block in lines]
    title = _page_title(soup, blocks)
    publisher = year = paper_language = None
    abstracts: dict[str, list[str]] = {"arabic": [], "english": []}
    abstract_label: str | None = None
    current_part = "english"
    related_at: int | None = None
    collecting = False
    for index, block in enumerate(blocks):
        line = block.text
        if _starts(line, READ_ALSO):
            related_at = index + 1
            break
        if _starts(line, PUBLISHED_BY):
            publisher = _after(line, PUBLISHED_BY) or None
        elif _starts(line, PUBLICATION_DATE):
            year = _after(line, PUBLICATION_DATE) or None
        elif _starts(line, PAPER_LANGUAGE):
            paper_language = _after(line, PAPER_LANGUAGE) or None
            collecting = True
        elif _starts(line, NO_ARABIC_ABSTRACT):
            abstract_label, current_part, collecting = "no_arabic_abstract", "english", True
            if rest := _after(line, NO_ARABIC_ABSTRACT):
                abstracts[current_part].append(rest)
        elif _starts(line, ENGLISH_ABSTRACT):
            abstract_label, current_part, collecting = abstract_label or "english", "english", True
            if rest := _after(line, ENGLISH_ABSTRACT):
                abstracts[current_part].append(rest)
        elif _starts(line, ARABIC_ABSTRACT):
            abstract_label, current_part, collecting = "arabic", "arabic", True
            if rest := _after(line, ARABIC_ABSTRACT):
                abstracts[current_part].append(rest)
        elif _starts(line, RATE_PAPER):
            collecting = False
        elif collecting and line != title and len(line.split()) >= 8 and not line.startswith("اسأل"):
            # an unlabelled paragraph: its script says which abstract it is
            abstracts["arabic" if has_arabic(line) else current_part].append(line)
    arabic, english = "\n".join(abstracts["arabic"]), "\n".join(abstracts["english"])
    abstract = arabic or english
    items: list[Item] = []
    if title:
        extra = [
            (key, value)
            for key, value in (
                ("year", year),
                ("uploaded_by", publisher),
                ("paper_language", paper_language),
                ("abstract_label", abstract_label),
                ("abstract_en", english if arabic else None),
            )
            if value
        ]
        items.append(
            Item(
                source_id=page.source_id,
                kind=ItemKind.PAPER,
                title=title,
                url=page.url or None,
                # "نشر من قبل" names who put the paper on Shamra, not who wrote it
                authors=(),
                lang="ar" if has_arabic(abstract) else script_lang(abstract or title),
                text=abstract,
                extra=tuple(extra),
            )
        )
    warnings: list[str] = []
    if related_at is not None:
        try:
            mentions, warnings = read_entries(
                enumerate(_related(blocks[related_at:]), start=1),
                lambda numbered: _mention(page, *numbered),
                source_id=page.source_id,
                name=lambda numbered: f"related paper {numbered[0]} {numbered[1].title}",
                url=page.url,
            )
        except ParseError as exc:
            if not items:
                raise
            mentions, warnings = [], [f"related papers skipped: {exc.detail}"]  # the paper itself stays
        items += mentions
    return finish(page, items, warnings)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
LABEL_WORDS = 16


def abstract_label(abstract: str) -> str:
    """What a related paper shown without its title is called: its abstract's first sentence,
    cut after `LABEL_WORDS` words. Made from the text, so it names the same paper however the
    list is ordered."""
    words = _SENTENCE_END.split(clean(abstract), maxsplit=1)[0].split()
    return " ".join(words[:LABEL_WORDS]) + ("…" if len(words) > LABEL_WORDS else "")


def _mention(page: RawPage, number: int, entry: _Related) -> Item:
    """A related paper of the "read also" list -> a MENTION item. One the page shows without
    its title (a text rendering) is labelled by its abstract (`abstract_label`, evidence
    "abstract_only"): resolution does not search arXiv for that label."""
    extra = [("related_rank", str(number))]
    extra += [(k, v) for k, v in (("views", entry.count), ("year", entry.year)) if v]
    body = "\n".join(entry.abstract)
    english = "\n".join(part for part in entry.abstract if not has_arabic(part))
    return Item(
        source_id=page.source_id,
        kind=ItemKind.MENTION,
        title=entry.title or abstract_label(english or body),
        url=entry.url or page.url or None,
        authors=(entry.author,) if entry.author else (),
        lang=script_lang(body or entry.title),
        text=body,
        extra=(("evidence", "title_only" if entry.title else "abstract_only"), *extra),
    )


KIND = SourceKind(
    name="shamra",
    parse=parse,
    description="Shamra Academia (Arabic) paper pages: title, publisher, year, abstract and related papers",
)
