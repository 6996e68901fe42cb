"""Deployments of the weekly flow: `weekly` on a cron schedule in the configured zone, `manual` on demand."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from prefect.schedules import Cron, Schedule

from dltheory_digest.config import Settings

FLOW_NAME = "weekly-digest"
WEEKLY = "weekly"  # the deployment on the cron schedule
MANUAL = "manual"
PROJECT_DIR = Path(__file__).resolve().parent.parent
# the deployed flow takes only what an operator may set (week, sources, since, dry_run, resend)
ENTRYPOINT = "flows/weekly_digest.py:served_digest"


def weekly_schedule(settings: Settings) -> Schedule:
    """Monday 07:00 by default, in the configured zone: it stays at local time across daylight saving."""
    return Cron(settings.schedule_cron, timezone=settings.timezone)


def runner_deployments(settings: Settings) -> list[Any]:
    from flows.weekly_digest import served_digest

    return [
        served_digest.to_deployment(
            name=WEEKLY,
            schedules=[weekly_schedule(settings)],
            description="The scheduled weekly digest of the last complete week.",
            tags=["dltheory-digest"],
        ),
        served_digest.to_deployment(
            name=MANUAL,
            description="Manual refresh: pass week, sources, since, dry_run, resend.",
            tags=["dltheory-digest"],
        ),
    ]


def serve_deployments(settings: Settings) -> None:
    """Serve both deployments from this process until interrupted (runs execute in subprocesses).

    `prefect.serve`, but SIGTERM is handled as the caller set it up before serving (the CLI's
    `stopping_on_signals`: "interrupted: stopped serving", exit 143, as Ctrl-C gives 130).
    Prefect's runner installs its own SIGTERM handler when it starts, and that one calls its
    async stop from inside the event loop without awaiting it (a RuntimeWarning) and exits 0."""
    import asyncio

    from prefect.exceptions import TerminationSignal

    runner = serving_runner(runner_deployments(settings), on_sigterm=signal.getsignal(signal.SIGTERM))
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal) as exc:
        # no handler of the caller's: the runner has shut down; say how it ended
        raise SystemExit(128 + getattr(exc, "signal", signal.SIGINT)) from None


def serving_runner(deployments: Sequence[Any], *, on_sigterm: Any = None) -> Any:
    """A Prefect runner of `deployments` whose SIGTERM goes to `on_sigterm` (a handler from
    `signal.getsignal`); without a Python handler there, SIGTERM stops the runner as Ctrl-C does
    and `serve_deployments` exits 143.

    Stopping leaves the weekly schedule active, however serve stops (the CLI's handler ends the
    process at once, so Prefect's pause-on-shutdown could not run anyway): the server goes on
    creating the Monday runs, which wait, Late, until serve is back. Then the latest of them
    builds its own week and the earlier ones step aside (`served_digest`): a missed Monday is
    caught up once, not lost. Pausing would make the server delete them."""
    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner

    class _Runner(Runner):
        def handle_sigterm(self, signum: int = signal.SIGTERM, frame: Any = None) -> None:
            if callable(on_sigterm):
                on_sigterm(signum, frame)
                return
            # raised in the main thread, it ends asyncio.run, which cancels the runner's loops
            raise TerminationSignal(signal=signal.SIGTERM)

    runner = _Runner(pause_on_shutdown=False)
    for deployment in deployments:
        runner.add_deployment(deployment)
    return runner


def taken_over(pool: str | None) -> list[str]:
    """What registering the deployments on `pool` (None: `serve`) takes from elsewhere: the
    names are the same either way, so `deploy --pool` moves the deployments `serve` registered
    onto the pool, and a later `serve` moves them back. One line per deployment that moves."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    lines = []
    with get_client(sync_client=True) as client:
        for name in (WEEKLY, MANUAL):
            try:
                current = client.read_deployment_by_name(f"{FLOW_NAME}/{name}")
            except ObjectNotFound:
                continue
            if (current.work_pool_name or None) == pool:
                continue
            before = f"pool {current.work_pool_name!r}" if current.work_pool_name else "`serve`"
            after = f"pool {pool!r}" if pool else "this `serve`"
            lines.append(f"{FLOW_NAME}/{name} was run by {before}; from now on {after} runs it")
    return lines


def deploy_to_pool(settings: Settings, pool: str, source: Path = PROJECT_DIR) -> list[str]:
    """Register both deployments on a process work pool, so workers on other machines run them."""
    from prefect import Flow
    from prefect import flow as prefect_flow

    # from_source is sync-compatible: called outside an event loop it returns the Flow itself
    remote = cast(Flow[..., Any], prefect_flow.from_source(str(source), ENTRYPOINT))
    ids = [
        remote.deploy(
            name=WEEKLY,
            work_pool_name=pool,
            schedules=[weekly_schedule(settings)],
            tags=["dltheory-digest"],
            print_next_steps=False,
        ),
        remote.deploy(name=MANUAL, work_pool_name=pool, tags=["dltheory-digest"], print_next_steps=False),
    ]
    return [str(i) for i in ids]
