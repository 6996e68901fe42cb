"""The contract every source kind fulfils.

A kind says which URLs to fetch first (`plan`) and turns one response's bytes into
items (`parse`); it never does I/O. Paging (API `start`, OAI resumption tokens) is
expressed through `ParseResult.next_urls`, which the collector follows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from dltheory_digest.config import SourceSpec
from dltheory_digest.errors import ParseError
from dltheory_digest.models import ParseResult, RawPage
from dltheory_digest.weeks import ARXIV_HOLIDAYS, as_utc


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def utc_dates_of(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    """The first and last UTC dates a window [start, end) touches (its end is not in it)."""
    return as_utc(start).date(), (as_utc(end) - dt.timedelta(microseconds=1)).date()


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What a kind may use to decide what to fetch: the week window, a backfill date and its cursor."""

    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    since: dt.date | None = None
    cursor: Mapping[str, str] = field(default_factory=dict)
    # the `arxiv_api_base` setting: where arxiv_api queries go when the source gives no url
    arxiv_api_base: str | None = None

    # The window is [start, end): a week ends at the next Monday 00:00, which belongs to the
    # next week. A kind that fetches by date gets its dates here, never from `.date()` of an end.

    def utc_dates(self) -> tuple[dt.date, dt.date] | None:
        """The first and last UTC dates the window touches, for services that date by UTC day
        (OAI-PMH `from`). In a zone ahead of UTC the first is the Sunday before the local
        Monday, so the week's first hours are not lost. None without both ends."""
        if self.window_start is None or self.window_end is None:
            return None
        return utc_dates_of(self.window_start, self.window_end)

    def listing_days(
        self,
        *,
        first: dt.date | None = None,
        last: dt.date | None = None,
        holidays: frozenset[dt.date] = ARXIV_HOLIDAYS,
    ) -> tuple[dt.date, ...]:
        """arXiv listing dates from `first` to `last`: weekdays less arXiv's holidays.

        `first` defaults to `since` (a backfill), else the window's first day; `last` to the
        window's last day. Days are the window's own (the reader's zone), so a week's listings
        are Monday to Friday as in `Week.announcement_days()`. () when either end is unknown.
        """
        first = first or self.since or (self.window_start.date() if self.window_start else None)
        if last is None and self.window_end is not None:
            end = self.window_end
            if end.tzinfo is not None and self.window_start is not None and self.window_start.tzinfo:
                end = end.astimezone(self.window_start.tzinfo)
            last = (end - dt.timedelta(microseconds=1)).date()
        if first is None or last is None:
            return ()
        days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
        return tuple(day for day in days if day.weekday() < 5 and day not in holidays)


Entry = TypeVar("Entry")
Read = TypeVar("Read")


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_entries(
    entries: Iterable[Entry],
    read: Callable[[Entry], Read],
    *,
    source_id: str,
    name: Callable[[Entry], str],
    url: str | None = None,
) -> tuple[list[Read], list[str]]:
    """`read` each entry of a page; one that raises is left out with a warning, the rest are kept.

    A page holds many entries written by many hands: one impossible date or field of the wrong
    type must not lose the others. Returns (what `read` returned for each readable entry, in
    order, None included; one warning per entry left out, naming it by `name` cut short).
    When there were entries and every one raised, the page is unreadable as a whole: a
    ParseError with the first cause, so the source fails visibly rather than look empty.
    Errors raised while iterating `entries` (the document itself is broken) pass through.
    """
    results: list[Read] = []
    warnings: list[str] = []
    first_error: str | None = None
    count = 0
    for entry in entries:
        count += 1
        try:
            results.append(read(entry))
        except MemoryError:
            raise  # the process's trouble, not the entry's
        except Exception as exc:  # whatever one entry does, the others are kept
            try:
                label = _short(name(entry)) or f"entry {count}"
            except Exception:  # a name that cannot be read is its position
                label = f"entry {count}"
            cause = _short(f"{type(exc).__name__}: {exc}", 160)
            first_error = first_error or cause
            warnings.append(f"{label} skipped: could not be read ({cause})")
    if count and not results:
        what = (
            f"the page's only entry could not be read: {first_error}"
            if count == 1
            else f"none of the page's {count} entries could be read; the first: {first_error}"
        )
        raise ParseError(source_id, what, url=url)
    return results, warnings


PlanFn = Callable[[SourceSpec, BaseModel, PlanContext], tuple[str, ...]]
ParseFn = Callable[[RawPage, BaseModel], ParseResult]


def plan_spec_urls(spec: SourceSpec, options: BaseModel, ctx: PlanContext) -> tuple[str, ...]:
    """Default plan: the URL(s) written in sources.yaml."""
    return spec.all_urls


def never(options: BaseModel) -> bool:
    """`SourceKind.dated_plan` of a kind that never fetches by date."""
    return False


def always(options: BaseModel) -> bool:
    """`SourceKind.dated_plan` of a kind that always fetches by date."""
    return True


def no_plan_warnings(spec: SourceSpec, options: BaseModel, ctx: PlanContext) -> tuple[str, ...]:
    """`SourceKind.plan_warnings` of a kind whose plan leaves nothing out."""
    return ()


@dataclass(frozen=True, slots=True)
class SourceKind:
    name: str
    parse: ParseFn
    plan: PlanFn = plan_spec_urls
    options: type[BaseModel] = NoOptions
    description: str = ""
    arxiv: bool = False  # talks to arXiv: shares arXiv's one-request-per-3-s limit
    needs_url: bool = True  # sources.yaml must give `url`/`urls`
    # cap on the pages followed from `next_urls` per run; the pages `plan` asks for are all read
    max_pages: int = 50
    # Whether `next_urls` page through one result set (OAI resumption, API `start`): pages left
    # at the cap are results asked for and not read, so the source fails (its cursor stays).
    # Otherwise they reach back into a site's history (older articles): the cap ends the
    # reading back, with a warning.
    paged_results: bool = False
    # Whether a plan with these options fetches by date (the week window, `--since`), so a run
    # can reach back to weeks the source missed; a feed or a page shows only what it shows now.
    dated_plan: Callable[[BaseModel], bool] = never
    # Whether "Seen in" links the source's own page when a sighting links the paper itself;
    # not for arXiv's own listings, whose sightings need no link (the title links the abstract).
    linked_page: bool = True
    # A curated page listing resources (videos, courses): one it listed in an earlier week is
    # not announced again when it reappears (`pipeline.new_resources`).
    curated_list: bool = False
    # Each page stands on its own (one listing per day, one thread per page): a page that is
    # gone (HTTP 404/410) is skipped with a warning and the others are kept. Not for pages that
    # chain (OAI resumption, API paging), where a lost page loses everything after it.
    independent_pages: bool = False
    # What the report should say about the plan itself (a range it left out on purpose).
    plan_warnings: Callable[[SourceSpec, BaseModel, PlanContext], tuple[str, ...]] = no_plan_warnings

    def options_for(self, spec: SourceSpec) -> BaseModel:
        return self.options.model_validate(spec.options)

    def plans_by_date(self, spec: SourceSpec) -> bool:
        """Whether this source's plan fetches by date (`dated_plan` with its options)."""
        return self.dated_plan(self.options_for(spec))

    def validate_spec(self, spec: SourceSpec) -> None:
        """Raise pydantic's ValidationError for bad options, ValueError for a missing URL."""
        self.options_for(spec)
        if self.needs_url and not spec.all_urls:
            raise ValueError("field 'url': this kind needs a url (or urls)")

    def parse_bytes(
        self,
        content: bytes,
        *,
        url: str = "",
        source_id: str | None = None,
        options: Mapping[str, Any] | None = None,
        content_type: str = "",
    ) -> ParseResult:
        """Parse a saved response without a SourceSpec (used by `dltheory-digest parse`)."""
        page = RawPage(
            source_id=source_id or self.name, url=url, status=200, content=content, content_type=content_type
        )
        return self.parse(page, self.options.model_validate(dict(options or {})))
