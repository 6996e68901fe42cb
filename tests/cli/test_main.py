"""`python -m dltheory_digest.cli` runs the same app as the `dltheory-digest` script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_package_runs_as_a_module(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "dltheory_digest.cli", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "dltheory-digest" in done.stdout or "Usage:" in done.stdout
    assert "send" in done.stdout and "store" in done.stdout


def test_version_prints_the_package_version() -> None:
    from typer.testing import CliRunner

    from dltheory_digest import __version__
    from dltheory_digest.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"dltheory-digest {__version__}"
