"""Scheduling and manual refresh: `serve`, `refresh`, `deploy`."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
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
    fail_usage,
    load_checked_settings,
    quiet_prefect_defaults,
)
from dltheory_digest.cli.run_cmd import (
    exit_on_failures,
    partial_line,
    print_summary,
    run_flow,
    run_week,
    stopping_on_signals,
)


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
    from flows.deployments import FLOW_NAME, MANUAL, WEEKLY, serve_deployments, taken_over
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
            try:  # same names as `deploy --pool`'s: serving takes the deployments back from a pool
                moved = taken_over(None)
            except Exception:  # the API is down: serving says so itself
                moved = []
            for line in moved:
                err_console.print(f"[bold yellow]warning:[/] {escape(line)}", highlight=False)
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
    sources: Annotated[
        str | None,
        typer.Option(
            help="comma-separated source ids (default: all enabled); leaving one out mails no reader"
        ),
    ] = None,
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
    settings = load_checked_settings() if deployment else check_config({}, wanted)[0]
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
        check_store(settings, target or run_week(settings))
        check_run_files(settings)
        result = run_flow(**params)
        print_summary(result, partial=partial_line(settings, result))
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
        # a run of a deployment nothing serves would stay Scheduled, and start whenever a
        # `serve` next comes up: refuse it now rather than wait for ever
        idle = not_served_reason(name)
        if idle is not None:
            raise fail_usage(f"{idle}: start `dltheory-digest serve` (or a worker of its pool) first")
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
        raise fail_usage(f"cannot reach the Prefect API at {api}: {str(exc) or type(exc).__name__}") from None
    ui = PREFECT_UI_URL.value()
    console.print(
        f"flow run {flow_run.id} submitted" + (f": {ui}/runs/flow-run/{flow_run.id}" if ui else ""),
        highlight=False,
    )
    console.print("waiting for it to finish (Ctrl-C stops waiting, not the run)")
    try:
        flow_run = _wait_for(flow_run, served=lambda: not_served_reason(name))
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None
    except NotServed as gone:
        # the run never started: cancelled, so a `serve` started later does not run it then
        cancel_unstarted(flow_run.id, f"cancelled by refresh: {gone}")
        err_console.print(
            f"[bold red]error:[/] {escape(str(gone))} before the run started: it is cancelled; "
            "start `dltheory-digest serve` and refresh again",
            highlight=False,
        )
        raise typer.Exit(code=1) from None
    state = flow_run.state
    console.print(
        f"flow run {escape(flow_run.name)}, final state: [bold]{escape(state.name) if state else 'unknown'}[/]"
    )
    if state and state.message:
        console.print(escape(state.message), highlight=False)
    # as a local refresh: exit 1 when the run failed, or a source or a reader's mail did
    if not state or not state.is_completed() or not (state.message or "").endswith(pipeline.ALL_OK):
        raise typer.Exit(code=1)


class NotServed(Exception):
    """The deployment of a run still waiting to start is no longer served."""


# How often the wait asks whether a run that has not started is still served: Prefect marks a
# deployment NOT_READY a minute after its last poll (serve and workers poll every 10 s).
SERVED_CHECK_EVERY = 30.0


def _wait_for(
    flow_run: Any,
    every: float = 2.0,
    *,
    served: Callable[[], str | None] | None = None,
    served_every: float = SERVED_CHECK_EVERY,
) -> Any:
    """The flow run once it has reached a final state. Polled: Prefect's event-based wait does not
    hear the end of a run whose process reports to the API without its event stream (a run
    served from `serve`'s temporary server), and then waits for ever. While the run has not
    started, `served` is asked every `served_every` s; a reason from it raises `NotServed`."""
    from prefect.client.orchestration import get_client

    next_check = time.monotonic() + served_every
    with get_client(sync_client=True) as client:
        while True:
            flow_run = client.read_flow_run(flow_run.id)
            if flow_run.state is not None and flow_run.state.is_final():
                return flow_run
            if served is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + served_every
                unstarted = flow_run.state is None or flow_run.state.is_scheduled()
                reason = served() if unstarted else None
                if reason is not None:
                    raise NotServed(reason)
            time.sleep(every)


def not_served_reason(name: str) -> str | None:
    """Why nothing will run deployment `name` ("weekly-digest/manual"): Prefect says it is
    NOT_READY (no `serve` or worker has polled it in the last minute); None while it is served.
    Raises ObjectNotFound for an unknown deployment, httpx errors for an unreachable API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import DeploymentStatus

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
    if deployment.status != DeploymentStatus.NOT_READY:
        return None
    polled = (
        f"last polled {deployment.last_polled:%Y-%m-%d %H:%M:%S} UTC"
        if deployment.last_polled
        else "never polled"
    )
    return f"nothing is serving deployment {name} ({polled})"


def cancel_unstarted(flow_run_id: Any, why: str) -> None:
    """Cancel a run that has not started, so no later `serve` or worker picks it up. Best effort:
    one that started meanwhile is left to run."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
        if state is None or state.is_scheduled():
            client.set_flow_run_state(flow_run_id, Cancelled(message=why))


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
    from flows.deployments import deploy_to_pool, taken_over

    try:
        # same names as serve's: the pool takes them over; a serve still running loses them
        for line in taken_over(pool):
            err_console.print(f"[bold yellow]warning:[/] {escape(line)}", highlight=False)
        ids = deploy_to_pool(settings, pool)
    except Exception as exc:  # the API is unreachable or the pool does not exist
        err_console.print(f"[bold red]deploy failed:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=1) from None
    console.print(
        f"deployed weekly-digest/weekly and weekly-digest/manual to pool {pool!r}: {', '.join(ids)}",
        markup=False,
    )
