"""Input and output files of the file commands, where '-' means standard input or output."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import typer
from rich.markup import escape

from dltheory_digest.cli.app import err_console

STDIO = "-"


def is_stdio(path: Path | None) -> bool:
    """No path, or '-': the standard stream."""
    return path is None or str(path) == STDIO


def _fail(path: Path | str, message: str) -> typer.Exit:
    # soft wrap: a long path stays on one line, ready to copy; escaped: a path or a CSV column
    # name holding "[b]" is printed as it is, not taken for Rich markup
    err_console.print(f"[red]error:[/red] {escape(f'{path}: {message}')}", soft_wrap=True)
    return typer.Exit(2)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turns a failed read of `path` into one error line and exit 2."""
    try:
        yield
    except FileNotFoundError:
        raise _fail(path, "file not found") from None
    except IsADirectoryError:
        raise _fail(path, "a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror or exc})") from None


def read_text(path: Path) -> str:
    """The UTF-8 text of `path` (a byte-order mark dropped), or of standard input for '-'."""
    with _reading(path):
        text = sys.stdin.read() if is_stdio(path) else path.read_text(encoding="utf-8-sig")
    return text.removeprefix("\ufeff")


def read_bytes(path: Path) -> bytes:
    """The bytes of `path`, or of standard input for '-'."""
    with _reading(path):
        return sys.stdin.buffer.read() if is_stdio(path) else path.read_bytes()


def read_csv(path: Path, required: tuple[str, ...]) -> tuple[list[str], list[dict[str, str]]]:
    """The column names (lower-case) and rows of a CSV file with a header; empty and missing
    cells are ''. A missing required column or a malformed line is one error line and exit 2."""
    # abstracts and pasted full texts exceed csv's default 128 KiB per field
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    try:
        columns = [c.strip().lower() for c in reader.fieldnames or ()]
        missing = [c for c in required if c not in columns]
        if missing:
            raise _fail(path, f"missing column(s) {', '.join(missing)} (have: {', '.join(columns)})")
        reader.fieldnames = columns
        rows = [{key: (value or "") for key, value in row.items() if key is not None} for row in reader]
    except csv.Error as exc:
        raise _fail(path, f"line {reader.line_num}: {exc}") from None
    return columns, rows


@contextmanager
def writing(path: Path | None) -> Iterator[TextIO]:
    """A text stream to `path`, or standard output for None or '-'."""
    if is_stdio(path):
        yield sys.stdout
        sys.stdout.flush()
        return
    assert path is not None
    try:
        handle = path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise _fail(path, f"cannot write ({exc.strerror})") from None
    with handle:
        yield handle
