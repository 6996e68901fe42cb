"""The `zhihu` kind: Zhihu columns, articles and answers, current and legacy shapes.

- Column page (`zhihu.com/column/c_<id>`): one POST per article, from the embedded JSON
  (`<script id="js-initialData" type="text/json">`, `initialState.entities.articles`)
  or, when the saved page has the list only in the DOM, from `div.ArticleItem` cards.
- Article page (`zhuanlan.zhihu.com/p/<id>`): one POST whose body comes from the JSON
  (`content`) or `div.RichText`; papers listed in the body (reading lists that mix an
  English title with Chinese commentary) become MENTION items in `cited`; the courses, talks
  and code links it lists are OTHER items after the post, classified as `notes_page` does.
- JSON APIs: v4 lists (`{"data": [...], "paging": {...}}`, next page in `next_urls`),
  single articles, and the legacy zhuanlan API (`/api/columns/<slug>/posts[/<id>]`).
- Legacy answer pages (2015 `div.zm-item-answer`): one POST per answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bs4 import BeautifulSoup, Tag
from pydantic import BaseModel

from dltheory_digest.errors import ParseError
from dltheory_digest.models import Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.base import SourceKind, read_entries
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
from dltheory_digest.sources.decode import check_nesting, page_text
from dltheory_digest.sources.notes_page import collect_mentions

ARTICLE_URL = "https://zhuanlan.zhihu.com/p/{id}"
_ARTICLE_ID = re.compile(r"zhuanlan\.zhihu\.com/p/(\d+)|/p/(\d+)")


def _article_url(article_id: object) -> str:
    return ARTICLE_URL.format(id=article_id)


def _date(value: object) -> dt.datetime | None:
    """A date as Zhihu writes it (Beijing time, or a Unix timestamp), None when it is no date:
    a misdated post (year 0, 9999-12-31T23:59:59-14:00) or a value of another JSON type keeps
    its post, undated."""
    # parse_date itself reads an impossible date as none; a JSON object or list is no date
    return parse_date(value, BEIJING) if isinstance(value, (str, int, float)) else None


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
        # a body inside JSON escapes its tags, so the page's own depth check never saw them
        check_nesting(body_html, page.source_id, url)
        blocks = html_blocks(soup_of(body_html), url)
        text = "\n".join(block.text for block in blocks)
        # the body's courses, talks and code links too, as a notes page classifies them: they
        # ride in `cited` until `_with_resources` lifts them out beside the post
        cited = tuple(collect_mentions(blocks, source_id=page.source_id, page_url=url).items)
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


def _string(value: object) -> str:
    """A JSON text field; a value of another type (a number, a list, null) is no text."""
    return value if isinstance(value, str) else ""


def _title(value: object) -> str:
    """A JSON title: text, or a number written as one ("2048"); an object or a list is no title
    of any article, which the warning of the entry left out says."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if value is None or isinstance(value, str):
        return value or ""
    raise ValueError(f"its title is a JSON {type(value).__name__}, not text")


def _json_id(value: object) -> str | None:
    """An article id as Zhihu writes it, a number or a string; anything else is none."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def _entry_name(entry: object) -> str:
    """How a warning names a JSON entry: its id and title."""
    if not isinstance(entry, dict):
        return f"a {type(entry).__name__} entry"
    target = entry.get("target", entry)
    target = target if isinstance(target, dict) else entry
    article_id = target.get("id") or target.get("slug") or target.get("url") or ""
    return f"article {article_id} {target.get('title') or ''}".strip()


def _json_article(page: RawPage, article: dict[str, Any], *, with_body: bool = True) -> Item | None:
    # the API's fields are read by type: a number where text belongs is no text (fuzzed and
    # hand-edited pages have them), so one odd field empties itself, not the page
    title = _title(article.get("title"))
    if not title.strip():
        return None
    article_id = _json_id(article.get("id")) or _json_id(article.get("slug"))
    url = _string(article.get("url"))
    if article_id and (article.get("type") in (None, "article") or "zhuanlan" in url):
        url = _article_url(article_id)
    elif url.startswith("/"):
        url = "https://www.zhihu.com" + url
    content = _string(article.get("content")) if with_body else ""
    published = _date(article.get("created") or article.get("publishedTime") or article.get("created_time"))
    updated = _date(article.get("updated") or article.get("updated_time"))
    excerpt = _string(article.get("excerpt")) or _string(article.get("summary"))
    if "<" in excerpt:
        excerpt = " ".join(block.text for block in html_blocks(excerpt))
    return _post(
        page,
        title=title,
        url=url,
        authors=_author_name(article.get("author")),
        body_html=content or None,
        excerpt=excerpt,
        published=published,
        updated=updated,
    )


def _parse_json(page: RawPage, data: Any) -> ParseResult:
    warnings: list[str] = []
    found: list[Item | None] = []
    next_urls: tuple[str, ...] = ()

    def each(
        entries: list[dict[str, Any]], read: Callable[[dict[str, Any]], Item | None]
    ) -> tuple[list[Item | None], list[str]]:
        return read_entries(entries, read, source_id=page.source_id, name=_entry_name, url=page.url)

    if isinstance(data, list):  # legacy /api/columns/<slug>/posts
        posts = [entry for entry in data if isinstance(entry, dict)]
        found, warnings = each(posts, lambda post: _legacy_post(page, post))
    elif isinstance(data, dict) and isinstance(data.get("data"), list):  # v4 lists
        targets = [entry.get("target", entry) for entry in data["data"] if isinstance(entry, dict)]
        articles = [target for target in targets if isinstance(target, dict)]
        found, warnings = each(articles, lambda article: _json_article(page, article))
        paging = data.get("paging")
        if isinstance(paging, dict) and _string(paging.get("next")) and not paging.get("is_end", False):
            next_urls = (paging["next"],)
    elif isinstance(data, dict) and "content" in data and "title" in data:
        legacy = "publishedTime" in data or "slug" in data
        found, warnings = each(
            [data], lambda one: _legacy_post(page, one) if legacy else _json_article(page, one)
        )
    elif isinstance(data, dict) and "postsCount" in data and "slug" in data:
        warnings.append(
            f"legacy column metadata for {data.get('slug')!r} ({data.get('postsCount')} posts): no posts in this response"
        )
    items = [item for item in found if item is not None]
    return finish(page, _with_resources(items), warnings, next_urls=next_urls, cursor=_cursor(items))


def _legacy_post(page: RawPage, post: dict[str, Any]) -> Item | None:
    """The 2015 zhuanlan API post: {title, content, summary, publishedTime, url "/<column>/<id>", author}."""
    title = _title(post.get("title"))
    if not title.strip():
        return None
    post_id = _json_id(post.get("slug")) or _string(post.get("url")).rstrip("/").rsplit("/", 1)[-1]
    column = post.get("column") or {}
    extra = (("column", str(column.get("name"))),) if isinstance(column, dict) and column.get("name") else ()
    return _post(
        page,
        title=title,
        url=_article_url(post_id),
        authors=_author_name(post.get("author")),
        body_html=_string(post.get("content")) or _string(post.get("summary")),
        published=_date(post.get("publishedTime")),
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


def _from_state(
    page: RawPage, state: dict[str, Any], dom_body: str | None = None
) -> tuple[list[Item], list[str]]:
    """Posts from the embedded JSON; an article page whose JSON lacks the body (loaded later by
    the page's script) takes it from the rendered `div.RichText` when one is there."""
    entities = state.get("entities")
    entities = entities if isinstance(entities, dict) else {}
    articles = entities.get("articles")
    articles = articles if isinstance(articles, dict) else {}
    answers = entities.get("answers")
    answers = answers if isinstance(answers, dict) else {}
    questions = entities.get("questions")
    questions = questions if isinstance(questions, dict) else {}

    def article_item(article: dict[str, Any]) -> Item | None:
        if not article.get("content") and dom_body and len(articles) == 1:
            article = {**article, "content": dom_body}
        return _json_article(page, article)

    def answer_item(answer: dict[str, Any]) -> Item | None:
        if not answer.get("content"):
            return None
        question = answer.get("question") or {}
        question_id = question.get("id") if isinstance(question, dict) else None
        asked = questions.get(str(question_id))
        title = (question.get("title") if isinstance(question, dict) else None) or (
            asked.get("title") if isinstance(asked, dict) else None
        )
        return _post(
            page,
            title=_string(title),
            url=f"https://www.zhihu.com/question/{question_id}/answer/{answer.get('id')}",
            authors=_author_name(answer.get("author")),
            body_html=str(answer["content"]),
            published=_date(answer.get("createdTime") or answer.get("created_time")),
            updated=_date(answer.get("updatedTime") or answer.get("updated_time")),
        )

    entries: list[tuple[Callable[[dict[str, Any]], Item | None], dict[str, Any]]]
    entries = [(article_item, entry) for entry in articles.values() if isinstance(entry, dict)]
    entries += [(answer_item, entry) for entry in answers.values() if isinstance(entry, dict)]
    found, warnings = read_entries(
        entries,
        lambda pair: pair[0](pair[1]),
        source_id=page.source_id,
        name=lambda pair: _entry_name(pair[1]),
        url=page.url,
    )
    return [item for item in found if item is not None], warnings


def _meta(node: Tag, prop: str) -> str | None:
    found = node.find("meta", attrs={"itemprop": prop})
    return str(found.get("content")) if isinstance(found, Tag) and found.get("content") else None


Node = TypeVar("Node", Tag, BeautifulSoup)


def _html_entries(
    page: RawPage, entries: Sequence[Node], read: Callable[[Node], Item | None], name: Callable[[Node], str]
) -> tuple[list[Item], list[str]]:
    found, warnings = read_entries(entries, read, source_id=page.source_id, name=name, url=page.url)
    return [item for item in found if item is not None], warnings


def _card_name(card: Tag) -> str:
    link = card.select_one(".ContentItem-title a")
    return f"article card {clean(link.get_text(' ')) if link is not None else ''}"


def _article_cards(page: RawPage, soup: BeautifulSoup) -> tuple[list[Item], list[str]]:
    """Column pages rendered in the browser: `div.ArticleItem` cards with data-zop JSON and microdata."""

    def card_item(card: Tag) -> Item | None:
        try:
            zop = json.loads(str(card.get("data-zop") or "{}"))
        except json.JSONDecodeError:
            zop = {}
        zop = zop if isinstance(zop, dict) else {}
        link = card.select_one("h2.ContentItem-title a, .ContentItem-title a")
        href = str(link.get("href")) if link and link.get("href") else _meta(card, "url") or ""
        match = _ARTICLE_ID.search(href)
        article_id = _json_id(zop.get("itemId")) or (match.group(1) or match.group(2) if match else None)
        title = _string(zop.get("title")) or (link.get_text(" ") if link else _meta(card, "headline"))
        if not article_id or not title:
            return None
        excerpt = card.select_one("span.RichText, div.RichText")
        author = zop.get("authorName") or _meta(card, "name")
        return _post(
            page,
            title=str(title),
            url=_article_url(article_id),
            authors=_author_name(author),
            excerpt=" ".join(block.text for block in html_blocks(excerpt)) if excerpt else "",
            published=_date(_meta(card, "datePublished")),
            updated=_date(_meta(card, "dateModified")),
        )

    cards = soup.select("div.ContentItem.ArticleItem, div.ArticleItem")
    return _html_entries(page, cards, card_item, _card_name)


def _dom_body(soup: BeautifulSoup) -> Tag | None:
    return soup.select_one("div.Post-RichText, div.RichText.ztext")


def _article_dom(page: RawPage, soup: BeautifulSoup) -> Item | None:
    """An article page without usable JSON: `h1.Post-Title` and `div.RichText`."""
    body = _dom_body(soup)
    if body is None:
        return None
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
    return _post(
        page,
        title=title,
        url=url,
        authors=_author_name(str(author.get("content")) if author else None),
        body_html=str(body),
        published=_date(str(published.get("content")) if isinstance(published, Tag) else None),
    )


def _legacy_answers(page: RawPage, soup: BeautifulSoup) -> tuple[list[Item], list[str]]:
    """2015 answer pages: `div.zm-item-answer` under the question title `h2.zm-item-title`."""
    question = soup.select_one("#zh-question-title h2, h2.zm-item-title")
    question_title = question.get_text(" ") if question else ""

    def answer_item(answer: Tag) -> Item | None:
        body = answer.select_one("div.zm-item-rich-text div.zm-editable-content")
        date_link = answer.select_one("a.answer-date-link")
        if body is None or date_link is None:
            return None
        author = answer.select_one(
            "h3.zm-item-answer-author-wrap a[href^='/people/']:not(.zm-item-link-avatar)"
        )
        date_text = str(date_link.get("data-tip") or "") + " " + date_link.get_text(" ")
        dates = re.findall(r"\d{4}-\d{2}-\d{2}", date_text)
        created = answer.get("data-created")
        return _post(
            page,
            title=question_title,
            url="https://www.zhihu.com" + str(date_link.get("href")),
            authors=_author_name(author.get_text(" ") if author else None),
            body_html=str(body),
            published=_date(str(created) if created else (dates[0] if dates else None)),
            updated=_date(dates[-1]) if len(dates) > 1 else None,
        )

    def answer_name(answer: Tag) -> str:
        date_link = answer.select_one("a.answer-date-link")
        return f"answer {date_link.get('href') if date_link is not None else ''}"

    return _html_entries(page, soup.select("div.zm-item-answer"), answer_item, answer_name)


def _text_article(page: RawPage, text: str) -> list[Item]:
    """A saved article body as plain text (seed 002): one POST, its first line as title."""
    blocks = text_blocks(text, page.url)
    if not blocks:
        return []
    collector = collect_mentions(blocks, source_id=page.source_id, page_url=page.url)
    body = "\n".join(block.text for block in blocks)
    return [
        Item(
            source_id=page.source_id,
            kind=ItemKind.POST,
            title=blocks[0].text[:120],
            url=page.url or None,
            lang=script_lang(body[:2000]),
            text=body,
            cited=tuple(collector.items),
        )
    ]


def _with_resources(items: list[Item]) -> list[Item]:
    """Each post followed by the courses, talks and code links its body lists (OTHER items, as
    a notes page's are), so a reading list feeds the digest's talks and courses; `cited` keeps
    the paper mentions only."""
    out: list[Item] = []
    for item in items:
        others = [c for c in item.cited if c.kind is ItemKind.OTHER]
        if others:
            item = dataclasses.replace(
                item, cited=tuple(c for c in item.cited if c.kind is not ItemKind.OTHER)
            )
        out += [item, *others]
    return out


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    # an API answer holds each article's HTML: one too deep drops that article, not the page
    text = page_text(page, markup=False)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return _parse_json(page, json.loads(stripped))
        except json.JSONDecodeError:
            pass  # not JSON after all: read it as a page
    check_nesting(text, page.source_id, page.url or None)
    if looks_like_feed(text):
        raise ParseError(page.source_id, "an RSS/Atom feed, not a Zhihu page (use kind 'feed')", url=page.url)
    if not looks_like_html(text):
        found, _ = read_entries(
            [text],
            lambda one: _text_article(page, one),
            source_id=page.source_id,
            name=lambda _: "the article",
        )
        return finish(page, _with_resources(found[0]))
    soup = BeautifulSoup(text, "lxml")
    state = _initial_state(soup)
    body = _dom_body(soup)
    # the page's shapes from the richest down: where one has entries that all fail to read, the
    # next may still hold the article (the DOM of a page whose embedded JSON is odd)
    shapes: tuple[Callable[[], tuple[list[Item], list[str]]], ...] = (
        lambda: _from_state(page, state, str(body) if body is not None else None),
        lambda: _article_cards(page, soup),
        lambda: _legacy_answers(page, soup),
        lambda: _html_entries(page, [soup], lambda one: _article_dom(page, one), lambda _: "the article"),
    )
    items: list[Item] = []
    warnings: list[str] = []
    unreadable: ParseError | None = None
    for shape in shapes:
        try:
            items, found_warnings = shape()
        except ParseError as exc:
            unreadable = unreadable or exc
            continue
        warnings += found_warnings
        if items:
            break
    if not items and unreadable is not None:
        raise unreadable
    return finish(page, _with_resources(items), warnings, cursor=_cursor(items))


def _cursor(items: list[Item]) -> tuple[tuple[str, str], ...]:
    """The newest post date seen, so the next run can tell new articles from old ones."""
    dates = [item.published for item in items if item.published]
    return (("last_published", max(dates).isoformat()),) if dates else ()


KIND = SourceKind(
    name="zhihu",
    parse=parse,
    description="Zhihu columns, articles and answers (embedded JSON, DOM, v4 and legacy JSON APIs)",
)
