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
from dltheory_digest.sources.base import SourceKind, read_entries
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


def _entries(page: RawPage, blocks: list[Block], published_text: str | None) -> tuple[list[Item], list[str]]:
    """Cut the thread's lines at "【N】" and read each entry's labelled fields (an entry that
    cannot be read is left out with a warning)."""
    groups: list[list[Block]] = []
    for block in blocks:
        if _ENTRY.match(block.text):
            groups.append([block])
        elif groups:
            groups[-1].append(block)
    found, warnings = read_entries(
        groups,
        lambda group: _entry(page, group, published_text),
        source_id=page.source_id,
        name=lambda group: f"entry {group[0].text}",
        url=page.url,
    )
    return [item for item in found if item is not None], warnings


def _entry(page: RawPage, group: list[Block], published_text: str | None) -> Item | None:
    """One "【N】" entry -> a paper, or None when it has no title."""
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
        return None  # an entry with only a Chinese title keeps it as its title
    authors = split_names(fields.get("authors"))
    abstract = fields.get("abstract", "")
    return Item(
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
        published=parse_date(published_text, BEIJING),
        extra=(("entry", head.group(1)),),
    )


def _thread_date(text: str) -> str | None:
    match = _THREAD_DATE.search(text)
    return "-".join(f"{int(g):02d}" for g in match.groups()) if match else None


def _first_post_titles(threads: list[dict[str, Any]]) -> dict[str, str]:
    """post id -> title of the thread it opens ("机器学习2021_6_21" carries the date)."""
    titles = {}
    for thread in threads:
        first_post = _object(_object(thread.get("relationships")).get("firstPost"))
        post_id = _object(first_post.get("data")).get("id")
        if post_id is not None:
            titles[str(post_id)] = str(_object(thread.get("attributes")).get("title", ""))
    return titles


def _object(value: object) -> dict[str, Any]:
    """A JSON:API member that should be an object; anything else (null, a list) is an empty one."""
    return value if isinstance(value, dict) else {}


def _parse_api(page: RawPage, data: dict[str, Any]) -> ParseResult:
    listed = data.get("data")
    threads = [entry for entry in (listed if isinstance(listed, list) else []) if isinstance(entry, dict)]
    next_urls = [THREAD_URL.format(id=entry["id"]) for entry in threads if entry.get("id")]
    links = data.get("links") or {}
    if isinstance(links, dict) and links.get("next"):
        next_urls.append(str(links["next"]))
    titles = _first_post_titles(threads)
    included = data.get("included")
    posts = [
        post
        for post in (included if isinstance(included, list) else [])
        if isinstance(post, dict) and post.get("type") == "posts"
    ]

    def post_entries(post: dict[str, Any]) -> tuple[list[Item], list[str]]:
        attributes = _object(post.get("attributes"))
        html = str(attributes.get("contentHtml") or attributes.get("content") or "")
        if "【" not in html:
            return [], []
        date = _thread_date(titles.get(str(post.get("id")), ""))
        return _entries(page, html_blocks(soup_of(html)), date)

    read, warnings = read_entries(
        posts,
        post_entries,
        source_id=page.source_id,
        name=lambda post: f"post {post.get('id')}",
        url=page.url,
    )
    items = [item for post_items, _ in read for item in post_items]
    warnings += [warning for _, post_warnings in read for warning in post_warnings]
    count = _object(data.get("meta")).get("threadCount")
    total = count if isinstance(count, int) and not isinstance(count, bool) else None
    if threads and not items:
        # a listing whose posts are not embedded is a page of links to follow, not a broken layout
        return ParseResult(next_urls=tuple(next_urls), total_results=total, warnings=tuple(warnings))
    return finish(page, items, warnings, next_urls=tuple(next_urls), total_results=total)


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
    items, warnings = _entries(page, html_blocks(root, page.url), _thread_date(title))
    return finish(page, items, warnings)


KIND = SourceKind(
    name="arxivdaily",
    parse=parse,
    description="arxivdaily.com daily threads (English + Chinese titles, authors, Chinese abstracts)",
    independent_pages=True,  # one thread per day
)
