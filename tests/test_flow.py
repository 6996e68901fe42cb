"""The weekly-digest flow under a real Prefect test harness, on the bundled demo snapshot."""

from __future__ import annotations

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

    result: dict[str, Any] = weekly_digest(week=DEMO_WEEK, settings_overrides=overrides, **params)
    return result


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
    }
    requests_before = len(server.requests)

    second = run(overrides)
    assert Path(second["path"]).read_text(encoding="utf-8") == text  # byte-identical rerun
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
    result = run({**overrides, "sources_file": str(broken)}, dry_run=True)
    assert result["failed_sources"] == ["dead-blog"]
    text = Path(result["path"]).read_text(encoding="utf-8")
    assert "dead-blog" in text.split("## Source report", 1)[1]
    assert result["papers"] > 10


def test_the_digest_is_published_as_an_artifact(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]]
) -> None:
    from prefect.artifacts import Artifact

    _, overrides = demo
    run(overrides, dry_run=True)
    artifact = Artifact.get(f"digest-{DEMO_WEEK.lower()}")
    assert artifact is not None
    assert str(artifact.data).startswith(f"# Deep-learning theory digest {DEMO_WEEK}")


def test_a_week_still_under_way_is_written_but_not_mailed_to_the_readers(
    prefect_harness: None, demo: tuple[SnapshotServer, dict[str, Any]]
) -> None:
    import datetime as dt

    from aiosmtpd.controller import Controller
    from test_mail import Mailbox, free_port

    from dltheory_digest.config import Reader
    from dltheory_digest.weeks import Week
    from flows.weekly_digest import weekly_digest

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
