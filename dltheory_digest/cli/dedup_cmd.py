"""`dltheory-digest dedup`: cluster the rows of a CSV of paper records (same matcher as the pipeline)."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from dltheory_digest.cli.app import app, console, err_console
from dltheory_digest.cli.files import is_stdio, read_csv, writing
from dltheory_digest.identity import Record, match_clusters
from dltheory_digest.identity.normalize import split_authors

REQUIRED_COLUMNS = ("id", "title")
# optional: title_en (an English translation of the title) and source (rows of one
# duplicate-free source are never merged with each other by content)
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


def _year(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(float(value))  # "1999" and "1999.0" (spreadsheets) alike
    except ValueError:
        return None


def record_from_row(row: Mapping[str, str | None]) -> Record:
    """One CSV row -> a Record; empty cells are missing values."""

    def cell(name: str) -> str | None:
        value = row.get(name)
        return value.strip() or None if value is not None else None

    return Record(
        id=cell("id") or "",
        title=cell("title") or "",
        authors=split_authors(cell("authors") or ""),
        year=_year(cell("year")),
        venue=cell("venue"),
        doi=cell("doi"),
        arxiv_id=cell("arxiv_id"),
        lang=cell("lang"),
        url=cell("url"),
        title_en=cell("title_en"),
        source=cell("source"),
    )


def id_problems(records: Sequence[Record], *, shown: int = 5) -> list[str]:
    """What makes the ids unfit to name the output rows: a row without id, an id on several rows.

    Rows are counted as a spreadsheet shows them (the header is row 1), so each can be found."""
    rows_of: dict[str, list[int]] = defaultdict(list)
    for row_number, record in enumerate(records, start=2):
        rows_of[record.id].append(row_number)
    problems = []
    missing = rows_of.pop("", [])
    if missing:
        problems.append(f"no id on {_rows(missing)}")
    repeated = [(record_id, rows) for record_id, rows in rows_of.items() if len(rows) > 1]
    problems += [f"id {record_id!r} is on {_rows(rows)}" for record_id, rows in repeated[:shown]]
    if len(repeated) > shown:
        problems.append(f"... and {len(repeated) - shown} more repeated ids")
    return problems


def _rows(numbers: Sequence[int]) -> str:
    """ "row 3", "rows 2 and 4", "rows 2, 5 and 9", "rows 2, 3, ... (12 rows)"."""
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    if len(numbers) > 6:
        return f"rows {', '.join(str(n) for n in numbers[:5])}, ... ({len(numbers)} rows)"
    return f"rows {', '.join(str(n) for n in numbers[:-1])} and {numbers[-1]}"


def read_records(path: Path) -> list[Record]:
    """Records of a dedup input CSV ('-': standard input). A missing required column, a row
    without id or an id on several rows is an error naming the rows, and exit 2: the output
    names each row by its id, so a repeated id would leave it ambiguous."""
    _, rows = read_csv(path, required=REQUIRED_COLUMNS)
    records = [record_from_row(row) for row in rows]
    problems = id_problems(records)
    if problems:
        err_console.print(
            f"[red]error:[/red] {escape(str(path))}: each row needs an id of its own, since the output names rows by id:",
            soft_wrap=True,
        )
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
            "English title inside it, or else needs its English translation in title_en",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="where to write id,cluster (default or '-': standard output)"),
    ] = None,
) -> None:
    """Cluster paper records: rows with the same `cluster` are predicted to be the same paper."""
    records = read_records(file)
    labels = match_clusters(records)
    write_clusters(output, records, labels)
    # with the clusters on standard output, the summary goes to standard error
    clusters = len(set(labels))
    summary = f"{len(records)} records -> {clusters} {'cluster' if clusters == 1 else 'clusters'}"
    if is_stdio(output):
        err_console.print(summary)
    else:
        console.print(f"{summary}; wrote {output}", markup=False)
