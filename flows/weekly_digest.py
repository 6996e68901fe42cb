"""The `weekly-digest` Prefect flow: orchestration only.

Sources are fetched concurrently as tasks; a failing source becomes a line in the report
(its task still completes); the week is then built, written to outputs/ and the store,
published as a markdown artifact and, unless a dry run, mailed to the readers. One run per
week at a time: a second run of the same week waits for the lock in the store.

All the work is done by plain functions in dltheory_digest.pipeline. Task arguments are
plain data (settings, specs, records), so the same flow runs on threads or on a Dask cluster.
No task is cached: the store and the HTTP cache are the caches, and a cached Prefect result
could carry one week's or one sources.yaml's data into another run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.futures import PrefectFuture
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner

from dltheory_digest import pipeline, resolve
from dltheory_digest.config import Politeness, Settings, SourceSpec, load_settings, load_sources
from dltheory_digest.errors import ConfigError
from dltheory_digest.fetch import on_this_machine
from dltheory_digest.models import SourceReport
from dltheory_digest.sources import PlanContext
from dltheory_digest.store import Store, get_cursor, open_store, record_fetches, week_reports_of
from dltheory_digest.store.db import lasting_failure, momentary_failure
from dltheory_digest.store.locks import (
    LockRecord,
    StoreLimiter,
    holder_process_gone,
    lock_holder,
    release_lock,
    week_lock,
)
from dltheory_digest.weeks import Week, holidays_unchecked, last_complete_week
from flows.deployments import WEEKLY

# A source whose task raises (the store briefly locked, a Dask worker lost) is run again after
# these delays; the HTTP client already retries each request, so this is for the rest.
SOURCE_RETRY_DELAYS: list[float] = [10.0, 60.0]
# The week's recording and build are run again after these delays when the store's connection
# was lost mid-task (a PostgreSQL restart or failover drops it; the store only retries a connect)
STORE_RETRY_DELAYS: list[float] = [10.0, 60.0]
# The week lock expires after WEEK_LOCK_TTL (so a killed run cannot block its week for ever);
# the run times out well before, so a live run never loses its lock to a second one.
WEEK_LOCK_TTL = dt.timedelta(hours=6)
RUN_TIMEOUT = (WEEK_LOCK_TTL - dt.timedelta(hours=1)).total_seconds()
# How often a run waiting for its week asks Prefect whether the lock's holder is still running.
HOLDER_CHECK_EVERY = 30.0

_shared: dict[tuple[str, ...], Any] = {}
_shared_lock = threading.Lock()
# Flow runs under way in this process, per store URL: the last to end closes what they shared.
_runs_using: dict[str, int] = {}


def shared_store(settings: Settings) -> Store:
    """One store (connection pool) per process, shared by the runs and tasks using it."""
    key = ("store", settings.resolved_store_url)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = open_store(settings.resolved_store_url)
        store: Store = _shared[key]
        return store


def shared_client(settings: Settings) -> Any:
    """One polite client per process, its limits held in the store so they bind every worker."""
    from dltheory_digest.fetch import PoliteClient

    store = shared_store(settings)
    key = ("client", settings.contact, str(settings.resolved_http_cache), settings.resolved_store_url)
    with _shared_lock:
        if key not in _shared:
            settings.resolved_http_cache.parent.mkdir(parents=True, exist_ok=True)
            _shared[key] = PoliteClient(
                contact=settings.contact,
                cache_path=settings.resolved_http_cache,
                limiter=StoreLimiter(store),
            )
        return _shared[key]


@contextmanager
def run_resources(settings: Settings) -> Iterator[Store]:
    """The store for one flow run. When the last run in this process using that store ends,
    the store and the HTTP clients opened for it are closed: a long-lived process (the demo,
    `serve`, a test session) keeps no database or HTTP-cache files open between runs, or open
    after their directory is deleted. Tasks of the run share them while it lasts. (A Dask
    worker's own copies stay open for the worker's life: one per process, as before.)"""
    url = settings.resolved_store_url
    with _shared_lock:
        _runs_using[url] = _runs_using.get(url, 0) + 1
    try:
        yield shared_store(settings)
    finally:
        with _shared_lock:
            _runs_using[url] -= 1
            last = _runs_using[url] == 0
            if last:
                del _runs_using[url]
            # every key ends with its store URL; the store was opened first, so it closes last
            opened = [_shared.pop(key) for key in list(_shared) if last and key[-1] == url]
        for resource in reversed(opened):
            resource.close()


def _lasting(state: Any) -> bool:
    """A task failed on a full disk or an unusable store: its retries would fail the same way,
    only later and with more tracebacks."""
    return isinstance(state.data, BaseException) and lasting_failure(state.data)


def _store_connection_lost(state: Any) -> bool:
    """A task failed because the store's connection was lost or refused, or a lock was held, for
    a moment (`momentary_failure`): its work is upserts (no mail), so it can run again. A schema,
    data or configuration error, or a lasting store failure, would fail the same way again."""
    return momentary_failure(state.data)


# The record and build tasks' work is upserts: run again when the store failed for a moment
_STORE_RETRY: dict[str, Any] = dict(
    retries=len(STORE_RETRY_DELAYS),
    retry_delay_seconds=STORE_RETRY_DELAYS,
    retry_condition_fn=lambda task, run, state: _store_connection_lost(state),
)


@task(
    name="collect-source",
    cache_policy=NO_CACHE,
    task_run_name="collect-{spec.id}",
    retries=len(SOURCE_RETRY_DELAYS),
    retry_delay_seconds=SOURCE_RETRY_DELAYS,
    retry_condition_fn=lambda task, run, state: not _lasting(state),
    # No task timeout: in a worker thread Prefect cannot interrupt the blocking I/O a stuck
    # source would be in (and warns so on every run). The fetch layer bounds each request
    # (4 x timeout, 10-minute wait budget) and the run has RUN_TIMEOUT.
)
def collect_task(spec: SourceSpec, settings: Settings, ctx: PlanContext, run_id: str) -> pipeline.Collected:
    client = shared_client(settings)
    collected = pipeline.collect_source(spec, client, ctx)
    record_fetches(shared_store(settings), client.drain_records(spec.id), run_id=run_id)
    logger = get_run_logger()
    # the report's lines (already redacted) in the run's log too: a page skipped, a capped
    # Crawl-delay, a retry that went through show beside the task, not only in the report
    for line in collected.report.warnings:
        logger.warning("[%s] %s", spec.id, line)
    if collected.report.error:
        logger.warning("%s", collected.report.error)  # "[source-id] what happened"
    return collected


@task(
    name="record-collection",
    cache_policy=NO_CACHE,
    **_STORE_RETRY,
)
def record_task(
    settings: Settings, week: Week, collected: list[pipeline.Collected], run_id: str, resend: bool = False
) -> list[SourceReport]:
    return pipeline.record_collection(
        shared_store(settings), week, collected, run_id=run_id, resend=resend, zone=settings.zone
    )


@task(
    name="build-week",
    cache_policy=NO_CACHE,
    **_STORE_RETRY,
)
def build_task(
    settings: Settings,
    week: Week,
    specs: list[SourceSpec],
    run_id: str,
    resend: bool = False,
) -> pipeline.WeekBuild:
    client = shared_client(settings)
    store = shared_store(settings)

    def fetch_bytes(url: str) -> bytes:
        content: bytes = client.get(
            url, source_id="arxiv-metadata", politeness=metadata_politeness(url), revalidate=False
        ).content
        return content

    try:
        return pipeline.build_week(
            store,
            week,
            zone_name=settings.timezone,
            specs=specs,
            fetch_bytes=fetch_bytes,
            stages=pipeline.default_stages(settings, store),
            relevance_threshold=settings.relevance_threshold,
            api_base=settings.arxiv_api_base,
            crossref_api_base=settings.crossref_api_base or None,
            crossref_mailto=resolve.contact_email(settings.contact),
            resend=resend,
        )
    finally:
        record_fetches(store, client.drain_records("arxiv-metadata"), run_id=run_id)


# An arXiv or Crossref API on the loopback is a stand-in on this machine (the demo's snapshot
# server, a test's): no one to be polite to, and a second per lookup made the demo and CI wait
# a minute for nothing. Every other host keeps the usual spacing (arXiv's its 3 s floor).
LOOPBACK_METADATA_INTERVAL = 0.1


def metadata_politeness(url: str) -> Politeness:
    """The spacing of the build's metadata lookups to `url`'s host."""
    if on_this_machine(url):
        return Politeness(min_interval=LOOPBACK_METADATA_INTERVAL)
    return Politeness()


@task(name="publish-week", cache_policy=NO_CACHE)
def publish_task(
    settings: Settings, week: Week, build: pipeline.WeekBuild, dry_run: bool, resend: bool = False
) -> str:
    path = pipeline.publish_week(
        shared_store(settings), settings.output_dir, week, build, record_ledger=not dry_run, resend=resend
    )
    create_markdown_artifact(
        markdown=build.markdown,
        key=artifact_key("digest", week),
        # the demo's folder is temporary: its path would point at nothing once the demo ends
        description=f"dltheory-digest {week}, "
        + ("built from the demo snapshot" if _is_demo() else f"written to {path}"),
    )
    return str(path)


@task(name="deliver", cache_policy=NO_CACHE)
def deliver_task(
    settings: Settings,
    week: Week,
    build: pipeline.WeekBuild,
    resend: bool,
    to: list[str] | None,
    demo: bool = False,
) -> list[dict[str, Any]]:
    from dltheory_digest import mail

    store = shared_store(settings)
    results = pipeline.deliver_week(
        store,
        settings,
        week,
        build,
        resend=resend,
        to=to,
        translator=pipeline.default_translator(settings, store),
        demo=demo,
    )
    create_markdown_artifact(
        markdown=mail.delivery_report(results),
        key=artifact_key("delivery", week),
        description=f"mail for {week}",
    )
    return [dataclasses.asdict(r) for r in results]


def collected_or_failed(spec: SourceSpec, future: PrefectFuture[pipeline.Collected]) -> pipeline.Collected:
    """The source's collection, or, when its task failed for good (retries spent, timed out,
    crashed), an empty one whose report says why: one source never fails the run."""
    future.wait()
    state = future.state
    if state.is_completed():
        return future.result()
    exc = state.result(raise_on_failure=False)
    why = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else (state.message or "")
    why = " ".join(why.split()) or "no reason given"  # one line of the report table
    report = SourceReport(
        spec.id, spec.kind, error=f"[{spec.id}] {state.name} after {_attempts(future)} attempt(s): {why}"
    )
    return pipeline.Collected(spec.id, (), report)


def _attempts(future: PrefectFuture[Any]) -> int | str:
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            return client.read_task_run(future.task_run_id).run_count
    except Exception:  # the count is only for the report line
        return "?"


def publish_source_report(
    week: Week, reports: Sequence[SourceReport], earlier: Sequence[SourceReport] = ()
) -> None:
    """The per-source report as a table artifact, one row per source, readable in the UI. The
    UI shows a key's latest table as the week's: a run limited to some sources passes the
    week's `earlier` reports of the others, so their rows stay, marked as from an earlier run."""
    earlier_set = {id(r) for r in earlier}
    rows = [
        {
            **({"from": "an earlier run" if id(r) in earlier_set else "this run"} if earlier else {}),
            "source": r.source_id,
            "kind": r.kind,
            "fetched": r.fetched,
            "parsed": r.parsed,
            "cited": r.cited,
            "new": r.new,
            "for later weeks": pipeline.later_text(r.later, r.later_weeks),
            "cache hits": r.cache_hits,
            "warnings": "; ".join(r.warnings),
            "error": r.error or "",
        }
        for r in [*reports, *earlier]
    ]
    failed = sum(1 for r in reports if r.error)
    description = f"sources of {week}: {len(reports) - failed} ok, {failed} failed"
    if earlier:
        description += f" in this run; {len(earlier)} more from earlier runs of the week"
    create_table_artifact(table=rows, key=artifact_key("sources", week), description=description)


def artifact_key(kind: str, week: Week) -> str:
    """`digest-2026-w47`: the key of a week's artifact, which the UI shows as that week's latest.
    The demo's run keys its own `demo-…`, so a snapshot never passes for the real week's."""
    prefix = "demo-" if _is_demo() else ""
    return f"{prefix}{kind}-{str(week).lower()}"


def _is_demo() -> bool:
    """Whether this flow run is the `demo` command's run of the bundled snapshot."""
    from prefect.runtime import flow_run

    return bool(flow_run.parameters.get("demo"))


def run_name() -> str:
    """A run is named by its week (`2026-W47`, `2026-W47 dry run`), so operators find it in the UI."""
    from prefect.runtime import flow_run

    params = flow_run.parameters
    week = params.get("week")
    if not week:
        try:
            zone = load_settings(**(params.get("settings_overrides") or {})).zone
            # a deployment's run builds the week of its scheduled start (`served_digest`)
            week = str(scheduled_run_week(zone) or last_complete_week(zone))
        except Exception:  # a bad setting: the run itself reports it, by name
            week = "last complete week"
    extras = [
        *(["demo"] if params.get("demo") else []),
        *(["dry run"] if params.get("dry_run") else []),
        *(["resend"] if params.get("resend") else []),
        *([f"sources {','.join(params['sources'])}"] if params.get("sources") else []),
    ]
    return " ".join([str(week), *extras])


def ended_run_state(run_id: str | None) -> str | None:
    """The final state of the Prefect flow run `run_id` ("Crashed", "Cancelled", ...), or None
    while it runs, or when this server does not know it (a run of another Prefect server)."""
    from prefect.client.orchestration import get_client

    try:
        flow_run_id = uuid.UUID(str(run_id))
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(flow_run_id).state
    except Exception:  # not a run id, unknown here, or the API is unreachable: keep waiting
        return None
    return state.name if state is not None and state.is_final() else None


def mark_crashed(run_id: str, why: str) -> None:
    """Record as Crashed a flow run whose process is gone: killed with its temporary Prefect
    server, it would otherwise show as running for ever. Best effort: unknown ids are left."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    try:
        flow_run_id = uuid.UUID(str(run_id))
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(flow_run_id).state
            if state is None or not state.is_final():
                client.set_flow_run_state(flow_run_id, Crashed(message=why), force=True)
    except Exception:  # not a run id, unknown here, or the API is unreachable
        return


@contextmanager
def hold_week(
    store: Store,
    week: Week,
    run_id: str,
    *,
    timeout: float | None = None,
    check_every: float = HOLDER_CHECK_EVERY,
) -> Iterator[None]:
    """The week's lock for the body; waits while another run of the week holds it. A holder
    killed before it could release the lock is waited for no longer: one whose process on this
    machine is gone is taken over at once (`try_lock`), one that Prefect says has ended is
    released, rather than left until the lock expires hours later."""
    logger = get_run_logger()
    name = f"week-{week}"
    next_check = 0.0

    def break_if_ended(holder: str | None) -> None:
        ended = ended_run_state(holder)
        if holder and ended:
            logger.warning("run %s, which holds %s, ended %s: releasing its lock", holder, week, ended)
            release_lock(store, name, holder)

    def on_wait(held: LockRecord) -> None:
        # once per holder, at WARNING: a run that waits for hours must say for whom and how long
        logger.warning(
            "%s is held by %s since %s: waiting until that run ends, or its lock expires at %s",
            week,
            held.holder.describe(),
            held.acquired_at.strftime("%Y-%m-%d %H:%M UTC"),
            held.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
        break_if_ended(held.holder.run)

    def on_take_over(previous: LockRecord, reason: str) -> None:
        logger.warning("took over %s from %s: %s", week, previous.holder.describe(), reason)
        if holder_process_gone(previous.holder):
            mark_crashed(previous.holder.run, f"{previous.holder.describe()} was killed: {reason}")

    def sleep(seconds: float) -> None:
        nonlocal next_check
        time.sleep(seconds)
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + check_every
            break_if_ended(lock_holder(store, name))

    with week_lock(
        store,
        str(week),
        run_id,
        ttl=WEEK_LOCK_TTL,
        timeout=timeout,
        on_wait=on_wait,
        on_take_over=on_take_over,
        sleep=sleep,
    ):
        yield


def task_runner_from_settings() -> Any:
    """A thread pool of `max_concurrency` workers, or a Dask cluster when DLTHEORY_TASK_RUNNER=dask."""
    try:
        settings = load_settings()
    except ConfigError:
        return None  # the flow itself reports the configuration error
    if settings.task_runner == "dask":
        from prefect_dask.task_runners import DaskTaskRunner

        return DaskTaskRunner(address=settings.dask_address) if settings.dask_address else DaskTaskRunner()
    return ThreadPoolTaskRunner(max_workers=settings.max_concurrency)


_FLOW_OPTIONS: dict[str, Any] = {
    "name": "weekly-digest",
    "flow_run_name": run_name,
    "log_prints": True,
    "task_runner": task_runner_from_settings(),
    "timeout_seconds": RUN_TIMEOUT,
}


@flow(**_FLOW_OPTIONS)
def weekly_digest(
    week: str | None = None,
    sources: list[str] | None = None,
    since: str | None = None,
    dry_run: bool = False,
    resend: bool = False,
    email_to: list[str] | None = None,
    settings_overrides: dict[str, Any] | None = None,
    demo: bool = False,
) -> pipeline.RunResult:
    """Fetch the sources, build `week`'s digest, write it, publish it and mail it: the run of
    the `run`, `refresh` and `demo` commands. No deployment serves this flow: `email_to`,
    `settings_overrides` and `demo` are the commands' own switches, never offered in the UI
    (the deployments serve `served_digest`, which has none of them).

    Completed even when sources fail (each is a line in the report); Failed when a reader's
    mail failed, went unconfirmed or was left to another run (`pipeline.mail_went_through`),
    the result still its data. The state's message says which, so the run list shows it.

    Args:
        week: ISO week like 2026-W47; empty: the last complete week.
        sources: source ids to fetch; empty: every enabled source. Leaving out an enabled
            source mails no configured reader (`pipeline.readers_held_back`).
        since: backfill from this date (YYYY-MM-DD).
        dry_run: write the digest but mail nobody.
        resend: mail readers who already got this week.
        email_to: mail these addresses instead of the configured readers.
        settings_overrides: settings fields replaced for this run (the demo's store and sources).
        demo: the `demo` command's run of the bundled snapshot; its run and artifacts are named apart.
    """
    return digest_week(
        week=week,
        sources=sources,
        since=since,
        dry_run=dry_run,
        resend=resend,
        email_to=email_to,
        settings_overrides=settings_overrides,
        demo=demo,
    )


@flow(**_FLOW_OPTIONS)
def served_digest(
    week: str | None = None,
    sources: list[str] | None = None,
    since: str | None = None,
    dry_run: bool = False,
    resend: bool = False,
) -> pipeline.RunResult:
    """The weekly digest, as the deployments `weekly-digest/weekly` and `weekly-digest/manual`
    run it: fetch the sources, build the week, write it and mail it to the configured readers.

    A run without `week` builds the last complete week at its scheduled start, so a run that
    starts late (nothing was serving) still builds its own week. A late run of a deployment
    ends at once, Completed, when a later run of the deployment was due before it started
    (that one catches up), or when its week's readers already have it.

    Args:
        week: ISO week like 2026-W47; empty: the last complete week when the run was scheduled.
        sources: source ids to fetch, like ["offconvex"]; empty: every enabled source. A run
            that leaves out an enabled source writes the digest but mails no reader.
        since: backfill dated sources from this day, YYYY-MM-DD; empty: from the week's start.
        dry_run: write the digest but mail nobody.
        resend: mail readers who already got this week.
    """
    if not week:
        settings = load_settings()
        scheduled = scheduled_run_week(settings.zone)
        if scheduled is not None:
            week = str(scheduled)
            if not resend and _deployment_name() == WEEKLY:
                skipped = superseded_or_done(settings, scheduled, dry_run=dry_run)
                if skipped is not None:
                    get_run_logger().info("%s", skipped)
                    return cast(
                        pipeline.RunResult,
                        Completed(message=skipped, data={"week": week, "skipped": skipped}),
                    )
    return digest_week(week=week, sources=sources, since=since, dry_run=dry_run, resend=resend)


def _deployment_name() -> str | None:
    from prefect.runtime import deployment

    name: str | None = deployment.name
    return name


def scheduled_run_week(zone: Any) -> Week | None:
    """The week a run of a deployment builds when given none: the last complete week at the
    run's scheduled start, not at the moment it starts. None outside a deployment's run."""
    from prefect.runtime import deployment, flow_run

    if not deployment.id:
        return None
    return last_complete_week(zone, now=flow_run.scheduled_start_time)


def superseded_or_done(settings: Settings, week: Week, *, dry_run: bool) -> str | None:
    """Why this run of a deployment, given no week, should end without fetching (None: it
    should not): a later run of the same deployment without a week was due before this one
    started (runs missed while nothing served them start together; the latest catches up and
    the others step aside), or `week` is out to its readers already (built by hand meanwhile)."""
    later = later_due_run()
    if later is not None:
        return (
            f"{week}: skipped, a later run ({later}) was due before this one started and builds "
            f"its own week; `dltheory-digest refresh --week {week}` builds this one"
        )
    if dry_run:
        return None
    with run_resources(settings) as store:
        if pipeline.readers_have_week(store, week):
            return f"{week}: skipped, its readers have it already (`--resend` mails it again)"
    return None


def later_due_run() -> str | None:
    """When the latest later run of this run's deployment, given no week, was due, if it was
    due by now (and not cancelled); else None."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterId,
    )
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.runtime import deployment, flow_run

    deployment_id, run_id = deployment.id, flow_run.id
    if not deployment_id or not run_id:
        return None
    mine = flow_run.scheduled_start_time
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[uuid.UUID(deployment_id)])),
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(not_any_=[uuid.UUID(run_id)]),
                expected_start_time=FlowRunFilterExpectedStartTime(
                    after_=mine + dt.timedelta(seconds=1), before_=dt.datetime.now(dt.UTC)
                ),
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        )
    for run in runs:
        if run.parameters.get("week") or (run.state is not None and run.state.is_cancelled()):
            continue
        # its name is Prefect's random one until it starts: its due time says which it is
        return f"due {run.expected_start_time:%Y-%m-%d %H:%M} UTC"
    return None


def digest_week(
    *,
    week: str | None,
    sources: list[str] | None,
    since: str | None,
    dry_run: bool,
    resend: bool,
    email_to: list[str] | None = None,
    settings_overrides: dict[str, Any] | None = None,
    demo: bool = False,
) -> pipeline.RunResult:
    """The body of both flows (`weekly_digest`'s Args say what each parameter does)."""
    logger = get_run_logger()
    settings = load_settings(**(settings_overrides or {}))
    specs = list(load_sources(settings.sources_file))
    # the CLI's rules, for a run started from the UI or run_deployment: a bad parameter fails
    # the run here, named, before anything is fetched or written
    checked = pipeline.check_run_parameters(
        settings, specs, week=week, sources=sources, since=since, email_to=email_to
    )
    target, selected, since_date = checked.week, checked.sources, checked.since
    start, end = target.window(settings.zone)
    run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    with run_resources(settings) as store, hold_week(store, target, run_id):
        refused = pipeline.pruned_week(store, target)
        if refused:  # the build would refuse it after the whole fetch: fail named, fetch nothing
            raise ConfigError(f"weekly-digest parameter week: {refused}", field="week")
        unchecked = holidays_unchecked(target)
        if unchecked:  # the header's announcement days rest on the rules alone
            logger.warning("%s", unchecked)
        # a dated source that missed the weeks before (failed, or no run) fetches them too
        backfill = {} if since_date else pipeline.backfill_since(store, target, selected, settings.zone)
        # asked before anything is recorded: this run's own mail would make it so
        readers_had = pipeline.readers_have_week(store, target, resend=resend)
        # a week after this one went out already: this one's readers are not mailed unless asked
        later = pipeline.later_week_out(store, target)
        futures = [
            collect_task.submit(
                spec,
                settings,
                PlanContext(
                    window_start=start,
                    window_end=end,
                    since=since_date or backfill.get(spec.id),
                    cursor=get_cursor(store, spec.id),
                    arxiv_api_base=settings.arxiv_api_base,
                ),
                run_id,
            )
            for spec in selected
        ]
        collected = [collected_or_failed(spec, f) for spec, f in zip(selected, futures, strict=True)]
        collected = [
            pipeline.backfilled(c, backfill[c.source_id], target) if c.source_id in backfill else c
            for c in collected
        ]
        reports = record_task(settings, target, collected, run_id, resend)
        ran = {r.source_id for r in reports}
        # a run of some sources keeps the others' rows of the week (its artifact replaces the last)
        earlier = (
            [
                r
                for r in week_reports_of(store, str(target))
                if r.source_id not in ran and r.source_id in {spec.id for spec in specs}
            ]
            if sources
            else []
        )
        publish_source_report(target, reports, earlier)
        build = build_task(settings, target, specs, run_id, resend)
        kept = pipeline.earlier_digest_kept(shared_store(settings), settings.output_dir, target, reports)
        if build.frozen:
            logger.info("%s", build.notes[0].text)
        carried = pipeline.carried_summary(
            target, reports, readers_had=readers_had, frozen=build.frozen, later=later
        )
        if carried:
            logger.info("%s", carried)
        # for the operator, not the digest: what the run's options did not do, and the earlier
        # weeks some readers never got (their papers are in the sent-ledger: never new again)
        unused_since = pipeline.since_note(
            target, since_date, frozen=build.frozen, later_sent=later is not None
        )
        operator_notes = [
            *([unused_since] if unused_since else []),
            *pipeline.undelivered_reminders(store, target, [r.email for r in settings.readers]),
        ]
        for line in operator_notes:
            logger.warning("%s", line)
        if kept is not None:
            logger.warning("every source failed: the digest written before stays (%s)", kept)
            path = str(kept)
        else:
            path = publish_task(settings, target, build, dry_run, resend)
        deliveries: list[dict[str, Any]] = []
        held_back = None
        if not dry_run and kept is None:
            reason = pipeline.readers_held_back(
                settings,
                target,
                reports,
                partial_kept=build.partial,
                later_sent=None if resend else later,
                left_out=() if build.frozen else pipeline.sources_left_out(specs, selected),
            )
            recipients, kept_back = pipeline.split_recipients(settings, checked.email_to, reason)
            if kept_back:
                held_back = reason
                logger.warning("the digest is written, not mailed to %s: %s", ", ".join(kept_back), reason)
            if recipients:
                deliveries = deliver_task(settings, target, build, resend, recipients or None, demo)
            elif not settings.readers and not demo:
                # a run that mails no one must say so, or an operator waits for mail that never comes
                logger.warning("%s", pipeline.no_readers_note(target))
                operator_notes.append(pipeline.no_readers_note(target))
    # each failed source was logged once by its task; the final state's message names them all
    failed = [r for r in reports if r.error]
    if kept is None and demo:
        # the demo's folder is temporary: the `demo` command copies the digest out and names it
        logger.info("demo digest for %s built from the bundled snapshot", target)
    elif kept is None:
        logger.info("digest for %s written to %s", target, path)
    message = pipeline.run_message(target, reports, deliveries, dry_run=dry_run, held_back=held_back)
    result: pipeline.RunResult = {
        "week": str(target),
        "path": path,
        "papers": build.counts.get("papers", 0),
        "below_threshold": build.counts.get("below_threshold", 0),
        "unconfirmed": build.counts.get("unconfirmed", 0),
        "reports": [pipeline.report_summary(r) for r in reports],
        "failed_sources": [r.source_id for r in failed],
        "deliveries": deliveries,
        "dry_run": dry_run,
        "readers_held_back": held_back
        or ("every source failed; the digest written before was kept and not mailed again" if kept else None),
        "kept_earlier_digest": kept is not None,
        "translation_cache_hits": build.translation_hits,
        "translations_new": build.translation_new,
        "translation_cache_hits_discarded": build.translation_hits_discarded,
        "translations_new_discarded": build.translation_new_discarded,
        "notes": [note.text for note in build.notes] + operator_notes,
        "carried": carried,
    }
    # a returned state becomes the run's final state; a caller still gets `result` back (from a
    # Failed one with `return_state=True` and `state.result(raise_on_failure=False)`). Mail that
    # did not go through fails the run, as it makes `run` exit 1: a scheduled run that mailed
    # no one must not show as a success. A failed source does not: it is a line of the report.
    ended = Completed if pipeline.mail_went_through(deliveries) else Failed
    return cast(pipeline.RunResult, ended(message=message, data=result))


if __name__ == "__main__":
    weekly_digest()
