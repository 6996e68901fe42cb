"""Scheduling and manual refresh: `serve`, `refresh`, `deploy`."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any, cast

import httpx
import typer
from rich.markup import escape

from dltheory_digest.cli.app import app, console, err_console
from dltheory_digest.cli.checks import (
    check_config,
    check_run_files,
    check_since,
    check_smtp,
    check_source_ids,
    check_store,
    check_week,
    fail_config,
    fail_usage,
    quiet_prefect_defaults,
    warn_misspelled_variables,
)
from dltheory_digest.cli.run_cmd import exit_on_failures, print_summary, run_flow, stopping_on_signals
from dltheory_digest.errors import ConfigError


def _settings() -> Any:
    from dltheory_digest.config import load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise fail_config(exc) from None
    warn_misspelled_variables()
    return settings


@app.command()
def serve() -> None:
    """Serve `weekly-digest/weekly` (cron, in the configured zone) and `weekly-digest/manual`."""
    quiet_prefect_defaults()
    settings, _ = check_config({})
    check_store(settings)  # each weekly run would fail on it: say so now
    check_run_files(settings)
    if settings.readers:
        check_smtp(settings)  # a refused setting would be found only after Monday's fetch
    from prefect.settings import PREFECT_API_URL

    from dltheory_digest.mail import local_time
    from dltheory_digest.weeks import last_complete_week
    from flows.deployments import FLOW_NAME, MANUAL, WEEKLY, serve_deployments
    from flows.local_server import local_server

    api = PREFECT_API_URL.value()
    week = last_complete_week(settings.zone)
    # Prefect's own temporary server runs no scheduler: without PREFECT_API_URL, serve starts a
    # whole server of its own, which stops with it
    with stopping_on_signals("stopped serving{held}"), local_server(scheduling=True) as own:
        console.print(
            f"serving [bold]{FLOW_NAME}/{WEEKLY}[/] ({escape(settings.schedule_cron)}, {settings.timezone}) and "
        )
        where = (
            api
            or f"a Prefect server of its own at {own} (it stops with serve; PREFECT_API_URL names another)"
        )
        console.print(f"        [bold]{FLOW_NAME}/{MANUAL}[/] (no schedule) on {escape(where)}")
        upcoming = next_scheduled_run(settings.schedule_cron, settings.timezone)
        if upcoming is not None:
            console.print(f"next weekly run: {local_time(upcoming, settings.zone)}", highlight=False)
        if api:
            console.print(
                f"trigger a refresh: prefect deployment run '{FLOW_NAME}/{MANUAL}' "
                f"--param week={week} --param dry_run=true"
            )
            console.print(f"             or: dltheory-digest refresh --deployment --week {week}")
        else:  # the server's port is chosen at random: no other command can find it
            console.print(f"refresh a week here, without the server: dltheory-digest refresh --week {week}")
        serve_deployments(settings)


def next_scheduled_run(cron: str, timezone: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the weekly deployment runs next, as Prefect's server computes it from the cron and
    the zone (so daylight saving moves it as it moves the runs); None if there is none."""
    from prefect.server.schemas.schedules import CronSchedule
    from prefect.utilities.asyncutils import run_coro_as_sync

    # `get_dates` is a coroutine: run it on Prefect's own loop thread, which works whether or
    # not the caller is inside a running event loop (where asyncio.run would refuse)
    runs: list[dt.datetime] | None = run_coro_as_sync(
        CronSchedule(cron=cron, timezone=timezone).get_dates(n=1, start=now or dt.datetime.now(dt.UTC))
    )
    return runs[0] if runs else None


@app.command()
def refresh(
    week: Annotated[
        str | None, typer.Option(help="ISO week like 2026-W47 (default: the last complete week)")
    ] = None,
    sources: Annotated[str | None, typer.Option(help="comma-separated source ids")] = None,
    since: Annotated[str | None, typer.Option(help="backfill from this date (YYYY-MM-DD)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="write the digest but mail nobody")] = False,
    resend: Annotated[bool, typer.Option("--resend", help="mail readers who already got this week")] = False,
    deployment: Annotated[
        bool, typer.Option("--deployment", help="trigger the served weekly-digest/manual deployment instead")
    ] = False,
) -> None:
    """Re-fetch and re-render a week now; readers are never mailed twice unless --resend."""
    wanted = check_source_ids(sources)
    # the served deployment reads its own sources.yaml (which may live elsewhere): here only the
    # settings are needed, for the zone the week is checked in
    settings = _settings() if deployment else check_config({}, wanted)[0]
    target = check_week(week, settings.zone) if week else None
    check_since(since, target, settings.zone)
    params: dict[str, Any] = {
        "week": str(target) if target else None,
        "sources": wanted,
        "since": since,
        "dry_run": dry_run,
        "resend": resend,
    }
    if not deployment:
        if not dry_run and settings.readers:
            check_smtp(settings)
        check_store(settings)
        check_run_files(settings)
        result = run_flow(**params)
        print_summary(result)
        exit_on_failures(result)
        return
    quiet_prefect_defaults()
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    from dltheory_digest import pipeline
    from flows.deployments import FLOW_NAME, MANUAL

    name = f"{FLOW_NAME}/{MANUAL}"
    not_served = (
        f"deployment {name} not found: start it with `dltheory-digest serve` "
        "and point PREFECT_API_URL at that server"
    )
    api = PREFECT_API_URL.value()
    if not api:  # Prefect would start a temporary server of its own, which serves nothing
        raise fail_usage(not_served + " (PREFECT_API_URL is not set)")
    try:
        # timeout=0: submitted, not waited for, so its address is shown at once (a run may
        # queue for a worker or for its week's lock)
        flow_run = cast(
            FlowRun,
            run_deployment(name, parameters={k: v for k, v in params.items() if v is not None}, timeout=0),
        )
    except ObjectNotFound:
        raise fail_usage(f"{not_served} (asked {api})") from None
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            raise fail_usage(f"{not_served} (asked {api})") from None
        raise fail_usage(f"the Prefect API at {api} answered {exc.response.status_code}") from None
    except httpx.HTTPError as exc:  # nothing listens at PREFECT_API_URL, or it is not Prefect
        raise fail_usage(f"cannot reach the Prefect API at {api}: {exc or type(exc).__name__}") from None
    ui = PREFECT_UI_URL.value()
    console.print(
        f"flow run {flow_run.id} submitted" + (f": {ui}/runs/flow-run/{flow_run.id}" if ui else ""),
        highlight=False,
    )
    console.print("waiting for it to finish (Ctrl-C stops waiting, not the run)")
    try:
        flow_run = _wait_for(flow_run)
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None
    state = flow_run.state
    console.print(
        f"flow run {escape(flow_run.name)}, final state: [bold]{escape(state.name) if state else 'unknown'}[/]"
    )
    if state and state.message:
        console.print(escape(state.message), highlight=False)
    # as a local refresh: exit 1 when the run failed, or a source or a reader's mail did
    if not state or not state.is_completed() or not (state.message or "").endswith(pipeline.ALL_OK):
        raise typer.Exit(code=1)


def _wait_for(flow_run: Any, every: float = 2.0) -> Any:
    """The flow run once it has reached a final state. Polled: Prefect's event-based wait does not
    hear the end of a run whose process reports to the API without its event stream (a run
    served from `serve`'s temporary server), and then waits for ever."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        while True:
            flow_run = client.read_flow_run(flow_run.id)
            if flow_run.state is not None and flow_run.state.is_final():
                return flow_run
            time.sleep(every)


@app.command()
def deploy(
    pool: Annotated[str, typer.Option("--pool", help="a Prefect process work pool")],
) -> None:
    """Register both deployments on a work pool, so `prefect worker start --pool NAME` runs them anywhere."""
    quiet_prefect_defaults()
    # the workers read their own sources.yaml: an empty one here is only worth a warning
    settings, _ = check_config({}, need_sources=False)
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():  # Prefect would deploy to a temporary server that has no pools
        raise fail_usage("deploy needs a Prefect server: set PREFECT_API_URL")
    from flows.deployments import deploy_to_pool

    try:
        ids = deploy_to_pool(settings, pool)
    except Exception as exc:  # the API is unreachable or the pool does not exist
        err_console.print(f"[bold red]deploy failed:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=1) from None
    console.print(
        f"deployed weekly-digest/weekly and weekly-digest/manual to pool {pool!r}: {', '.join(ids)}",
        markup=False,
    )
