"""`refresh --deployment`'s wait for the run it submitted (the rest is in test_orchestration.py)."""

from __future__ import annotations

import threading
import time

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
