"""The demo's digest goes beside, never over, a real digest of its week."""

from __future__ import annotations

from pathlib import Path

import pytest

from dltheory_digest.demo import DEMO_WEEK, demo_target, write_demo_digest
from dltheory_digest.digest.html import render_html
from dltheory_digest.store.files import DEMO_MARKER, write_digest, written_by_demo

DIGEST = f"# DL theory digest {DEMO_WEEK}\n\n- a paper\n"
# the line the demo's mail carries, under the title of the file too
NOTE = (
    "**Demo: built from the bundled snapshot of the sources, not from the live sources; "
    "its papers and dates are a sample, not this week's.**"
)


def noted(digest: str) -> str:
    title, _, rest = digest.partition("\n\n")
    return f"{DEMO_MARKER}\n{title}\n\n{NOTE}\n\n{rest}"


def test_the_demo_writes_the_weeks_file_marked_and_replaces_only_its_own(tmp_path: Path) -> None:
    first = write_demo_digest(tmp_path, DEMO_WEEK, DIGEST)
    assert first.path == tmp_path / f"{DEMO_WEEK}.md" and first.left_alone is None
    assert first.path.read_text(encoding="utf-8") == noted(DIGEST)
    again = write_demo_digest(tmp_path, DEMO_WEEK, DIGEST.replace("a paper", "two papers"))
    assert again.path == first.path and "two papers" in again.path.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{DEMO_WEEK}.md"]


def test_a_real_digest_of_the_week_is_left_as_it_is(tmp_path: Path) -> None:
    real = write_digest(tmp_path, DEMO_WEEK, "# the real week\n")
    for text in (DIGEST, DIGEST + "- and one more\n"):  # a second demo replaces its own file
        target = write_demo_digest(tmp_path, DEMO_WEEK, text)
        assert target.left_alone == real and target.path == tmp_path / f"{DEMO_WEEK}.demo.md"
        assert target.path.read_text(encoding="utf-8") == noted(text)
    assert real.read_text(encoding="utf-8") == "# the real week\n"


def test_nowhere_to_write_when_both_names_hold_files_the_demo_did_not_write(tmp_path: Path) -> None:
    write_digest(tmp_path, DEMO_WEEK, "# the real week\n")
    (tmp_path / f"{DEMO_WEEK}.demo.md").write_text("my notes\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match=f"{DEMO_WEEK}.md and {DEMO_WEEK}.demo.md in "):
        demo_target(tmp_path, DEMO_WEEK)
    assert (tmp_path / f"{DEMO_WEEK}.demo.md").read_text(encoding="utf-8") == "my notes\n"


def test_the_marker_does_not_show_in_the_rendered_digest(tmp_path: Path) -> None:
    path = write_demo_digest(tmp_path, DEMO_WEEK, DIGEST).path
    assert written_by_demo(path)
    html = render_html(path.read_text(encoding="utf-8"))
    assert "dltheory-digest demo" not in html and "a paper" in html
    assert "<strong>Demo: built from the bundled snapshot" in html
