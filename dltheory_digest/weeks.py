"""ISO weeks in the configured time zone, and arXiv's announcement days inside them.

A week "2026-W47" runs from Monday 00:00 to the next Monday 00:00 in the reader's zone.
arXiv announces Sunday to Thursday at 20:00 US Eastern; its listings carry the next
weekday's date, so Monday to Friday are announcement days and weekends never are.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

WEEK_RE = re.compile(r"^(?P<year>\d{4})-?W(?P<week>\d{2})$", re.IGNORECASE)
ARXIV_ZONE = ZoneInfo("America/New_York")
# How many weeks back a run catches up on weeks a source missed or no digest went out for; a
# paper first announced in them is still `new` to readers when no digest showed it.
CATCH_UP_WEEKS = 4

# arXiv's holidays: weekdays it announces nothing on. Its published schedules (the days this
# module listed by hand: 2025-12-25/26, 2026-01-01, 2026-11-26, 2026-12-25, 2027-01-01) follow
# rules that hold every year, so those are computed and never run out: New Year's Day, US
# Thanksgiving (the fourth Thursday of November) and 25 December, on the day itself. No
# schedule so far moved one that fell on a weekend to a Friday or Monday, so none is moved.
HOLIDAY_RULES = ("New Year's Day", "US Thanksgiving", "25 December")
# Closures a published schedule added to the rules (overrides; a rule day arXiv announced on
# anyway would go in ARXIV_ANNOUNCED_ANYWAY).
ARXIV_EXTRA_CLOSURES: frozenset[dt.date] = frozenset({dt.date(2025, 12, 26)})
ARXIV_ANNOUNCED_ANYWAY: frozenset[dt.date] = frozenset()
# The last day the overrides were checked against arXiv's published schedule: after it only the
# rules are known, and a run of a week with a rule holiday says so (`holidays_unchecked`).
ARXIV_SCHEDULE_CHECKED_UNTIL = dt.date(2027, 1, 1)
# The years the holiday set spans: arXiv's first year to far past any run of this release.
HOLIDAY_YEARS = range(1991, 2200)


def rule_holidays(year: int) -> dict[dt.date, str]:
    """The days `year`'s rules close arXiv (weekends included: they are never announcement
    days anyway), each with the rule's name."""
    november_first = dt.date(year, 11, 1)
    thanksgiving = november_first + dt.timedelta(days=(3 - november_first.weekday()) % 7 + 21)
    return dict(zip((dt.date(year, 1, 1), thanksgiving, dt.date(year, 12, 25)), HOLIDAY_RULES, strict=True))


def arxiv_holidays(years: range = HOLIDAY_YEARS) -> frozenset[dt.date]:
    """The rules' days of `years`, with the published schedules' overrides applied."""
    by_rule = {day for year in years for day in rule_holidays(year)}
    return frozenset((by_rule | ARXIV_EXTRA_CLOSURES) - ARXIV_ANNOUNCED_ANYWAY)


# Days arXiv announced (or will announce) nothing although they are weekdays.
ARXIV_HOLIDAYS: frozenset[dt.date] = arxiv_holidays()


def holidays_unchecked(week: Week) -> str | None:
    """The operator's note for a week with a rule holiday after the overrides were last checked
    (`ARXIV_SCHEDULE_CHECKED_UNTIL`): the digest's announcement days follow the rules, and a
    closure arXiv added that year is not known. None for any other week."""
    days = [week.monday + dt.timedelta(days=n) for n in range(7)]
    ruled = {day: name for year in {d.year for d in days} for day, name in rule_holidays(year).items()}
    named = [f"{day} ({ruled[day]})" for day in days if day in ruled and day > ARXIV_SCHEDULE_CHECKED_UNTIL]
    if not named:
        return None
    return (
        f"{week}: arXiv's holidays are taken by rule: {', '.join(named)}; its published schedule "
        f"was checked until {ARXIV_SCHEDULE_CHECKED_UNTIL}, so a day it adds is still named an "
        "announcement day (list it in weeks.ARXIV_EXTRA_CLOSURES)"
    )


@dataclass(frozen=True, slots=True, order=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        match = WEEK_RE.match(text.strip())
        if not match:
            raise ValueError(f"not an ISO week like 2026-W47: {text!r}")
        year, number = int(match["year"]), int(match["week"])
        try:
            dt.date.fromisocalendar(year, number, 1)
        except ValueError:
            raise ValueError(f"{year} has no ISO week {number}") from None
        return cls(year, number)

    @classmethod
    def containing(cls, moment: dt.datetime | dt.date) -> Week:
        iso = moment.isocalendar()
        return cls(iso.year, iso.week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, 1)

    def window(self, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in `zone`; local midnight, so it follows daylight saving."""
        start = dt.datetime.combine(self.monday, dt.time(0, 0), tzinfo=zone)
        end = dt.datetime.combine(self.monday + dt.timedelta(days=7), dt.time(0, 0), tzinfo=zone)
        return start, end

    def has_started(self, zone: ZoneInfo, now: dt.datetime | None = None) -> bool:
        """Whether the week's Monday 00:00 in `zone` has passed."""
        return _now(now) >= self.window(zone)[0]

    def is_complete(self, zone: ZoneInfo, now: dt.datetime | None = None) -> bool:
        """Whether the week has ended in `zone` (the scheduled run digests only complete weeks)."""
        return _now(now) >= self.window(zone)[1]

    def previous(self) -> Week:
        return Week.containing(self.monday - dt.timedelta(days=7))

    def announcement_days(self, holidays: frozenset[dt.date] = ARXIV_HOLIDAYS) -> tuple[dt.date, ...]:
        """The arXiv listing dates of this week (Monday-Friday, less arXiv holidays)."""
        days = (self.monday + dt.timedelta(days=i) for i in range(5))
        return tuple(d for d in days if d not in holidays)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def announced_at(day: dt.date) -> dt.datetime:
    """When arXiv publishes the listing dated `day`: 20:00 US Eastern the evening before."""
    return dt.datetime.combine(day - dt.timedelta(days=1), dt.time(20, 0), tzinfo=ARXIV_ZONE)


def local_day(moment: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The day `moment` falls on in `zone`. 00:00 UTC is a calendar day a source gave without a
    time (`blocks.parse_date`, a Crossref or OAI date): that day as written, which a zone west
    of UTC would move a day back. A moment within hours of year 1 or 9999 (a misdated page) has
    no day in every zone: its UTC day then."""
    moment = as_utc(moment)
    if moment.time() == dt.time(0):
        return moment.date()
    try:
        return moment.astimezone(zone).date()
    except OverflowError:
        return moment.date()


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Every stage compares dates in UTC: a page's own offset ("-0400", "+08:00") is converted,
    and a date without one is taken as UTC (as SQLite hands back what was stored in UTC).
    OverflowError for a moment within hours of the calendar's ends whose offset carries it past
    them: a date read from a page goes through `utc_or_none`, which says None instead."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def utc_or_none(moment: dt.datetime | None) -> dt.datetime | None:
    """`as_utc` for a date read from a page: None when it has no UTC moment.

    A written offset can carry a moment past the calendar's ends (9999-12-31T23:59:59-14:00,
    0001-01-01T00:00:00+14:00), where `as_utc` raises OverflowError; a page's misdate is no date.
    """
    if moment is None:
        return None
    try:
        return as_utc(moment)
    except OverflowError:
        return None


def last_complete_week(zone: ZoneInfo, now: dt.datetime | None = None) -> Week:
    """The week the scheduled Monday run digests: the one that ended most recently."""
    moment = _now(now).astimezone(zone)
    return Week.containing(moment).previous()
