"""The `arxivdaily` kind: arxivdaily.com (arXiv每日学术速递, a Discuz!Q forum).

- Thread pages (`/thread/<n>`): numbered entries
  "【N】 English title<br><strong>标题</strong>：中文标题<br><small><strong>作者</strong>：…
  <strong>备注</strong>：… <strong>链接</strong>：<a href=…arxiv…>…</a> … <strong>摘要</strong>：…";
  one PAPER per entry: English `title`, Chinese `original_title`, authors, abstract, arXiv id.
- The JSON:API listing (`/api/threads?...`): thread URLs (and the next listing page) in
  `next_urls`; entries of thread posts included in the response are parsed directly.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from dltheory_digest.ids import abs_url, find_arxiv_ids, parse_arxiv_id
from dltheory_digest.models import Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind
from dltheory_digest.sources.blocks import (
    BEIJING,
    Block,
    clean,
    finish,
    html_blocks,
    parse_date,
    script_lang,
    soup_of,
    split_names,
)
from dltheory_digest.sources.decode import page_text

THREAD_URL = "https://www.arxivdaily.com/thread/{id}"
_ENTRY = re.compile(r"^\s*【\s*(\d+)\s*】\s*(.*)$")
_LABEL = re.compile(r"(标题|作者|备注|链接|摘要|Title|Authors|Comments|Abstract)\s*[：:]\s*")
_LABELS = {
    "标题": "zh_title",
    "title": "zh_title",
    "作者": "authors",
    "authors": "authors",
    "备注": "comment",
    "comments": "comment",
    "链接": "link",
    "摘要": "abstract",
    "abstract": "abstract",
}
_THREAD_DATE = re.compile(r"(\d{4})[._\-/年](\d{1,2})[._\-/月](\d{1,2})")


def _fields(text: str) -> dict[str, str]:
    """ "标题：x 作者：y 摘要：z" -> {"zh_title": x, "authors": y, "abstract": z} (first value wins)."""
    fields: dict[str, str] = {}
    matches = list(_LABEL.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        key = _LABELS[match.group(1).lower()]
        fields.setdefault(key, clean(text[match.end() : end]))
    return fields


def _entries(page: RawPage, blocks: list[Block], published_text: str | None) -> list[Item]:
    """Cut the thread's lines at "【N】" and read each entry's labelled fields."""
    groups: list[list[Block]] = []
    for block in blocks:
        if _ENTRY.match(block.text):
            groups.append([block])
        elif groups:
            groups[-1].append(block)
    items = []
    for group in groups:
        head = _ENTRY.match(group[0].text)
        assert head is not None
        english_title = clean(_LABEL.split(head.group(2), maxsplit=1)[0])
        body = " ".join([head.group(2)[len(english_title) :], *(block.text for block in group[1:])])
        fields = _fields(body)
        parsed = None
        for block in group:
            for link in block.links:
                parsed = parsed or (parse_arxiv_id(link.href) if "arxiv" in link.href.lower() else None)
        if parsed is None:
            # the entry's own id is in its 链接 field (or its title line, before any field); an
            # id in the comment or abstract ("extends arXiv:1806.07572") is another paper, also
            # when the whole entry sits on one line
            found = find_arxiv_ids(fields.get("link", "")) or find_arxiv_ids(english_title)
            parsed = found[0] if found else None
        if not english_title and not fields.get("zh_title"):
            continue  # an entry with only a Chinese title keeps it as its title
        authors = split_names(fields.get("authors"))
        abstract = fields.get("abstract", "")
        items.append(
            Item(
                source_id=page.source_id,
                kind=ItemKind.PAPER,
                title=english_title or fields["zh_title"],
                original_title=(fields.get("zh_title") or None) if english_title else None,
                url=abs_url(*parsed) if parsed else None,
                arxiv_id=parsed[0] if parsed else None,
                version=parsed[1] if parsed else None,
                authors=authors,
                lang=script_lang(abstract or fields.get("zh_title", "")),
                text=abstract,
                comment=fields.get("comment") or None,
                published=parse_date(published_text, BEIJING) if published_text else None,
                extra=(("entry", head.group(1)),),
            )
        )
    return items


def _thread_date(text: str) -> str | None:
    match = _THREAD_DATE.search(text)
    return "-".join(f"{int(g):02d}" for g in match.groups()) if match else None


def _first_post_titles(threads: list[dict[str, Any]]) -> dict[str, str]:
    """post id -> title of the thread it opens ("机器学习2021_6_21" carries the date)."""
    titles = {}
    for thread in threads:
        first_post = (thread.get("relationships") or {}).get("firstPost") or {}
        post_id = (first_post.get("data") or {}).get("id")
        if post_id is not None:
            titles[str(post_id)] = str((thread.get("attributes") or {}).get("title", ""))
    return titles


def _parse_api(page: RawPage, data: dict[str, Any]) -> ParseResult:
    threads = [entry for entry in data.get("data") or [] if isinstance(entry, dict)]
    next_urls = [THREAD_URL.format(id=entry["id"]) for entry in threads if entry.get("id")]
    links = data.get("links") or {}
    if isinstance(links, dict) and links.get("next"):
        next_urls.append(str(links["next"]))
    titles = _first_post_titles(threads)
    items: list[Item] = []
    for included in data.get("included") or []:
        if not isinstance(included, dict) or included.get("type") != "posts":
            continue
        attributes = included.get("attributes") or {}
        html = str(attributes.get("contentHtml") or attributes.get("content") or "")
        if "【" in html:
            date = _thread_date(titles.get(str(included.get("id")), ""))
            items.extend(_entries(page, html_blocks(soup_of(html)), date))
    meta = data.get("meta") or {}
    total = meta.get("threadCount") if isinstance(meta, dict) else None
    if threads and not items:
        # a listing whose posts are not embedded is a page of links to follow, not a broken layout
        return ParseResult(next_urls=tuple(next_urls), total_results=total)
    return finish(page, items, next_urls=tuple(next_urls), total_results=total)


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    text = page_text(page)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return _parse_api(page, json.loads(stripped))
        except json.JSONDecodeError:
            pass
    soup = soup_of(text)
    title = soup.title.get_text(" ") if soup.title else ""
    root = soup.select_one("article") or soup.body or soup
    items = _entries(page, html_blocks(root, page.url), _thread_date(title))
    return finish(page, items)


KIND = SourceKind(
    name="arxivdaily",
    parse=parse,
    description="arxivdaily.com daily threads (English + Chinese titles, authors, Chinese abstracts)",
    independent_pages=True,  # one thread per day
)
