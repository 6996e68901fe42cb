"""The deployments `serve` and `deploy --pool` register, on the session's Prefect server."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from dltheory_digest.config import Settings

pytestmark = pytest.mark.prefect


def _delete(client: Any, name: str) -> None:
    from prefect.exceptions import ObjectNotFound

    with contextlib.suppress(ObjectNotFound):
        client.delete_deployment(client.read_deployment_by_name(name).id)


def test_the_deployments_run_the_flow_without_the_commands_switches(prefect_harness: None) -> None:
    from prefect.flows import load_flow_from_entrypoint

    from flows.deployments import ENTRYPOINT, PROJECT_DIR, runner_deployments

    deployments = runner_deployments(Settings(timezone="Europe/Berlin"))
    for deployment in deployments:
        properties = deployment._parameter_openapi_schema.properties
        assert set(properties) == {"week", "sources", "since", "dry_run", "resend"}, deployment.name
        assert all(field.get("description") for field in properties.values())
    # `deploy --pool`'s workers load the same flow from the entrypoint
    loaded: Any = load_flow_from_entrypoint(str(PROJECT_DIR / ENTRYPOINT))
    assert set(loaded.parameters.properties) == {"week", "sources", "since", "dry_run", "resend"}


def test_stopping_serve_leaves_the_weekly_schedule_active(prefect_harness: None) -> None:
    """As its docstring says: a Monday missed while serve is down is run (once) when it is back."""
    from prefect.client.orchestration import get_client

    from flows.deployments import runner_deployments, serving_runner

    runner = serving_runner(runner_deployments(Settings(timezone="Europe/Berlin")))
    try:
        asyncio.run(runner.start(run_once=True))  # registers, polls once, shuts down
        with get_client(sync_client=True) as client:
            weekly = client.read_deployment_by_name("weekly-digest/weekly")
            assert weekly.paused is False
            assert [s.active for s in weekly.schedules] == [True]
    finally:
        with get_client(sync_client=True) as client:
            _delete(client, "weekly-digest/weekly")
            _delete(client, "weekly-digest/manual")


def test_deploying_to_a_pool_says_it_takes_the_deployments_from_serve(prefect_harness: None) -> None:
    from prefect.client.orchestration import get_client

    from flows.deployments import taken_over
    from flows.weekly_digest import served_digest

    with get_client(sync_client=True) as client:
        assert taken_over("nightly") == []  # nothing registered yet: nothing moves
        flow_id = client.create_flow(served_digest)
        client.create_deployment(flow_id=flow_id, name="manual")
        try:
            assert taken_over("nightly") == [
                "weekly-digest/manual was run by `serve`; from now on pool 'nightly' runs it"
            ]
            assert taken_over(None) == []  # serve again: it is already serve's
        finally:
            _delete(client, "weekly-digest/manual")
