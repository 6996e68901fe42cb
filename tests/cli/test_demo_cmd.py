"""`demo` next to a real weekly job: it never replaces a digest it did not write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dltheory_digest.cli import app, run_cmd
from dltheory_digest.demo import DEMO_WEEK
from dltheory_digest.store.files import DEMO_MARKER, write_digest

runner = CliRunner()
REAL = f"# DL theory digest {DEMO_WEEK}\n\nwhat the real job found this week\n"


class DemoFlow:
    """Stands in for the weekly flow: writes the week's digest into the folder it is given, as
    the flow does, and returns what the flow returns. `during` runs meanwhile (the real job)."""

    def __init__(self) -> None:
        self.runs: list[Path] = []
        self.during: Any = None

    def __call__(self, **params: Any) -> dict[str, Any]:
        folder = Path(params["settings_overrides"]["output_dir"])
        self.runs.append(folder)
        path = write_digest(folder, params["week"], f"# DL theory digest {params['week']}\n\ndemo papers\n")
        if self.during:
            self.during()
        return {"week": params["week"], "papers": 1, "reports": [], "failed_sources": [], "path": str(path)}


@pytest.fixture
def demo_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DemoFlow:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DLTHEORY_SOURCES_FILE", raising=False)  # the demo brings its own
    flow = DemoFlow()
    monkeypatch.setattr(run_cmd, "run_flow", flow)
    return flow


# the visible line under the title: the file says it is a sample, as the demo's mail does
DEMO_NOTE = "**Demo: built from the bundled snapshot of the sources, not from the live sources; its papers and dates are a sample, not this week's.**"


def said(output: str) -> str:
    return " ".join(output.split())


def test_demo_writes_the_weeks_file_marked_and_replaces_its_own(
    demo_flow: DemoFlow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLTHEORY_OUTPUT_DIR", str(tmp_path / "outputs"))
    for _ in range(2):
        result = runner.invoke(app, ["demo"])
        assert result.exit_code == 0, result.output
        digest = tmp_path / "outputs" / f"{DEMO_WEEK}.md"
        assert f"digest: {digest}" in said(result.output) and "left as it is" not in result.output
        assert (
            digest.read_text(encoding="utf-8")
            == f"{DEMO_MARKER}\n# DL theory digest {DEMO_WEEK}\n\n{DEMO_NOTE}\n\ndemo papers\n"
        )
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == [f"{DEMO_WEEK}.md"]
    # the flow wrote into a folder of the demo's own, never into the real output folder
    assert all(not run.is_relative_to(tmp_path / "outputs") for run in demo_flow.runs)


def test_demo_beside_the_real_digest_of_its_week_leaves_it_alone(demo_flow: DemoFlow, tmp_path: Path) -> None:
    out = tmp_path / "digests"
    real = write_digest(out, DEMO_WEEK, REAL)
    result = runner.invoke(app, ["demo", "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    beside = out / f"{DEMO_WEEK}.demo.md"
    assert real.read_text(encoding="utf-8") == REAL
    assert beside.read_text(encoding="utf-8").startswith(f"{DEMO_MARKER}\n# DL theory digest {DEMO_WEEK}")
    assert f"{real} was not written by the demo: it is left as it is" in said(result.output)
    assert f"digest: {beside}" in said(result.output)


def test_a_real_digest_written_while_the_demo_ran_is_left_alone(demo_flow: DemoFlow, tmp_path: Path) -> None:
    out = tmp_path / "digests"
    demo_flow.during = lambda: write_digest(out, DEMO_WEEK, REAL)  # the weekly job, meanwhile
    result = runner.invoke(app, ["demo", "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / f"{DEMO_WEEK}.md").read_text(encoding="utf-8") == REAL
    assert (out / f"{DEMO_WEEK}.demo.md").read_text(encoding="utf-8").startswith(DEMO_MARKER)


def test_demo_with_nowhere_it_may_write_is_refused_before_the_run(
    demo_flow: DemoFlow, tmp_path: Path
) -> None:
    out = tmp_path / "digests"
    write_digest(out, DEMO_WEEK, REAL)
    (out / f"{DEMO_WEEK}.demo.md").write_text("my own notes\n", encoding="utf-8")
    result = runner.invoke(app, ["demo", "--output-dir", str(out)])
    assert result.exit_code == 2 and demo_flow.runs == []
    assert (
        f"error: --output-dir: {DEMO_WEEK}.md and {DEMO_WEEK}.demo.md in {out} were not written by the demo"
        in said(result.output)
    )
    assert (out / f"{DEMO_WEEK}.demo.md").read_text(encoding="utf-8") == "my own notes\n"


def test_demo_mail_says_what_it_sends_and_that_a_readers_own_edition_is_left_out(
    demo_flow: DemoFlow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DLTHEORY_READERS",
        '[{"email": "ada@example.org", "language": "ar", "include_directions": ["generalization"]},'
        ' {"email": "lin@example.org"}]',
    )
    monkeypatch.setenv("DLTHEORY_SMTP_HOST", "127.0.0.1")
    addresses = "ada@example.org,lin@example.org,guest@example.org"
    result = runner.invoke(app, ["demo", "--output-dir", str(tmp_path / "out"), "--email-to", addresses])
    assert result.exit_code == 0, result.output
    text = said(result.output)
    assert (
        "the demo mails the whole digest, in English and marked as the demo, to "
        "ada@example.org, lin@example.org, guest@example.org" in text
    )
    assert (
        "ada@example.org is a configured reader: the demo leaves out their Arabic edition and filters, "
        "which their weekly digest applies" in text
    )
    # a configured reader with the plain English digest, and an address that is no reader: nothing to say
    assert "lin@example.org is a configured reader" not in text and "guest@example.org is" not in text
