"""Schedules, Dask workers, and serve + a manual run against a real local Prefect server."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dltheory_digest.config import Settings
from dltheory_digest.demo import DEMO_WEEK, SnapshotServer, demo_settings_overrides, write_demo_sources

BIN = Path(sys.executable).parent


def test_weekly_schedule_stays_at_local_time_across_daylight_saving() -> None:
    from prefect.server.schemas.schedules import CronSchedule

    from flows.deployments import weekly_schedule

    schedule = weekly_schedule(Settings(timezone="Europe/Berlin"))
    assert (schedule.cron, schedule.timezone) == ("0 7 * * 1", "Europe/Berlin")
    # the server computes run times from exactly this cron and zone; Berlin leaves summer time on 25 Oct 2026
    server_side = CronSchedule(cron=schedule.cron, timezone=schedule.timezone)
    runs = server_side.get_dates(n=4, start=dt.datetime(2026, 10, 12, tzinfo=dt.UTC))
    if inspect.isawaitable(runs):  # sync-compatible: a coroutine when Prefect thinks a loop is running
        runs = asyncio.run(runs)  # type: ignore[arg-type]
    assert [(r.date().isoformat(), r.hour) for r in runs] == [
        ("2026-10-12", 7),
        ("2026-10-19", 7),
        ("2026-10-26", 7),
        ("2026-11-02", 7),
    ]
    assert [r.astimezone(dt.UTC).hour for r in runs] == [5, 5, 6, 6]


def test_the_thread_runner_runs_max_concurrency_tasks_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.weekly_digest import task_runner_from_settings

    monkeypatch.setenv("DLTHEORY_MAX_CONCURRENCY", "2")
    runner = task_runner_from_settings()
    assert isinstance(runner, ThreadPoolTaskRunner)
    assert runner._max_workers == 2  # Prefect keeps the pool size private


@pytest.mark.prefect
@pytest.mark.slow
def test_dask_runner_spreads_the_flow_over_worker_processes(prefect_harness: None, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster, get_task_stream
    from prefect_dask import DaskTaskRunner

    from flows.weekly_digest import weekly_digest

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
        SnapshotServer() as server,
    ):
        overrides = demo_settings_overrides(server.base_url, tmp_path / "data", tmp_path / "outputs")
        overrides["sources_file"] = str(write_demo_sources(server.base_url, tmp_path / "sources.yaml"))
        on_dask = weekly_digest.with_options(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
        with get_task_stream(client) as stream:
            result = on_dask(week=DEMO_WEEK, dry_run=True, settings_overrides=overrides)
        workers = {task["worker"] for task in stream.data}
    assert result["failed_sources"] == [] and result["papers"] > 10
    assert Path(result["path"]).is_file()
    assert len(workers) == 2  # tasks ran in both worker processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A real `prefect server start` on loopback, with its own home and database."""
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
    }
    env.pop("PREFECT_API_KEY", None)
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            pytest.fail("the Prefect server did not start: " + (tmp_path / "server.log").read_text())
        yield env
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


@pytest.mark.slow
def test_serve_and_a_manual_refresh_reach_completed(prefect_server: dict[str, str], tmp_path: Path) -> None:
    """`serve` shows both deployments; a manual run completes even with every source unreachable."""
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - {id: dead-blog, kind: feed, url: 'http://127.0.0.1:9/feed.xml', politeness: {timeout: 2}}\n",
        encoding="utf-8",
    )
    env: dict[str, Any] = {
        **prefect_server,
        "DLTHEORY_SOURCES_FILE": str(sources),
        "DLTHEORY_DATA_DIR": str(tmp_path / "data"),
        "DLTHEORY_OUTPUT_DIR": str(tmp_path / "outputs"),
        "DLTHEORY_TIMEZONE": "Europe/Berlin",
        "DLTHEORY_ARXIV_API_BASE": "http://127.0.0.1:9/api/query",
    }
    serve_log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        [str(BIN / "dltheory-digest"), "serve"],
        env=env,
        stdout=serve_log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        listing = ""
        while time.monotonic() < deadline:
            listing = subprocess.run(
                [str(BIN / "prefect"), "deployment", "ls"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
            if "weekly-digest/weekly" in listing and "weekly-digest/manual" in listing:
                break
            time.sleep(2)
        assert "weekly-digest/weekly" in listing and "weekly-digest/manual" in listing, listing
        details = subprocess.run(
            [str(BIN / "prefect"), "deployment", "inspect", "weekly-digest/weekly"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        assert "0 7 * * 1" in details and "Europe/Berlin" in details

        refresh = subprocess.run(
            [str(BIN / "dltheory-digest"), "refresh", "--deployment", "--week", "2026-W47", "--dry-run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        said = " ".join(refresh.stdout.split())
        assert "submitted" in said and "final state: Completed" in said, refresh.stdout + refresh.stderr
        # the run completed, but as a local refresh, a failed source makes the exit status 1
        assert "2026-W47: dry run, no one was mailed; every source failed" in said
        assert refresh.returncode == 1, refresh.stdout + refresh.stderr
        digest = tmp_path / "outputs" / "2026-W47.md"
        assert digest.is_file()
        assert "dead-blog" in digest.read_text(encoding="utf-8").split("## Source report", 1)[1]

        # the same two deployments registered on a process work pool, for workers elsewhere
        subprocess.run(
            [str(BIN / "prefect"), "work-pool", "create", "dltheory-test", "--type", "process"],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        deployed = subprocess.run(
            [str(BIN / "dltheory-digest"), "deploy", "--pool", "dltheory-test"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        # same names as serve's: the pool takes them over, and says so
        warned = " ".join(deployed.stderr.split())
        for name in ("weekly", "manual"):
            assert (
                f"warning: weekly-digest/{name} was run by `serve`; from now on pool 'dltheory-test' runs it"
            ) in warned, deployed.stderr
        pool_deployments = subprocess.run(
            [str(BIN / "prefect"), "deployment", "inspect", "weekly-digest/manual"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        assert "dltheory-test" in pool_deployments
    finally:
        serve.terminate()
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            serve.kill()
        serve_log.close()
        shutil.rmtree(tmp_path / "prefect-home", ignore_errors=True)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """`serve` up to the point it would block: what it would have served with."""
    import flows.deployments

    monkeypatch.chdir(tmp_path)
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - {id: dead, kind: feed, url: 'http://127.0.0.1:9/feed.xml'}\n", encoding="utf-8"
    )
    calls: list[Settings] = []
    monkeypatch.setattr(flows.deployments, "serve_deployments", calls.append)
    return calls


def test_serve_on_the_temporary_server_says_how_to_refresh_without_it(served: list[Settings]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from typer.testing import CliRunner

    from dltheory_digest.cli import app
    from dltheory_digest.weeks import last_complete_week

    week = last_complete_week(ZoneInfo("UTC"))
    harness_api, harness_env = PREFECT_API_URL.value(), os.environ.get("PREFECT_API_URL")
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(app, ["serve"], terminal_width=200)
    # the test harness's server is the one in use again
    assert PREFECT_API_URL.value() == harness_api and os.environ.get("PREFECT_API_URL") == harness_env
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    # Prefect's own temporary server would run no scheduler: serve starts a whole one, and stops it
    assert "a Prefect server of its own at http://127.0.0.1:" in said and "it stops with serve" in said
    # the server's port is random: nothing else can reach it, so nothing may suggest it
    assert "--deployment" not in said and "prefect deployment run" not in said
    assert f"dltheory-digest refresh --week {week}" in said
    assert len(served) == 1


def test_serve_on_a_real_server_advertises_the_deployment(served: list[Settings]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from typer.testing import CliRunner

    from dltheory_digest.cli import app
    from dltheory_digest.weeks import last_complete_week

    week = last_complete_week(ZoneInfo("UTC"))
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        result = CliRunner().invoke(app, ["serve"], terminal_width=200)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "on http://127.0.0.1:9/api" in said
    assert f"dltheory-digest refresh --deployment --week {week}" in said
    assert f"--param week={week}" in said


def test_a_run_is_named_by_its_week(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.runtime import flow_run

    from dltheory_digest.weeks import last_complete_week
    from flows.weekly_digest import run_name

    def named(**params: Any) -> str:
        monkeypatch.setitem(flow_run.FIELDS, "parameters", lambda: params)
        return run_name()

    assert named(week="2026-W47") == "2026-W47"
    assert named(week="2026-W47", dry_run=True, sources=["a", "b"]) == "2026-W47 dry run sources a,b"
    assert named(week="2026-W47", demo=True) == "2026-W47 demo"
    # the scheduled run passes no week: named by the week it builds, in the configured zone
    berlin = {"timezone": "Europe/Berlin"}
    assert (
        named(settings_overrides=berlin, resend=True)
        == f"{last_complete_week(ZoneInfo('Europe/Berlin'))} resend"
    )
    # a bad setting fails the run itself, by name; naming it must not crash first
    assert named(settings_overrides={"timezone": "Mars/Olympus"}) == "last complete week"


@pytest.mark.prefect
def test_a_week_lock_left_by_an_ended_run_is_taken_over(prefect_harness: None, tmp_path: Path) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client

    from dltheory_digest.store import open_store
    from dltheory_digest.store.locks import LockTimeout, lock_holder, try_lock
    from dltheory_digest.weeks import Week
    from flows.weekly_digest import WEEK_LOCK_TTL, hold_week

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    week = Week.parse("2026-W47")

    @flow
    def killed_holder() -> None:
        """Stands for a run killed (SIGKILL, a lost machine) before it could release its lock."""

    @flow
    def second_run(timeout: float) -> str | None:
        with hold_week(store, week, "second-run", timeout=timeout, check_every=0.5):
            return lock_holder(store, "week-2026-W47")

    ended = killed_holder(return_state=True)
    dead_id = str(ended.state_details.flow_run_id)
    assert try_lock(store, "week-2026-W47", dead_id, WEEK_LOCK_TTL)
    # its run is over (Prefect says so): the second run takes the week at once, not hours later
    assert second_run(30.0) == "second-run"
    assert lock_holder(store, "week-2026-W47") is None  # and released it

    # a holder still running (here: scheduled, not yet finished) is waited for
    with get_client(sync_client=True) as client:
        live = client.create_flow_run(killed_holder)
    assert try_lock(store, "week-2026-W47", str(live.id), WEEK_LOCK_TTL)
    state = second_run(2.0, return_state=True)
    assert state.is_failed() and isinstance(state.result(raise_on_failure=False), LockTimeout)
    assert lock_holder(store, "week-2026-W47") == str(live.id)


class WarningLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.lines.append(record.getMessage())


@contextmanager
def flow_run_warnings() -> Iterator[list[str]]:
    """The WARNING lines a flow logs through its run logger while the body runs."""
    handler = WarningLines()
    logger = logging.getLogger("prefect.flow_runs")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


@pytest.mark.prefect
def test_a_week_lock_left_by_a_killed_process_of_this_host_is_taken_over_at_once(
    prefect_harness: None, tmp_path: Path
) -> None:
    """`run` killed with SIGKILL: its temporary Prefect server died with it, so Prefect never
    records the run as ended; its process is gone, and that is enough on the same host."""
    from prefect import flow
    from prefect.client.orchestration import get_client

    from dltheory_digest.store import open_store
    from dltheory_digest.store.locks import LockHolder, lock_holder, try_lock
    from dltheory_digest.weeks import Week
    from flows.weekly_digest import WEEK_LOCK_TTL, hold_week

    @flow
    def weekly() -> None:
        """Stands for the killed run: Prefect still has it as scheduled, never ended."""

    with get_client(sync_client=True) as client:
        killed = str(client.create_flow_run(weekly).id)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = open_store(url)
    script = (
        "import sys, datetime as dt; from dltheory_digest.store import open_store; "
        "from dltheory_digest.store.locks import try_lock; "
        "assert try_lock(open_store(sys.argv[1]), 'week-2026-W47', sys.argv[2], dt.timedelta(hours=6)); "
        "print('locked', flush=True); sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, url, killed], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "locked\n"
    child.kill()
    child.wait()

    @flow
    def second_run(timeout: float) -> str | None:
        with hold_week(store, Week.parse("2026-W47"), "second-run", timeout=timeout, check_every=0.5):
            return lock_holder(store, "week-2026-W47")

    with flow_run_warnings() as said:
        assert second_run(30.0) == "second-run"
    assert said == [
        f"took over 2026-W47 from run {killed} (host {socket.gethostname()}, pid {child.pid}): "
        f"its process {child.pid} on {socket.gethostname()} no longer exists"
    ]
    # and Prefect, which never heard of the kill, now shows that run as crashed, not running
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(uuid.UUID(killed)).state
    assert (
        state is not None and state.is_crashed() and f"pid {child.pid}) was killed" in (state.message or "")
    )

    # a holder on another machine is waited for, and the wait is told once, with its end
    held = LockHolder(run="busy-run", host="another-machine", pid=child.pid)
    with store.begin() as conn:
        conn.exec_driver_sql("DELETE FROM run_locks")
    assert try_lock(store, "week-2026-W47", "x", WEEK_LOCK_TTL)
    with store.begin() as conn:
        conn.exec_driver_sql("UPDATE run_locks SET holder = ?", (held.encode(),))
    with flow_run_warnings() as said:
        state = second_run(2.0, return_state=True)
    assert state.is_failed() and lock_holder(store, "week-2026-W47") == "busy-run"
    assert len(said) == 1, said
    assert said[0].startswith("2026-W47 is held by run busy-run (host another-machine, pid ")
    assert said[0].endswith(" UTC") and ": waiting until that run ends, or its lock expires at " in said[0]


def test_the_next_weekly_run_is_computed_in_the_configured_zone() -> None:
    from dltheory_digest.cli.orchestrate_cmd import next_scheduled_run

    # Monday 12:30 in Kiritimati (UTC+14) while it is still Sunday in UTC: the run of that
    # Monday 07:00 is past, the next is a week later
    now = dt.datetime(2026, 11, 22, 22, 30, tzinfo=dt.UTC)
    upcoming = next_scheduled_run("0 7 * * 1", "Pacific/Kiritimati", now)
    assert upcoming is not None
    assert upcoming.astimezone(ZoneInfo("Pacific/Kiritimati")).replace(tzinfo=None) == dt.datetime(
        2026, 11, 30, 7
    )
    assert upcoming.astimezone(dt.UTC) == dt.datetime(2026, 11, 29, 17, tzinfo=dt.UTC)
    # Berlin leaves summer time on 25 Oct 2026: the run after it is still at 07:00 local
    after = next_scheduled_run("0 7 * * 1", "Europe/Berlin", dt.datetime(2026, 10, 20, tzinfo=dt.UTC))
    assert after is not None and after.astimezone(dt.UTC) == dt.datetime(2026, 10, 26, 6, tzinfo=dt.UTC)


def test_the_next_weekly_run_is_computed_inside_a_running_event_loop() -> None:
    """A caller already in an event loop (an async CLI wrapper, a notebook) gets the date too:
    asyncio.run would refuse there."""
    import asyncio

    from dltheory_digest.cli.orchestrate_cmd import next_scheduled_run

    start = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)

    async def in_loop() -> dt.datetime | None:
        return next_scheduled_run("0 7 * * 1", "Asia/Shanghai", start)

    upcoming = asyncio.run(in_loop())
    assert upcoming is not None and upcoming.astimezone(dt.UTC) == dt.datetime(
        2026, 11, 22, 23, tzinfo=dt.UTC
    )
    assert upcoming == next_scheduled_run("0 7 * * 1", "Asia/Shanghai", start)  # as outside a loop


def test_serve_says_when_the_next_weekly_run_is(
    served: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from typer.testing import CliRunner

    from dltheory_digest.cli import app
    from dltheory_digest.cli.orchestrate_cmd import next_scheduled_run

    monkeypatch.setenv("DLTHEORY_TIMEZONE", "Pacific/Kiritimati")
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(app, ["serve"], terminal_width=200)
    assert result.exit_code == 0, result.output
    upcoming = next_scheduled_run("0 7 * * 1", "Pacific/Kiritimati")
    assert upcoming is not None
    local = upcoming.astimezone(ZoneInfo("Pacific/Kiritimati"))
    said = " ".join(result.stdout.split())
    assert f"next weekly run: {local:%Y-%m-%d} 07:00 Pacific/Kiritimati (UTC+14:00)" in said


def test_the_state_message_counts_one_source_in_the_singular() -> None:
    from dltheory_digest import pipeline
    from dltheory_digest.models import SourceReport
    from dltheory_digest.weeks import Week

    ok = SourceReport(source_id="arxiv", kind="arxiv_oai")
    assert pipeline.run_message(Week.parse("2026-W47"), [ok], []) == "2026-W47: 1 source, all ok"
    assert pipeline.run_message(Week.parse("2026-W47"), [ok, ok], []) == "2026-W47: 2 sources, all ok"
