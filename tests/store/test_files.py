"""Digest files: atomic writes with the permissions of any other file the user writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dltheory_digest.store.files import (
    DEMO_MARKER,
    existing_digest,
    write_digest,
    write_text_atomic,
    written_by_demo,
)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_digest_gets_the_usual_permissions_for_the_umask(tmp_path: Path, umask: int) -> None:
    before = os.umask(umask)
    try:
        path = write_digest(tmp_path / "outputs", "2026-W47", "# Digest\n")
    finally:
        os.umask(before)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert path.read_text(encoding="utf-8") == "# Digest\n"


def test_rewriting_replaces_the_file_and_leaves_no_temporary_behind(tmp_path: Path) -> None:
    path = tmp_path / "2026-W47.md"
    write_text_atomic(path, "first\n")
    write_text_atomic(path, "second\r\nline\n")
    assert path.read_bytes() == b"second\r\nline\n"
    assert [p.name for p in tmp_path.iterdir()] == ["2026-W47.md"]


def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path: Path) -> None:
    path = tmp_path / "2026-W47.md"
    write_text_atomic(path, "old\n")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(path, "half \ud800 surrogate")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["2026-W47.md"]


def test_the_demos_file_is_told_from_a_real_digest(tmp_path: Path) -> None:
    real = write_digest(tmp_path / "real", "2026-W47", "# Digest\n")
    demo = write_digest(tmp_path / "demo", "2026-W47", f"{DEMO_MARKER}\n# Digest\n")
    assert not written_by_demo(real) and written_by_demo(demo)
    assert not written_by_demo(tmp_path / "absent.md") and not written_by_demo(tmp_path)
    # a real run that reaches no source keeps the week's digest written before, not the demo's
    assert existing_digest(tmp_path / "real", "2026-W47") == real
    assert existing_digest(tmp_path / "demo", "2026-W47") is None
