"""`dltheory-digest dedup FILE.csv -o OUT.csv` through typer's CliRunner."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dltheory_digest.cli import app

runner = CliRunner()


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_clusters(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0]) == ["id", "cluster"]
    return {row["id"]: row["cluster"] for row in rows}


def test_dedup_clusters_rows(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        ["id", "title", "authors", "venue", "year"],
        [
            [
                "a:1",
                "Efficient optimistic concurrency control using loosely synchronized clocks",
                "barbara liskov , atul adya , robert gruber , umesh maheshwari",
                "sigmod conference",
                "1995",
            ],
            [
                "b:7",
                "Efficient Optimistic Concurrency Control Using Loosely Synchronized Clocks.",
                "atul adya , robert gruber , barbara liskov , umesh maheshwari",
                "international conference on management of data",
                "1995",
            ],
            ["a:2", "Editorial", "richard t. snodgrass", "acm trans . database syst .", "2001"],
            [
                "b:8",
                "Editorial",
                "richard snodgrass",
                "acm transactions on database systems ( tods )",
                "2002",
            ],
            [
                "a:3",
                "Bertram Lud&#228;scher's view on XML-based information mediation with MIX",
                "bertram lud &#228; scher",
                "sigmod record",
                "",
            ],
        ],
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["dedup", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 records -> 4 clusters" in result.output
    clusters = read_clusters(out)
    assert list(clusters) == ["a:1", "b:7", "a:2", "b:8", "a:3"]  # one row per input row, in order
    assert clusters["a:1"] == clusters["b:7"] == "a:1"
    assert len({clusters["a:2"], clusters["b:8"], clusters["a:3"], clusters["a:1"]}) == 4


def test_optional_identifier_columns(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        ["id", "title", "authors", "venue", "year", "doi", "arxiv_id", "lang", "url"],
        [
            [
                "1",
                "The Principles of Deep Learning Theory",
                "Daniel A. Roberts; Sho Yaida; Boris Hanin",
                "",
                "2021",
                "",
                "2106.10165v2",
                "en",
                "",
            ],
            ["2", "深度学习理论的原理", "", "", "", "10.48550/arXiv.2106.10165", "", "zh", ""],
            ["3", "(no title)", "", "", "", "", "", "en", "https://arxiv.org/pdf/2106.10165v1"],
            ["4", "Deep learning", "", "Nature", "2015", "https://doi.org/10.1038/NATURE14539", "", "en", ""],
            ["5", "Deep learning review", "", "", "", "10.1038/nature14539", "", "en", ""],
        ],
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["dedup", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    clusters = read_clusters(out)
    assert clusters["1"] == clusters["2"] == clusters["3"] == "1"
    assert clusters["4"] == clusters["5"] == "4"


def test_missing_columns_is_a_usage_error(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", ["id", "name"], [["1", "x"]])
    result = runner.invoke(app, ["dedup", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 2
    assert "title" in result.output
    assert not (tmp_path / "out.csv").exists()


def test_column_names_are_read_whatever_their_case(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        ["ID", "Title", "Authors", "Year"],
        [
            ["a", "Deep Learning Theory", "Ada Lovelace", "2020"],
            ["b", "Deep learning theory.", "Ada Lovelace", "2020"],
        ],
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["dedup", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert read_clusters(out) == {"a": "a", "b": "a"}


@pytest.mark.shared
def test_dblp_acm_scores_on_the_tuning_splits(shared_dir: Path, tmp_path: Path) -> None:
    """The whole DBLP-ACM union through the command; scored on valid (a tuning split, never test)."""
    data = shared_dir / "eval" / "er" / "DBLP-ACM"
    rows: list[list[str]] = []
    for table, prefix in (("tableA.csv", "a"), ("tableB.csv", "b")):
        with (data / table).open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows.append(
                    [f"{prefix}:{row['id']}", row["title"], row["authors"], row["venue"], row["year"]]
                )
    source = write_csv(tmp_path / "union.csv", ["id", "title", "authors", "venue", "year"], rows)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["dedup", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    clusters = read_clusters(out)
    assert len(clusters) == len(rows)
    tp = fp = fn = 0
    with (data / "valid.csv").open(newline="", encoding="utf-8") as handle:
        for pair in csv.DictReader(handle):
            predicted = clusters[f"a:{pair['table1.id']}"] == clusters[f"b:{pair['table2.id']}"]
            actual = pair["label"] == "1"
            tp += predicted and actual
            fp += predicted and not actual
            fn += actual and not predicted
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall)
    # published references on this benchmark: Magellan 98.4, DeepMatcher 98.4, Ditto 98.99 (test F1)
    assert f1 >= 0.985, (precision, recall, f1)


def test_dedup_reads_stdin_and_writes_stdout_for_a_dash() -> None:
    rows = (
        "id,title,authors,year\n"
        "a,Deep Neural Networks as Gaussian Processes,Jaehoon Lee; Yasaman Bahri,2018\n"
        "b,Deep neural networks as Gaussian processes.,J. Lee; Y. Bahri,2018\n"
    )
    for output in (["-o", "-"], []):  # standard output is also the default, as for classify
        result = runner.invoke(app, ["dedup", "-", *output], input=rows)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == ["id,cluster", "a,a", "b,a"]  # the summary went to stderr
        assert "2 records -> 1 cluster" in result.stderr


def test_an_id_on_two_rows_is_an_error_naming_the_rows(tmp_path: Path) -> None:
    # the output names rows by id: "1,1" and "1,2" would put one id in two clusters
    source = write_csv(
        tmp_path / "in.csv",
        ["id", "title", "authors", "venue", "year"],
        [
            [
                "1",
                "Understanding deep learning requires rethinking generalization",
                "chiyuan zhang",
                "iclr",
                "2017",
            ],
            [
                "2",
                "Deep double descent: where bigger models and more data hurt",
                "preetum nakkiran",
                "iclr",
                "2020",
            ],
            [
                "1",
                "Deep Double Descent: Where Bigger Models and More Data Hurt",
                "preetum nakkiran",
                "arxiv",
                "2019",
            ],
            ["3", "Neural tangent kernel", "arthur jacot", "neurips", "2018"],
        ],
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["dedup", str(source), "-o", str(out)])
    assert result.exit_code == 2
    assert f"error: {source}: each row needs an id of its own" in result.stderr
    assert "id '1' is on rows 2 and 4" in result.stderr  # spreadsheet rows: the header is row 1
    assert "records ->" not in result.output  # no count that would hide the problem
    assert not out.exists()


def test_rows_without_id_and_many_repeats_are_all_reported() -> None:
    rows = "id,title\n,A\nx,B\n,C\nx,D\nx,E\n" + "".join(f"r{n},T\nr{n},T\n" for n in range(7))
    result = runner.invoke(app, ["dedup", "-"], input=rows)
    assert result.exit_code == 2
    assert result.stdout == ""  # not even the header of an output
    lines = result.stderr.splitlines()
    assert "  no id on rows 2 and 4" in lines
    assert "  id 'x' is on rows 3, 5 and 6" in lines
    assert "  id 'r0' is on rows 7 and 8" in lines
    assert "  ... and 3 more repeated ids" in lines  # x and r0..r3 shown, r4..r6 counted


def test_paths_with_brackets_are_printed_as_they_are(tmp_path: Path) -> None:
    # Rich would read "[b]" as markup and drop it from the path
    rows = [["1", "Neural tangent kernel", "arthur jacot", "neurips", "2018"]]
    source = write_csv(tmp_path / "[b]in.csv", ["id", "title", "authors", "venue", "year"], rows)
    out = tmp_path / "[b]out.csv"
    result = runner.invoke(app, ["dedup", str(source), "-o", str(out)], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    twice = write_csv(tmp_path / "[b]twice.csv", ["id", "title", "authors", "venue", "year"], rows + rows)
    refused = runner.invoke(app, ["dedup", str(twice)], terminal_width=400)
    assert refused.exit_code == 2 and f"error: {twice}: each row" in refused.stderr
