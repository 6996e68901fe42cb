"""papers_cool listing pages (hand-written in the site's panel markup)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dltheory_digest.config import SourceSpec
from dltheory_digest.models import ItemKind
from dltheory_digest.sources import REGISTRY
from dltheory_digest.sources.base import PlanContext

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
        window_end=dt.datetime(2021, 6, 22, tzinfo=dt.UTC),  # the next Tuesday
    )
    assert KIND.plan(spec, KIND.options_for(spec), ctx) == (
        "https://papers.cool/arxiv/cs.LG?date=2021-06-18",
        "https://papers.cool/arxiv/cs.LG?date=2021-06-21",
        "https://papers.cool/arxiv/cs.LG?date=2021-06-22",
    )
    dated = SourceSpec(id="p", kind="papers_cool", url="https://papers.cool/arxiv/cs.LG?date=2021-06-21")
    assert KIND.plan(dated, KIND.options_for(dated), ctx) == (
        "https://papers.cool/arxiv/cs.LG?date=2021-06-21",
    )
    # without a window the cursor says where the last run stopped
    resumed = PlanContext(window_end=dt.datetime(2021, 6, 22, tzinfo=dt.UTC), cursor={"date": "2021-06-21"})
    assert KIND.plan(spec, KIND.options_for(spec), resumed) == (
        "https://papers.cool/arxiv/cs.LG?date=2021-06-22",
    )
    assert KIND.plan(spec, KIND.options_for(spec), PlanContext()) == ("https://papers.cool/arxiv/cs.LG",)


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
