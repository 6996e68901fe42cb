"""The `weekly-digest` Prefect flow: orchestration only.

Sources are fetched concurrently as tasks; a failing source becomes a line in the report
(its task still completes); the week is then built, written to outputs/ and the store,
published as a markdown artifact and, unless a dry run, mailed to the readers. One run per
week at a time: a second run of the same week waits for the lock in the store.

All the work is done by plain functions in dltheory_digest.pipeline. Task arguments are
plain data (settings, specs, records), so the same flow runs on threads or on a Dask cluster.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.task_runners import ThreadPoolTaskRunner

from dltheory_digest import pipeline
from dltheory_digest.config import Settings, SourceSpec, load_settings, load_sources
from dltheory_digest.errors import ConfigError
from dltheory_digest.models import SourceReport
from dltheory_digest.sources import PlanContext
from dltheory_digest.store import Store, get_cursor, open_store, record_fetches
from dltheory_digest.store.locks import StoreLimiter, week_lock
from dltheory_digest.weeks import Week

_shared: dict[tuple[str, ...], Any] = {}
_shared_lock = threading.Lock()


def shared_store(settings: Settings) -> Store:
    """One store (connection pool) per process."""
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


@task(name="collect-source", cache_policy=NO_CACHE, task_run_name="collect-{spec.id}")
def collect_task(spec: SourceSpec, settings: Settings, ctx: PlanContext, run_id: str) -> pipeline.Collected:
    client = shared_client(settings)
    collected = pipeline.collect_source(spec, client, ctx)
    record_fetches(shared_store(settings), client.drain_records(spec.id), run_id=run_id)
    if collected.report.error:
        get_run_logger().warning("%s: %s", spec.id, collected.report.error)
    return collected


@task(name="record-collection", cache_policy=NO_CACHE)
def record_task(
    settings: Settings, week: Week, collected: list[pipeline.Collected], run_id: str
) -> list[SourceReport]:
    return pipeline.record_collection(shared_store(settings), week, collected, run_id=run_id)


@task(name="build-week", cache_policy=NO_CACHE)
def build_task(settings: Settings, week: Week, specs: list[SourceSpec], run_id: str) -> pipeline.WeekBuild:
    client = shared_client(settings)
    store = shared_store(settings)

    def fetch_bytes(url: str) -> bytes:
        content: bytes = client.get(url, source_id="arxiv-metadata").content
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
        )
    finally:
        record_fetches(store, client.drain_records("arxiv-metadata"), run_id=run_id)


@task(name="publish-week", cache_policy=NO_CACHE)
def publish_task(settings: Settings, week: Week, build: pipeline.WeekBuild, dry_run: bool) -> str:
    path = pipeline.publish_week(
        shared_store(settings), settings.output_dir, week, build, record_ledger=not dry_run
    )
    create_markdown_artifact(
        markdown=build.markdown, key=f"digest-{str(week).lower()}", description=f"dltheory-digest {week}"
    )
    return str(path)


@task(name="deliver", cache_policy=NO_CACHE)
def deliver_task(
    settings: Settings, week: Week, build: pipeline.WeekBuild, resend: bool, to: list[str] | None
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
    )
    create_markdown_artifact(
        markdown=mail.delivery_report(results),
        key=f"delivery-{str(week).lower()}",
        description=f"mail for {week}",
    )
    return [dataclasses.asdict(r) for r in results]


def task_runner_from_settings() -> Any:
    """A thread pool of `max_concurrency` workers, or a Dask cluster when DLTHEORY_TASK_RUNNER=dask."""
    try:
        settings = load_settings()
    except ConfigError:
        return None  # the flow itself reports the configuration error
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=settings.dask_address) if settings.dask_address else DaskTaskRunner()
    return ThreadPoolTaskRunner(max_workers=settings.max_concurrency)


@flow(name="weekly-digest", log_prints=True, task_runner=task_runner_from_settings())
def weekly_digest(
    week: str | None = None,
    sources: list[str] | None = None,
    since: str | None = None,
    dry_run: bool = False,
    resend: bool = False,
    email_to: list[str] | None = None,
    settings_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fetch the sources, build `week`'s digest, write it, publish it and mail it."""
    logger = get_run_logger()
    settings = load_settings(**(settings_overrides or {}))
    specs = list(load_sources(settings.sources_file))
    # the CLI's rules, for a run started from the UI or run_deployment: a bad parameter fails
    # the run here, named, before anything is fetched or written
    checked = pipeline.check_run_parameters(
        settings, specs, week=week, sources=sources, since=since, email_to=email_to
    )
    target, selected, since_date = checked.week, checked.sources, checked.since
    store = shared_store(settings)
    start, end = target.window(settings.zone)
    run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    with week_lock(
        store, str(target), run_id, on_wait=lambda holder: logger.info("waiting for run %s", holder)
    ):
        futures = [
            collect_task.submit(
                spec,
                settings,
                PlanContext(
                    window_start=start,
                    window_end=end,
                    since=since_date,
                    cursor=get_cursor(store, spec.id),
                    arxiv_api_base=settings.arxiv_api_base,
                ),
                run_id,
            )
            for spec in selected
        ]
        collected = [f.result() for f in futures]
        reports = record_task(settings, target, collected, run_id)
        build = build_task(settings, target, specs, run_id)
        path = publish_task(settings, target, build, dry_run)
        deliveries: list[dict[str, Any]] = []
        held_back = None
        if not dry_run:
            reason = pipeline.readers_held_back(settings, target, reports)
            recipients, kept_back = pipeline.split_recipients(settings, checked.email_to, reason)
            if kept_back:
                held_back = reason
                logger.warning("the digest is written, not mailed to %s: %s", ", ".join(kept_back), reason)
            if recipients:
                deliveries = deliver_task(settings, target, build, resend, recipients or None)
    failed = [r for r in reports if r.error]
    for report in failed:
        logger.warning(
            "source %s failed: %s",
            report.source_id,
            (report.error or "").removeprefix(f"[{report.source_id}] "),
        )
    logger.info("digest for %s written to %s", target, path)
    return {
        "week": str(target),
        "path": path,
        # the digest's own counts, so the console, the digest header and the mail subject agree
        "papers": build.counts.get("papers", 0),
        "below_threshold": build.counts.get("below_threshold", 0),
        "unconfirmed": build.counts.get("unconfirmed", 0),
        "reports": [pipeline.report_summary(r) for r in reports],
        "failed_sources": [r.source_id for r in failed],
        "deliveries": deliveries,
        "readers_held_back": held_back,
        "translation_cache_hits": build.translation_hits,
        "translations_new": build.translation_new,
        "notes": list(build.notes),
    }


if __name__ == "__main__":
    weekly_digest()
