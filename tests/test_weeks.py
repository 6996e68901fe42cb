from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dltheory_digest.weeks import Week, as_utc, last_complete_week, utc_or_none


def test_parse_and_format() -> None:
    week = Week.parse("2026-W47")
    assert (week.year, week.number, str(week)) == (2026, 47, "2026-W47")
    assert week.monday == dt.date(2026, 11, 16)
    with pytest.raises(ValueError, match="ISO week"):
        Week.parse("2026-47")
    with pytest.raises(ValueError, match="no ISO week 54"):
        Week.parse("2026-W54")


def test_window_is_local_midnight_across_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = Week.parse("2026-W43").window(berlin)  # clocks go back on Sun 25 Oct 2026
    assert start.utcoffset() == dt.timedelta(hours=2) and end.utcoffset() == dt.timedelta(hours=1)
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(days=7, hours=1)
    assert (start.hour, end.hour) == (0, 0)


def test_announcement_days_skip_weekends_and_holidays() -> None:
    days = Week.parse("2026-W48").announcement_days()  # Thanksgiving, Thu 26 Nov 2026
    assert dt.date(2026, 11, 26) not in days
    assert [d.isoweekday() for d in days] == [1, 2, 3, 5]


def test_last_complete_week_in_zone() -> None:
    # Monday 07:00 in Shanghai is still Sunday in UTC: the finished week differs by zone
    moment = dt.datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert str(last_complete_week(ZoneInfo("Asia/Shanghai"), moment)) == "2026-W47"
    assert str(last_complete_week(ZoneInfo("UTC"), moment)) == "2026-W46"


def test_week_is_read_case_insensitively() -> None:
    assert Week.parse("2026-w47") == Week.parse("2026W47") == Week.parse("2026w47") == Week(2026, 47)


def test_started_and_complete_weeks_in_the_zone() -> None:
    week = Week.parse("2026-W47")  # Mon 16 Nov 2026 00:00 to Mon 23 Nov 00:00
    shanghai = ZoneInfo("Asia/Shanghai")  # UTC+8: the week starts Sun 15 Nov 16:00 UTC
    before = dt.datetime(2026, 11, 15, 15, 59, tzinfo=dt.UTC)
    during = dt.datetime(2026, 11, 15, 16, 0, tzinfo=dt.UTC)
    after = dt.datetime(2026, 11, 22, 16, 0, tzinfo=dt.UTC)
    assert not week.has_started(shanghai, before) and not week.is_complete(shanghai, before)
    assert week.has_started(shanghai, during) and not week.is_complete(shanghai, during)
    assert week.is_complete(shanghai, after)
    assert not week.is_complete(ZoneInfo("UTC"), after)  # in UTC it still has 8 hours to go


def test_local_day_reads_a_moment_in_the_zone_a_bare_day_as_written_and_survives_the_edges() -> None:
    from dltheory_digest.weeks import local_day

    shanghai, new_york = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
    # 07:30 in Beijing is 23:30 UTC the day before
    assert local_day(dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC), shanghai) == dt.date(2026, 11, 23)
    # a day given without a time (stored as 00:00 UTC) stays that day, also west of UTC
    assert local_day(dt.datetime(2026, 11, 23, tzinfo=dt.UTC), new_york) == dt.date(2026, 11, 23)
    # a misdated page hours from the calendar's ends: its UTC day, not an OverflowError
    assert local_day(dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC), shanghai) == dt.date(9999, 12, 31)
    assert local_day(dt.datetime(1, 1, 1, 3, tzinfo=dt.UTC), new_york) == dt.date(1, 1, 1)


def test_weeks_order_by_year_then_number() -> None:
    assert Week(2026, 53) < Week(2027, 1) < Week(2027, 2)
    assert max(Week(2026, 47), Week(2026, 48)) == Week(2026, 48)


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(-dt.timedelta(hours=14))),
        dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=14))),
    ],
)
def test_a_moment_past_the_calendars_ends_has_no_utc_date(moment: dt.datetime) -> None:
    # a misdated page: as_utc cannot say it; utc_or_none says there is no date
    with pytest.raises(OverflowError):
        as_utc(moment)
    assert utc_or_none(moment) is None


def test_utc_or_none_converts_as_as_utc_does() -> None:
    beijing = dt.datetime(2026, 11, 16, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert utc_or_none(beijing) == dt.datetime(2026, 11, 16, 0, 0, tzinfo=dt.UTC)
    assert utc_or_none(dt.datetime(2026, 11, 16, 8, 0)) == dt.datetime(2026, 11, 16, 8, 0, tzinfo=dt.UTC)
    edge = dt.datetime(9999, 12, 31, 10, 0, tzinfo=dt.UTC)  # near the end, still a moment
    assert utc_or_none(edge) == edge
    assert utc_or_none(None) is None


def test_arxiv_holidays_follow_the_rules_every_year_with_the_published_overrides() -> None:
    from dltheory_digest.weeks import ARXIV_HOLIDAYS, arxiv_holidays, rule_holidays

    # the days the hand-kept table listed are all still holidays
    listed = {(2025, 12, 25), (2025, 12, 26), (2026, 1, 1), (2026, 11, 26), (2026, 12, 25), (2027, 1, 1)}
    assert {dt.date(*d) for d in listed} <= ARXIV_HOLIDAYS
    # past the table: US Thanksgiving (fourth Thursday of November), 25 Dec and 1 Jan by rule
    assert Week.parse("2027-W47").announcement_days() == (
        dt.date(2027, 11, 22),
        dt.date(2027, 11, 23),
        dt.date(2027, 11, 24),
        dt.date(2027, 11, 26),
    )
    assert dt.date(2030, 11, 28) in ARXIV_HOLIDAYS and dt.date(2030, 11, 21) not in ARXIV_HOLIDAYS
    assert [d.isoweekday() for d in Week.parse("2028-W52").announcement_days()] == [2, 3, 4, 5]  # Mon 25 Dec
    assert [d.isoweekday() for d in Week.parse("2029-W01").announcement_days()] == [2, 3, 4, 5]  # Mon 1 Jan
    # no observed-day shift: 25 Dec 2027 is a Saturday, Friday 24 Dec stays an announcement day
    assert dt.date(2027, 12, 24) in Week.parse("2027-W51").announcement_days()
    # the 26 Dec 2025 closure is an override, not a rule
    assert dt.date(2025, 12, 26) not in rule_holidays(2025)
    assert dt.date(2025, 12, 26) in arxiv_holidays(range(2025, 2026))
    # the set reaches far past any run of this release
    assert max(ARXIV_HOLIDAYS).year >= dt.date.today().year + 100


def test_a_week_with_a_rule_holiday_past_the_checked_schedule_gets_a_note() -> None:
    from dltheory_digest.weeks import ARXIV_SCHEDULE_CHECKED_UNTIL, holidays_unchecked

    assert holidays_unchecked(Week.parse("2026-W48")) is None  # Thanksgiving 2026: published
    assert holidays_unchecked(Week.parse("2026-W53")) is None  # 1 Jan 2027: published
    assert holidays_unchecked(Week.parse("2027-W10")) is None  # no holiday in it
    note = holidays_unchecked(Week.parse("2027-W47")) or ""
    assert note.startswith("2027-W47: arXiv's holidays are taken by rule: 2027-11-25 (US Thanksgiving);")
    assert str(ARXIV_SCHEDULE_CHECKED_UNTIL) in note and "weeks.ARXIV_EXTRA_CLOSURES" in note
    # a holiday on the week's Saturday is named too: arXiv may close the Friday before
    assert "2027-12-25 (25 December)" in (holidays_unchecked(Week.parse("2027-W51")) or "")
