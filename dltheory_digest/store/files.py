"""Digest files under the output directory (outputs/<ISO year>-W<week>.md)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# The first line of every digest `dltheory-digest demo` writes: an HTML comment, so it does not
# show where the Markdown is rendered. The demo's week is a real week: the marker is how the
# demo (and a real run) tell the demo's file from that week's real digest.
DEMO_MARKER = "<!-- dltheory-digest demo: built from the bundled snapshot, not from the live sources -->"
_DEMO_PREFIX = b"<!-- dltheory-digest demo"


def written_by_demo(path: Path) -> bool:
    """Whether `path` is a digest the demo wrote (it starts with the demo's marker)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(_DEMO_PREFIX)) == _DEMO_PREFIX
    except OSError:  # absent, or a directory
        return False


def digest_file(output_dir: Path, week: str, suffix: str = ".md") -> Path:
    return output_dir / f"{week}{suffix}"


def existing_digest(output_dir: Path, week: str) -> Path | None:
    """The week's digest file when a run has written one (the demo's file is no digest of the week)."""
    path = digest_file(output_dir, week)
    return path if path.is_file() and not written_by_demo(path) else None


def write_text_atomic(path: Path, text: str) -> Path:
    """Write via a temporary file and rename, so a reader never sees half a digest.

    The temporary file is created with mode 0o666 and the process umask applies, so the
    digest gets the permissions of any other file the user writes (usually 0644), not
    mkstemp's private 0600; the umask is never changed (other threads may be writing).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_digest(output_dir: Path, week: str, markdown: str) -> Path:
    return write_text_atomic(digest_file(output_dir, week), markdown)
