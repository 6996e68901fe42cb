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
                    submitted.id, Completed(message="2026-W47: 1 sources, all ok"), force=True
                )

        finisher = threading.Thread(target=finish_later)
        finisher.start()
        finished = _wait_for(submitted, every=0.2)
        finisher.join()
    assert finished.state is not None and finished.state.is_completed()
    # the run was Running when the wait began: this is the state the other client set later
    assert finished.state.message == "2026-W47: 1 sources, all ok"
