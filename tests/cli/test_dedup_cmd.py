"""`dltheory-digest dedup FILE.csv -o OUT.csv` through typer's CliRunner."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dltheory_digest.cli import app
from dltheory_digest.cli.dedup_cmd import parse_year

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


def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # help and notes on one line each, as a log shows them


SAME_PAPER_TWICE = (
    "id,title,authors,year,source\n"
    "1,Deep Neural Networks as Gaussian Processes,Jaehoon Lee; Yasaman Bahri,2018,scholar\n"
    "2,Deep neural networks as Gaussian processes.,J. Lee; Y. Bahri,2018,scholar\n"
)


def test_a_source_column_only_says_where_a_row_came_from_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # the commonest extra column: two copies from one source are still one paper
    _wide(monkeypatch)
    result = runner.invoke(app, ["dedup", "-"], input=SAME_PAPER_TWICE)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["id,cluster", "1,1", "2,1"]
    notes = [line for line in result.stderr.splitlines() if "source column" in line]
    assert len(notes) == 1 and "--duplicate-free-sources" in notes[0], result.stderr


def test_duplicate_free_sources_keep_rows_of_one_source_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    _wide(monkeypatch)
    result = runner.invoke(app, ["dedup", "-", "--duplicate-free-sources"], input=SAME_PAPER_TWICE)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["id,cluster", "1,1", "2,2"]
    assert "source column" not in result.stderr
    # across sources they still merge
    other_source = SAME_PAPER_TWICE.replace("2018,scholar\n2", "2018,dblp\n2")
    across = runner.invoke(app, ["dedup", "-", "--duplicate-free-sources"], input=other_source)
    assert across.stdout.splitlines() == ["id,cluster", "1,1", "2,1"]
    # the flag without the column would silently do nothing
    no_column = runner.invoke(app, ["dedup", "-", "--duplicate-free-sources"], input="id,title\n1,x\n")
    assert no_column.exit_code == 2
    assert "--duplicate-free-sources: standard input has no source column" in no_column.stderr


def test_help_states_both_meanings_of_the_source_column(monkeypatch: pytest.MonkeyPatch) -> None:
    _wide(monkeypatch)
    said = " ".join(runner.invoke(app, ["dedup", "--help"]).output.split())
    assert "Without --duplicate-free-sources, source only says where a row came from" in said
    assert "rows sharing a source are never merged with each other by content" in said


@pytest.mark.parametrize("year", ["2001", "2001-01-01", "(2001)", "c2001", "2001.0", " 2001 "])
def test_the_year_is_the_first_year_in_its_cell(year: str) -> None:
    # a generic title needs the same year and people: an unread year would keep b apart
    rows = (
        "id,title,authors,venue,year\n"
        "a,Editorial,richard t. snodgrass,acm trans . database syst .,2001\n"
        f'b,Editorial,richard snodgrass,acm transactions on database systems,"{year}"\n'
        "c,Editorial,richard snodgrass,acm transactions on database systems,2002\n"
    )
    result = runner.invoke(app, ["dedup", "-"], input=rows)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["id,cluster", "a,a", "b,a", "c,c"]
    assert "no year" not in result.stderr


@pytest.mark.parametrize(
    ("cell", "year"),
    [("inf", None), ("1e400", None), ("-inf", None), ("nan", None), ("1999/2000", 1999), ("19990", None)],
)
def test_a_year_cell_never_raises(cell: str, year: int | None) -> None:
    assert parse_year(cell) == year


def test_cells_that_give_no_year_are_noted_once_with_the_first_row(monkeypatch: pytest.MonkeyPatch) -> None:
    _wide(monkeypatch)
    rows = "id,title,year\n1,A,2001\n2,B,n/a\n3,C,circa\n4,D,\n5,E,inf\n"
    result = runner.invoke(app, ["dedup", "-"], input=rows)
    assert result.exit_code == 0, result.output  # no OverflowError traceback
    notes = [line for line in result.stderr.splitlines() if "no year" in line]
    # "n/a" and an empty cell are missing values, not unreadable years
    assert notes == ["note: standard input: 2 year cells give no year, read as missing (row 4: 'circa')"]


def test_usual_column_names_are_read_and_unknown_ones_named(monkeypatch: pytest.MonkeyPatch) -> None:
    _wide(monkeypatch)
    rows = (
        "id,title,author,date,arxiv,price\n"
        "a,Editorial,richard t. snodgrass,2001-05-01,,3\n"
        "b,Editorial,richard snodgrass,2001-01-01,,4\n"
        "c,Editorial,richard snodgrass,2002-01-01,,5\n"
    )
    result = runner.invoke(app, ["dedup", "-"], input=rows)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["id,cluster", "a,a", "b,a", "c,c"]  # people and years were read
    lines = result.stderr.splitlines()
    assert (
        "note: standard input: column(s) read under their usual name: author as authors, date as year"
        in lines
    )
    [unread] = [line for line in lines if "not read" in line]
    assert unread.startswith(
        "note: standard input: column(s) not read: arxiv, price (did you mean: arxiv -> arxiv_id?)"
    )


def test_an_alias_does_not_replace_the_column_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    _wide(monkeypatch)
    rows = "id,title,year,date\na,Editorial,2001,2002-01-01\n"
    result = runner.invoke(app, ["dedup", "-"], input=rows)
    assert result.exit_code == 0, result.output
    assert "read under their usual name" not in result.stderr
    assert "column(s) not read: date" in result.stderr


def test_rows_whose_every_cell_is_empty_are_left_out(tmp_path: Path) -> None:
    # spreadsheets export blank rows as ",,,,"; the rows keep their spreadsheet numbers
    rows = "id,title,authors,venue,year\n1,Neural tangent kernel,arthur jacot,neurips,2018\n,,,,\n2,A,,,\n , ,,,\n"
    result = runner.invoke(app, ["dedup", "-"], input=rows)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["id,cluster", "1,1", "2,2"]
    repeated = runner.invoke(app, ["dedup", "-"], input=rows.replace("2,A", "1,A"))
    assert repeated.exit_code == 2
    assert "  id '1' is on rows 2 and 4" in repeated.stderr.splitlines()


def test_rows_longer_than_the_header_and_repeated_columns_are_warned_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _wide(monkeypatch)
    rows = (
        "id,title,authors,title\n"
        "1,A,ada,Neural tangent kernel\n"
        "2,Deep learning, a review,yann lecun,Deep learning\n"  # an unquoted comma
        "3,B,,C,\n"  # a trailing comma hides nothing
        "4,x,y,z,w\n"
    )
    result = runner.invoke(app, ["dedup", "-"], input=rows)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: standard input: column(s) title appear more than once; the last of each is read",
        "warning: standard input: row 3 has 5 fields, the header 4 (and 1 more rows): the extra fields are "
        "not read (an unquoted comma inside a cell?)",
    ]


def test_errors_name_standard_input_and_the_line_of_a_bad_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    _wide(monkeypatch)
    missing = runner.invoke(app, ["dedup", "-"], input="id,titel\n1,x\n")
    assert missing.exit_code == 2
    assert missing.stderr.strip() == (
        "error: standard input: missing column(s) title (have: id, titel); did you mean titel for title?"
    )
    latin1 = runner.invoke(app, ["dedup", "-"], input="id,title\n1,x\n2,Théorie\n".encode("latin-1"))
    assert latin1.exit_code == 2
    assert (
        latin1.stderr.strip() == "error: standard input: not UTF-8 text (line 3, byte 0xe9); save it as UTF-8"
    )


def test_one_record_is_said_in_the_singular() -> None:
    result = runner.invoke(app, ["dedup", "-"], input="id,title\n1,Neural tangent kernel\n")
    assert result.exit_code == 0, result.output
    assert "1 record -> 1 cluster" in result.stderr
