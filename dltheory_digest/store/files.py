"""Digest files under the output directory (outputs/<ISO year>-W<week>.md)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def digest_file(output_dir: Path, week: str, suffix: str = ".md") -> Path:
    return output_dir / f"{week}{suffix}"


def write_text_atomic(path: Path, text: str) -> Path:
    """Write via a temporary file and rename, so a reader never sees half a digest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_digest(output_dir: Path, week: str, markdown: str) -> Path:
    return write_text_atomic(digest_file(output_dir, week), markdown)
