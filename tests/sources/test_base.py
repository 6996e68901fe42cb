"""PlanContext: the one place where the week window becomes fetch dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from dltheory_digest.config import SourceSpec
from dltheory_digest.errors import ParseError
from dltheory_digest.sources import REGISTRY
from dltheory_digest.sources.base import PlanContext, read_entries, utc_dates_of
from dltheory_digest.weeks import Week

W47 = Week.parse("2026-W47")  # Monday 16 to Sunday 22 November 2026


@pytest.mark.parametrize(
    ("zone", "first", "last"),
    [
        ("UTC", dt.date(2026, 11, 16), dt.date(2026, 11, 22)),
        # starts Sunday 16:00 UTC, ends the next Sunday 16:00 UTC
        ("Asia/Shanghai", dt.date(2026, 11, 15), dt.date(2026, 11, 22)),
        # starts Monday 08:00 UTC, ends the next Monday 08:00 UTC
        ("America/Los_Angeles", dt.date(2026, 11, 16), dt.date(2026, 11, 23)),
    ],
)
def test_utc_dates_are_every_utc_day_the_window_touches(zone: str, first: dt.date, last: dt.date) -> None:
    assert PlanContext(*W47.window(ZoneInfo(zone))).utc_dates() == (first, last)
    assert utc_dates_of(*W47.window(ZoneInfo(zone))) == (first, last)  # what a backfill starts from


def test_utc_dates_need_both_ends_and_take_a_naive_moment_as_utc() -> None:
    assert PlanContext().utc_dates() is None
    assert PlanContext(window_start=dt.datetime(2026, 11, 16, tzinfo=dt.UTC)).utc_dates() is None
    naive = PlanContext(dt.datetime(2026, 11, 16), dt.datetime(2026, 11, 23))
    assert naive.utc_dates() == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/Los_Angeles", "Pacific/Kiritimati"])
def test_listing_days_of_a_week_window_are_its_announcement_days(zone: str) -> None:
    ctx = PlanContext(*W47.window(ZoneInfo(zone)))
    assert ctx.listing_days() == W47.announcement_days()
    thanksgiving = Week.parse("2026-W48")
    assert (
        PlanContext(*thanksgiving.window(ZoneInfo(zone))).listing_days() == thanksgiving.announcement_days()
    )
    assert dt.date(2026, 11, 26) not in thanksgiving.announcement_days()


def test_listing_days_end_is_exclusive_and_since_or_first_moves_the_start() -> None:
    friday_to_tuesday = PlanContext(
        dt.datetime(2021, 6, 18, tzinfo=dt.UTC), dt.datetime(2021, 6, 22, tzinfo=dt.UTC)
    )
    assert friday_to_tuesday.listing_days() == (dt.date(2021, 6, 18), dt.date(2021, 6, 21))
    backfill = PlanContext(*W47.window(ZoneInfo("UTC")), since=dt.date(2026, 11, 12))
    assert backfill.listing_days()[:3] == (
        dt.date(2026, 11, 12),
        dt.date(2026, 11, 13),
        dt.date(2026, 11, 16),
    )
    assert backfill.listing_days(first=dt.date(2026, 11, 19)) == (
        dt.date(2026, 11, 19),
        dt.date(2026, 11, 20),
    )
    assert PlanContext().listing_days() == ()
    assert PlanContext().listing_days(first=dt.date(2026, 11, 20), last=dt.date(2026, 11, 23)) == (
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 23),
    )


# --- SourceKind: what the pipeline asks of a kind, by flag rather than by name ----------


def _spec_of(kind: str, **options: object) -> SourceSpec:
    return SourceSpec(id="s", kind=kind, url="https://example.org/", options=options)


def test_the_kinds_that_fetch_by_date_can_reach_back_to_weeks_a_source_missed() -> None:
    dated = {name for name, kind in REGISTRY.items() if kind.plans_by_date(_spec_of(name))}
    assert dated == {"arxiv_oai", "papers_cool"}
    # an API query does only when it is restricted to the window
    api = REGISTRY["arxiv_api"]
    assert api.plans_by_date(_spec_of("arxiv_api", search_query="cat:cs.LG", within_window=True))
    assert not api.plans_by_date(_spec_of("arxiv_api", search_query="cat:cs.LG"))


def test_only_arxivs_own_listings_go_unlinked_in_seen_in() -> None:
    # arxivdaily and arxiv_mirror are pages about arXiv papers, not arXiv: their names start
    # with "arxiv" and they are linked all the same
    unlinked = {name for name, kind in REGISTRY.items() if not kind.linked_page}
    assert unlinked == {"arxiv_rss", "arxiv_api", "arxiv_oai"}
    assert unlinked <= {name for name, kind in REGISTRY.items() if kind.arxiv}


def test_curated_lists_and_independent_pages_are_declared_by_their_kinds() -> None:
    assert {name for name, kind in REGISTRY.items() if kind.curated_list} == {"notes_page"}
    # one listing or thread per day; OAI resumption and API pages chain, so they are not
    independent = {name for name, kind in REGISTRY.items() if kind.independent_pages}
    assert independent == {"papers_cool", "arxivdaily"}


# read_entries: one entry that raises is left out, the others are kept


def _title_of(entry: dict[str, str]) -> str:
    return entry["title"]


def test_read_entries_keeps_the_readable_and_names_the_one_left_out() -> None:
    entries = [
        {"title": "The Principles of Deep Learning Theory", "year": "2021"},
        {
            "title": "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability",
            "year": "0",
        },
        {"title": "Understanding deep learning requires rethinking generalization", "year": "2016"},
    ]
    kept, warnings = read_entries(
        entries,
        lambda entry: dt.date(int(str(entry["year"])), 1, 1),
        source_id="src",
        name=lambda entry: f"entry {_title_of(entry)}",
    )
    assert kept == [dt.date(2021, 1, 1), dt.date(2016, 1, 1)]
    assert len(warnings) == 1
    # named by its title, cut short, with the cause
    label = "entry Gradient Descent on Neural Networks Typically Occurs at the Edge of Stabi…"
    assert warnings[0].startswith(f"{label} skipped: could not be read (")
    assert "skipped" in warnings[0] and "ValueError: year 0 is out of range" in warnings[0]


def test_read_entries_keeps_what_read_returns_none_included() -> None:
    kept, warnings = read_entries(
        ["2106.10165", "", "1806.07572"], lambda text: text or None, source_id="src", name=str
    )
    assert kept == ["2106.10165", None, "1806.07572"]
    assert warnings == []


def test_read_entries_names_an_entry_by_its_place_when_its_name_fails_too() -> None:
    def name(entry: object) -> str:
        raise KeyError("title")

    kept, warnings = read_entries([1, 0, 2], lambda n: 10 // n, source_id="src", name=name)
    assert kept == [10, 5]
    assert warnings == [
        "entry 2 skipped: could not be read (ZeroDivisionError: integer division or modulo by zero)"
    ]


def test_read_entries_says_so_when_every_entry_fails() -> None:
    with pytest.raises(ParseError) as caught:
        read_entries(["x", "y"], int, source_id="papers", name=str, url="https://papers.cool/arxiv/cs.LG")
    assert caught.value.source_id == "papers"
    assert caught.value.url == "https://papers.cool/arxiv/cs.LG"
    assert "none of the page's 2 entries could be read" in str(caught.value)
    assert "ValueError: invalid literal for int() with base 10: 'x'" in str(caught.value)


def test_read_entries_of_a_page_of_one_entry_that_fails() -> None:
    with pytest.raises(ParseError, match="the page's only entry could not be read: ValueError"):
        read_entries(["2106.10165"], int, source_id="src", name=str)


def test_read_entries_of_an_empty_page_and_a_broken_document() -> None:
    assert read_entries([], int, source_id="src", name=str) == ([], [])

    def broken() -> Iterator[str]:
        yield "1"
        raise ParseError("src", "not a readable page")

    # an error of the document itself (not of one entry) is the caller's to report
    with pytest.raises(ParseError, match="not a readable page"):
        read_entries(broken(), int, source_id="src", name=str)


def test_arxiv_source_ids_are_the_sources_of_arxivs_own_kinds() -> None:
    from dltheory_digest.sources import arxiv_source_ids

    pairs = [
        ("arxiv-listing", "arxiv_rss"),
        ("arxiv-week", "arxiv_api"),
        ("arxiv-oai", "arxiv_oai"),
        ("mirror", "arxiv_mirror"),  # mirrors arXiv, lags it: looked up, never trusted as a listing
        ("cool", "papers_cool"),
        ("blog", "feed"),
        ("gone", "no_such_kind"),
    ]
    assert arxiv_source_ids(pairs) == {"arxiv-listing", "arxiv-week", "arxiv-oai"}
