"""Input and output files of the file commands, where '-' means standard input or output."""

from __future__ import annotations

import csv
import difflib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, NamedTuple, TextIO

import typer
from rich.markup import escape

from dltheory_digest.cli.app import err_console

STDIO = "-"


def is_stdio(path: Path | None) -> bool:
    """No path, or '-': the standard stream."""
    return path is None or str(path) == STDIO


def shown(path: Path | str) -> str:
    """How messages name an input: its path, or "standard input" for '-'."""
    return "standard input" if str(path) == STDIO else str(path)


_LEVEL_COLOURS = {"note": "yellow", "warning": "yellow", "error": "red"}


def note(path: Path | str, message: str, *, level: Literal["note", "warning", "error"] = "note") -> None:
    """One line on standard error about an input: "note: PATH: message"."""
    colour = _LEVEL_COLOURS[level]
    # soft wrap: a long path stays on one line, ready to copy; escaped: a path or a CSV column
    # name holding "[b]" is printed as it is, not taken for Rich markup
    err_console.print(f"[{colour}]{level}:[/{colour}] {escape(f'{shown(path)}: {message}')}", soft_wrap=True)


def _fail(path: Path | str, message: str) -> typer.Exit:
    note(path, message, level="error")
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
        # the line, which an editor shows, rather than the byte offset alone
        line = exc.object[: exc.start].count(b"\n") + 1
        raise _fail(
            path, f"not UTF-8 text (line {line}, byte 0x{exc.object[exc.start]:02x}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror or exc})") from None


def read_text(path: Path) -> str:
    """The UTF-8 text of `path` (a byte-order mark dropped, line ends made "\\n"), or of
    standard input for '-'."""
    data = read_bytes(path)
    with _reading(path):
        text = data.decode("utf-8-sig")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_bytes(path: Path) -> bytes:
    """The bytes of `path`, or of standard input for '-'."""
    with _reading(path):
        return sys.stdin.buffer.read() if is_stdio(path) else path.read_bytes()


def read_lines(path: Path) -> Iterator[str]:
    """The lines of `path` (standard input for '-') without their ends, each as soon as it is
    read; split at "\\n" only, as standard input is; undecodable bytes become U+FFFD."""
    if is_stdio(path):
        yield from (raw.rstrip("\r\n") for raw in sys.stdin)
        return
    with _reading(path):
        handle = path.open(encoding="utf-8-sig", errors="replace", newline="\n")
    with handle:
        yield from (raw.rstrip("\r\n") for raw in handle)


def _guess(missing: list[str], columns: list[str]) -> str:
    """ "; did you mean titel for title?" when a column looks like a misspelt missing one."""
    guesses = [
        f"{close[0]} for {name}"
        for name in missing
        if (close := difflib.get_close_matches(name, columns, n=1, cutoff=0.75))
    ]
    return f"; did you mean {', '.join(guesses)}?" if guesses else ""


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their "\\n", one at a time: a StringIO would hold a second,
    up to four times larger copy of a large file (200 MB for 50k abstracts)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        yield text[start:end]
        start = end


class CsvTable(NamedTuple):
    """A CSV file read with its header: lower-case column names, rows (empty and missing cells
    are ''), and each row's number as a spreadsheet shows it (the header is row 1, blank lines count)."""

    columns: list[str]
    rows: list[dict[str, str]]
    row_numbers: list[int]


def read_csv(path: Path, required: tuple[str, ...], *, delimiters: str = ",") -> CsvTable:
    """The CSV file at `path` ('-': standard input). A missing required column or a malformed
    line is one error line and exit 2. Rows whose every cell is empty (a spreadsheet's `,,,,`
    export of blank rows) are left out; a repeated column name and a row with more fields than
    the header, which shift or hide what is read, are warned about once each. With several
    `delimiters`, the one the header line holds most of separates the fields (the first on a tie)."""
    # abstracts and pasted full texts exceed csv's default 128 KiB per field
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    text = read_text(path)
    header_line = text.lstrip("\n").partition("\n")[0]
    delimiter = max(delimiters, key=header_line.count)
    reader = csv.reader(_lines(text), delimiter=delimiter)
    rows: list[dict[str, str]] = []
    row_numbers: list[int] = []
    try:
        # numbered as a spreadsheet shows the file: blank lines are rows too
        numbered = enumerate(reader, start=1)
        header = next((cells for _, cells in numbered if cells), [])
        columns = [c.strip().lower() for c in header]
        missing = [c for c in required if c not in columns]
        if missing:
            raise _fail(
                path,
                f"missing column(s) {', '.join(missing)} (have: {', '.join(columns)}){_guess(missing, columns)}",
            )
        repeated = sorted({c for c in columns if c and columns.count(c) > 1})
        if repeated:
            note(
                path,
                f"column(s) {', '.join(repeated)} appear more than once; the last of each is read",
                level="warning",
            )
        long_rows: list[tuple[int, int]] = []  # (row number, fields)
        for row_number, cells in numbered:
            if not any(cell.strip() for cell in cells):
                continue
            # a trailing comma on data rows only (a common export) hides nothing
            if any(cell.strip() for cell in cells[len(columns) :]):
                long_rows.append((row_number, len(cells)))
            rows.append({name: (cells[i] if i < len(cells) else "") for i, name in enumerate(columns)})
            row_numbers.append(row_number)
    except csv.Error as exc:
        raise _fail(path, f"line {reader.line_num}: {exc}") from None
    if long_rows:
        first, fields = long_rows[0]
        others = f" (and {len(long_rows) - 1} more rows)" if len(long_rows) > 1 else ""
        note(
            path,
            f"row {first} has {fields} fields, the header {len(columns)}{others}: the extra fields are "
            "not read (an unquoted comma inside a cell?)",
            level="warning",
        )
    return CsvTable(columns, rows, row_numbers)


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
