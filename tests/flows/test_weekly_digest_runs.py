"""The weekly-digest flow under a real Prefect test harness, on the bundled demo snapshot."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dltheory_digest.demo import DEMO_WEEK, SnapshotServer, demo_settings_overrides, write_demo_sources

pytestmark = pytest.mark.prefect


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[SnapshotServer, dict[str, Any]]]:
    with SnapshotServer() as server:
        sources = write_demo_sources(server.base_url, tmp_path / "sources.yaml")
        overrides = demo_settings_overrides(server.base_url, tmp_path / "data", tmp_path / "outputs")
        overrides["sources_file"] = str(sources)
        yield server, overrides


def run(overrides: dict[str, Any], **params: Any) -> dict[str, Any]:
    from flows.weekly_digest import weekly_digest

    result: dict[str, Any] = weekly_digest(**{"week": DEMO_WEEK, **params}, settings_overrides=overrides)
    return result


def stamp_free(digest: str) -> str:
    """The digest but for the minute a digest of a week still under way says it covers up to
    (the demo's week runs until 2026-11-23): the one line two runs of such a week may differ in."""
    return re.sub(r"covers up to [^\n]*", "covers up to …", digest)


def test_flow_writes_the_digest_and_reruns_identically(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]]
) -> None:
    server, overrides = demo
    first = run(overrides)
    path = Path(first["path"])
    assert path.name == f"{DEMO_WEEK}.md" and path.parent == Path(overrides["output_dir"])
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# Deep-learning theory digest {DEMO_WEEK}")
    assert (
        "[Neural Tangent Kernel: Convergence and Generalization in Neural Networks](https://arxiv.org/abs/1806.07572)"
        in text
    )
    # one entry per paper, however many sources saw it (arXiv, a blog, Zhihu)
    assert text.count("](https://arxiv.org/abs/1806.07572)\n") == 1
    assert "## Source report" in text
    # the notes page's title-only "FLAT MINIMA" line finds no paper: kept, and counted as unresolved
    notes_row = next(
        line for line in text.splitlines() if line.startswith("| notes-theory-of-deep-learning |")
    )
    assert int(notes_row.split("|")[6]) >= 1
    assert first["failed_sources"] == []
    assert {r["source"] for r in first["reports"]} == {
        "arxiv-dl-theory",
        "offconvex",
        "windows-on-theory",
        "zhihu-dl-theory-reading-list",
        "shamra-modern-mathematics-of-dl",
        "notes-theory-of-deep-learning",
        "arxiv-mirror-linear-nets-notes",
    }
    requests_before = len(server.requests)

    second = run(overrides)
    rerun = Path(second["path"]).read_text(encoding="utf-8")
    assert stamp_free(rerun) == stamp_free(text)  # byte-identical rerun, but for that stamp
    # the rerun revalidated the unchanged pages: 304s from the server, cache hits in the report
    rerun_statuses = [r.status for r in server.requests[requests_before:] if not r.path.startswith("/api/")]
    assert 304 in rerun_statuses
    assert sum(r["cache_hits"] for r in second["reports"]) >= 1


def test_a_broken_source_is_a_report_line_not_a_failed_flow(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]], tmp_path: Path
) -> None:
    _, overrides = demo
    config = yaml.safe_load(Path(overrides["sources_file"]).read_text(encoding="utf-8"))
    config["sources"].append(
        {
            "id": "dead-blog",
            "kind": "feed",
            "url": "http://127.0.0.1:9/feed.xml",
            "politeness": {"timeout": 2},
        }
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    from prefect.artifacts import Artifact

    from flows.weekly_digest import weekly_digest

    state = weekly_digest(
        week=DEMO_WEEK,
        settings_overrides={**overrides, "sources_file": str(broken)},
        dry_run=True,
        return_state=True,
    )
    # Completed, and the run list says which source failed
    assert state.is_completed()
    assert state.message == f"{DEMO_WEEK}: dry run, no one was mailed; 1 of 8 sources failed: dead-blog"
    result = state.result()
    assert result["failed_sources"] == ["dead-blog"]
    text = Path(result["path"]).read_text(encoding="utf-8")
    assert "dead-blog" in text.split("## Source report", 1)[1]
    assert result["papers"] > 10
    # operators find the run by its week
    assert flow_run_of(state).name == f"{DEMO_WEEK} dry run"
    # the per-source report is a table artifact: one row per source, the dead one with its error
    table = Artifact.get(f"sources-{DEMO_WEEK.lower()}")
    assert table is not None and table.type == "table"
    rows = {row["source"]: row for row in json.loads(str(table.data))}
    assert len(rows) == 8 and rows["offconvex"]["error"] == "" and rows["offconvex"]["parsed"] > 0
    assert rows["dead-blog"]["error"].startswith("[dead-blog] ") and rows["dead-blog"]["fetched"] == 0
    assert table.description == f"sources of {DEMO_WEEK}: 7 ok, 1 failed"

    # a run of one source: the week's table keeps the other sources' rows, marked as earlier
    weekly_digest(
        week=DEMO_WEEK,
        settings_overrides={**overrides, "sources_file": str(broken)},
        sources=["offconvex"],
        dry_run=True,
    )
    subset = Artifact.get(f"sources-{DEMO_WEEK.lower()}")
    assert subset is not None and subset.id != table.id
    merged = {row["source"]: row for row in json.loads(str(subset.data))}
    assert set(merged) == set(rows)
    assert merged["offconvex"]["from"] == "this run" and merged["offconvex"]["parsed"] > 0
    assert {merged[s]["from"] for s in rows if s != "offconvex"} == {"an earlier run"}
    assert merged["dead-blog"]["error"] == rows["dead-blog"]["error"]
    assert subset.description == (
        f"sources of {DEMO_WEEK}: 1 ok, 0 failed in this run; 7 more from earlier runs of the week"
    )


def flow_run_of(state: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id)


def test_a_source_task_that_raises_is_retried_then_reported(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from sqlalchemy.exc import OperationalError

    import flows.weekly_digest as module
    from dltheory_digest import pipeline

    _, overrides = demo
    real = pipeline.collect_source
    calls: list[str] = []

    def store_hiccups(spec: Any, client: Any, ctx: Any) -> pipeline.Collected:
        """offconvex and the notes page meet a locked store once; windows-on-theory every time."""
        calls.append(spec.id)
        if spec.id == "windows-on-theory" or calls.count(spec.id) == 1:
            raise OperationalError("INSERT INTO rate_limits", {}, Exception("database is locked"))
        return real(spec, client, ctx)

    monkeypatch.setattr(pipeline, "collect_source", store_hiccups)
    # the production delays (10 s, 60 s) are what an operator wants, not what a test can wait for
    assert module.collect_task.retries == 2
    fast = module.collect_task.with_options(retry_delay_seconds=0)
    monkeypatch.setattr(module, "collect_task", fast)
    state = module.weekly_digest(
        week=DEMO_WEEK,
        settings_overrides=overrides,
        sources=["offconvex", "windows-on-theory", "notes-theory-of-deep-learning"],
        dry_run=True,
        return_state=True,
    )
    assert state.is_completed()
    result = state.result()
    assert result["failed_sources"] == ["windows-on-theory"]
    assert (
        state.message == f"{DEMO_WEEK}: dry run, no one was mailed; 1 of 3 sources failed: windows-on-theory"
    )
    reports = {r["source"]: r for r in result["reports"]}
    assert reports["offconvex"]["error"] is None and reports["offconvex"]["parsed"] > 0
    error = reports["windows-on-theory"]["error"]
    assert error.startswith("[windows-on-theory] Failed after 3 attempt(s): OperationalError: ")
    assert "database is locked" in error
    assert sorted(calls) == [
        *["notes-theory-of-deep-learning"] * 2,
        "offconvex",
        "offconvex",
        *["windows-on-theory"] * 3,
    ]
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        )
    counts = {
        r.name: (r.run_count, r.state.name if r.state else None)
        for r in runs
        if r.name.startswith("collect-")
    }
    assert counts == {
        "collect-offconvex": (2, "Completed"),
        "collect-windows-on-theory": (3, "Failed"),
        "collect-notes-theory-of-deep-learning": (2, "Completed"),
    }


def _task_run_of(state: Any, name: str) -> tuple[int, str | None]:
    """The run count and final state of the flow run's task `name` (run once)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        )
    (run,) = [r for r in runs if r.name.rsplit("-", 1)[0] == name]  # "build-week-41c"
    return run.run_count, run.state.name if run.state else None


def test_a_build_whose_store_connection_drops_once_is_run_again(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL restart mid-build (the connection lost, not refused at connect) costs a
    retry of the build, not the run: the build's writes are upserts and it mails no one."""
    from sqlalchemy.exc import OperationalError

    import flows.weekly_digest as module
    from dltheory_digest import pipeline

    _, overrides = demo
    real = pipeline.build_week
    calls: list[str] = []

    def connection_drops_once(*args: Any, **kwargs: Any) -> pipeline.WeekBuild:
        calls.append("build")
        if len(calls) == 1:
            raise OperationalError(
                "INSERT INTO papers", {}, Exception("server closed the connection unexpectedly")
            )
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "build_week", connection_drops_once)
    # the production delays (10 s, 60 s) are what an operator wants, not what a test can wait for
    assert module.build_task.retries == module.record_task.retries == 2
    monkeypatch.setattr(module, "build_task", module.build_task.with_options(retry_delay_seconds=0))
    state = module.weekly_digest(
        week=DEMO_WEEK, settings_overrides=overrides, sources=["offconvex"], dry_run=True, return_state=True
    )
    assert state.is_completed()
    assert Path(state.result()["path"]).is_file()
    assert calls == ["build", "build"]
    assert _task_run_of(state, "build-week") == (2, "Completed")


def test_a_build_failing_on_its_data_is_not_run_again(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    import flows.weekly_digest as module
    from dltheory_digest import pipeline

    _, overrides = demo
    calls: list[str] = []

    def bad_row(*args: Any, **kwargs: Any) -> pipeline.WeekBuild:
        calls.append("build")
        raise IntegrityError("INSERT INTO papers", {}, Exception("NOT NULL constraint failed"))

    monkeypatch.setattr(pipeline, "build_week", bad_row)
    monkeypatch.setattr(module, "build_task", module.build_task.with_options(retry_delay_seconds=0))
    state = module.weekly_digest(
        week=DEMO_WEEK, settings_overrides=overrides, sources=["offconvex"], dry_run=True, return_state=True
    )
    assert state.is_failed()
    assert calls == ["build"]
    assert _task_run_of(state, "build-week") == (1, "Failed")


def test_the_digest_is_published_as_an_artifact(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]]
) -> None:
    from prefect.artifacts import Artifact

    from flows.weekly_digest import weekly_digest

    _, overrides = demo
    result = run(overrides, dry_run=True)
    artifact = Artifact.get(f"digest-{DEMO_WEEK.lower()}")
    assert artifact is not None
    assert str(artifact.data).startswith(f"# Deep-learning theory digest {DEMO_WEEK}")
    # where the file is, for an operator reading it in the UI
    assert artifact.description == f"dltheory-digest {DEMO_WEEK}, written to {result['path']}"
    # the `demo` command's run keys its artifacts apart: the snapshot never passes for the week's
    demo_state = weekly_digest(
        week=DEMO_WEEK, settings_overrides=overrides, dry_run=True, demo=True, return_state=True
    )
    assert flow_run_of(demo_state).name == f"{DEMO_WEEK} demo dry run"
    shown = Artifact.get(f"demo-digest-{DEMO_WEEK.lower()}")
    assert shown is not None and Artifact.get(f"demo-sources-{DEMO_WEEK.lower()}") is not None
    kept = Artifact.get(f"digest-{DEMO_WEEK.lower()}")
    assert kept is not None and kept.id == artifact.id


def test_a_week_still_under_way_is_written_but_not_mailed_to_the_readers(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]]
) -> None:
    import datetime as dt

    from aiosmtpd.controller import Controller

    from dltheory_digest.config import Reader
    from dltheory_digest.weeks import Week
    from flows.weekly_digest import weekly_digest
    from tests.test_mail import Mailbox, free_port

    _, overrides = demo
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailing = {
            **overrides,
            "readers": (Reader(email="ada@example.org"),),
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
        }
        this_week = str(Week.containing(dt.datetime.now(dt.UTC)))
        held = weekly_digest(week=this_week, settings_overrides=mailing)
        assert held["readers_held_back"] and held["deliveries"] == [] and box.received == []
        assert Path(held["path"]).is_file()
        # asked for by address, the same week is mailed
        asked = weekly_digest(week=this_week, settings_overrides=mailing, email_to=["lin@example.org"])
        assert not asked["readers_held_back"]
        assert [r for m in box.received for r in m.recipients] == ["lin@example.org"]
    finally:
        controller.stop()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"week": "2026-47"}, "weekly-digest parameter week: not an ISO week like 2026-W47: '2026-47'"),
        (
            {"week": "2099-W01"},
            "weekly-digest parameter week: 2099-W01 has not started yet (it begins 2098-12-29",
        ),
        ({"since": "2026-13-01"}, "weekly-digest parameter since: not a date (YYYY-MM-DD): '2026-13-01'"),
        (
            {"since": "2099-01-01"},
            f"weekly-digest parameter since: 2099-01-01 is after the end of {DEMO_WEEK}",
        ),
        (
            {"sources": ["no-such-source"]},
            "weekly-digest parameter sources: unknown source id(s): no-such-source",
        ),
        (
            {"email_to": ["not-an-address"]},
            "weekly-digest parameter email_to: not an email address: 'not-an-address'",
        ),
    ],
    ids=[
        "malformed-week",
        "future-week",
        "malformed-since",
        "since-after-week",
        "unknown-source",
        "bad-address",
    ],
)
def test_a_bad_parameter_fails_the_run_at_its_start_naming_it(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]], params: dict[str, Any], message: str
) -> None:
    from dltheory_digest.errors import ConfigError
    from flows.weekly_digest import weekly_digest

    server, overrides = demo
    # as a run started from the UI or run_deployment ends: a failed state carrying the reason
    state = weekly_digest(**{"week": DEMO_WEEK, "settings_overrides": overrides, **params}, return_state=True)
    assert state.is_failed() and message in (state.message or "")
    with pytest.raises(ConfigError) as raised:
        state.result()
    assert str(raised.value).startswith(message)
    assert raised.value.field == next(iter(params))
    # refused before anything was fetched or written
    assert list(server.requests) == []
    assert not (Path(overrides["output_dir"]) / f"{DEMO_WEEK}.md").exists()


def test_two_runs_of_a_week_take_turns(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manual refresh started during the scheduled run of its week waits for that run."""
    import threading

    import flows.weekly_digest as module
    from dltheory_digest import pipeline
    from dltheory_digest.config import load_settings
    from dltheory_digest.store import open_store
    from dltheory_digest.store.locks import lock_holder

    _, overrides = demo
    second_is_waiting = threading.Event()
    waited_for: list[str | None] = []
    real_collect, real_ended = pipeline.collect_source, module.ended_run_state

    def collect_once_the_second_waits(spec: Any, client: Any, ctx: Any) -> pipeline.Collected:
        assert second_is_waiting.wait(60), "the second run never waited"
        return real_collect(spec, client, ctx)

    def ended_run_state(holder: str | None) -> str | None:  # asked by a run that found its week held
        waited_for.append(holder)
        second_is_waiting.set()
        return real_ended(holder)

    monkeypatch.setattr(pipeline, "collect_source", collect_once_the_second_waits)
    monkeypatch.setattr(module, "ended_run_state", ended_run_state)
    params = {"week": DEMO_WEEK, "settings_overrides": overrides, "sources": ["offconvex"], "dry_run": True}
    states: list[Any] = []
    first = threading.Thread(target=lambda: states.append(module.weekly_digest(**params, return_state=True)))
    first.start()
    store = open_store(load_settings(**overrides).resolved_store_url)
    deadline = time.monotonic() + 60
    while lock_holder(store, f"week-{DEMO_WEEK}") is None and time.monotonic() < deadline:
        time.sleep(0.1)
    second = module.weekly_digest(**params, return_state=True)
    first.join(60)
    assert states and states[0].is_completed() and second.is_completed()
    # the second run found the week held by the first (still running: not taken over) and waited
    assert waited_for[0] == str(states[0].state_details.flow_run_id)
    assert lock_holder(store, f"week-{DEMO_WEEK}") is None
    texts = [Path(s.result()["path"]).read_text(encoding="utf-8") for s in (states[0], second)]
    assert stamp_free(texts[0]) == stamp_free(texts[1])


def test_a_run_in_which_every_source_fails_keeps_the_weeks_earlier_digest(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]], tmp_path: Path
) -> None:
    _, overrides = demo
    first = run(overrides, dry_run=True)
    path = Path(first["path"])
    good = path.read_bytes()
    assert first["papers"] > 0
    dead = tmp_path / "dead-sources.yaml"
    dead.write_text(
        "sources:\n"
        "  - {id: dead-blog, kind: feed, url: 'http://127.0.0.1:9/feed.xml', politeness: {timeout: 2}}\n",
        encoding="utf-8",
    )
    # offline, a rebuild could only lose what the first run found: the file stays as it was
    again = run({**overrides, "sources_file": str(dead)}, dry_run=True)
    assert again["kept_earlier_digest"] is True and again["failed_sources"] == ["dead-blog"]
    assert Path(again["path"]) == path and path.read_bytes() == good
    # a first run with every source failing still writes its digest, saying why it is empty
    fresh = {**overrides, "sources_file": str(dead), "output_dir": str(tmp_path / "fresh")}
    fresh["store_url"] = f"sqlite:///{(tmp_path / 'fresh.sqlite').as_posix()}"
    alone = run(fresh, dry_run=True)
    assert alone["kept_earlier_digest"] is False
    text = Path(alone["path"]).read_text(encoding="utf-8")
    assert "No source could be read this week" in text and "No papers this week." not in text


def test_a_rerun_of_a_week_after_a_later_one_was_published_is_what_was_sent(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]]
) -> None:
    _, overrides = demo
    # weeks that have ended whatever the day the test runs (a later week's digest counts once
    # that week is over), published (a dry run's digest says nothing of what readers have)
    first = run(overrides, week="2026-W45")
    sent = Path(first["path"]).read_bytes()
    assert first["papers"] > 0
    run(overrides, week="2026-W46")
    again = run(overrides, week="2026-W45")
    assert Path(again["path"]).read_bytes() == sent
    assert any("kept as it was sent" in note for note in again["notes"])
    # and the run says so, with what it found new and passed on (a rerun finds nothing new)
    assert again["carried"].startswith("readers have 2026-W45: kept as sent; ")


def test_a_dated_source_that_failed_last_week_fetches_that_week_too(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]], tmp_path: Path
) -> None:
    from dltheory_digest.models import SourceReport
    from dltheory_digest.store import open_store, records

    server, overrides = demo
    weekly = tmp_path / "weekly-sources.yaml"
    weekly.write_text(
        "sources:\n"
        "  - {id: arxiv-week, kind: arxiv_api, url: '" + server.base_url + "/api/query',"
        " politeness: {min_interval: 0.1, timeout: 10},"
        " options: {search_query: 'cat:cs.LG', within_window: true}}\n",
        encoding="utf-8",
    )
    overrides = {**overrides, "sources_file": str(weekly)}
    store = open_store(overrides["store_url"])
    records.save_week_reports(store, "2026-W44", [SourceReport("arxiv-week", "arxiv_api", fetched=1)])
    records.save_week_reports(
        store, "2026-W45", [SourceReport("arxiv-week", "arxiv_api", fetched=1, error="[arxiv-week] HTTP 503")]
    )
    store.close()
    # a week that has ended whatever the day the test runs (one under way catches up on nothing)
    run(overrides, week="2026-W46", dry_run=True)
    queries = [r.path for r in server.requests if r.path.startswith("/api/query")]
    # the week's query reaches back to the start of W45 (the demo's zone is UTC)
    assert any("submittedDate:%5B202611020000+TO+202611152359%5D" in q for q in queries), queries


def test_the_demo_run_mails_a_digest_marked_as_the_demo_and_logs_no_temporary_path(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from aiosmtpd.controller import Controller
    from prefect.artifacts import Artifact

    from dltheory_digest.digest import labels_for
    from tests.test_mail import Mailbox, free_port, text_of

    _, overrides = demo
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailing = {**overrides, "readers": (), "smtp_host": "127.0.0.1", "smtp_port": port}
        with caplog.at_level(logging.INFO):
            result = run(mailing, email_to=["ada@example.org"], demo=True)
    finally:
        controller.stop()
    assert [d["status"] for d in result["deliveries"]] == ["sent"]
    message = box.received[0].message
    assert str(message["Subject"]).startswith(f"[demo] DL theory digest {DEMO_WEEK}: ")
    assert f"**{labels_for('en')['demo_note']}**" in text_of(message)
    # the run's folder is the demo command's temporary one: the log does not point at it
    logged = [r.getMessage() for r in caplog.records]
    assert any(f"demo digest for {DEMO_WEEK} built" in m for m in logged), logged
    assert not any(str(overrides["output_dir"]) in m for m in logged)
    shown = Artifact.get(f"demo-digest-{DEMO_WEEK.lower()}")
    assert (
        shown is not None
        and shown.description == f"dltheory-digest {DEMO_WEEK}, built from the demo snapshot"
    )


def test_mail_that_did_not_go_through_fails_the_run_and_the_next_week_reminds_of_it(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]]
) -> None:
    from aiosmtpd.controller import Controller

    from dltheory_digest.config import Reader
    from flows.weekly_digest import weekly_digest
    from tests.test_mail import Mailbox, free_port

    _, overrides = demo
    box, port = Mailbox(refuse={"lin@example.org"}), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailing = {
            **overrides,
            "readers": (Reader(email="ada@example.org"), Reader(email="lin@example.org")),
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
        }
        state = weekly_digest(week=DEMO_WEEK, settings_overrides=mailing, return_state=True)
        # Failed, not Completed: a scheduler and the UI must not show it as a success
        assert state.is_failed()
        assert state.message == f"{DEMO_WEEK}: mail failed for 1 reader(s): lin@example.org"
        # the run's result is still there: the digest was written, ada has it
        result = state.result(raise_on_failure=False)
        assert isinstance(result, dict)
        assert {d["reader"]: d["status"] for d in result["deliveries"]} == {
            "ada@example.org": "sent",
            "lin@example.org": "failed",
        }
        assert Path(result["path"]).is_file() and [r for m in box.received for r in m.recipients] == [
            "ada@example.org"
        ]
        # the next week's run, all well, reminds the operator that lin never got DEMO_WEEK
        later = weekly_digest(
            week="2026-W48",
            sources=["offconvex"],
            dry_run=True,
            settings_overrides=mailing,
            return_state=True,
        )
        assert later.is_completed()
        assert (
            f"{DEMO_WEEK} was not delivered to 1 reader (lin@example.org): "
            f"`dltheory-digest send --week {DEMO_WEEK}` mails them"
        ) in later.result()["notes"]
        # a rerun of the week from an earlier date: ada has the week, so it is kept as sent and
        # --since changes nothing in it, which the run says; lin is tried again
        rerun = weekly_digest(
            week=DEMO_WEEK,
            sources=["offconvex"],
            since="2026-11-09",
            settings_overrides=mailing,
            return_state=True,
        )
        again = rerun.result(raise_on_failure=False)
        assert isinstance(again, dict) and rerun.is_failed()
        assert f"--since has no effect on {DEMO_WEEK}: it is kept as sent (--resend rebuilds it)" in " ".join(
            again["notes"]
        )
        assert [d["status"] for d in again["deliveries"]] == ["skipped", "failed"]
    finally:
        controller.stop()


def test_the_served_flow_given_some_sources_mails_no_reader(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zoneinfo import ZoneInfo

    from aiosmtpd.controller import Controller

    from dltheory_digest.weeks import last_complete_week
    from flows.weekly_digest import served_digest
    from tests.cli.test_run_cmd import two_blogs
    from tests.test_mail import Mailbox, free_port

    week = str(last_complete_week(ZoneInfo("UTC")))
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        sources = tmp_path / "sources.yaml"
        with two_blogs(week, sources):
            for name, value in {
                "SOURCES_FILE": str(sources),
                "TIMEZONE": "UTC",
                "CROSSREF_API_BASE": "",
                "READERS": '[{"email": "ada@example.org"}]',
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(port),
            }.items():
                monkeypatch.setenv(f"DLTHEORY_{name}", value)
            # the deployment's `sources` parameter, as the UI or `refresh --deployment` passes it
            state = served_digest(week=week, sources=["two"], return_state=True)
            result = state.result()
            assert box.received == [] and result["deliveries"] == []
            assert "only some sources (not one)" in result["readers_held_back"]
            # the run list says why no one got it; the sources themselves went through
            assert "readers not mailed: this run read only some sources" in str(state.message)
            assert str(state.message).endswith("all ok")
            served_digest(week=week)
            assert [r for m in box.received for r in m.recipients] == ["ada@example.org"]
    finally:
        controller.stop()


def test_a_run_with_no_readers_says_it_mailed_no_one(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]]
) -> None:
    from dltheory_digest import pipeline

    _, overrides = demo
    result = run({**overrides, "readers": ()}, sources=["offconvex"])
    assert any(note.startswith(pipeline.NO_READERS) for note in result["notes"])
    assert not any(note.startswith(pipeline.NO_READERS) for note in run(overrides, dry_run=True)["notes"])
