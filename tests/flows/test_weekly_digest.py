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
