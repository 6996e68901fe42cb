"""The `papers_cool` kind: papers.cool listing pages (`/arxiv/<cat>?date=YYYY-MM-DD`) and
single-paper pages (`/arxiv/<id>`).

Each paper is a `div.panel.paper` (its `id` attribute is the arXiv id) with
`a.title-link` (href `/arxiv/<id>`), `p.authors a.author`, `p.summary` (the site's
summary, Chinese on the zh pages) and `p.subjects`. One PAPER item per panel.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup, Tag
from pydantic import BaseModel

from dltheory_digest.config import SourceSpec
from dltheory_digest.ids import abs_url, parse_arxiv_id
from dltheory_digest.models import Item, ItemKind, ParseResult, RawPage
from dltheory_digest.sources.base import PlanContext, SourceKind, always, read_entries
from dltheory_digest.sources.blocks import clean, finish, html_blocks, parse_date, script_lang, split_names
from dltheory_digest.sources.decode import page_text
from dltheory_digest.weeks import announced_at, as_utc

_EMPTY_LISTING = re.compile(r"Total\s*:\s*0\b")
_CATEGORY = re.compile(r"\(([a-z\-]+(?:\.[A-Za-z\-]+)?)\)")


def _text(node: Tag | None) -> str:
    return " ".join(block.text for block in html_blocks(node)) if node is not None else ""


def _strip_label(text: str) -> str:
    """ "Authors: a, b" / "Subjects : x" -> the value."""
    return re.sub(r"^\s*[A-Za-z\u4e00-\u9fff ]{2,12}\s*[:：]\s*", "", text)


def _panel_item(page: RawPage, panel: Tag, listing_date: str | None) -> Item | None:
    link = panel.select_one("a.title-link")
    href = str(link.get("href")) if link is not None and link.get("href") else ""
    parsed = parse_arxiv_id(href.rsplit("/arxiv/", 1)[-1]) if "/arxiv/" in href else None
    parsed = parsed or parse_arxiv_id(str(panel.get("id") or ""))
    if link is None or parsed is None:
        return None
    arxiv_id, version = parsed
    authors = tuple(clean(a.get_text()) for a in panel.select("p.authors a.author, .authors a.author"))
    if not authors:
        authors = split_names(_strip_label(_text(panel.select_one("p.authors"))))
    summaries = [_text(node) for node in panel.select("p.summary, div.summary, .summary-zh, .kimi-summary")]
    summary = "\n".join(s for s in summaries if s)
    subjects = _strip_label(_text(panel.select_one("p.subjects")))
    categories = tuple(dict.fromkeys(_CATEGORY.findall(subjects)))
    date_text = _strip_label(_text(panel.select_one("p.date")))
    return Item(
        source_id=page.source_id,
        kind=ItemKind.PAPER,
        # no separator: a highlighted part of a word ("<span>Mat</span>rices") stays in the word
        title=clean(link.get_text()),
        url=abs_url(arxiv_id, version),
        arxiv_id=arxiv_id,
        version=version,
        authors=authors,
        lang=script_lang(summary) if summary else "en",
        text=summary,
        published=parse_date(date_text) or parse_date(listing_date),
        categories=categories,
        primary_category=categories[0] if categories else None,
        extra=(("papers_cool_url", f"https://papers.cool/arxiv/{arxiv_id}"),),
    )


def _panel_name(panel: Tag) -> str:
    """How a warning names a panel: its arXiv id and title."""
    link = panel.select_one("a.title-link")
    return f"paper panel {panel.get('id') or ''} {clean(link.get_text()) if link is not None else ''}"


def parse(page: RawPage, options: BaseModel) -> ParseResult:
    soup = BeautifulSoup(page_text(page), "lxml")
    dates = parse_qs(urlsplit(page.url).query).get("date")
    listing_date = dates[0] if dates else None
    items: dict[str, Item] = {}
    skipped = 0
    read, warnings = read_entries(
        soup.select("div.panel.paper"),
        lambda panel: _panel_item(page, panel, listing_date),
        source_id=page.source_id,
        name=_panel_name,
        url=page.url,
    )
    for item in read:
        if item is None:
            skipped += 1
        elif item.arxiv_id not in items:  # a paper listed twice on a page is one paper
            items[item.arxiv_id or ""] = item
    if skipped:
        warnings.append(f"{skipped} paper panel(s) without an arXiv id skipped")
    cursor = (("date", listing_date),) if listing_date else ()
    info = soup.select_one("p.info")
    if not items and info is not None and _EMPTY_LISTING.search(info.get_text(" ")):
        return ParseResult(cursor=cursor)  # a day without announcements, not a changed layout
    return finish(page, list(items.values()), warnings, cursor=cursor)


MAX_PLANNED_DAYS = 62


def listing_days(ctx: PlanContext, now: dt.datetime | None = None) -> list[dt.date]:
    """The listing dates of the run's window (Monday to Friday less arXiv's holidays; the Monday
    after belongs to the next week), from --since or the day after the cursor when given.
    Listings arXiv has not announced yet (a refresh of a week under way) are not asked for:
    they do not exist (a day that is missing anyway is a warning of the source's report, since
    its kind reads independent pages)."""
    days, _ = _planned_days(ctx, now)
    return days


def _planned_days(ctx: PlanContext, now: dt.datetime | None) -> tuple[list[dt.date], list[dt.date]]:
    """(the listing days planned, the older ones left out by `MAX_PLANNED_DAYS`)."""
    now = now or dt.datetime.now(dt.UTC)
    first: dt.date | None = None
    if ctx.since is None and ctx.window_start is None and ctx.cursor.get("date"):
        try:
            first = dt.date.fromisoformat(ctx.cursor["date"]) + dt.timedelta(days=1)
        except ValueError:
            raise ValueError(f"the stored cursor's date {ctx.cursor['date']!r} is not YYYY-MM-DD") from None
    # without a window, up to the latest listing (arXiv's evening is already that date in UTC)
    last = None if ctx.window_end else as_utc(now).date()
    days = ctx.listing_days(first=first, last=last)
    if not days:
        return [], []
    oldest = days[-1] - dt.timedelta(days=MAX_PLANNED_DAYS)
    return [day for day in days if day >= oldest and announced_at(day) <= now], [
        d for d in days if d < oldest
    ]


def plan_warnings(spec: SourceSpec, options: BaseModel, ctx: PlanContext) -> tuple[str, ...]:
    """The listing days a --since (or an old cursor) reaches back to that the plan leaves out."""
    _, left_out = _planned_days(ctx, None)
    if not left_out:
        return ()
    return (
        f"listings from {left_out[0]} to {left_out[-1]} not fetched: a run reads at most the last "
        f"{MAX_PLANNED_DAYS} days of listings; refresh the weeks they belong to (--week) to fetch them",
    )


def plan(spec: SourceSpec, options: BaseModel, ctx: PlanContext) -> tuple[str, ...]:
    """One listing URL per announcement day of the window; URLs that name a date are kept as they are.
    Without any date to go by (no window, --since or cursor), the site's latest listing."""
    urls: list[str] = []
    days = listing_days(ctx)
    # a window with nothing announced yet fetches nothing: the latest listing is an earlier week's
    undated = not any((ctx.window_start, ctx.window_end, ctx.since, ctx.cursor.get("date")))
    for url in spec.all_urls:
        parts = urlsplit(url)
        if "date" in parse_qs(parts.query) or (undated and not days):
            urls.append(url)
            continue
        joiner = "&" if parts.query else "?"
        urls.extend(f"{url}{joiner}date={day.isoformat()}" for day in days)
    return tuple(urls)


KIND = SourceKind(
    name="papers_cool",
    parse=parse,
    plan=plan,
    description="papers.cool arXiv listings (Chinese summaries): one paper per div.panel.paper",
    dated_plan=always,
    independent_pages=True,  # one listing per day
    plan_warnings=plan_warnings,
)
