"""`models` commands: what a user sees when the Argos index cannot be reached."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dltheory_digest.cli import app

runner = CliRunner()


def test_models_install_offline_says_error_and_names_the_unreachable_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # port 9 (discard) on the loopback: nothing listens, so the connection is refused
    index = "http://127.0.0.1:9/index.json"
    result = runner.invoke(
        app,
        ["models", "install", "zh", "--index-url", index, "--packages-dir", str(tmp_path / "pk")],
        terminal_width=400,
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    line = result.stderr.strip()
    assert line.startswith(f"error: cannot reach the Argos package index ({index}): [argos-index] "), line
    assert "cannot reach 127.0.0.1: connection refused (ConnectError)" in line
    assert "robots" not in line and "  " not in line
    assert not (tmp_path / "pk").exists() or not any((tmp_path / "pk").iterdir())
