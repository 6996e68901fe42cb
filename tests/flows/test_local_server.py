"""The server `serve` and `run` start without PREFECT_API_URL: it schedules, and it dies with them.

Each check runs in a child process of its own with no PREFECT_API_URL (the session's test harness
sets one for this process), so the child starts its server as the CLI would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

CHILD = """
import asyncio, sys
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from flows.local_server import local_server, LocalServer

@flow(name="every-minute")
def every_minute():
    return 1

async def scheduled(name):
    async with get_client() as client:
        runs = await client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name]))
        )
    return [r for r in runs if r.state and r.state.is_scheduled()]

with local_server(scheduling=sys.argv[1] == "scheduling") as api:
    print("server", LocalServer._instances[None].server_process.pid, api, flush=True)
    every_minute.to_deployment(name="m", cron="* * * * *").apply()
    found = []
    for _ in range(60):
        found = asyncio.run(scheduled("m"))
        if found:
            break
        asyncio.run(asyncio.sleep(0.5))
    print("scheduled", len(found), flush=True)
    sys.stdin.read()  # until the test kills this process
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its new parent) is gone for our purpose
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _start(tmp_path: Path, mode: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PYTHONPATH=str(PROJECT),
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        # the scheduler looks for deployments to schedule every second instead of every minute
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1",
    )
    child = subprocess.Popen(
        [sys.executable, str(script), mode], cwd=tmp_path, env=env, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    said: dict[str, str] = {}
    assert child.stdout is not None
    for line in child.stdout:
        word, _, rest = line.strip().partition(" ")
        said[word] = rest
        if word == "scheduled":
            break
    return child, said


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_serves_own_server_schedules_the_cron_and_dies_with_the_command(tmp_path: Path) -> None:
    child, said = _start(tmp_path, "scheduling")
    try:
        server_pid = int(said["server"].split()[0])
        assert said["server"].split()[1].startswith("http://127.0.0.1:")
        # Prefect's own temporary server would schedule nothing (it runs no services)
        assert int(said["scheduled"]) > 0
        assert _alive(server_pid)
        child.send_signal(signal.SIGKILL)  # no atexit, no finally: only the kernel can tell it
        child.wait()
        for _ in range(100):  # the server's shutdown takes a moment after its SIGTERM
            if not _alive(server_pid):
                break
            time.sleep(0.1)
        assert not _alive(server_pid)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


RUN_ONCE = """
from prefect import flow, get_run_logger
from flows.local_server import local_server

@flow(name="says-a-lot")
def says_a_lot():
    logger = get_run_logger()
    for i in range(200):
        logger.info("line %d", i)
    return "done"

with local_server() as api:
    print("result", says_a_lot(), flush=True)
print("after", flush=True)
"""


def test_a_run_on_its_own_server_sends_its_last_logs_before_the_server_stops(tmp_path: Path) -> None:
    script = tmp_path / "once.py"
    script.write_text(RUN_ONCE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PYTHONPATH=str(PROJECT), PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "result done" in done.stdout and "after" in done.stdout
    # logs still queued when the server went away used to end the command with this
    assert "Error logging to API" not in done.stderr + done.stdout
