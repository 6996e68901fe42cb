"""The `zhihu` kind: Zhihu columns, articles and answers, current and legacy shapes.

- Column page (`zhihu.com/column/c_<id>`): one POST per article, from the embedded JSON
  (`<script id="js-initialData" type="text/json">`, `initialState.entities.articles`)
  or, when the saved page has the list only in the DOM, from `div.ArticleItem` cards.
- Article page (`zhuanlan.zhihu.com/p/<id>`): one POST whose body comes from the JSON
  (`content`) or `div.RichText`; papers listed in the body (reading lists that mix an
  English title with Chinese commentary) become MENTION items in `cited`.
- JSON APIs: v4 lists (`{"data": [...], "paging": {...}}`, next page in `next_urls`),
  single articles, and the legacy zhuanlan API (`/api/columns/<slug>/posts[/<id>]`).
- Legacy answer pages (2015 `div.zm-item-answer`): one POST per answer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from bs4 import BeautifulSoup, Tag
from pydantic import BaseModel

from dltheory_digest.errors import ParseError
from dltheory_digest.models import Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind
from dltheory_digest.sources.blocks import (
    BEIJING,
    clean,
    finish,
    html_blocks,
    looks_like_feed,
    looks_like_html,
    parse_date,
    plain_text,
    script_lang,
    soup_of,
    text_blocks,
)
from dltheory_digest.sources.decode import page_text
from dltheory_digest.sources.notes_page import collect_mentions

ARTICLE_URL = "https://zhuanlan.zhihu.com/p/{id}"
_ARTICLE_ID = re.compile(r"zhuanlan\.zhihu\.com/p/(\d+)|/p/(\d+)")


def _article_url(article_id: object) -> str:
    return ARTICLE_URL.format(id=article_id)


def _author_name(author: object) -> tuple[str, ...]:
    if isinstance(author, dict):
        name = author.get("name") or author.get("fullname")
        return (clean(str(name)),) if name else ()
    if isinstance(author, str) and author:
        return (clean(author),)
    return ()


def _post(
    page: RawPage,
    *,
    title: str,
    url: str,
    authors: tuple[str, ...],
    body_html: str | None = None,
    excerpt: str = "",
    published: dt.datetime | None = None,
    updated: dt.datetime | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> Item:
    """A POST item; with a body, its paper mentions go into `cited` and its links into `links`."""
    cited: tuple[Item, ...] = ()
    links: tuple[str, ...] = ()
    text = clean(excerpt)
    if body_html:
        blocks = html_blocks(soup_of(body_html), url)
        text = "\n".join(block.text for block in blocks)
        collector = collect_mentions(blocks, source_id=page.source_id, page_url=url, others=False)
        cited = collector.mentions
        seen: dict[str, None] = {}
        for block in blocks:
            for link in block.links:
                if not link.relative:
                    seen.setdefault(link.href, None)
        links = tuple(seen)
    return Item(
        source_id=page.source_id,
        kind=ItemKind.POST,
        title=plain_text(title),
        url=url or None,  # a saved page parsed without its address has none
        authors=authors,
        lang=script_lang(title + " " + text[:2000]),
        text=text,
        published=published,
        updated=updated,
        links=links,
        cited=cited,
        extra=extra,
    )


# ---------------------------------------------------------------------------------------
# JSON shapes


def _json_article(page: RawPage, article: dict[str, Any], *, with_body: bool = True) -> Item | None:
    title = article.get("title")
    if not title:
        return None
    article_id = article.get("id") or article.get("slug")
    url = article.get("url") or ""
    if article_id and (article.get("type") in (None, "article") or "zhuanlan" in str(url)):
        url = _article_url(article_id)
    elif url.startswith("/"):
        url = "https://www.zhihu.com" + url
    content = article.get("content") if with_body else None
    published = parse_date(
        article.get("created") or article.get("publishedTime") or article.get("created_time"), BEIJING
    )
    updated = parse_date(article.get("updated") or article.get("updated_time"), BEIJING)
    excerpt = article.get("excerpt") or article.get("summary") or ""
    if excerpt and "<" in excerpt:
        excerpt = " ".join(block.text for block in html_blocks(str(excerpt)))
    return _post(
        page,
        title=str(title),
        url=str(url),
        authors=_author_name(article.get("author")),
        body_html=str(content) if content else None,
        excerpt=str(excerpt),
        published=published,
        updated=updated,
    )


def _parse_json(page: RawPage, data: Any) -> ParseResult:
    warnings: list[str] = []
    items: list[Item] = []
    next_urls: tuple[str, ...] = ()
    if isinstance(data, list):  # legacy /api/columns/<slug>/posts
        items = [item for entry in data if isinstance(entry, dict) if (item := _legacy_post(page, entry))]
    elif isinstance(data, dict) and isinstance(data.get("data"), list):  # v4 lists
        for entry in data["data"]:
            target = entry.get("target", entry) if isinstance(entry, dict) else None
            if isinstance(target, dict) and (item := _json_article(page, target, with_body=True)):
                items.append(item)
        paging = data.get("paging") or {}
        if paging.get("next") and not paging.get("is_end", False):
            next_urls = (str(paging["next"]),)
    elif isinstance(data, dict) and "content" in data and "title" in data:
        item = (
            _legacy_post(page, data)
            if "publishedTime" in data or "slug" in data
            else _json_article(page, data)
        )
        if item:
            items.append(item)
    elif isinstance(data, dict) and "postsCount" in data and "slug" in data:
        warnings.append(
            f"legacy column metadata for {data.get('slug')!r} ({data.get('postsCount')} posts): no posts in this response"
        )
    return finish(page, items, warnings, next_urls=next_urls, cursor=_cursor(items))


def _legacy_post(page: RawPage, post: dict[str, Any]) -> Item | None:
    """The 2015 zhuanlan API post: {title, content, summary, publishedTime, url "/<column>/<id>", author}."""
    if not post.get("title"):
        return None
    post_id = post.get("slug") or str(post.get("url", "")).rstrip("/").rsplit("/", 1)[-1]
    column = post.get("column") or {}
    extra = (("column", str(column.get("name"))),) if isinstance(column, dict) and column.get("name") else ()
    return _post(
        page,
        title=str(post["title"]),
        url=_article_url(post_id),
        authors=_author_name(post.get("author")),
        body_html=str(post.get("content") or post.get("summary") or ""),
        published=parse_date(post.get("publishedTime"), BEIJING),
        extra=extra,
    )


# ---------------------------------------------------------------------------------------
# HTML shapes


def _initial_state(soup: BeautifulSoup) -> dict[str, Any]:
    script = soup.find("script", id="js-initialData")
    if not isinstance(script, Tag) or not script.string:
        return {}
    try:
        data = json.loads(script.string)
    except json.JSONDecodeError:
        return {}
    state = data.get("initialState", data) if isinstance(data, dict) else {}
    return state if isinstance(state, dict) else {}


def _from_state(page: RawPage, state: dict[str, Any], dom_body: str | None = None) -> list[Item]:
    """Posts from the embedded JSON; an article page whose JSON lacks the body (loaded later by
    the page's script) takes it from the rendered `div.RichText` when one is there."""
    entities = state.get("entities") or {}
    items: list[Item] = []
    articles = entities.get("articles") or {}
    articles = articles if isinstance(articles, dict) else {}
    for article in articles.values():
        if isinstance(article, dict) and not article.get("content") and dom_body and len(articles) == 1:
            article = {**article, "content": dom_body}
        if isinstance(article, dict) and (item := _json_article(page, article)):
            items.append(item)
    answers = entities.get("answers") or {}
    questions = entities.get("questions") or {}
    for answer in answers.values() if isinstance(answers, dict) else ():
        if not isinstance(answer, dict) or not answer.get("content"):
            continue
        question = answer.get("question") or {}
        question_id = question.get("id") if isinstance(question, dict) else None
        title = (question.get("title") if isinstance(question, dict) else None) or (
            questions.get(str(question_id), {}).get("title") if isinstance(questions, dict) else None
        )
        items.append(
            _post(
                page,
                title=str(title or ""),
                url=f"https://www.zhihu.com/question/{question_id}/answer/{answer.get('id')}",
                authors=_author_name(answer.get("author")),
                body_html=str(answer["content"]),
                published=parse_date(answer.get("createdTime") or answer.get("created_time"), BEIJING),
                updated=parse_date(answer.get("updatedTime") or answer.get("updated_time"), BEIJING),
            )
        )
    return items


def _meta(node: Tag, prop: str) -> str | None:
    found = node.find("meta", attrs={"itemprop": prop})
    return str(found.get("content")) if isinstance(found, Tag) and found.get("content") else None


def _article_cards(page: RawPage, soup: BeautifulSoup) -> list[Item]:
    """Column pages rendered in the browser: `div.ArticleItem` cards with data-zop JSON and microdata."""
    items = []
    for card in soup.select("div.ContentItem.ArticleItem, div.ArticleItem"):
        zop: dict[str, Any] = {}
        try:
            zop = json.loads(str(card.get("data-zop") or "{}"))
        except json.JSONDecodeError:
            zop = {}
        link = card.select_one("h2.ContentItem-title a, .ContentItem-title a")
        href = str(link.get("href")) if link and link.get("href") else _meta(card, "url") or ""
        match = _ARTICLE_ID.search(href)
        article_id = zop.get("itemId") or (match.group(1) or match.group(2) if match else None)
        title = zop.get("title") or (link.get_text(" ") if link else _meta(card, "headline"))
        if not article_id or not title:
            continue
        excerpt = card.select_one("span.RichText, div.RichText")
        author = zop.get("authorName") or _meta(card, "name")
        items.append(
            _post(
                page,
                title=str(title),
                url=_article_url(article_id),
                authors=_author_name(author),
                excerpt=" ".join(block.text for block in html_blocks(excerpt)) if excerpt else "",
                published=parse_date(_meta(card, "datePublished"), BEIJING),
                updated=parse_date(_meta(card, "dateModified"), BEIJING),
            )
        )
    return items


def _dom_body(soup: BeautifulSoup) -> Tag | None:
    return soup.select_one("div.Post-RichText, div.RichText.ztext")


def _article_dom(page: RawPage, soup: BeautifulSoup) -> list[Item]:
    """An article page without usable JSON: `h1.Post-Title` and `div.RichText`."""
    body = _dom_body(soup)
    if body is None:
        return []
    heading = soup.select_one("h1.Post-Title, h1")
    og_title = soup.find("meta", attrs={"property": "og:title"})
    title = (
        heading.get_text(" ")
        if heading
        else (str(og_title.get("content")) if isinstance(og_title, Tag) else "")
    )
    if not clean(title) and soup.title:  # the document title, without the site's " - 知乎"
        title = re.sub(r"\s*[-–|]\s*知乎\s*$", "", soup.title.get_text())
    match = _ARTICLE_ID.search(page.url or "")
    url = _article_url(match.group(1) or match.group(2)) if match else page.url
    author = soup.select_one(".AuthorInfo meta[itemprop=name]")
    published = soup.find("meta", attrs={"itemprop": "datePublished"})
    return [
        _post(
            page,
            title=title,
            url=url,
            authors=_author_name(str(author.get("content")) if author else None),
            body_html=str(body),
            published=parse_date(
                str(published.get("content")) if isinstance(published, Tag) else None, BEIJING
            ),
        )
    ]


def _legacy_answers(page: RawPage, soup: BeautifulSoup) -> list[Item]:
    """2015 answer pages: `div.zm-item-answer` under the question title `h2.zm-item-title`."""
    question = soup.select_one("#zh-question-title h2, h2.zm-item-title")
    question_title = question.get_text(" ") if question else ""
    items = []
    for answer in soup.select("div.zm-item-answer"):
        body = answer.select_one("div.zm-item-rich-text div.zm-editable-content")
        date_link = answer.select_one("a.answer-date-link")
        if body is None or date_link is None:
            continue
        author = answer.select_one(
            "h3.zm-item-answer-author-wrap a[href^='/people/']:not(.zm-item-link-avatar)"
        )
        date_text = str(date_link.get("data-tip") or "") + " " + date_link.get_text(" ")
        dates = re.findall(r"\d{4}-\d{2}-\d{2}", date_text)
        created = answer.get("data-created")
        items.append(
            _post(
                page,
                title=question_title,
                url="https://www.zhihu.com" + str(date_link.get("href")),
                authors=_author_name(author.get_text(" ") if author else None),
                body_html=str(body),
                published=parse_date(str(created) if created else (dates[0] if dates else None), BEIJING),
                updated=parse_date(dates[-1], BEIJING) if len(dates) > 1 else None,
            )
        )
    return items


def _text_article(page: RawPage, text: str) -> list[Item]:
    """A saved article body as plain text (seed 002): one POST, its first line as title."""
    blocks = text_blocks(text, page.url)
    if not blocks:
        return []
    collector = collect_mentions(blocks, source_id=page.source_id, page_url=page.url, others=False)
    body = "\n".join(block.text for block in blocks)
    return [
        Item(
            source_id=page.source_id,
            kind=ItemKind.POST,
            title=blocks[0].text[:120],
            url=page.url or None,
            lang=script_lang(body[:2000]),
            text=body,
            cited=collector.mentions,
        )
    ]


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    text = page_text(page)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return _parse_json(page, json.loads(stripped))
        except json.JSONDecodeError:
            pass  # not JSON after all: read it as a page
    if looks_like_feed(text):
        raise ParseError(page.source_id, "an RSS/Atom feed, not a Zhihu page (use kind 'feed')", url=page.url)
    if not looks_like_html(text):
        return finish(page, _text_article(page, text))
    soup = BeautifulSoup(text, "lxml")
    state = _initial_state(soup)
    body = _dom_body(soup)
    items = _from_state(page, state, str(body) if body is not None else None)
    if not items:
        items = _article_cards(page, soup)
    if not items:
        items = _legacy_answers(page, soup)
    if not items:
        items = _article_dom(page, soup)
    return finish(page, items, cursor=_cursor(items))


def _cursor(items: list[Item]) -> tuple[tuple[str, str], ...]:
    """The newest post date seen, so the next run can tell new articles from old ones."""
    dates = [item.published for item in items if item.published]
    return (("last_published", max(dates).isoformat()),) if dates else ()


KIND = SourceKind(
    name="zhihu",
    parse=parse,
    description="Zhihu columns, articles and answers (embedded JSON, DOM, v4 and legacy JSON APIs)",
)
