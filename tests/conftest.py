"""Shared test fixtures.

`shared_dir` points at ../shared (real recorded responses, seeds, eval sets), read in
place. Outside CI a missing ../shared skips those tests with a clear reason; with
DLTHEORY_REQUIRE_SHARED=1 (set by .ci/run) it is an error instead, so CI can never
pass by skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DLTHEORY_SHARED_DIR", ROOT.parent / "shared")).resolve()
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Keep every test away from the user's home and from the network-facing defaults.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _need_shared() -> Path:
    if SHARED.is_dir():
        return SHARED
    reason = f"../shared not found at {SHARED}: these tests read the recorded fixtures there in place"
    if os.environ.get("DLTHEORY_REQUIRE_SHARED") == "1":
        pytest.fail(reason + " (DLTHEORY_REQUIRE_SHARED=1: CI must not skip them)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared, or skip (fail in CI) when it is absent."""
    return _need_shared()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The project's own fixtures (tests/fixtures)."""
    return FIXTURES


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads a developer's dltheory.yaml or writes to the real data dir."""
    monkeypatch.delenv("DLTHEORY_SETTINGS_FILE", raising=False)
    monkeypatch.setenv("DLTHEORY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DLTHEORY_OUTPUT_DIR", str(tmp_path / "outputs"))
    yield


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test harness (a temporary server, 12-14 s to start) for the whole session."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    # Configure Prefect's logging now, while sys.stderr is pytest's: if it were first configured
    # inside a CliRunner invocation, its console handler would keep that runner's closed stream.
    import prefect.main  # noqa: F401
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
