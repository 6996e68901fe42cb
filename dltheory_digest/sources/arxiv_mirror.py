"""The `arxiv_mirror` kind: pages that show one arXiv paper and a "Related papers" list
(seed 003 shape), as HTML or as their plain-text rendering.

    <title line>
    - URL: http://arxiv.org/abs/2408.13767v2        -> arxiv_id + version
    - Date / Title / Authors / Abstract summary / Score / License / Abstract
    Related papers
    - <title> [<score>]
      <summary lines>
      arXiv Detail & Related papers (<ISO date>) - <next title> [<score>] ...

The bracketed numbers after related titles are similarity scores, not arXiv ids; a
related paper gets an id only from a link that carries one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel

from dltheory_digest.ids import abs_url, parse_arxiv_id
from dltheory_digest.models import Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind
from dltheory_digest.sources.blocks import Block, any_blocks, clean, finish, parse_date, split_names
from dltheory_digest.sources.decode import page_text

_FIELD = re.compile(
    r"^(?:[-*•]\s*)?(?P<key>URL|Date|Title|Authors?|Abstract summary|Summary|Score|License|Abstract|Comments?)"
    r"\s*:\s*(?P<value>.*)$",
    re.I,
)
_RELATED_HEADING = re.compile(r"^(?:#+\s*)?Related papers\s*:?$", re.I)
_DETAIL = re.compile(
    r"arXiv Detail\s*&(?:amp;)?\s*Related papers\s*(?:\((?P<date>[^)]*)\))?\s*(?:-\s*)?", re.I
)
_RELATED_TITLE = re.compile(r"^(?:[-*•]\s*)?(?P<title>.+?)\s*\[(?P<score>-?\d+(?:\.\d+)?)\]\s*$")
_FOOTER = re.compile(r"^(?:This list is automatically generated|This site does not guarantee)", re.I)


@dataclass(frozen=True, slots=True)
class _Stream:
    """The page's lines joined by newlines, with every link placed at its offset."""

    text: str
    links: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, blocks: list[Block]) -> _Stream:
        parts: list[str] = []
        links: list[tuple[int, str]] = []
        offset = 0
        for block in blocks:
            parts.append(block.text)
            links.extend((offset + link.start, link.href) for link in block.links)
            offset += len(block.text) + 1
        return cls("\n".join(parts), tuple(links))

    def hrefs(self, start: int, end: int) -> list[str]:
        return [href for position, href in self.links if start <= position < end]


def _arxiv_from_hrefs(hrefs: list[str]) -> tuple[str, int | None] | None:
    for href in hrefs:
        if "arxiv" in href.lower():
            parsed = parse_arxiv_id(href)
            if parsed:
                return parsed
    return None


def _main_item(page: RawPage, lines: list[str], stream: _Stream, related_at: int) -> Item | None:
    fields: dict[str, str] = {}
    last_key: str | None = None
    heading = ""
    for line in lines:
        match = _FIELD.match(line)
        if match:
            last_key = (
                match.group("key").lower().rstrip("s")
                if match.group("key").lower()
                in {
                    "authors",
                    "comments",
                }
                else match.group("key").lower()
            )
            fields[last_key] = clean(match.group("value"))
        elif last_key is not None:
            fields[last_key] = clean(fields[last_key] + " " + line)
        elif not heading:
            heading = clean(line.lstrip("#-* "))
    parsed = parse_arxiv_id(fields.get("url", "")) or _arxiv_from_hrefs(stream.hrefs(0, related_at))
    title = fields.get("title") or heading
    if not title and parsed is None:
        return None
    extra = [(key, fields[key]) for key in ("score", "license", "abstract summary") if fields.get(key)]
    authors = split_names(fields.get("author"))
    date = parse_date(fields.get("date"))
    return Item(
        source_id=page.source_id,
        kind=ItemKind.PAPER,
        title=title,
        url=fields.get("url") or page.url or None,
        arxiv_id=parsed[0] if parsed else None,
        version=parsed[1] if parsed else None,
        authors=authors,
        lang="en",
        text=fields.get("abstract") or fields.get("abstract summary") or fields.get("summary", ""),
        # the date is the shown version's: the first version's only when that is v1 (seed 003
        # shows v2, dated 6 Nov 2024; its v1 is of August 2024 and the page does not say when)
        published=date if parsed and parsed[1] == 1 else None,
        updated=date,
        comment=fields.get("comment"),
        extra=tuple(extra),
    )


def _related_items(page: RawPage, stream: _Stream, start: int) -> list[Item]:
    items: list[Item] = []
    chunk_start = start
    for match in [*_DETAIL.finditer(stream.text, start), None]:
        chunk_end = match.start() if match else len(stream.text)
        chunk = stream.text[chunk_start:chunk_end]
        lines = [clean(line) for line in chunk.split("\n") if clean(line) and not _FOOTER.match(clean(line))]
        title_match = _RELATED_TITLE.match(lines[0]) if lines else None
        if title_match:
            span_end = match.end() if match else chunk_end
            parsed = _arxiv_from_hrefs(stream.hrefs(chunk_start, span_end))
            extra = [("score", title_match.group("score"))]
            items.append(
                Item(
                    source_id=page.source_id,
                    kind=ItemKind.MENTION,
                    title=clean(title_match.group("title")),
                    url=abs_url(*parsed) if parsed else next(iter(stream.hrefs(chunk_start, span_end)), None),
                    arxiv_id=parsed[0] if parsed else None,
                    version=parsed[1] if parsed else None,
                    lang="en",
                    text=" ".join(lines[1:]),
                    published=parse_date(match.group("date")) if match and match.group("date") else None,
                    extra=(("evidence", "arxiv_link" if parsed else "title_only"), *extra),
                )
            )
        if match is None:
            break
        chunk_start = match.end()
    return items


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    text = page_text(page)
    blocks = any_blocks(text, page.url)
    stream = _Stream.of(blocks)
    lines = stream.text.split("\n")
    related_line = next((i for i, line in enumerate(lines) if _RELATED_HEADING.match(line.strip())), None)
    related_at = (
        sum(len(line) + 1 for line in lines[: related_line + 1])
        if related_line is not None
        else len(stream.text)
    )
    head_lines = lines[:related_line] if related_line is not None else lines
    items: list[Item] = []
    main = _main_item(page, head_lines, stream, related_at)
    related = _related_items(page, stream, related_at) if related_line is not None else []
    warnings = []
    if main is not None and (main.arxiv_id or related):
        items.append(main)
    elif main is None and related:
        warnings.append("no main paper found (no URL/Title fields)")
    items.extend(related)
    return finish(page, items, warnings)


KIND = SourceKind(
    name="arxiv_mirror",
    parse=parse,
    description="arXiv mirror pages: one paper (URL/Date/Title/Authors/Score/License) plus its related papers",
)
