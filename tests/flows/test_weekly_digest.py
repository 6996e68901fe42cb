"""The flow's store and HTTP client last as long as its runs: nothing stays open after them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dltheory_digest.config import load_settings
from dltheory_digest.demo import DEMO_WEEK, SnapshotServer, demo_settings_overrides, write_demo_sources


def open_files_under(root: Path) -> list[str]:
    """Paths this process holds open below `root` (SQLite files, WAL, HTTP cache), deleted ones too."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile (the listing's own descriptor)
            continue
        if target.startswith(str(root)):
            held.append(target)
    return held


def test_a_store_shared_by_overlapping_runs_is_closed_when_the_last_ends(tmp_path: Path) -> None:
    from flows.weekly_digest import run_resources, shared_store

    settings = load_settings(data_dir=str(tmp_path / "data"))
    with run_resources(settings) as store:
        with run_resources(settings) as same:  # a second run of the process, same settings
            assert same is store and shared_store(settings) is store
        # the first run is still going: its store is still open and usable
        with store.begin() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        assert open_files_under(tmp_path)
    assert open_files_under(tmp_path) == []
    with run_resources(settings) as reopened:  # a later run opens its own again
        assert reopened is not store
    assert open_files_under(tmp_path) == []


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[SnapshotServer, dict[str, Any]]]:
    with SnapshotServer() as server:
        overrides = demo_settings_overrides(server.base_url, tmp_path / "data", tmp_path / "outputs")
        overrides["sources_file"] = str(write_demo_sources(server.base_url, tmp_path / "sources.yaml"))
        yield server, overrides


@pytest.mark.prefect
def test_a_flow_run_leaves_no_store_or_http_cache_file_open(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]], tmp_path: Path
) -> None:
    from flows.weekly_digest import weekly_digest

    server, overrides = demo
    result = weekly_digest(week=DEMO_WEEK, sources=["offconvex"], dry_run=True, settings_overrides=overrides)
    assert Path(result["path"]).is_file() and result["failed_sources"] == []
    # the run did use both: the store and the HTTP cache exist on disk
    settings = load_settings(**overrides)
    assert settings.resolved_http_cache.exists() and any(r.path for r in server.requests)
    assert open_files_under(tmp_path) == []


def test_a_source_task_failed_on_a_full_disk_is_not_retried() -> None:
    import errno

    from prefect.states import Failed

    from flows.weekly_digest import collect_task

    retry = collect_task.retry_condition_fn
    assert retry is not None
    full = Failed(data=OSError(errno.ENOSPC, "No space left on device"))
    flaky = Failed(data=OSError(errno.ECONNRESET, "Connection reset by peer"))
    assert retry(collect_task, None, full) is False  # type: ignore[arg-type]
    assert retry(collect_task, None, flaky) is True  # type: ignore[arg-type]


def _store_failures() -> list[Any]:
    """(what the record or build task raised, whether it is run again)"""
    import errno
    import sqlite3

    import psycopg
    from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, ProgrammingError

    from dltheory_digest.errors import ConfigError

    def sqlite(words: str) -> OperationalError:
        return OperationalError("INSERT", {}, sqlite3.OperationalError(words))

    def postgresql(error: psycopg.Error, cls: type[DBAPIError] = OperationalError) -> DBAPIError:
        return cls("SELECT 1", {}, error)

    refused = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: '

    cases = [
        # retried: PostgreSQL restarting or failing over, a lock held past its wait
        (postgresql(psycopg.OperationalError("server closed the connection unexpectedly")), True),
        (postgresql(psycopg.OperationalError("connection failed: Connection refused")), True),
        (postgresql(psycopg.errors.AdminShutdown("terminating connection")), True),
        (postgresql(psycopg.errors.CannotConnectNow("the database system is starting up")), True),
        (postgresql(psycopg.errors.ConnectionFailure("connection failure")), True),
        (postgresql(psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")), True),
        # ...a deadlock or serialization failure (PostgreSQL's advice: run the transaction again)
        (postgresql(psycopg.errors.DeadlockDetected("deadlock detected")), True),
        (postgresql(psycopg.errors.SerializationFailure("could not serialize access")), True),
        # ...but not a commit whose outcome is unknown: run again, it could be written twice
        (postgresql(psycopg.errors.StatementCompletionUnknown("connection lost during commit")), False),
        # ...every connection slot taken by another run (at connect libpq gives no SQLSTATE)
        (postgresql(psycopg.errors.TooManyConnections("sorry, too many clients already")), True),
        (postgresql(psycopg.OperationalError(f"{refused}FATAL:  sorry, too many clients already")), True),
        (
            postgresql(psycopg.OperationalError(f"{refused}FATAL:  remaining connection slots are reserved")),
            True,
        ),
        # ...a DNS server that did not answer in time (EAI_AGAIN), unlike a name that does not exist
        (
            postgresql(
                psycopg.OperationalError(
                    "failed to resolve host 'db': [Errno -3] Temporary failure in name resolution"
                )
            ),
            True,
        ),
        (ProgrammingError("SELECT 1", {}, Exception("closed"), connection_invalidated=True), True),
        (sqlite("database is locked"), True),
        # not retried: the schema, the data, the configuration, a lasting store failure
        (sqlite("no such table: items"), False),
        (sqlite("no such column: items.updated"), False),
        (sqlite("table items has no column named updated"), False),
        (sqlite("database or disk is full"), False),
        (sqlite("unable to open database file"), False),
        (postgresql(psycopg.errors.UndefinedTable('relation "items"'), ProgrammingError), False),
        (postgresql(psycopg.OperationalError('FATAL:  password authentication failed for user "d"')), False),
        (postgresql(psycopg.OperationalError("failed to resolve host 'store.invalid'")), False),
        (
            postgresql(
                psycopg.OperationalError("failed to resolve host 'db': [Errno -2] Name or service not known")
            ),
            False,
        ),
        (
            postgresql(
                psycopg.errors.TransactionIntegrityConstraintViolation("a deferred constraint"),
                IntegrityError,
            ),
            False,
        ),
        (IntegrityError("INSERT", {}, Exception("duplicate key value")), False),
        (DataError("INSERT", {}, Exception("value too long for type character varying(256)")), False),
        (ConfigError("store_url: not a database URL"), False),
        (OSError(errno.ENOSPC, "No space left on device"), False),
        (ValueError("a bug"), False),
    ]
    return [pytest.param(exc, retried, id=f"{type(exc).__name__}: {exc}"[:70]) for exc, retried in cases]


@pytest.mark.parametrize(("raised", "retried"), _store_failures())
def test_the_week_is_recorded_and_built_again_only_when_the_store_failed_for_a_moment(
    raised: BaseException, retried: bool
) -> None:
    """Retried: a connection PostgreSQL dropped or refused for a moment (a restart, a failover),
    a lock held past its wait. Not retried: a schema, data or configuration error (sqlite3 raises
    "no such table" as an OperationalError too), a full disk."""
    from prefect.states import Failed

    from flows.weekly_digest import build_task, record_task

    for task in (record_task, build_task):
        retry = task.retry_condition_fn
        assert retry is not None and task.retries == 2
        assert retry(task, None, Failed(data=raised)) is retried  # type: ignore[arg-type]


def test_the_deployed_flow_offers_only_what_an_operator_may_set() -> None:
    """`demo`, `email_to` and `settings_overrides` are the commands' own switches: pressed in the
    UI they mailed real readers a digest labelled as the demo, or kept a password in plain text."""
    from flows.weekly_digest import served_digest, weekly_digest

    schema = served_digest.parameters.model_dump()
    assert list(schema["properties"]) == ["week", "sources", "since", "dry_run", "resend"]
    # the UI shows each parameter's description (from the docstring's Args section)
    described = {name: field.get("description", "") for name, field in schema["properties"].items()}
    assert "2026-W47" in described["week"] and "YYYY-MM-DD" in described["since"]
    assert "every enabled source" in described["sources"] and all(described.values())
    # the commands' flow keeps its switches, under the same flow name (one list of runs in the UI)
    assert {"demo", "email_to", "settings_overrides"} <= set(weekly_digest.parameters.properties)
    assert served_digest.name == weekly_digest.name == "weekly-digest"


def test_metadata_lookups_are_spaced_short_only_on_a_loopback_stand_in() -> None:
    """The demo's (and the tests') arXiv and Crossref APIs are its snapshot server on 127.0.0.1."""
    from dltheory_digest.config import Politeness
    from flows.weekly_digest import LOOPBACK_METADATA_INTERVAL, metadata_politeness

    usual = Politeness().min_interval
    assert usual > LOOPBACK_METADATA_INTERVAL
    for local in (
        "http://127.0.0.1:8123/api/query?id_list=1",
        "http://localhost:81/works",
        "http://[::1]:80/q",
    ):
        assert metadata_politeness(local).min_interval == LOOPBACK_METADATA_INTERVAL, local
    # real hosts wait as before (arXiv's own 3 s floor is the client's, keyed on its hosts)
    for remote in (
        "https://export.arxiv.org/api/query",
        "https://api.crossref.org/works",
        "http://10.0.0.5/q",
    ):
        assert metadata_politeness(remote).min_interval == usual, remote


@pytest.fixture
def weekly_deployment(prefect_harness: None) -> Iterator[Any]:
    """`weekly-digest/weekly` registered on the session's server (deleted after: other tests
    expect no such deployment there)."""
    from prefect.client.orchestration import get_client

    from flows.weekly_digest import served_digest

    with get_client(sync_client=True) as client:
        flow_id = client.create_flow(served_digest)
        deployment_id = client.create_deployment(
            flow_id=flow_id, name="weekly", entrypoint="flows/weekly_digest.py:served_digest"
        )
        try:
            yield client.read_deployment(deployment_id)
        finally:
            client.delete_deployment(deployment_id)


def _scheduled_run(client: Any, deployment_id: Any, when: Any, **params: Any) -> Any:
    from prefect.states import Scheduled

    return client.create_flow_run_from_deployment(
        deployment_id, parameters=params, state=Scheduled(scheduled_time=when)
    )


@pytest.fixture
def unreachable_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {id: dead-blog, kind: feed, url: 'http://127.0.0.1:9/feed.xml', "
        "politeness: {timeout: 2}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DLTHEORY_SOURCES_FILE", str(sources))
    monkeypatch.setenv("DLTHEORY_ARXIV_API_BASE", "http://127.0.0.1:9/api/query")
    monkeypatch.setenv("DLTHEORY_TIMEZONE", "Europe/Berlin")


@pytest.mark.prefect
def test_missed_weekly_runs_build_one_catch_up_of_their_own_week(
    weekly_deployment: Any, unreachable_sources: None, tmp_path: Path
) -> None:
    """Runs missed while nothing served them start together when serve is back: the latest
    builds the week it was scheduled for (not the week of the day it starts), the earlier ones
    end at once, Completed, without fetching."""
    import datetime as dt

    from prefect.client.orchestration import get_client

    # two Mondays 07:00 in Berlin, the later one three weeks ago (each digests the week before)
    today = dt.datetime.now(dt.UTC)
    monday = (today - dt.timedelta(days=today.weekday() + 21)).replace(
        hour=6, minute=0, second=0, microsecond=0
    )
    earlier_monday = monday - dt.timedelta(days=7)
    with get_client(sync_client=True) as client:
        earlier = _scheduled_run(client, weekly_deployment.id, earlier_monday)
        latest = _scheduled_run(client, weekly_deployment.id, monday)
        # a manual run of another week, due later, is no catch-up of the scheduled one
        _scheduled_run(client, weekly_deployment.id, today - dt.timedelta(minutes=1), week="2026-W40")

        skipped = _run_as_served(earlier)
        built = _run_as_served(latest)
        earlier_after = client.read_flow_run(earlier.id)
        latest_after = client.read_flow_run(latest.id)

    week_of = {r.id: str(_week_before(r.expected_start_time)) for r in (earlier, latest)}
    assert skipped.is_completed(), skipped.message
    assert skipped.message.startswith(
        f"{week_of[earlier.id]}: skipped, a later run (due {monday:%Y-%m-%d %H:%M} UTC) was due before"
    )
    assert f"refresh --week {week_of[earlier.id]}" in skipped.message
    assert skipped.result()["week"] == week_of[earlier.id]
    assert not (tmp_path / "outputs" / f"{week_of[earlier.id]}.md").exists()  # nothing fetched or built
    # the catch-up builds the week before its own Monday, and is named by it
    result = built.result(raise_on_failure=False)
    assert result["week"] == week_of[latest.id] != week_of[earlier.id]
    assert Path(result["path"]).name == f"{week_of[latest.id]}.md"
    assert latest_after.name == week_of[latest.id] and earlier_after.name == week_of[earlier.id]


def _run_as_served(flow_run: Any) -> Any:
    """Run a flow run of the deployment in this process, as `serve`'s subprocess runs it."""
    from prefect.flow_engine import run_flow

    from flows.weekly_digest import served_digest

    return run_flow(served_digest, flow_run=flow_run, return_type="state")


def _week_before(moment: Any) -> Any:
    from zoneinfo import ZoneInfo

    from dltheory_digest.weeks import last_complete_week

    return last_complete_week(ZoneInfo("Europe/Berlin"), now=moment)


@pytest.mark.prefect
def test_a_late_weekly_run_of_a_week_its_readers_have_ends_without_fetching(
    weekly_deployment: Any, unreachable_sources: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import datetime as dt

    from prefect.client.orchestration import get_client

    from dltheory_digest import pipeline

    asked: list[str] = []

    def had(store: Any, week: Any, *, resend: bool = False) -> bool:
        asked.append(str(week))
        return True  # `run --week` mailed it by hand while serve was down

    monkeypatch.setattr(pipeline, "readers_have_week", had)
    when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)
    with get_client(sync_client=True) as client:
        late = _scheduled_run(client, weekly_deployment.id, when)
        state = _run_as_served(late)
    week = str(_week_before(when))
    assert state.is_completed() and asked == [week]
    assert state.message == f"{week}: skipped, its readers have it already (`--resend` mails it again)"
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").iterdir())


@pytest.mark.prefect
def test_a_dry_runs_log_has_its_sources_warnings_redacted_and_its_state_says_no_one_was_mailed(
    prefect_harness: None,
    demo: tuple[SnapshotServer, dict[str, Any]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from flows.weekly_digest import weekly_digest

    server, overrides = demo
    secret = "tok-5ecret-9f3a"
    sources = tmp_path / "private-sources.yaml"
    # a private feed listing two URLs, one of them gone: a warning of the report, not a failure
    sources.write_text(
        "sources:\n"
        "  - id: offconvex\n    kind: feed\n    politeness: {min_interval: 0.1, timeout: 10}\n"
        f"    urls: ['{server.base_url}/offconvex/feed.xml?access_token={secret}',"
        f" '{server.base_url}/offconvex/gone.xml?access_token={secret}']\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.INFO):
        state = weekly_digest(
            week=DEMO_WEEK,
            dry_run=True,
            settings_overrides={**overrides, "sources_file": str(sources)},
            return_state=True,
        )
    result = state.result()
    assert result["failed_sources"] == [] and result["deliveries"] == []
    assert state.message == f"{DEMO_WEEK}: dry run, no one was mailed; 1 source, all ok"
    # what Prefect's loggers say is the run's log (httpx's own request lines stay below the
    # WARNING level Prefect gives the root logger, shown here only by caplog's INFO)
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("prefect")]
    gone = f"[offconvex] page {server.base_url}/offconvex/gone.xml?access_token=REDACTED: HTTP 404, skipped"
    assert gone in logged, logged
    assert not any(secret in m for m in logged)
