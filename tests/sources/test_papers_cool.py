"""papers_cool listing pages (hand-written in the site's panel markup)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from dltheory_digest.config import SourceSpec
from dltheory_digest.errors import ParseError
from dltheory_digest.fetch import LocalLimiter, PoliteClient
from dltheory_digest.models import ItemKind
from dltheory_digest.pipeline import collect_source
from dltheory_digest.sources import REGISTRY, papers_cool
from dltheory_digest.sources.base import PlanContext
from dltheory_digest.sources.papers_cool import listing_days
from dltheory_digest.weeks import Week

KIND = REGISTRY["papers_cool"]
LISTING_URL = "https://papers.cool/arxiv/cs.LG?date=2021-06-21"


def test_listing_gives_one_paper_per_panel(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "papers_cool_cs.LG_2021-06-21.html").read_bytes()
    result = KIND.parse_bytes(content, url=LISTING_URL, source_id="papers-cool-lg")
    assert not result.warnings
    first, second = result.items
    assert (first.kind, first.arxiv_id, first.title) == (
        ItemKind.PAPER,
        "2106.10165",
        "The Principles of Deep Learning Theory",
    )
    assert first.authors == ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin")
    assert first.lang == "zh"
    assert first.text.startswith("这本书从有效理论的角度研究深度神经网络")
    assert first.categories == ("cs.LG", "hep-th", "stat.ML")
    assert first.primary_category == "cs.LG"
    assert first.url == "https://arxiv.org/abs/2106.10165"
    assert first.published == dt.datetime(2021, 6, 18, 17, 59, 55, tzinfo=dt.UTC)
    assert (second.arxiv_id, second.title) == (
        "2106.09685",
        "LoRA: Low-Rank Adaptation of Large Language Models",
    )
    assert len(second.authors) == 8 and second.authors[-1] == "Weizhu Chen"
    assert second.categories == ("cs.CL", "cs.AI", "cs.LG")


def test_english_summary_is_marked_english() -> None:
    html = (
        '<div id="2106.10165" class="panel paper"><h2 class="title">'
        '<a class="title-link" href="/arxiv/2106.10165">The Principles of Deep Learning Theory</a></h2>'
        '<p class="summary">An effective theory of deep networks.</p></div>'
    )
    (item,) = KIND.parse_bytes(html.encode(), url=LISTING_URL).items
    assert item.lang == "en"
    assert item.published == dt.datetime(
        2021, 6, 21, tzinfo=dt.UTC
    )  # the listing date when the panel has none


def test_changed_layout_warns() -> None:
    result = KIND.parse_bytes(b"<html><body><div class='papers'></div></body></html>", url=LISTING_URL)
    assert result.items == ()
    assert "0 items parsed from a 200 response" in result.warnings


def test_empty_announcement_day_is_not_a_layout_change() -> None:
    html = '<html><body><h1>Machine Learning</h1><p class="info notranslate">Date: 2021-06-19 | Total: 0</p></body></html>'
    result = KIND.parse_bytes(html.encode(), url="https://papers.cool/arxiv/cs.LG?date=2021-06-19")
    assert result.items == () and result.warnings == ()
    assert result.cursor == (("date", "2021-06-19"),)


def test_plan_one_listing_per_weekday_of_the_window() -> None:
    spec = SourceSpec(id="papers-cool-lg", kind="papers_cool", url="https://papers.cool/arxiv/cs.LG")
    ctx = PlanContext(
        window_start=dt.datetime(2021, 6, 18, tzinfo=dt.UTC),  # a Friday
        window_end=dt.datetime(2021, 6, 22, tzinfo=dt.UTC),  # the next Tuesday, 00:00: not in it
    )
    assert KIND.plan(spec, KIND.options_for(spec), ctx) == (
        "https://papers.cool/arxiv/cs.LG?date=2021-06-18",
        "https://papers.cool/arxiv/cs.LG?date=2021-06-21",
    )
    dated = SourceSpec(id="p", kind="papers_cool", url="https://papers.cool/arxiv/cs.LG?date=2021-06-21")
    assert KIND.plan(dated, KIND.options_for(dated), ctx) == (
        "https://papers.cool/arxiv/cs.LG?date=2021-06-21",
    )
    # without a window the cursor says where the last run stopped
    resumed = PlanContext(window_end=dt.datetime(2021, 6, 23, tzinfo=dt.UTC), cursor={"date": "2021-06-21"})
    assert KIND.plan(spec, KIND.options_for(spec), resumed) == (
        "https://papers.cool/arxiv/cs.LG?date=2021-06-22",
    )
    assert KIND.plan(spec, KIND.options_for(spec), PlanContext()) == ("https://papers.cool/arxiv/cs.LG",)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/Los_Angeles"])
def test_a_week_is_its_monday_to_friday_listings_not_the_monday_after(zone: str) -> None:
    week = Week.parse("2026-W47")
    ctx = PlanContext(*week.window(ZoneInfo(zone)))
    after_the_week = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    assert listing_days(ctx, now=after_the_week) == list(week.announcement_days())
    assert listing_days(ctx, now=after_the_week)[-1] == dt.date(2026, 11, 20)  # the Friday


def test_arxiv_holidays_have_no_listing() -> None:
    thanksgiving_week = Week.parse("2026-W48")
    ctx = PlanContext(*thanksgiving_week.window(ZoneInfo("Europe/Berlin")))
    days = listing_days(ctx, now=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))
    assert days == [
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 24),
        dt.date(2026, 11, 25),
        dt.date(2026, 11, 27),
    ]


def test_a_week_under_way_asks_only_for_listings_already_announced() -> None:
    ctx = PlanContext(*Week.parse("2026-W47").window(ZoneInfo("UTC")))
    # Wednesday's listing went out on Tuesday at 20:00 New York time (01:00 UTC); Thursday's not yet
    wednesday_noon = dt.datetime(2026, 11, 18, 12, tzinfo=dt.UTC)
    assert listing_days(ctx, now=wednesday_noon) == [
        dt.date(2026, 11, 16),
        dt.date(2026, 11, 17),
        dt.date(2026, 11, 18),
    ]
    before_mondays_listing = dt.datetime(2026, 11, 16, 0, 30, tzinfo=dt.UTC)  # Sunday 19:30 in New York
    assert listing_days(ctx, now=before_mondays_listing) == []


def test_a_window_with_nothing_announced_yet_fetches_nothing() -> None:
    spec = SourceSpec(id="papers-cool-lg", kind="papers_cool", url="https://papers.cool/arxiv/cs.LG")
    future = PlanContext(*Week.parse("2099-W10").window(ZoneInfo("UTC")))
    # not the undated latest listing: that is an earlier week's papers
    assert KIND.plan(spec, KIND.options_for(spec), future) == ()


def test_a_backfill_starts_at_since_and_ends_with_the_windows_friday() -> None:
    # a zone ahead of UTC backfills from the UTC date its missed week starts on: a Sunday
    ctx = PlanContext(*Week.parse("2026-W47").window(ZoneInfo("Asia/Shanghai")), since=dt.date(2026, 11, 8))
    days = listing_days(ctx, now=dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    assert days[0] == dt.date(2026, 11, 9) and days[-1] == dt.date(2026, 11, 20) and len(days) == 10


def test_a_backfill_reaching_past_the_planned_days_says_which_listings_it_leaves_out() -> None:
    from dltheory_digest.sources.papers_cool import MAX_PLANNED_DAYS, plan_warnings

    spec = SourceSpec(id="pc", kind="papers_cool", url="https://papers.cool/arxiv/cs.LG")
    kind = REGISTRY["papers_cool"]
    ctx = PlanContext(*Week.parse("2026-W40").window(ZoneInfo("UTC")), since=dt.date(2026, 6, 1))
    days = listing_days(ctx, now=dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    assert days[-1] - days[0] <= dt.timedelta(days=MAX_PLANNED_DAYS)
    [warning] = kind.plan_warnings(spec, kind.options_for(spec), ctx)
    left_out_until = days[0] - dt.timedelta(days=3)  # the Friday before the first planned Monday
    assert warning.startswith(f"listings from 2026-06-01 to {left_out_until} not fetched")
    # a backfill within reach leaves nothing out, and says nothing
    near = PlanContext(*Week.parse("2026-W47").window(ZoneInfo("UTC")), since=dt.date(2026, 11, 9))
    assert plan_warnings(spec, kind.options_for(spec), near) == ()


def test_the_scheduled_run_reads_the_weeks_five_listings_and_fails_on_none(fixtures_dir: Path) -> None:
    listing = (fixtures_dir / "sources" / "papers_cool_cs.LG_2021-06-21.html").read_bytes()
    week = Week.parse("2021-W25")  # 21 to 25 June 2021
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        day = request.url.params.get("date", "")
        asked.append(day)
        if day not in {d.isoformat() for d in week.announcement_days()}:
            return httpx.Response(404, text="no such listing")  # e.g. the Monday after, not out yet
        if day == "2021-06-21":
            return httpx.Response(200, content=listing, headers={"content-type": "text/html"})
        empty = f'<html><body><p class="info">Date: {day} | Total: 0</p></body></html>'
        return httpx.Response(200, text=empty, headers={"content-type": "text/html"})

    spec = SourceSpec(id="papers-cool-lg", kind="papers_cool", url="https://papers.cool/arxiv/cs.LG")
    transport = httpx.MockTransport(handler)
    spacing = LocalLimiter(sleep=lambda s: None)  # the site's request spacing, without the waits
    with PoliteClient(transport=transport, limiter=spacing, sleep=lambda s: None, max_retries=1) as client:
        got = collect_source(spec, client, PlanContext(*week.window(ZoneInfo("Asia/Shanghai"))))
    assert got.report.error is None
    assert asked == ["2021-06-21", "2021-06-22", "2021-06-23", "2021-06-24", "2021-06-25"]
    assert got.report.fetched == 5 and {i.arxiv_id for i in got.items} >= {"2106.10165"}
    assert got.cursor["date"] == "2021-06-25"


def test_highlighted_titles_author_lines_repeats_and_panels_without_id(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "papers_cool_odd_panels.html").read_bytes()
    result = KIND.parse_bytes(content, url=LISTING_URL, source_id="papers-cool-lg")
    assert result.warnings == ("1 paper panel(s) without an arXiv id skipped",)
    # 2106.10165 is listed twice: the first panel is kept
    book, maldacena = result.items
    assert (book.arxiv_id, book.version) == ("2106.10165", 2)
    assert book.title == "The Principles of Deep Learning Theory"
    assert book.authors == ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin")
    assert book.published == dt.datetime(2021, 6, 18, 17, 59, 55, tzinfo=dt.UTC)
    # a highlighted part of a word stays inside the word
    assert maldacena.title == "The Large N Limit of Superconformal Field Theories and Supergravity"
    assert (maldacena.arxiv_id, maldacena.authors) == ("hep-th/9711200", ("Juan M. Maldacena",))


# One misdated or unreadable panel must not lose the listing (review r1, finding 2)


def test_a_misdated_panel_keeps_its_paper_dated_by_the_listing(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "papers_cool_misdated_panel.html").read_bytes()
    result = KIND.parse_bytes(content, url=LISTING_URL, source_id="papers-cool-lg")
    assert result.warnings == ()
    dates = {item.arxiv_id: item.published for item in result.items}
    listing_day = dt.datetime(2021, 6, 21, tzinfo=dt.UTC)
    assert dates == {
        "2106.10165": dt.datetime(2021, 6, 18, 17, 59, 55, tzinfo=dt.UTC),
        "2106.09685": listing_day,  # 9999-12-31T23:59:59-14:00 has no UTC moment
        "2106.09647": listing_day,  # 31 February
    }


def test_a_panel_that_cannot_be_read_is_left_out_with_a_warning(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_abs_url = papers_cool.abs_url

    def abs_url(arxiv_id: str, version: int | None = None) -> str:
        if arxiv_id == "2106.09685":
            raise RuntimeError("simulated failure")
        return real_abs_url(arxiv_id, version)

    monkeypatch.setattr(papers_cool, "abs_url", abs_url)
    content = (fixtures_dir / "sources" / "papers_cool_misdated_panel.html").read_bytes()
    result = KIND.parse_bytes(content, url=LISTING_URL, source_id="papers-cool-lg")
    assert [item.arxiv_id for item in result.items] == ["2106.10165", "2106.09647"]
    assert result.warnings == (
        "paper panel 2106.09685 LoRA: Low-Rank Adaptation of Large Language Models skipped: "
        "could not be read (RuntimeError: simulated failure)",
    )
    monkeypatch.setattr(papers_cool, "abs_url", lambda *args: 1 / 0)
    with pytest.raises(ParseError, match="none of the page's 3 entries could be read"):
        KIND.parse_bytes(content, url=LISTING_URL, source_id="papers-cool-lg")
