"""`refresh --deployment`'s wait for the run it submitted (the rest is in tests/flows/test_deployments_serve.py)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

pytestmark = pytest.mark.prefect


def test_the_wait_polls_until_the_run_reaches_a_final_state(prefect_harness: None) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Running

    from dltheory_digest.cli.orchestrate_cmd import _wait_for

    @flow(name="refresh-wait-probe")
    def probe() -> None:
        return None

    with get_client(sync_client=True) as client:
        submitted = client.create_flow_run(probe, state=Running())

        def finish_later() -> None:
            time.sleep(1.5)
            with get_client(sync_client=True) as other:
                other.set_flow_run_state(
                    submitted.id, Completed(message="2026-W47: 1 source, all ok"), force=True
                )

        finisher = threading.Thread(target=finish_later)
        finisher.start()
        finished = _wait_for(submitted, every=0.2)
        finisher.join()
    assert finished.state is not None and finished.state.is_completed()
    # the run was Running when the wait began: this is the state the other client set later
    assert finished.state.message == "2026-W47: 1 source, all ok"


def test_sigterm_stops_serving_as_ctrl_c_does(
    prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio
    import os
    import signal
    import warnings

    from dltheory_digest.cli.run_cmd import stopping_on_signals
    from flows.deployments import serving_runner

    codes: list[int] = []
    stopped: list[str] = []  # the test session's Prefect server must live on
    with (
        warnings.catch_warnings(record=True) as caught,
        stopping_on_signals(
            "stopped serving{held}", exit=codes.append, stop_servers=lambda: stopped.append("x")
        ),
    ):
        warnings.simplefilter("always")
        runner = serving_runner([], on_sigterm=signal.getsignal(signal.SIGTERM))
        # starting, Prefect's runner puts its own SIGTERM handler in place, as `serve` does
        asyncio.run(runner.start(run_once=True))
        assert signal.getsignal(signal.SIGTERM) == runner.handle_sigterm
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)  # the handler runs in this (the main) thread between two bytecodes
    assert codes == [128 + signal.SIGTERM] and stopped == ["x"]
    assert "interrupted: stopped serving" in capsys.readouterr().err
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_sigterm_without_a_handler_of_the_caller_stops_the_runner(prefect_harness: None) -> None:
    import asyncio
    import os
    import signal

    from prefect.exceptions import TerminationSignal

    from flows.deployments import serving_runner

    runner = serving_runner([], on_sigterm=signal.SIG_DFL)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        asyncio.run(runner.start(run_once=True))
        with pytest.raises(TerminationSignal) as raised:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert raised.value.signal == signal.SIGTERM


@pytest.fixture
def unserved_manual(prefect_harness: None) -> Any:
    """`weekly-digest/manual` registered on the session's server, with nothing serving it (as
    when `serve` has stopped); deleted after, as other tests expect none there."""
    from prefect.client.orchestration import get_client

    from flows.weekly_digest import served_digest

    with get_client(sync_client=True) as client:
        deployment_id = client.create_deployment(flow_id=client.create_flow(served_digest), name="manual")
        try:
            yield client.read_deployment(deployment_id)
        finally:
            client.delete_deployment(deployment_id)


def _runs_of(deployment_id: Any) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )


def test_refresh_of_a_deployment_nothing_serves_is_refused_at_once(unserved_manual: Any) -> None:
    """It waited for ever, and left a Scheduled run that a `serve` started hours later ran."""
    from typer.testing import CliRunner

    from dltheory_digest.cli import app

    result = CliRunner().invoke(
        app, ["refresh", "--deployment", "--week", "2026-W46", "--dry-run"], terminal_width=300
    )
    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.split())
    assert (
        "error: nothing is serving deployment weekly-digest/manual (never polled): "
        "start `dltheory-digest serve` (or a worker of its pool) first"
    ) in said
    assert _runs_of(unserved_manual.id) == []  # nothing left behind to run later


def test_a_run_left_unstarted_when_serving_stops_is_cancelled(unserved_manual: Any) -> None:
    from prefect.client.orchestration import get_client

    from dltheory_digest.cli.orchestrate_cmd import (
        NotServed,
        _wait_for,
        cancel_unstarted,
        not_served_reason,
    )

    assert not_served_reason("weekly-digest/manual") == (
        "nothing is serving deployment weekly-digest/manual (never polled)"
    )
    with get_client(sync_client=True) as client:
        submitted = client.create_flow_run_from_deployment(
            unserved_manual.id, parameters={"week": "2026-W46"}
        )
    with pytest.raises(NotServed) as gone:
        _wait_for(
            submitted, every=0.1, served=lambda: not_served_reason("weekly-digest/manual"), served_every=0.3
        )
    cancel_unstarted(submitted.id, f"cancelled by refresh: {gone.value}")
    [run] = _runs_of(unserved_manual.id)
    assert run.state is not None and run.state.is_cancelled()
    assert (
        run.state.message
        == "cancelled by refresh: nothing is serving deployment weekly-digest/manual (never polled)"
    )


def test_the_wait_does_not_give_up_on_a_run_that_has_started(prefect_harness: None) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Running

    from dltheory_digest.cli.orchestrate_cmd import _wait_for

    @flow(name="refresh-started-probe")
    def probe() -> None:
        return None

    asked: list[int] = []

    def gone() -> str:
        asked.append(1)
        return "nothing is serving it"

    with get_client(sync_client=True) as client:
        running = client.create_flow_run(probe, state=Running())

        def finish_later() -> None:
            time.sleep(1.0)
            with get_client(sync_client=True) as other:
                other.set_flow_run_state(running.id, Completed(), force=True)

        finisher = threading.Thread(target=finish_later)
        finisher.start()
        finished = _wait_for(running, every=0.1, served=gone, served_every=0.2)
        finisher.join()
    # a run under way finishes whatever becomes of the deployment: never asked, never abandoned
    assert finished.state is not None and finished.state.is_completed() and asked == []


def test_an_unreachable_api_with_an_empty_message_is_named_by_its_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx raises some errors with no text: the line still says what went wrong."""
    import httpx
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from typer.testing import CliRunner

    from dltheory_digest.cli import app, orchestrate_cmd

    def unreachable(name: str) -> str | None:
        raise httpx.ConnectError("")

    monkeypatch.setattr(orchestrate_cmd, "not_served_reason", unreachable)
    api = "http://127.0.0.1:9/api"
    with temporary_settings(updates={PREFECT_API_URL: api}):
        result = CliRunner().invoke(
            app, ["refresh", "--deployment", "--week", "2026-W46", "--dry-run"], terminal_width=300
        )
    assert result.exit_code == 2, result.output
    assert f"cannot reach the Prefect API at {api}: ConnectError" in " ".join(result.stderr.split())
