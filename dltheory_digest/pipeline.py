"""The pipeline as plain functions. flows/ wraps them in Prefect tasks and adds the orchestration
(the week lock, concurrency, retries, artifacts) and, for now, the run's last decisions (keep or
publish the digest, whom to mail or hold back, the operator's notes, the run's `RunResult`).

    collect_source (per source) -> record_collection (store) -> build_week:
        resolve -> language -> identity (+ sent-ledger) -> directions -> digest -> render
    -> publish_week (store + outputs/<week>.md)

Every function here is testable without Prefect; I/O goes through the injected
PoliteClient (fetch) and Store (store).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict
from zoneinfo import ZoneInfo

from dltheory_digest.config import EMAIL_SHAPE, Politeness, Settings, SourceSpec
from dltheory_digest.errors import ConfigError, DigestError, FetchError, RobotsDisallowed, SourceError
from dltheory_digest.fetch import HTTPStatusError, RobotsUnreadable, on_this_machine
from dltheory_digest.models import (
    NOTE_MISSED_WEEKS,
    Classification,
    Digest,
    DoiRecord,
    FetchRecord,
    Item,
    ItemKind,
    Note,
    NoteKind,
    Paper,
    PaperCluster,
    RawPage,
    SourceReport,
    TitleMiss,
)
from dltheory_digest.redaction import redact, redact_url
from dltheory_digest.sources import REGISTRY, PlanContext, arxiv_source_ids
from dltheory_digest.sources.base import utc_dates_of
from dltheory_digest.store import Store
from dltheory_digest.store import records as store_records
from dltheory_digest.weeks import ARXIV_ZONE, CATCH_UP_WEEKS, Week, last_complete_week, local_day

if TYPE_CHECKING:
    from dltheory_digest.directions import DirectionClassifier, Taxonomy
    from dltheory_digest.language import Translator
    from dltheory_digest.mail import DeliveryResult
    from dltheory_digest.resolve import ResolveResult

ZERO_ITEMS_WARNING = "0 items parsed from a 200 response (has the page layout changed?)"
# statuses that say a page is not there (rather than a server in trouble): a page that stands
# alone (a URL listed in sources.yaml, any page of a `SourceKind.independent_pages` kind) is
# skipped when it says so
GONE_STATUSES = frozenset({404, 410})


@dataclass(frozen=True, slots=True)
class Collected:
    """What one source gave this run."""

    source_id: str
    items: tuple[Item, ...]
    report: SourceReport
    cursor: Mapping[str, str] = field(default_factory=dict)


class HttpClient(Protocol):
    """The part of fetch.PoliteClient the pipeline needs."""

    def get(
        self,
        url: str,
        *,
        source_id: str,
        politeness: Politeness = ...,
        headers: Mapping[str, str] | None = None,
        origin: str | None = None,
    ) -> RawPage: ...

    def add_record(self, record: FetchRecord) -> None: ...

    def drain_warnings(self, source_id: str) -> list[str]: ...


def collect_source(spec: SourceSpec, client: HttpClient, ctx: PlanContext) -> Collected:
    """Fetch and parse one source; any failure becomes part of its report, never an exception."""
    kind = REGISTRY[spec.kind]
    options = kind.options_for(spec)
    started = time.perf_counter()
    items: list[Item] = []
    warnings: list[str] = []
    error: str | None = None
    fetched = cache_hits = 0
    cursor: dict[str, str] = dict(ctx.cursor)
    try:
        planned = kind.plan(spec, options, ctx)
        warnings.extend(kind.plan_warnings(spec, options, ctx))
    except Exception as exc:  # a plan that cannot be built is this source's error only
        planned = ()
        error = f"[{spec.id}] cannot plan requests: {_own_detail(exc, spec.id)}"
    # (url, origin): every page the plan asks for is read (the operator's URLs, the plan's
    # days; origin None); `max_pages` caps only the pages responses chain to (`next_urls`),
    # against paging that never ends. A chained page keeps the page that named it as origin:
    # the fetcher's guard is decided from there, so a public page cannot chain to 127.0.0.1.
    queue: deque[tuple[str, str | None]] = deque((url, None) for url in planned)
    chained_read = 0
    cut: list[str] = []  # chained pages left unread at the cap
    total_results: int | None = None  # the size of the result set, when the service says it
    seen_urls: set[str] = set()
    # The URLs listed in sources.yaml do not depend on each other: one deleted does not make
    # the others wrong. A page another chains to (API paging, OAI resumption) is not on its own.
    listed = frozenset(spec.all_urls)
    read = 0  # pages received (a 2xx response)
    gone: list[tuple[str, HTTPStatusError]] = []  # pages on their own that are not there (skipped)
    refused: list[RobotsDisallowed] = []  # listed pages robots.txt forbids (skipped)
    offline = False
    while queue:
        url, origin = queue.popleft()
        chained = origin is not None
        if url in seen_urls:
            continue
        if chained and chained_read >= kind.max_pages:
            cut.append(url)
            continue
        seen_urls.add(url)
        chained_read += chained
        try:
            page = client.get(url, source_id=spec.id, politeness=spec.politeness, origin=origin)
        except RobotsUnreadable as exc:
            # the site's robots.txt could not be read (a 503): shut for now, not for ever, so
            # the source fails and the next run reads the page
            warnings.append(f"not fetched, {exc.detail}")
            error = error or str(exc)
            continue
        except RobotsDisallowed as exc:
            if url in listed:
                # the site's own rule: no run will ever read it, so it is the user's to remove;
                # the other listed pages still count
                warnings.append(_disallowed_warning(url, exc))
                refused.append(exc)
                continue
            # a page another chains to: without it the harvest has a hole
            warnings.append(f"not fetched, {exc.detail}")
            error = error or str(exc)
            continue
        except HTTPStatusError as exc:
            # a 404 is still a response received: "Fetched 1", with the error beside it
            fetched += 1
            if exc.status in GONE_STATUSES and (kind.independent_pages or url in listed):
                # one day's listing, one listed page that is not there: the pages already read
                # (and those after it) still count; the source fails only when none could be read
                gone.append((url, exc))
                continue
            # an error status may still carry the service's own explanation (arXiv's error feed)
            error = str(exc)
            try:
                explained = kind.parse(exc.page, options)
            except Exception:
                explained = None
            if explained is not None and explained.error:
                error = f"[{spec.id}] HTTP {exc.status}: {explained.error}"
            break
        except FetchError as exc:
            error = str(exc)
            offline = exc.unreachable is not None and exc.unreachable.offline
            break
        fetched += 1
        read += 1
        cache_hits += int(page.from_cache)
        try:
            result = kind.parse(page, options)
        except Exception as exc:  # a parser bug or unreadable bytes: report it, keep the run going
            # a ParseError already names the source: keep its message, not its "[id]" again
            detail = exc.detail if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
            error = f"[{spec.id}] cannot parse {url}: {detail}"
            # so `sources check` does not count this fetch as the source's last success
            client.add_record(store_records.unusable_record(page, detail))
            break
        warnings.extend(result.warnings)
        if result.error:
            error = f"[{spec.id}] {result.error}"
            client.add_record(store_records.unusable_record(page, result.error))
            break
        if not result.items and not result.warnings and page.status == 200:
            warnings.append(f"{ZERO_ITEMS_WARNING}: {url}")
        items.extend(_owned(i, spec) for i in result.items)
        cursor.update(dict(result.cursor))
        total_results = result.total_results if result.total_results is not None else total_results
        queue.extend((u, url) for u in result.next_urls if u not in seen_urls)
    if cut:
        stopped = f"stopped after following {kind.max_pages} next pages; {len(cut)} more not fetched"
        if kind.paged_results:
            # the pages cut are the rest of the results asked for (an OAI harvest, an API
            # query): the source fails, so its cursor stays and the next run's backfill
            # reaches back for them, instead of moving past records never read. Only the
            # service knows how far the results go on (one token names only the next page).
            size = f" ({total_results} results in all)" if total_results is not None else ""
            remedy = (
                f"reaching back to {ctx.since} is too much for one run: refresh with a later "
                "--since, or narrow its query"
                if ctx.since
                else "narrow its query"
            )
            error = error or (
                f"[{spec.id}] the results continue beyond the {kind.max_pages} next pages a run "
                f"follows{size}, so they are incomplete: {remedy}"
            )
        else:
            # the pages cut reach back into the site's history (a column's older articles, a
            # forum's older threads): the cap is where reading back stops, and failing would
            # not help, since the next run stops at the same page
            warnings.append(stopped)
    # what the client had to say about this source's fetches (a capped robots.txt Crawl-delay)
    warnings.extend(client.drain_warnings(spec.id))
    noun = "listing" if kind.independent_pages else "page"
    skipped = [str(exc) for _, exc in gone] + [str(exc) for exc in refused]
    if skipped and not read:
        what = "disallowed" if not gone else "gone or disallowed" if refused else "gone"
        more = f" (and {len(skipped) - 1} more {noun}(s) {what})" if len(skipped) > 1 else ""
        error = error or f"{skipped[0]}{more}"
    elif gone:
        warnings.extend(f"{noun} {url}: HTTP {exc.status}, skipped" for url, exc in gone)
    report = SourceReport(
        source_id=spec.id,
        kind=spec.kind,
        fetched=fetched,
        parsed=len(items),
        cited=sum(len(i.cited) for i in items),
        cache_hits=cache_hits,
        warnings=tuple(dict.fromkeys(warnings)),
        error=error,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        offline=offline and error is not None,
        since=ctx.since.isoformat() if ctx.since else None,
    )
    # a failed collection leaves the cursor where it was: the pages it did not read (the rest
    # of an OAI harvest) are read by the next run, not skipped by a cursor moved past them
    return Collected(
        spec.id, tuple(items), redacted_report(report), cursor if error is None else dict(ctx.cursor)
    )


def redacted_report(report: SourceReport) -> SourceReport:
    """`report` with the credentials in the URLs its lines quote (a private feed's
    `?access_token=`, a `user:pass@` host) replaced by REDACTED (`redaction.redact`): its lines go
    to the console, the run's artifact and log, the store and the digest every reader gets."""
    warnings = tuple(dict.fromkeys(redact(w) for w in report.warnings))
    error = redact(report.error) if report.error else report.error
    if (warnings, error) == (report.warnings, report.error):
        return report
    return dataclasses.replace(report, warnings=warnings, error=error)


def _own_detail(exc: Exception, source_id: str) -> str:
    """An exception's text for a line that already starts with "[source_id]": without the
    exception's own naming of that same source."""
    if isinstance(exc, SourceError) and exc.source_id == source_id:
        return exc.detail
    if isinstance(exc, ConfigError) and exc.source_id == source_id:
        # a ConfigError's message names its source ("source 'id': field ...") for the CLI
        return str(exc).removeprefix(f"source {source_id!r}: ")
    return str(exc)


def _disallowed_warning(url: str, exc: RobotsDisallowed) -> str:
    """What a source's report says of a listed page its site's robots.txt forbids."""
    if exc.url and exc.url != url:
        why = f"it redirects to {exc.url}, which the site's robots.txt disallows"
    else:
        why = "the site's robots.txt disallows it"
    return f"page {url}: {why}, so it can never be fetched; remove it from sources.yaml"


def _owned(item: Item, spec: SourceSpec) -> Item:
    """Stamp an item with its source id and, when the parser could not tell, the source's language."""
    changes: dict[str, object] = {}
    if item.source_id != spec.id:
        changes["source_id"] = spec.id
    if item.lang is None and item.kind is not ItemKind.OTHER:
        changes["lang"] = spec.lang
    if item.cited:
        changes["cited"] = tuple(_owned(c, spec) for c in item.cited)
    return dataclasses.replace(item, **changes) if changes else item  # type: ignore[arg-type]


def expand_mentions(items: Sequence[Item]) -> list[Item]:
    """Papers and mentions of the week, including the papers that posts link to.

    A paper cited by a post is seen *in that post*: its sighting links to the post, and
    the link it was cited with stays in `links`.
    """
    out: list[Item] = []
    for item in items:
        if item.kind is ItemKind.POST:
            out.extend(_seen_in(item, c) for c in item.cited)
        elif item.kind in (ItemKind.PAPER, ItemKind.MENTION):
            out.append(item)
    return out


def _seen_in(post: Item, cited: Item) -> Item:
    """A paper a post cites, as a sighting in that post (the link it had stays in `links`)."""
    return dataclasses.replace(
        cited,
        source_id=post.source_id,
        url=post.url or cited.url,
        links=tuple(dict.fromkeys((*cited.links, *((cited.url,) if cited.url else ())))),
    )


@dataclass(frozen=True, slots=True)
class WeekBuild:
    """Everything build_week produced for one week."""

    digest: Digest
    markdown: str
    clusters: tuple[PaperCluster, ...]
    classifications: Mapping[str, Classification]
    notes: tuple[Note, ...] = ()
    translation_hits: int = 0
    translation_new: int = 0
    # outputs discarded as unusable (the original kept), not counted in the two above
    translation_hits_discarded: int = 0
    translation_new_discarded: int = 0
    updated_keys: frozenset[str] = frozenset()  # papers shown under "Updated and newly discussed"
    # the digest as it was sent, reused because later weeks have been sent since (`sent_digest`)
    frozen: bool = False
    # a frozen digest written while its week was under way: it reached no reader, and the
    # weeks after it showed its papers, so it is not mailed now either
    partial: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """The digest's own counts ("papers" excludes the appendix and unconfirmed mentions):
        what a console summary should print so that it agrees with the digest and the mail."""
        return dict(self.digest.counts)


@dataclass(frozen=True, slots=True)
class Stages:
    """The stage implementations a week is built with (swappable in tests)."""

    translator: Translator | None  # None: items keep their original language
    classifier: DirectionClassifier
    taxonomy: Taxonomy


def build_week(
    store: Store,
    week: Week,
    *,
    zone_name: str,
    specs: Sequence[SourceSpec],
    fetch_bytes: Callable[[str], bytes] | None,
    stages: Stages,
    relevance_threshold: float,
    api_base: str = "https://export.arxiv.org/api/query",
    now: dt.datetime | None = None,
    crossref_api_base: str | None = None,
    crossref_mailto: str | None = None,
    resend: bool = False,
) -> WeekBuild:
    """Turn the sightings attributed to `week` into its digest (deterministic for a given store).

    A week its readers already have is not rebuilt: its digest as sent comes back (`sent_digest`),
    unless `resend` (the readers are to get the week as rebuilt).

    With a `crossref_api_base`, a journal DOI arXiv does not resolve is looked up on Crossref
    (`resolve.resolve`), so its entry shows the paper's title rather than a citation's link text.
    What Crossref said is stored and used from then on, with or without a `crossref_api_base`:
    a rebuilt week reads the same with Crossref down.

    `now` (default: the clock) tells a week still under way, whose digest is partial, and which
    title searches that found nothing are recent enough not to be made again."""
    from zoneinfo import ZoneInfo

    from dltheory_digest import digest as digest_stage
    from dltheory_digest import directions, identity, language, resolve
    from dltheory_digest.digest.build import EMERGING_MAX_SIZE, EMERGING_MIN_SIZE, classify_posts
    from dltheory_digest.identity import novelty
    from dltheory_digest.identity.normalize import is_latin
    from dltheory_digest.store import ledger

    frozen = sent_digest(store, week, resend=resend)
    if frozen is not None:
        return frozen
    zone = ZoneInfo(zone_name)
    window_start, window_end = week.window(zone)
    week_id = str(week)
    names = {s.id: s.display_name for s in specs}
    # the weeks before this one that no digest went out for (no run, only a refresh while they
    # were under way, a run stopped before its digest): what they saw is shown here, or no
    # reader would ever get it; a week still under way takes none (`backfill_since`)
    # ... unless a later week went out: that digest caught up on them (and said so), so an old
    # week built now would show their papers and repeat its note
    catches_up = week.is_complete(zone, now) and not later_week_sent(store, week)
    unfinished = unfinished_weeks(store, week, zone) if catches_up else []
    notes: list[Note] = [*missed_weeks_note(store, week, unfinished=unfinished)]

    sightings = store_records.items_of_week(store, week_id)
    sightings += [i for w in unfinished for i in store_records.items_of_week(store, str(w))]
    posts: Sequence[Item] = [i for i in sightings if i.kind is ItemKind.POST]
    paperish: Sequence[Item] = expand_mentions(sightings)
    list_sources = {s.id for s in specs if REGISTRY[s.kind].curated_list}
    others = new_resources(store, week, sightings, list_sources)

    # resolve: arXiv metadata for every id (stored papers first), titles for the rest;
    # Crossref's stored records first too, and the arXiv papers they were found to be
    known_dois = store_records.load_doi_records(store, resolve.journal_dois(paperish))
    ids = {i.arxiv_id for i in paperish if i.arxiv_id}
    ids |= {p for r in known_dois.values() for p in (r.arxiv_id, *r.preprints) if p}
    known = store_records.load_papers(store, ids)
    unresolved: Mapping[str, int] = {}
    doi_papers: Mapping[str, Paper] = {}
    # title searches that found nothing in the last days are not made again
    searched_at = now or dt.datetime.now(dt.UTC)
    title_misses: Mapping[tuple[str, str], TitleMiss] = {}
    if fetch_bytes is not None:
        title_misses = store_records.load_title_misses(store, since=searched_at - resolve.TITLE_MISS_KEPT)
        # arXiv's own listing items already carry its metadata: only the rest need API look-ups
        first = _resolve_and_save(
            store,
            paperish,
            posts,
            fetch_bytes,
            searched_at=searched_at,
            known=known,
            api_base=api_base,
            title_misses=title_misses,
            listing_sources=arxiv_source_ids((s.id, s.kind) for s in specs),
            crossref_api_base=crossref_api_base,
            crossref_mailto=crossref_mailto,
            known_dois=known_dois,
        )
        resolved = first.result
        doi_papers = resolved.doi_papers
        papers = {**known, **resolved.papers}
        notes.extend(resolved.notes)
        unresolved = resolved.unresolved_by_source()
        paperish, posts = first.papers, first.posts
    else:
        papers = dict(known)

    # language: detect, normalize, translate (keeping the original)
    # posts too: a Zhihu article's title reads in English, linked, with the original beside it
    # and the videos and courses notes pages list, whose titles and remarks read in English too
    localized = language.localize_items(
        [*paperish, *posts, *others], stages.translator, declared={s.id: s.lang for s in specs}
    )
    notes.extend(localized.notes)
    localized_papers = localized.items[: len(paperish)]
    localized_posts = localized.items[len(paperish) : len(paperish) + len(posts)]
    localized_others = localized.items[len(paperish) + len(posts) :]
    if fetch_bytes is not None:
        # a Chinese or Arabic title can be searched on arXiv only once it is translated
        translated_only = [
            i
            for i in localized_papers
            if not i.arxiv_id and not i.doi and i.title_en and not is_latin(i.title)
        ]
        if translated_only:
            again = _resolve_and_save(
                store,
                translated_only,
                localized_posts,
                fetch_bytes,
                searched_at=searched_at,
                known=papers,
                api_base=api_base,
                title_misses=title_misses,
                rekey=localized_papers,
            )
            papers.update(again.result.papers)
            notes.extend(again.result.notes)
            unresolved = dict(unresolved)
            for source_id, _ in again.found_ids:
                unresolved[source_id] = max(0, unresolved.get(source_id, 0) - 1)
            localized_papers, localized_posts = again.papers, again.posts
    # every sighting keeps its detected language, English title/text and translating model
    store_records.save_items(store, [*localized_papers, *localized_posts, *localized_others])

    # identity: one cluster per paper; the sent-ledger decides what is new. Crossref's records
    # are candidates too, so a title-only mention of a journal paper joins its DOI citation;
    # and so are the arXiv papers sent in recent weeks, so a mention naming one in other words
    # (a translated title, a citation's "arXiv preprint" tail) takes its key, not a new one.
    # What a partial digest of an unfinished week recorded never reached a reader.
    skipped = {str(w) for w in unfinished}
    # only a sighting without an arXiv id can name a sent arXiv paper in other words, and only
    # one whose title shares its words: the cost follows the week's title-only sightings, not
    # the year of digests behind it (`benchmarks/bench_sent_candidates.py`)
    sent = ledger.sent_papers(
        store,
        since=str(sent_horizon(week)),
        before=week_id,
        skip_weeks=skipped,
        wanted=novelty.sent_paper_filter(localized_papers),
    )
    candidates = {
        **novelty.sent_candidates(sent),
        **papers,
        **{f"doi:{doi}": paper for doi, paper in doi_papers.items()},
    }
    clusters = identity.cluster_items(localized_papers, candidates, source_names=names)
    # what Chinese and Arabic sources say about each paper, in English and as written
    clusters = digest_stage.with_item_texts(clusters, localized_papers)
    # a journal paper only Crossref knows: its title, authors and venue, not the link text
    clusters = resolve.with_doi_papers(clusters, doi_papers)
    # a paper sent as a title-only mention, back as an arXiv paper or in other words
    sent_as = novelty.match_sent(clusters, sent)
    # every key a paper was ever known by: one first sent as a title-only mention stays sent
    wanted = [k for c in clusters for k in (*identity.history_keys(c), *sent_as.get(c.paper.key, ()))]
    history = ledger.load_history(store, wanted)
    history = {k: [e for e in entries if e.week not in skipped] for k, entries in history.items()}
    fresh, updated = identity.split_by_novelty(clusters, history, week_id, sent_as=sent_as)

    # directions: classify every paper shown (new and updated)
    shown = list(fresh) + [c for c, _ in updated]
    # a paper known by its abstract only (a Shamra related paper shown without its title) is
    # scored on that abstract, not on the label made from it
    abstracts = {
        f"{i.source_id}|{i.key}": i.text_en or i.text
        for i in localized_papers
        if dict(i.extra).get("evidence") == "abstract_only"
    }
    rows = [
        (c.paper.title, c.paper.abstract or next((abstracts[k] for k in c.item_keys if k in abstracts), ""))
        for c in shown
    ]
    classes = stages.classifier.classify_many(rows)
    classifications = {c.paper.key: k for c, k in zip(shown, classes, strict=True)}
    # Emerging groups the unconfident papers of the digest's body, the new papers at or above the
    # threshold: one below it is in the appendix, and grouping it would show it twice and let
    # off-topic papers chain a group together. The body also weighs the words.
    body = [i for i, k in enumerate(classes[: len(fresh)]) if directions.is_relevant(k, relevance_threshold)]
    groups = directions.emerging_groups(
        [rows[i] for i in body],
        [classes[i] for i in body],
        min_size=EMERGING_MIN_SIZE,
        max_size=EMERGING_MAX_SIZE,
    )
    emerging = [[fresh[body[j]].paper.key for j in group] for group in groups]
    # posts are scored as papers are: one citing none of the week's papers that scores under
    # the threshold goes to the appendix, not to every reader (`build_digest`)
    post_classifications = classify_posts(localized_posts, stages.classifier.classify_many)

    direction_list = [(d.id, d.name) for d in stages.taxonomy.directions]
    # mentions no paper could be found for are kept (they still show) and counted per source
    reports = [
        dataclasses.replace(r, unresolved=unresolved.get(r.source_id, r.unresolved))
        for r in store_records.week_reports_of(store, week_id)
    ]
    # a blog read for the first time: its feed's posts from before the week are listed apart
    backlog_posts, first_reads = first_read_backlog(
        store, [week, *unfinished], specs, localized_posts, reports, zone
    )
    notes.extend(first_reads)
    built = digest_stage.build_digest(
        week=week_id,
        window_start=window_start,
        window_end=window_end,
        timezone=zone_name,
        clusters=fresh,
        classifications=classifications,
        directions=direction_list,
        updated=updated,
        posts=localized_posts,
        reports=reports,
        relevance_threshold=relevance_threshold,
        emerging=emerging,
        announcement_days=week.announcement_days(),
        notes=sorted(set(notes)),
        models=localized.models,
        source_names=names,
        source_langs={s.id: s.lang for s in specs},
        source_pages=source_pages(specs),
        # by kind, of the sources configured and of those this week's reports name (one since removed)
        arxiv_sources=arxiv_source_ids(
            [*((s.id, s.kind) for s in specs), *((r.source_id, r.kind) for r in reports)]
        ),
        list_sources=list_sources,
        others=localized_others,
        post_classifications=post_classifications,
        backlog_posts=backlog_posts,
    )
    if not week.is_complete(zone, now):
        # a week under way: the digest says it is partial, and up to when
        built = dataclasses.replace(built, covers_until=min(now or dt.datetime.now(dt.UTC), window_end))
    markdown = digest_stage.render_markdown(built)
    return WeekBuild(
        digest=built,
        markdown=markdown,
        clusters=tuple(shown),
        classifications=classifications,
        notes=tuple(sorted(set(notes))),
        translation_hits=localized.cache_hits,
        translation_new=localized.new_translations,
        translation_hits_discarded=localized.hits_discarded,
        translation_new_discarded=localized.new_discarded,
        updated_keys=frozenset(c.paper.key for c, _ in updated),
    )


def first_read_backlog(
    store: Store,
    weeks: Sequence[Week],
    specs: Sequence[SourceSpec],
    posts: Sequence[Item],
    reports: Sequence[SourceReport],
    zone: ZoneInfo,
) -> tuple[frozenset[str], list[Note]]:
    """The posts (by `post_id`) a blog had out before `weeks` (this digest's week and those it
    catches up on), read with its first read, and a note per blog saying so.

    A feed holds a blog's latest posts, years of them for a quiet one (Distill's whole back
    catalogue): read for the first time, they are no news, and the papers only they cite would
    fill the direction sections. First read: the store holds no sighting of the source in a week
    before `weeks` (what the store holds, so a rebuild of the week says the same). A source
    read from a day the run was asked for (`--since`: `SourceReport.since`) keeps its posts from
    that day as the week's. Sources planned by date, arXiv's and curated lists (whose first read
    is their backlog already, `build_digest`) are left alone; undated posts stay."""
    from dltheory_digest.digest.build import post_id

    first_week = min(weeks)
    candidates = {
        s.id
        for s in specs
        if not (kind := REGISTRY[s.kind]).arxiv and not kind.curated_list and not kind.plans_by_date(s)
    } & {p.source_id for p in posts}
    if not candidates:
        return frozenset(), []
    read_before = {
        item.source_id
        for attributed, item in store_records.attributed_sightings(store, sorted(candidates))
        if attributed < str(first_week)
    }
    start = first_week.window(zone)[0]
    since = {r.source_id: r.since for r in reports if r.since}
    earlier: dict[str, list[Item]] = {}
    for post in posts:
        if post.source_id not in candidates - read_before:
            continue
        when = post.published or post.updated
        cutoff = start
        if post.source_id in since:
            asked = dt.datetime.combine(dt.date.fromisoformat(since[post.source_id]), dt.time(), tzinfo=zone)
            cutoff = min(start, asked)
        if when is not None and when < cutoff:
            earlier.setdefault(post.source_id, []).append(post)
    names = {s.id: s.display_name for s in specs}
    notes = [
        Note(
            NoteKind.OTHER,
            f"first read of {names.get(source_id, source_id)}: its {len(found)} post(s) from before "
            f"{first_week} are listed once, apart, not as this week's; older papers only they cite "
            "are with a list's backlog",
        )
        for source_id, found in sorted(earlier.items())
    ]
    return frozenset(post_id(p) for found in earlier.values() for p in found), notes


# How far back the papers sent are candidates for this week's sightings (`build_week`): a
# paper discussed again within a year, under other words, is recognised. Beyond it only its
# exact keys (arXiv id, DOI, title) are; `benchmarks/bench_sent_candidates.py` measures the cost.
SENT_CANDIDATE_WEEKS = 52


def sent_horizon(week: Week, weeks: int = SENT_CANDIDATE_WEEKS) -> Week:
    """The first week whose sent papers are candidates when `week` is built."""
    return Week.containing(week.monday - dt.timedelta(weeks=weeks))


def new_resources(
    store: Store, week: Week, sightings: Sequence[Item], list_sources: Collection[str]
) -> list[Item]:
    """The week's videos and courses (`digest.resource_category`) that no page listed in an
    earlier week. The store attributes each page's sighting to the week it was first seen, so
    a page lists a resource once; this drops one that a notes page already listed in an earlier
    week, so that a course two pages add in turn is announced once. Links are compared by
    `digest.resource_key` (youtu.be/ID and youtube.com/watch?v=ID&t=9 are one video); a
    sighting of a later week (a rebuilt week) does not count."""
    from dltheory_digest import digest as digest_stage

    found = [i for i in sightings if digest_stage.resource_category(i)]
    if not found or not list_sources:
        return found
    wanted = {digest_stage.resource_key(i) for i in found}
    # resources are keyed "url:" or "title:" (Item.key); papers and mentions are not looked at
    listed = store_records.attributed_sightings(store, sorted(list_sources), key_prefixes=("url:", "title:"))
    # the digest's own sightings (this week's, and those of unfinished weeks it catches up on)
    # are not "before"; nor is a later week's (a week built again)
    shown_now = {(i.source_id, i.key) for i in sightings}
    listed_before = {
        key
        for when, item in listed
        if when < str(week)
        and (item.source_id, item.key) not in shown_now
        and (key := digest_stage.resource_key(item)) in wanted
    }
    return [i for i in found if digest_stage.resource_key(i) not in listed_before]


def source_pages(specs: Sequence[SourceSpec]) -> dict[str, str | None]:
    """The page a sighting links when its source linked the paper itself (a notes page's
    arXiv link): the source's own page. arXiv listings are left out (their sightings get
    no link: the paper's title already links its abstract), and so are sources read from
    several URLs (no one page to point at) or from this machine (the demo's snapshot
    server: a loopback address means nothing to a reader of the mail). An aggregator of arXiv
    papers (papers.cool, arxivdaily) is linked: its page is what the reader would not find
    from the title (`SourceKind.linked_page`). A URL that carries a credential (a private
    feed's `?access_token=`: `redaction.redact_url` changes it) is not linked either: the digest
    is mailed to every reader, and a redacted link would lead nowhere; the source's name shows."""
    pages: dict[str, str | None] = {}
    for spec in specs:
        if not REGISTRY[spec.kind].linked_page:
            continue
        urls = {u for u in (spec.url, *spec.urls) if u}
        if len(urls) == 1 and not on_this_machine(*urls) and not _carries_credentials(*urls):
            pages[spec.id] = urls.pop()
    return pages


def _carries_credentials(url: str) -> bool:
    return redact_url(url) != url


@dataclass(frozen=True, slots=True)
class _Resolved:
    result: ResolveResult
    # (source id, item key) -> the arXiv id a title search found
    found_ids: Mapping[tuple[str, str], str]
    papers: tuple[Item, ...]
    posts: tuple[Item, ...]


def _resolve_and_save(
    store: Store,
    items: Sequence[Item],
    posts: Sequence[Item],
    fetch_bytes: Callable[[str], bytes],
    *,
    searched_at: dt.datetime,
    known: Mapping[str, Paper],
    api_base: str,
    title_misses: Mapping[tuple[str, str], TitleMiss],
    listing_sources: Collection[str] = (),
    crossref_api_base: str | None = None,
    crossref_mailto: str | None = None,
    known_dois: Mapping[str, DoiRecord] | None = None,
    rekey: Sequence[Item] | None = None,
) -> _Resolved:
    """`resolve.resolve` the `items`, store what it found, and give the papers (`rekey`, default
    `items`) and the `posts` the arXiv ids its title searches found."""
    from dltheory_digest import resolve

    result = resolve.resolve(
        items,
        fetch_bytes,
        known=known,
        api_base=api_base,
        listing_sources=listing_sources,
        crossref_api_base=crossref_api_base,
        crossref_mailto=crossref_mailto,
        known_dois=known_dois,
        title_misses=title_misses,
    )
    store_records.save_papers(store, result.papers.values())
    store_records.save_resolutions(store, result.resolutions)
    store_records.save_doi_records(store, result.doi_records.values())
    store_records.save_title_misses(store, result.title_misses, at=searched_at)
    found_ids = {(r.source_id, r.item_key): r.arxiv_id for r in result.resolutions if r.arxiv_id}
    return _Resolved(
        result,
        found_ids,
        tuple(_with_resolved_id(i, found_ids) for i in (items if rekey is None else rekey)),
        tuple(cited_with_resolved_ids(p, found_ids) for p in posts),
    )


def _with_resolved_id(item: Item, found_ids: Mapping[tuple[str, str], str]) -> Item:
    """Give a mention the arXiv id its title search found (the original text stays)."""
    if item.arxiv_id:
        return item
    arxiv_id = found_ids.get((item.source_id, item.key))
    return dataclasses.replace(item, arxiv_id=arxiv_id) if arxiv_id else item


def cited_with_resolved_ids(post: Item, found_ids: Mapping[tuple[str, str], str]) -> Item:
    """A post whose title-only citations were found on arXiv links to those papers."""
    cited = []
    for c in post.cited:
        # looked up by the key the mention had when it was resolved, as a sighting in the post
        arxiv_id = None if c.arxiv_id else found_ids.get((post.source_id, _seen_in(post, c).key))
        cited.append(dataclasses.replace(c, arxiv_id=arxiv_id) if arxiv_id else c)
    return dataclasses.replace(post, cited=tuple(cited)) if cited != list(post.cited) else post


UTC_ZONE = ZoneInfo("UTC")
# arXiv dates a listing the day after it comes out (Monday's, out Sunday 20:00 New York time,
# is dated Monday 00:00 there): a date up to a day ahead of the clock is not a wrong one
DATED_AHEAD = dt.timedelta(days=1)


def record_collection(
    store: Store,
    week: Week,
    collected: Sequence[Collected],
    *,
    run_id: str | None = None,
    resend: bool = False,
    zone: ZoneInfo = UTC_ZONE,
    now: dt.datetime | None = None,
) -> list[SourceReport]:
    """Store this run's sightings, attribute the new ones to `week`, and keep each source's report.

    A sighting dated after `week` (in `zone`: Monday's arXiv listing, out before a Monday
    morning run; a post of the week under way) goes to the week of its date (`sighting_week`),
    which builds it; one dated before `week` is a late find and stays in it. A week its readers
    already have (`readers_have_week`) takes no new sightings: they go to the next week still
    to be made, or to the week of their date if that is later. Each report's `later` counts the
    run's sightings that stand attributed to a later week not made yet (the same on a rerun)."""
    week_id = str(week)
    # Every later stage reads the sightings back from the store, so this is where text enters
    # the pipeline: what no store can hold (NUL, half an emoji) goes here, before keys compare
    everything = [store_records.storable(i) for c in collected for i in c.items]
    store_records.save_items(store, everything)
    everything = with_new_citations(store, everything)
    past = readers_have_week(store, week, resend=resend)
    # what this run sees for the first time belongs to the next digest, not to one its readers
    # already have (a daily listing will not show it again: it is attributed there now); the
    # cursors and the week's reports stay, so the next run catches up on a source that had failed
    floor = next_open_week(store, week) if past else week
    by_week: dict[Week, list[Item]] = {}
    for item in everything:
        dated = sighting_week(item, zone, now=now)
        target = dated if dated is not None and dated > floor else floor
        by_week.setdefault(target, []).append(item)
    # first attribution wins: a sighting attributed before keeps its week, whatever is asked here
    for target, found in by_week.items():
        if target != week:
            store_records.attribute_week(store, str(target), found)
    # "new" counts the sightings first attributed to this week, so a rerun reports the same
    week_counts = store_records.attribute_week(store, week_id, by_week.get(week, []))
    later = _later_weeks(store, week, everything)
    reports = []
    for c in collected:
        weeks = later.get(c.source_id, [])
        reports.append(
            dataclasses.replace(
                # a report not made by `collect_source` (a task that failed for good) may quote
                # a URL too: none is stored, published or shown with its credentials
                redacted_report(c.report),
                new=week_counts.get(c.source_id, 0),
                later=len(weeks),
                later_weeks=tuple(sorted(set(weeks))),
            )
        )
        if not past:
            store_records.save_cursor(store, c.source_id, c.cursor, success=c.report.error is None)
    if not past or not store_records.week_reports_of(store, week_id):
        # a past week keeps the reports of the runs that made it (what `backfill_since` reads)
        store_records.save_week_reports(store, week_id, reports)
    return reports


def sighting_week(item: Item, zone: ZoneInfo, *, now: dt.datetime | None = None) -> Week | None:
    """The week (in `zone`) of a sighting's own date: an arXiv listing's, the version's date
    (`updated`, else `published`: the listing day on arXiv's RSS, papers.cool and arxivdaily,
    the version's date from the API and OAI); a post's, the day it was posted (`published`,
    else `updated`). None when it has no date, or a date past the week of `now` (a misdated
    page: what it says cannot be trusted to place it), and for mentions and links, whose
    dates (if any) are the paper's, not the page's.

    A date at 00:00 UTC is a day a source gave without a time (`blocks.parse_date`): that day
    as written, as the digest shows it (`weeks.local_day`). An arXiv listing is placed by its
    listing day, in arXiv's zone, wherever the digest is read: Monday's listing (out on Sunday
    evening in New York, still Sunday in California) is the next week's, as papers.cool's bare
    day for the same listing is."""
    if item.kind is ItemKind.POST:
        when = item.published or item.updated
    elif item.kind is ItemKind.PAPER:
        when = item.updated or item.published
    else:
        return None
    if when is None:
        return None
    day = local_day(when, ARXIV_ZONE if item.announce_type is not None else zone)
    dated = Week.containing(day)
    latest = Week.containing(((now or dt.datetime.now(dt.UTC)) + DATED_AHEAD).astimezone(zone))
    return None if dated > latest else dated


def _later_weeks(store: Store, week: Week, found: Sequence[Item]) -> dict[str, list[str]]:
    """Per source, the weeks after `week` with no final digest yet that these sightings stand
    attributed to, one entry per sighting: what this run passed on to a digest still to come
    (a later week that went out already showed its own sightings; they were not passed on)."""
    made = store_records.latest_final_digest_week(store)
    out: dict[str, list[str]] = {}
    for (source_id, _, _), attributed in store_records.weeks_of_sightings(store, found).items():
        if attributed > str(week) and (made is None or attributed > made):
            out.setdefault(source_id, []).append(attributed)
    return out


def with_new_citations(store: Store, found: Sequence[Item]) -> list[Item]:
    """`found`, where a post attributed before now cites papers it did not (a reading list or
    article that was edited) replaced by a new revision of it citing just those papers.

    A sighting is attributed to one week only; without this, what an updated Zhihu reading list
    adds would never reach a digest. The revision is numbered after the earlier ones, so a
    rerun finds it attributed already and adds nothing."""
    posts = {(i.source_id, i.key) for i in found if i.kind is ItemKind.POST and i.cited}
    earlier = store_records.attributed_items(store, posts) if posts else {}
    out: list[Item] = []
    for item in found:
        before = earlier.get((item.source_id, item.key))
        if not before:
            out.append(item)
            continue
        known = {c.key for b in before for c in b.cited}
        added = tuple(c for c in item.cited if c.key not in known)
        if not added:
            out.append(item)
            continue
        revision = max(b.version or 0 for b in before) + 1
        out.append(dataclasses.replace(item, cited=added, version=revision))
    return out


def readers_have_week(store: Store, week: Week, *, resend: bool = False) -> bool:
    """Whether `week` is out for good: a later week's digest is out, or this week's was mailed to
    a reader (or may have reached one: `unconfirmed`) and is not being sent again (`resend`:
    readers are to get the week as rebuilt)."""
    from dltheory_digest.store import deliveries

    if later_week_sent(store, week):
        return True
    return not resend and any(d.reached for d in deliveries.deliveries_of(store, str(week)))


def later_week_sent(store: Store, week: Week) -> bool:
    """Whether the digest of a week after `week` was published once that week had ended (an
    empty one too: a week with nothing new has no ledger rows, yet its readers were told there
    was nothing). A manual refresh of the week under way does not count: it is partial."""
    return later_week_out(store, week) is not None


def later_week_out(store: Store, week: Week) -> str | None:
    """The latest week after `week` whose digest was published once it had ended
    (`later_week_sent`), or None."""
    latest = store_records.latest_final_digest_week(store)
    return latest if latest is not None and latest > str(week) else None


def next_open_week(store: Store, week: Week) -> Week:
    """The week after `week` and after every week with a final digest: the next one to be made."""
    latest = store_records.latest_final_digest_week(store)
    last = Week.parse(latest) if latest and latest > str(week) else week
    return Week.containing(last.monday + dt.timedelta(days=7))


def sent_digest(store: Store, week: Week, *, resend: bool = False) -> WeekBuild | None:
    """`week`'s digest as it was sent, when its readers have it (`readers_have_week`: mailed to
    a reader and not being sent again, or weeks after it sent too); else None.

    Rebuilding it would take in what was found since (new papers, new versions dated after the
    week, changed titles), so the rerun would differ from what readers got, and the ledger would
    then count those papers as shown in `week`: the next digest would never present them."""
    from dltheory_digest import digest as digest_stage

    stored = store_records.get_digest(store, str(week))
    if stored is None or not stored.published:
        return None  # a dry run's digest was sent to no one: the week is built afresh
    later = later_week_sent(store, week)
    if not stored.data:
        if later or readers_have_week(store, week):
            # `store prune` dropped the digest and the week's old sightings: a rebuild would be
            # another, poorer digest in place of the one readers got
            raise DigestError(
                f"{week} was pruned from the store (store prune): its digest is "
                f"{stored.path or f'outputs/{week}.md'}, as sent"
            )
        return None
    if not later and not readers_have_week(store, week, resend=resend):
        return None
    digest = digest_stage.digest_from_json(stored.data)
    note = (
        f"{week} was sent and later weeks followed: its digest is kept as it was sent"
        if later
        else f"{week} was sent: its digest is kept as it was sent (--resend rebuilds and sends it again)"
    )
    partial = not store_records.is_final(stored)
    if partial:
        note = (
            f"{week} has only a digest written while it was under way, and later weeks followed "
            "(they showed its papers): that digest is kept, and not mailed"
        )
    return WeekBuild(
        digest=digest,
        markdown=stored.markdown,
        clusters=(),
        classifications={},
        notes=(Note(NoteKind.OTHER, note),),
        frozen=True,
        partial=partial,
    )


BACKFILL_WEEKS = CATCH_UP_WEEKS  # how far back a run looks for weeks a source missed


def backfill_since(
    store: Store,
    week: Week,
    specs: Sequence[SourceSpec],
    zone: ZoneInfo,
    *,
    lookback: int = BACKFILL_WEEKS,
    now: dt.datetime | None = None,
) -> dict[str, dt.date]:
    """For each dated source that missed the weeks just before `week` (its run failed, or there
    was no run), the start of the earliest of them: fetching from there puts what those weeks
    announced in this digest instead of losing it. Only when the source had a good week within
    `lookback` weeks before (a new source or a new store has nothing to catch up on).

    Nothing for a week still under way (as of `now`): a refresh of it on Monday morning, before
    the scheduled run of the week just ended, would take that week's papers (the first
    attribution wins) and leave its own digest without them; the run after `week` ends catches
    up all the same."""
    if not week.is_complete(zone, now):
        return {}
    # a week without a final digest is missed even where its source read well (a refresh while
    # it was under way): what came after that refresh was never fetched
    unfinished = set(unfinished_weeks(store, week, zone, lookback=lookback))
    earlier: list[tuple[Week, dict[str, SourceReport]]] = []
    previous = week
    for _ in range(lookback):
        previous = previous.previous()
        earlier.append(
            (previous, {r.source_id: r for r in store_records.week_reports_of(store, str(previous))})
        )
    since: dict[str, dt.date] = {}
    for spec in specs:
        if not REGISTRY[spec.kind].plans_by_date(spec):
            continue
        missed: list[Week] = []
        for past, reports in earlier:
            report = reports.get(spec.id)
            if report is not None and report.error is None and past not in unfinished:
                if missed:
                    # `since` is a UTC date: the one the missed week starts on there, so a zone
                    # ahead of UTC loses none of its first hours
                    since[spec.id] = utc_dates_of(*missed[-1].window(zone))[0]
                break
            missed.append(past)
    return since


def backfilled(collected: Collected, since: dt.date, week: Week) -> Collected:
    """The collection with a report line saying it reached back before `week` to `since`
    (unless it failed: then it still misses them, and the next run tries again)."""
    if collected.report.error:
        return collected
    # `since` is the missed week's Monday, or the Sunday before it in a zone ahead of UTC
    first = Week.containing(since + dt.timedelta(days=1))
    span = str(first) if first == week.previous() else f"{first} to {week.previous()}"
    warning = f"also fetched {span} (from {since}), which it missed; what it found then is in this digest"
    report = dataclasses.replace(collected.report, warnings=(*collected.report.warnings, warning))
    return dataclasses.replace(collected, report=report)


def unfinished_weeks(
    store: Store, week: Week, zone: ZoneInfo, *, lookback: int = BACKFILL_WEEKS
) -> list[Week]:
    """The weeks just before `week`, oldest first, that no digest went out for: no digest, or
    only one written before the week ended (a refresh while it was under way, held back from
    readers), and no reader mailed. [] when no week within `lookback` has a final digest (a
    new store: nothing went missing)."""
    from dltheory_digest.store import deliveries

    missing: list[Week] = []
    previous = week
    for _ in range(lookback):
        previous = previous.previous()
        stored = store_records.get_digest(store, str(previous))
        if (
            stored is not None
            and stored.published  # a dry run's digest went to no one
            and (
                stored.created_at >= previous.window(zone)[1]
                or any(d.reached for d in deliveries.deliveries_of(store, str(previous)))
            )
        ):
            return list(reversed(missing))
        missing.append(previous)
    return []


def missed_weeks_note(
    store: Store,
    week: Week,
    zone: ZoneInfo | None = None,
    *,
    lookback: int = BACKFILL_WEEKS,
    unfinished: Sequence[Week] | None = None,
) -> list[Note]:
    """A note for the weeks just before `week` that no digest went out for (`unfinished_weeks`:
    the scheduler did not run, or only a refresh ran while the week was under way); empty
    otherwise."""
    if unfinished is None:
        unfinished = unfinished_weeks(store, week, zone or UTC_ZONE, lookback=lookback)
    if not unfinished:
        return []
    names = ", ".join(
        f"{w} ({'no run' if store_records.get_digest(store, str(w)) is None else 'only a partial refresh'})"
        for w in unfinished
    )
    text = f"{NOTE_MISSED_WEEKS} {names}; papers from then that the sources could still fetch are in this one"
    return [Note(NoteKind.MISSED_WEEKS, text, weeks=tuple(str(w) for w in unfinished))]


def publish_week(
    store: Store,
    output_dir: Path,
    week: Week,
    build: WeekBuild,
    *,
    record_ledger: bool = True,
    resend: bool = False,
) -> Path:
    """Write outputs/<week>.md, keep the digest in the store and, unless a dry run, the sent-ledger.

    The ledger of a week its readers already have stays as it was: it says what they got
    (a refresh that now knows a v2 must not record that v2 as sent)."""
    from dltheory_digest import digest as digest_stage
    from dltheory_digest import identity
    from dltheory_digest.store import ledger
    from dltheory_digest.store.files import write_digest

    week_id = str(week)
    path = write_digest(output_dir, week_id, build.markdown)
    if build.frozen:
        return path  # the stored digest and ledger already hold what was sent
    store_records.save_digest(
        store,
        week=week_id,
        markdown=build.markdown,
        path=str(path),
        paper_keys=[c.paper.key for c in build.clusters],
        reports=build.digest.reports,
        data=digest_stage.digest_to_json(build.digest),
        published=record_ledger,  # a dry run's digest says nothing about what readers have
        window_end=build.digest.window_end,
    )
    if record_ledger and not readers_have_week(store, week, resend=resend):
        ledger.record_week(
            store,
            week_id,
            [e for c in build.clusters for e in identity.ledger_entries(c, week_id)],
            sections={key: "updated" for key in build.updated_keys},
        )
    return path


def select_sources(specs: Sequence[SourceSpec], wanted: Sequence[str] | None) -> list[SourceSpec]:
    """Enabled sources, or exactly the named ones (named disabled sources run too: the user asked)."""
    if not wanted:
        return [s for s in specs if s.enabled]
    by_id = {s.id: s for s in specs}
    unknown = [w for w in wanted if w not in by_id]
    if unknown:
        raise ConfigError(
            f"unknown source id(s): {', '.join(unknown)} (known: {', '.join(sorted(by_id))})", field="sources"
        )
    return [by_id[w] for w in wanted]


# The rules a run's parameters must meet, shared by the CLI (which checks its options before
# any Prefect server starts) and the flow (which checks the parameters a UI or run_deployment
# gave it). Each raises ConfigError with the reason and `field` set to the parameter's name;
# the caller names the option or the parameter.


def require_sources(selected: Sequence[SourceSpec], sources_file: Path) -> None:
    """A run that fetches nothing would write (and mail) an empty digest over the week's."""
    if not selected:
        raise ConfigError(f"no enabled sources in {sources_file}", field="sources")


def parse_week(text: str, zone: ZoneInfo | None = None, *, now: dt.datetime | None = None) -> Week:
    """An ISO week (`2026-W47`); with a zone, one that has started."""
    try:
        week = Week.parse(text)
    except ValueError as exc:
        raise ConfigError(str(exc), field="week") from None
    if zone is not None and not week.has_started(zone, now):
        start = week.window(zone)[0]
        raise ConfigError(f"{week} has not started yet (it begins {start:%Y-%m-%d} {zone.key})", field="week")
    return week


def parse_since(text: str | None, week: Week | None = None, zone: ZoneInfo | None = None) -> dt.date | None:
    """A backfill date (YYYY-MM-DD); with a zone, not after the end of the target week (`week`,
    or the last complete one): the backfill would ask for an inverted range and find nothing."""
    if not text:
        return None
    try:
        since = dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"not a date (YYYY-MM-DD): {text!r}", field="since") from None
    if zone is not None:
        target = week or last_complete_week(zone)
        if since >= target.window(zone)[1].date():
            raise ConfigError(f"{since} is after the end of {target}", field="since")
    return since


def check_addresses(addresses: Sequence[str] | None, field: str = "email_to") -> list[str]:
    """Each address must look like one (the rule a configured reader's `email` meets)."""
    for address in addresses or ():
        if not EMAIL_SHAPE.match(address):
            raise ConfigError(f"not an email address: {address!r}", field=field)
    return list(addresses or ())


@dataclass(frozen=True, slots=True)
class RunParameters:
    """The weekly flow's parameters, checked: the week to build (the last complete one when
    none was given), the sources to fetch, the backfill date, the addresses to mail instead."""

    week: Week
    sources: tuple[SourceSpec, ...]
    since: dt.date | None
    email_to: tuple[str, ...]


def check_run_parameters(
    settings: Settings,
    specs: Sequence[SourceSpec],
    *,
    week: str | None,
    sources: Sequence[str] | None,
    since: str | None,
    email_to: Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> RunParameters:
    """The flow's parameters by the CLI's rules, before anything is fetched; a bad one raises a
    ConfigError whose message and `field` name the parameter."""
    try:
        target = parse_week(week, settings.zone, now=now) if week else last_complete_week(settings.zone, now)
        selected = select_sources(specs, sources)
        require_sources(selected, settings.sources_file)
        since_date = parse_since(since, target, settings.zone)
        addresses = check_addresses(email_to)
    except ConfigError as exc:
        raise ConfigError(f"weekly-digest parameter {exc.field}: {exc}", field=exc.field) from None
    check_stage_files(settings)
    return RunParameters(target, tuple(selected), since_date, tuple(addresses))


def pruned_week(store: Store, week: Week) -> str | None:
    """Why `week` cannot be run, asked before anything is fetched (`run`/`refresh` and the flow):
    its digest went out and `store prune` removed it, so `sent_digest` would refuse it only at
    the build, after the whole fetch. None when the week can be run. `--resend` is refused too:
    it would mail a rebuild from what the prune left, not the digest readers got; `send` mails
    that digest (its Markdown) again."""
    stored = store_records.get_digest(store, str(week))
    if stored is None or not stored.published or stored.data:
        return None
    try:
        sent_digest(store, week)  # the guard itself, so the two cannot disagree
    except DigestError as exc:
        return f"{exc}; `dltheory-digest send --week {week} --resend` mails it again"
    return None


def check_stage_files(settings: Settings) -> None:
    """The operator's taxonomy and glossary files, read before anything is fetched: a bad one
    would otherwise fail the run after the whole fetch. Raises a ConfigError naming the
    setting and the file (the CLI checks the same in `cli.checks.check_run_files`)."""
    from dltheory_digest.directions import load_taxonomy
    from dltheory_digest.language.glossary import load_glossary

    checks: list[tuple[str, Path | None, Callable[[Path], object]]] = [
        ("taxonomy_file", settings.taxonomy_file, load_taxonomy),
        ("glossary_file", settings.glossary_file, load_glossary),
    ]
    for name, path, load in checks:
        if path is None:
            continue
        try:
            load(path)
        except ConfigError as exc:
            # the loader's message starts with the file's name: the full path says which file
            detail = str(exc).removeprefix(f"{path.name}: ")
            raise ConfigError(f"{name} {path}: {detail}", path=str(path), field=name) from None


# Ends the final state's message of a run whose sources and mail all went through; a caller
# that has only the state (`refresh --deployment`) tells success by it.
ALL_OK = "all ok"


def mail_problems(deliveries: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """The readers whose mail did not go through, by what the run's summary says of them: it
    failed, it may not have arrived (`unconfirmed`), or another run holds them and may yet fail
    (skipped, `skip_reason` "held": `mail.DeliveryResult.pending`). Each list may be empty;
    `deliveries` are `DeliveryResult`s as dicts (the flow's result)."""
    return {
        "mail failed for": [d["reader"] for d in deliveries if d["status"] == "failed"],
        "mail unconfirmed for": [d["reader"] for d in deliveries if d["status"] == "unconfirmed"],
        "mail left to another run for": [
            d["reader"] for d in deliveries if d["status"] == "skipped" and d.get("skip_reason") == "held"
        ],
    }


DRY_RUN_NOTE = "dry run, no one was mailed"
NO_READERS = "no readers configured: nothing mailed"


def no_readers_note(week: Week) -> str:
    """What a run that mailed no one because no reader is configured tells the operator."""
    return (
        f"{NO_READERS} (add `readers` to the settings file; "
        f"`dltheory-digest send --week {week} --to ADDR` mails the week to an address)"
    )


def run_message(
    week: Week,
    reports: Sequence[SourceReport],
    deliveries: Sequence[Mapping[str, Any]],
    *,
    dry_run: bool = False,
    held_back: str | None = None,
) -> str:
    """The run's final-state message: which sources failed and which readers' mail did not go
    through (`mail_problems`), for the run list in the UI and for `refresh --deployment`. A dry
    run says first that it mailed no one, and a run whose readers were held back why
    (`readers_held_back`): its "all ok" is about the sources only."""
    failed = [r.source_id for r in reports if r.error]
    parts = [DRY_RUN_NOTE] if dry_run else []
    if held_back:
        parts.append(f"readers not mailed: {held_back}")
    if failed and len(failed) == len(reports):
        parts.append("every source failed")
    elif failed:
        parts.append(f"{len(failed)} of {len(reports)} sources failed: {', '.join(failed)}")
    problems = [
        f"{what} {len(rs)} reader(s): {', '.join(rs)}" for what, rs in mail_problems(deliveries).items() if rs
    ]
    parts += problems
    if not failed and not problems:
        # last, so that a caller with only the message (`refresh --deployment`) sees success
        parts.append(f"{len(reports)} source{'' if len(reports) == 1 else 's'}, {ALL_OK}")
    return f"{week}: {'; '.join(parts)}"


def mail_went_through(deliveries: Sequence[Mapping[str, Any]]) -> bool:
    """No reader's mail failed, went unconfirmed or was left to another run (`mail_problems`):
    else the run's final state is Failed, so a scheduler and the UI do not show it as a success."""
    return not any(mail_problems(deliveries).values())


def undelivered_reminders(
    store: Store,
    week: Week,
    readers: Collection[str] | None = None,
    *,
    lookback: int = CATCH_UP_WEEKS,
    now: dt.datetime | None = None,
) -> list[str]:
    """One line per week of the `lookback` weeks before `week` that some reader never had: their
    mail failed, went unconfirmed, or was left by a run that died mid-send, and nothing was sent
    to them since (`deliveries.undelivered`). `readers` (addresses): only these are named (the
    configured readers, whom `send --week` mails); None names every address in the ledger.

    A week whose papers went into the sent-ledger never shows them again: without this, the
    readers it missed would never get them and the operator would hear of it only once."""
    from dltheory_digest.store import deliveries

    since = Week.containing(week.monday - dt.timedelta(weeks=lookback))
    wanted = None if readers is None else {deliveries.reader_key(r) for r in readers}
    by_week: dict[str, list[deliveries.Delivery]] = {}
    for row in deliveries.undelivered(store, since=str(since), before=str(week), now=now):
        if wanted is None or row.reader in wanted:
            by_week.setdefault(row.week, []).append(row)
    lines = []
    for missed, rows in by_week.items():
        failed = [r.reader for r in rows if not r.unconfirmed]
        unsure = [r.reader for r in rows if r.unconfirmed]
        parts = []
        if failed:
            parts.append(
                f"{missed} was not delivered to {_readers_text(failed)}: "
                f"`dltheory-digest send --week {missed}` mails them"
            )
        if unsure:
            resend = f"dltheory-digest send --week {missed} --resend --to {','.join(unsure)}"
            parts.append(
                f"{missed} may not have reached {_readers_text(unsure)}: the server's answer "
                f"was never recorded; check its log, or `{resend}` sends it again"
            )
        lines.append("; ".join(parts))
    return lines


def _readers_text(addresses: Sequence[str], shown: int = 3) -> str:
    """How many readers, naming at most `shown`: "2 readers (ada@…, lin@…)"."""
    named = ", ".join(addresses[:shown]) + (", …" if len(addresses) > shown else "")
    return f"{len(addresses)} reader{'' if len(addresses) == 1 else 's'} ({named})"


def since_note(week: Week, since: dt.date | None, *, frozen: bool, later_sent: bool) -> str | None:
    """What `--since` did to a week kept as it was sent (`frozen`: `WeekBuild.frozen`): nothing
    to its digest (what the backfill found goes to the next one); None when it rebuilt it."""
    if since is None or not frozen:
        return None
    why = "later weeks followed" if later_sent else "--resend rebuilds it"
    return f"--since has no effect on {week}: it is kept as sent ({why}); what the backfill found goes to the next digest"


class RunResult(TypedDict, total=False):
    """What a run of the weekly-digest flow returns (`flows.weekly_digest.digest_week`), as
    `run` reads it for its summary. A dict at runtime, so results stored by older releases,
    which lack some keys, still read (with a default)."""

    week: str
    path: str
    # the digest's own counts, so the console, the digest header and the mail subject agree
    papers: int
    below_threshold: int
    unconfirmed: int
    reports: list[dict[str, Any]]  # `report_summary` of each source run
    failed_sources: list[str]
    deliveries: list[dict[str, Any]]  # `mail.DeliveryResult` as dicts
    dry_run: bool
    readers_held_back: str | None
    # every source failed and the week's earlier digest was left as it was
    kept_earlier_digest: bool
    translation_cache_hits: int
    translations_new: int
    translation_cache_hits_discarded: int
    translations_new_discarded: int
    notes: list[str]
    # what this run passed on to later weeks (`carried_summary`), or None
    carried: str | None
    # only these two in a deployment's late run that stepped aside (`served_digest`)
    skipped: str


def report_summary(report: SourceReport) -> dict[str, object]:
    return {
        "source": report.source_id,
        "kind": report.kind,
        "fetched": report.fetched,
        "parsed": report.parsed,
        "cited": report.cited,
        "new": report.new,
        "cache_hits": report.cache_hits,
        "warnings": list(report.warnings),
        "error": report.error,
        "offline": report.offline,
        "elapsed_ms": report.elapsed_ms,
        "later": report.later,
        "later_weeks": list(report.later_weeks),
    }


def later_text(count: int, weeks: Sequence[str]) -> str:
    """What a source's sightings for later weeks are, as a report cell says it: "1 for 2026-W48",
    "3 for 2026-W48 and 2026-W49"; "" for none."""
    if not count:
        return ""
    named = list(weeks)
    where = " and ".join(named) if len(named) <= 2 else f"{', '.join(named[:-1])} and {named[-1]}"
    return f"{count} for {where or 'a later week'}"


def carried_summary(
    week: Week,
    reports: Sequence[SourceReport],
    *,
    readers_had: bool,
    frozen: bool = False,
    later: str | None = None,
) -> str | None:
    """The run's line on what it passed on to later weeks, or None when there is nothing to say.

    `readers_had`: readers had `week` before this run (`readers_have_week`), so what it found
    new went to the next digest; `frozen`: the digest was kept as it was sent (`sent_digest`);
    `later`: the later week that went out after `week` (`later_week_out`), the reason when
    no reader had `week` itself."""
    count = sum(r.later for r in reports)
    weeks = sorted({w for r in reports for w in r.later_weeks})
    # not "new": a rerun finds the same items again, and says the same of them
    items, belong = ("1 item", "belongs") if count == 1 else (f"{count} items", "belong")
    where = " and ".join(weeks)
    if readers_had:
        kept = "kept as sent" if frozen else "it takes nothing new"
        # a week built only now, after a later one went out, was had by no reader itself
        had = f"{later} went out after {week}" if later and not frozen else f"readers have {week}"
        found = (
            f"{items} it found {belong} to {where}" if count else "nothing it found belongs to a later week"
        )
        return f"{had}: {kept}; {found}"
    if not count:
        return None
    return f"{items} dated after {week} {belong} to {where} and will be shown there"


def default_translator(settings: Settings, store: Store) -> Translator:
    """argostranslate through the store's translation cache and the configured glossary."""
    from dltheory_digest import language
    from dltheory_digest.store.translations import StoreTranslationCache

    return language.Translator(
        cache=StoreTranslationCache(store),
        glossary=language.load_glossary(settings.glossary_file),
        packages_dir=settings.argos_packages_dir,
    )


def default_stages(settings: Settings, store: Store) -> Stages:
    """The production stage implementations, configured from the settings."""
    from dltheory_digest import directions

    taxonomy = directions.load_taxonomy(settings.taxonomy_file)
    return Stages(
        translator=default_translator(settings, store),
        classifier=directions.DirectionClassifier.from_taxonomy(taxonomy),
        taxonomy=taxonomy,
    )


def every_source_failed(reports: Sequence[SourceReport]) -> bool:
    """A run that read nothing: it has sources, and each of them failed."""
    return bool(reports) and all(r.error for r in reports)


def readers_held_back(
    settings: Settings,
    week: Week,
    reports: Sequence[SourceReport] = (),
    *,
    partial_kept: bool = False,
    later_sent: str | None = None,
    left_out: Sequence[str] = (),
) -> str | None:
    """Why the configured readers are not mailed this week's digest now, or None.

    A week still under way, or a week when every source failed, would reach them incomplete
    and their delivery record would then make the run that gets it right skip them. A rerun
    of a past week that kept a mid-week refresh's digest (`WeekBuild.partial`) would mail
    papers the weeks after it already showed, and so would a run of an old week after a later
    week went out (`later_sent`: that week, `later_week_out`; the caller leaves it None when
    the run was asked to `resend`). A run of some sources (`left_out`: the enabled sources it
    did not read, `sources_left_out`) is a test or a catch-up of those: mailed, it would give
    the readers a digest without the others and record the week as theirs (the caller leaves
    it empty when the week is kept as sent, `WeekBuild.frozen`: that digest is whole)."""
    if not settings.readers:
        return None
    if not week.is_complete(settings.zone):
        return f"{week} is not over; the run after it ends mails the whole week"
    if every_source_failed(reports):
        return "every source failed; a run that reaches them mails the week"
    if left_out:
        return (
            f"this run read only some sources (not {', '.join(left_out)}); "
            f"`dltheory-digest send --week {week}` mails the digest it wrote, "
            f"`dltheory-digest run --week {week}` (without --sources) reads every source and mails it"
        )
    if partial_kept:
        return f"{week}'s only digest was written while it was under way; later digests showed its papers"
    if later_sent:
        return (
            f"{later_sent} went out after {week} and showed what was found until then; "
            f"`dltheory-digest send --week {week}` mails {week} to readers who never got it, "
            "`run --resend` to every reader"
        )
    return None


def earlier_digest_kept(
    store: Store, output_dir: Path, week: Week, reports: Sequence[SourceReport]
) -> Path | None:
    """The week's digest written before, when this run must not replace it: every source failed,
    so a rebuild adds nothing and could only lose what earlier runs found (title lookups that
    fail offline, an empty store). None when the run should publish its own."""
    from dltheory_digest.store.files import digest_file, existing_digest

    if not every_source_failed(reports):
        return None
    path = existing_digest(output_dir, str(week))
    if path is None and store_records.get_digest(store, str(week)) is not None:
        path = digest_file(output_dir, str(week))  # kept in the store; `send` can rebuild the file
    return path


def sources_left_out(specs: Sequence[SourceSpec], selected: Sequence[SourceSpec]) -> list[str]:
    """The enabled sources a run limited to `selected` (`--sources`, the `sources` parameter)
    does not read: when any, `readers_held_back` keeps the configured readers' mail back."""
    chosen = {spec.id for spec in selected}
    return [spec.id for spec in specs if spec.enabled and spec.id not in chosen]


def split_recipients(
    settings: Settings, addresses: Sequence[str] | None, held_back: str | None
) -> tuple[list[str], list[str]]:
    """(who to mail now, who is held back): the configured readers, or the `addresses` given
    (--email-to, --to). When the week is held back (`held_back`), a configured reader is held
    back even when named, since their delivery record would then skip the whole week; any
    other address is mailed all the same."""
    configured = [r.email for r in settings.readers]
    if not addresses:
        return ([], configured) if held_back else (configured, [])
    if not held_back:
        return list(addresses), []
    known = {email.lower() for email in configured}
    return [a for a in addresses if a.lower() not in known], [a for a in addresses if a.lower() in known]


def deliver_week(
    store: Store,
    settings: Settings,
    week: Week,
    build: WeekBuild,
    *,
    resend: bool = False,
    to: Sequence[str] | None = None,
    translator: Translator | None = None,
    demo: bool = False,
) -> list[DeliveryResult]:
    """Mail the week to each reader (or to `to`), once per reader per week unless `resend`;
    a `demo` week's mail is marked as the demo."""
    from dltheory_digest import mail

    return mail.deliver(
        store,
        week=str(week),
        digest=build.digest,
        readers=mail.readers_for(settings, list(to or ())),
        smtp=mail.SmtpSettings.from_settings(settings),
        resend=resend,
        translator=translator,
        demo=demo,
        zone=settings.zone,  # "already sent …" in the configured zone, as the README says
    )
