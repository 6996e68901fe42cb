"""`dltheory-digest dedup`: cluster the rows of a CSV of paper records (same matcher as the pipeline)."""

from __future__ import annotations

import csv
import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated

import typer

from dltheory_digest.cli.app import app, console, err_console
from dltheory_digest.cli.checks import fail_usage
from dltheory_digest.cli.files import CsvTable, is_stdio, note, read_csv, shown, writing
from dltheory_digest.identity import Record, match_clusters
from dltheory_digest.identity.normalize import split_authors

REQUIRED_COLUMNS = ("id", "title")
# optional: title_en (an English translation of the title) and source (where the row came
# from; with --duplicate-free-sources, rows of one source are never merged by content)
KNOWN_COLUMNS = (
    "id",
    "title",
    "authors",
    "venue",
    "year",
    "doi",
    "arxiv_id",
    "lang",
    "url",
    "title_en",
    "source",
)
# names other exports give the same field (BibTeX and Cora's `author`, dated exports' `date`)
COLUMN_ALIASES = {
    "author": "authors",
    "date": "year",
    "pub_year": "year",
    "published": "year",
}
# a plausible publication year inside a cell: "1999", "1999.0", "1999-01-01", "(1999)", "c1999"
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
# what exports write for "no value": read as an empty cell, not as a year that failed to read
_NO_VALUE = frozenset({"nan", "n/a", "na", "none", "null", "-", "?", "unknown", "n.d.", "nd"})


def parse_year(value: str | None) -> int | None:
    """The first plausible year (1500-2099) in the cell, else None."""
    match = _YEAR.search(value or "")
    return int(match.group(1)) if match else None


def _is_missing(value: str) -> bool:
    return value.strip().lower() in _NO_VALUE or not value.strip()


def record_from_row(row: Mapping[str, str | None], *, duplicate_free_sources: bool = False) -> Record:
    """One CSV row -> a Record; empty cells are missing values. The `source` cell reaches the
    matcher only with `duplicate_free_sources` (there it keeps rows of one source apart);
    otherwise it only says where the row came from."""

    def cell(name: str) -> str | None:
        value = row.get(name)
        return value.strip() or None if value is not None else None

    return Record(
        id=cell("id") or "",
        title=cell("title") or "",
        authors=split_authors(cell("authors") or ""),
        year=parse_year(cell("year")),
        venue=cell("venue"),
        doi=cell("doi"),
        arxiv_id=cell("arxiv_id"),
        lang=cell("lang"),
        url=cell("url"),
        title_en=cell("title_en"),
        source=cell("source") if duplicate_free_sources else None,
    )


def known_columns(path: Path | str, columns: Sequence[str]) -> dict[str, str]:
    """Which known column each of the file's columns is read as (aliases renamed); one note
    names the renamed columns and one the columns not read, with a guess at a misspelling."""
    renamed: dict[str, str] = {}
    for column in columns:
        alias = COLUMN_ALIASES.get(column)
        # an alias stands in only for a column the file lacks, and only once
        if alias and alias not in columns and alias not in renamed.values():
            renamed[column] = alias
    if renamed:
        said = ", ".join(f"{column} as {alias}" for column, alias in renamed.items())
        note(path, f"column(s) read under their usual name: {said}")
    unknown = [c for c in columns if c and c not in KNOWN_COLUMNS and c not in renamed]
    if unknown:
        guesses = []
        for column in unknown:
            close = difflib.get_close_matches(column, KNOWN_COLUMNS, n=1, cutoff=0.75)
            if close and close[0] not in columns and close[0] not in renamed.values():
                guesses.append(f"{column} -> {close[0]}?")
        guess = f" (did you mean: {', '.join(guesses)})" if guesses else ""
        note(path, f"column(s) not read: {', '.join(unknown)}{guess}; known: {', '.join(KNOWN_COLUMNS)}")
    return renamed


def readable_rows(path: Path | str, table: CsvTable) -> list[dict[str, str]]:
    """The table's rows under the known column names (aliases renamed). Notes say which
    columns were renamed or not read, and how many year cells give no year."""
    renamed = known_columns(path, table.columns)
    rows = [{renamed.get(k, k): v for k, v in row.items()} for row in table.rows] if renamed else table.rows
    unread = unread_years(rows, table.row_numbers)
    if unread:
        count, first = unread
        note(
            path,
            f"{count} year {'cell gives' if count == 1 else 'cells give'} no year, read as missing ({first})",
        )
    return rows


def unread_years(rows: Sequence[Mapping[str, str]], row_numbers: Sequence[int]) -> tuple[int, str] | None:
    """How many year cells hold something that is not a year, with the first one's row and
    text ("row 5: 'circa'"); None when every such cell is empty or a year."""
    unread = [
        (number, row["year"])
        for row, number in zip(rows, row_numbers, strict=True)
        if not _is_missing(row.get("year", "")) and parse_year(row["year"]) is None
    ]
    if not unread:
        return None
    number, value = unread[0]
    return len(unread), f"row {number}: {value.strip()!r}"


def id_problems(records: Sequence[Record], row_numbers: Sequence[int], *, at_most: int = 5) -> list[str]:
    """What makes the ids unfit to name the output rows: a row without id, an id on several rows.

    Rows are numbered as a spreadsheet shows them (the header is row 1), so each can be found."""
    rows_of: dict[str, list[int]] = defaultdict(list)
    for row_number, record in zip(row_numbers, records, strict=True):
        rows_of[record.id].append(row_number)
    problems = []
    missing = rows_of.pop("", [])
    if missing:
        problems.append(f"no id on {_rows(missing)}")
    repeated = [(record_id, rows) for record_id, rows in rows_of.items() if len(rows) > 1]
    problems += [f"id {record_id!r} is on {_rows(rows)}" for record_id, rows in repeated[:at_most]]
    if len(repeated) > at_most:
        problems.append(f"... and {len(repeated) - at_most} more repeated ids")
    return problems


def _rows(numbers: Sequence[int]) -> str:
    """ "row 3", "rows 2 and 4", "rows 2, 5 and 9", "rows 2, 3, ... (12 rows)"."""
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    if len(numbers) > 6:
        return f"rows {', '.join(str(n) for n in numbers[:5])}, ... ({len(numbers)} rows)"
    return f"rows {', '.join(str(n) for n in numbers[:-1])} and {numbers[-1]}"


def read_records(path: Path, *, duplicate_free_sources: bool = False) -> list[Record]:
    """Records of a dedup input CSV ('-': standard input). A missing required column, a row
    without id or an id on several rows is an error naming the rows, and exit 2: the output
    names each row by its id, so a repeated id would leave it ambiguous. What is read other
    than the file says (a renamed or unread column, a year cell that is no year, a `source`
    column without `duplicate_free_sources`) is one note each on standard error."""
    table = read_csv(path, required=REQUIRED_COLUMNS)
    rows = readable_rows(path, table)
    has_source = any(row.get("source", "").strip() for row in rows)
    if duplicate_free_sources and not has_source:
        raise fail_usage(f"--duplicate-free-sources: {shown(path)} has no source column, or it is empty")
    if has_source and not duplicate_free_sources:
        note(
            path,
            "the source column only says where rows came from; when each source lists a paper at "
            "most once (the tables of a record-linkage task), --duplicate-free-sources keeps rows "
            "of one source from being merged with each other",
        )
    records = [record_from_row(row, duplicate_free_sources=duplicate_free_sources) for row in rows]
    problems = id_problems(records, table.row_numbers)
    if problems:
        note(path, "each row needs an id of its own, since the output names rows by id:", level="error")
        for problem in problems:
            err_console.print(f"  {problem}", soft_wrap=True, markup=False, highlight=False)
        err_console.print(
            "(rows counted with the header as row 1; when joining tables, prefix their ids: a:1, b:1)",
            highlight=False,
        )
        raise typer.Exit(2)
    return records


def write_clusters(path: Path | None, records: Sequence[Record], labels: Iterable[int]) -> None:
    """`id,cluster` rows (None or '-': standard output); the cluster is the id of the
    cluster's first record, so it reads as a paper."""
    label_list = list(labels)
    with writing(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "cluster"])
        for record, label in zip(records, label_list, strict=True):
            writer.writerow([record.id, records[label].id])


@app.command("dedup")
def dedup(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with columns id, title, authors, venue, year and optionally doi, arxiv_id, lang, url, "
            "title_en, source ('-': standard input). A title in Chinese or Arabic matches through the "
            "English title inside it, or else needs its English translation in title_en. The year is "
            "the first year in its cell ('1999-01-01' reads as 1999); author, date, pub_year and "
            "published are read as authors and year. Without --duplicate-free-sources, source only "
            "says where a row came from",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="where to write id,cluster (default or '-': standard output)"),
    ] = None,
    duplicate_free_sources: Annotated[
        bool,
        typer.Option(
            "--duplicate-free-sources",
            help="each value of the source column names a table that lists a paper at most once (as in "
            "record linkage of two tables): rows sharing a source are never merged with each other by "
            "content (a shared DOI or arXiv id still merges them)",
        ),
    ] = False,
) -> None:
    """Cluster paper records: rows with the same `cluster` are predicted to be the same paper."""
    records = read_records(file, duplicate_free_sources=duplicate_free_sources)
    labels = match_clusters(records)
    write_clusters(output, records, labels)
    # with the clusters on standard output, the summary goes to standard error
    clusters = len(set(labels))
    summary = f"{_count(len(records), 'record')} -> {_count(clusters, 'cluster')}"
    if is_stdio(output):
        err_console.print(summary)
    else:
        console.print(f"{summary}; wrote {output}", markup=False)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
