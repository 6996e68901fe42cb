"""`dltheory-digest classify`: research direction of each paper in a CSV file."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import typer

from dltheory_digest.cli.app import app, err_console
from dltheory_digest.cli.checks import fail_config
from dltheory_digest.cli.files import is_stdio, note, read_csv, writing
from dltheory_digest.errors import ConfigError

CLASSIFY_BLOCK = 2000  # rows classified at a time


def row_ids(columns: list[str], rows: list[dict[str, str]]) -> tuple[list[str], str | None]:
    """The id written for each row, and a note when it is not the `id` column.

    Reading lists are often kept with an `arxiv_id` column and no `id`: that serves when it
    names every row once; otherwise rows are numbered from 1, so output still lines up."""
    if "id" in columns:
        return [row["id"] for row in rows], None
    if "arxiv_id" in columns:
        arxiv_ids = [row["arxiv_id"].strip() for row in rows]
        if all(arxiv_ids) and len(set(arxiv_ids)) == len(arxiv_ids):
            return arxiv_ids, "no id column; the arxiv_id column is used as the id"
    return [str(n) for n in range(1, len(rows) + 1)], "no id column; rows are numbered from 1"


@app.command("classify")
def classify_command(
    file: Path = typer.Argument(
        ...,
        help="CSV with columns id,title and optionally abstract (no id: arxiv_id or the row number; '-': standard input).",
        exists=False,
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Output CSV (default or '-': standard output)."
    ),
    taxonomy: Path | None = typer.Option(
        None, "--taxonomy", help="Taxonomy YAML (default: settings' taxonomy_file or the built-in one)."
    ),
    with_relevance: bool = typer.Option(
        False, "--relevance", help="Add relevance and confident columns after id,direction,score."
    ),
) -> None:
    """Write id,direction,score: the primary direction of each row and its score."""
    from dltheory_digest.cli.checks import load_checked_settings
    from dltheory_digest.directions import DirectionClassifier, load_taxonomy

    # a misspelt DLTHEORY_TAXONOMY_FILE would silently give the bundled taxonomy: warned
    taxonomy_path = taxonomy or load_checked_settings().taxonomy_file
    try:
        classifier = DirectionClassifier.from_taxonomy(load_taxonomy(taxonomy_path))
    except ConfigError as exc:
        raise fail_config(exc) from None
    columns, rows, _ = read_csv(file, required=("title",))
    ids, id_note = row_ids(columns, rows)
    if id_note:
        note(file, id_note)

    header = ["id", "direction", "score"] + (["relevance", "confident"] if with_relevance else [])
    counts: Counter[str] = Counter()
    with writing(output) as out:
        writer = csv.writer(out)
        writer.writerow(header)
        # block by block: the classifier's per-row work (tokens, phrase matches) is freed after
        # each block, so memory stays flat however long the file (1.1 GB -> 0.35 GB for 50k
        # abstracts); rows are classified independently, so the results are the same
        for start in range(0, len(rows), CLASSIFY_BLOCK):
            block = rows[start : start + CLASSIFY_BLOCK]
            results = classifier.classify_many([(r["title"], r.get("abstract", "")) for r in block])
            for row_id, result in zip(ids[start : start + CLASSIFY_BLOCK], results, strict=True):
                # the primary's own score (`other`: the best score, which was not enough)
                scores = dict(result.scores)
                score = scores.get(result.primary, result.scores[0][1] if result.scores else 0.0)
                line = [row_id, result.primary, f"{score:.4f}"]
                if with_relevance:
                    line += [f"{result.relevance:.4f}", "true" if result.confident else "false"]
                writer.writerow(line)
                counts[result.primary] += 1
    if not is_stdio(output):
        summary = ", ".join(f"{d} {n}" for d, n in counts.most_common())
        err_console.print(f"classified {len(rows)} rows -> {output} ({summary})", markup=False)
