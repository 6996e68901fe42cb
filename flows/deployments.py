"""Deployments of the weekly flow: `weekly` on a cron schedule in the configured zone, `manual` on demand."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from prefect.schedules import Cron, Schedule

from dltheory_digest.config import Settings

FLOW_NAME = "weekly-digest"
WEEKLY = "weekly"
MANUAL = "manual"
PROJECT_DIR = Path(__file__).resolve().parent.parent
ENTRYPOINT = "flows/weekly_digest.py:weekly_digest"


def weekly_schedule(settings: Settings) -> Schedule:
    """Monday 07:00 by default, in the configured zone: it stays at local time across daylight saving."""
    return Cron(settings.schedule_cron, timezone=settings.timezone)


def runner_deployments(settings: Settings) -> list[Any]:
    from flows.weekly_digest import weekly_digest

    return [
        weekly_digest.to_deployment(
            name=WEEKLY,
            schedules=[weekly_schedule(settings)],
            description="The scheduled weekly digest of the last complete week.",
            tags=["dltheory-digest"],
        ),
        weekly_digest.to_deployment(
            name=MANUAL,
            description="Manual refresh: pass week, sources, since, dry_run, resend.",
            tags=["dltheory-digest"],
        ),
    ]


def serve_deployments(settings: Settings) -> None:
    """Serve both deployments from this process until interrupted (runs execute in subprocesses)."""
    from prefect import serve

    serve(*runner_deployments(settings))


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
