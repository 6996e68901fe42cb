"""`dltheory-digest store info` and `store prune` on a real SQLite store in the data dir."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dltheory_digest.cli import app
from dltheory_digest.models import Item, ItemKind
from dltheory_digest.store import open_store
from dltheory_digest.store import records as store_records
from dltheory_digest.weeks import Week

runner = CliRunner()


def _store_path() -> Path:
    return Path(os.environ["DLTHEORY_DATA_DIR"]) / "dltheory.sqlite"


def _old_week_and_a_recent_one() -> tuple[str, str]:
    """A store a year of runs left: one week's sightings 60 weeks ago, one last week."""
    now = dt.datetime.now(dt.UTC)
    weeks = []
    store = open_store(f"sqlite:///{_store_path()}")
    try:
        for ago in (60, 1):
            seen = now - dt.timedelta(weeks=ago)
            week = str(Week.containing(seen.date()))
            found = [
                Item(
                    source_id="arxiv-week",
                    kind=ItemKind.PAPER,
                    title=f"Paper {n} of {week}",
                    arxiv_id=f"2{ago:03d}.{n:05d}",
                    version=1,
                    text="word " * 300,
                )
                for n in range(50)
            ]
            store_records.save_items(store, found, seen=seen)
            store_records.attribute_week(store, week, found, seen=seen)
            store_records.save_digest(
                store, week=week, markdown=f"# {week}\n", path=None, paper_keys=[], reports=[], data="{}"
            )
            weeks.append(week)
    finally:
        store.close()
    return weeks[0], weeks[1]


def test_store_info_shows_tables_weeks_and_the_file() -> None:
    old, recent = _old_week_and_a_recent_one()
    result = runner.invoke(app, ["store", "info"])
    assert result.exit_code == 0, result.output
    assert "week_items" in result.output and "items" in result.output
    assert f"weeks: {old} to {recent}" in result.output
    assert "file: " in result.output and "free inside it" in result.output


def test_store_prune_dry_run_then_prune_and_vacuum() -> None:
    old, _recent = _old_week_and_a_recent_one()
    size = _store_path().stat().st_size

    dry = runner.invoke(app, ["store", "prune", "--keep-weeks", "12", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove 50 week_items, 50 items" in dry.output
    assert "1 digest(s) would lose their JSON (their Markdown is kept)" in dry.output

    done = runner.invoke(app, ["store", "prune", "--keep-weeks", "12", "--vacuum"])
    assert done.exit_code == 0, done.output
    assert "removed 50 week_items, 50 items" in done.output and "VACUUM" in done.output
    assert _store_path().stat().st_size < size
    store = open_store(f"sqlite:///{_store_path()}")
    try:
        stored = store_records.get_digest(store, old)
        assert stored is not None and stored.markdown == f"# {old}\n" and stored.data is None
        assert store_records.items_of_week(store, old) == []
    finally:
        store.close()


def test_store_prune_refuses_to_keep_too_few_weeks() -> None:
    result = runner.invoke(app, ["store", "prune", "--keep-weeks", "2"])
    assert result.exit_code == 2
    assert "keep at least 8 weeks" in result.output


def test_store_info_names_a_misspelt_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The typo leaves the store at its default: `store info` (and `prune`) must say so, as
    every other command does, rather than report on a store the operator did not mean."""
    monkeypatch.setenv("DLTHEORY_STORE_ULR", f"sqlite:///{tmp_path / 'wanted.sqlite'}")
    result = runner.invoke(app, ["store", "info"])
    assert result.exit_code == 0, result.output
    assert "did you mean DLTHEORY_STORE_URL" in " ".join(result.stderr.split())
    assert "wanted.sqlite" not in result.stdout


def test_store_info_ends_a_failing_query_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table locked past PostgreSQL's lock_timeout (or a server gone) is one line, not a traceback."""
    from sqlalchemy.exc import OperationalError

    from dltheory_digest.store import retention

    def locked(store: object) -> object:
        raise OperationalError("SELECT count(*) FROM deliveries", {}, Exception("lock timeout"))

    monkeypatch.setattr(retention, "store_info", locked)
    result = runner.invoke(app, ["store", "info"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines() == ["store error: the store: lock timeout"]


def test_store_prune_vacuum_on_a_store_that_is_not_sqlite_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    from dltheory_digest.store import retention

    monkeypatch.setattr(retention, "vacuum", lambda store: False)  # what it answers for PostgreSQL
    result = runner.invoke(app, ["store", "prune", "--keep-weeks", "12", "--vacuum"])
    assert result.exit_code == 0, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("note: sqlite:") and "PostgreSQL's autovacuum reuses the space" in line
