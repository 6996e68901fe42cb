"""`dltheory-digest classify FILE.csv -o OUT.csv` through typer's CliRunner."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dltheory_digest.cli import app, classify_cmd
from dltheory_digest.directions import DirectionClassifier, load_taxonomy

runner = CliRunner()


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_classify_writes_one_row_per_input_row(tmp_path: Path) -> None:
    source = _write_csv(
        tmp_path / "papers.csv",
        ["id", "title"],
        [
            ["2401.00001", "Finite-width corrections to the neural tangent kernel, revisited"],
            ["2401.00002", "Adversarial examples and certified robustness for Lipschitz networks"],
            ["2401.00003", "Cooking pasta at high altitude"],
            ["2401.00001", "Finite-width corrections to the neural tangent kernel, revisited"],  # repeated
        ],
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["classify", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = _read_csv(out)
    assert list(rows[0]) == ["id", "direction", "score"]
    assert [r["id"] for r in rows] == ["2401.00001", "2401.00002", "2401.00003", "2401.00001"]
    assert [r["direction"] for r in rows] == [
        "overparameterization",
        "robustness",
        "other",
        "overparameterization",
    ]
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)
    assert float(rows[0]["score"]) > float(rows[2]["score"])


def test_the_score_is_that_of_the_direction_written(tmp_path: Path) -> None:
    # a direction that takes a paper (`takes_from`) need not have the top score: the row
    # carries the written direction's own score
    title = "Convergence of gradient descent for training recurrent neural networks"
    source = _write_csv(tmp_path / "papers.csv", ["id", "title"], [["1", title]])
    out = tmp_path / "out.csv"
    assert runner.invoke(app, ["classify", str(source), "-o", str(out)]).exit_code == 0
    [row] = _read_csv(out)
    result = DirectionClassifier.from_taxonomy(load_taxonomy()).classify(title)
    assert row["direction"] == result.primary == "architectures" != result.scores[0][0]
    assert float(row["score"]) == pytest.approx(dict(result.scores)["architectures"], abs=1e-4)


def test_classify_uses_the_abstract_column_and_optional_relevance(tmp_path: Path) -> None:
    source = _write_csv(
        tmp_path / "papers.csv",
        ["ID", "Title", "Abstract"],  # header case does not matter
        [
            [
                "a1",
                "A note on two-layer networks",
                "We study the neural tangent kernel of infinitely wide networks in the lazy regime.",
            ],
            ["a2", "A note on two-layer networks", ""],
        ],
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["classify", str(source), "--output", str(out), "--relevance"])
    assert result.exit_code == 0, result.output
    rows = _read_csv(out)
    assert list(rows[0]) == ["id", "direction", "score", "relevance", "confident"]
    assert rows[0]["direction"] == "overparameterization"
    assert rows[0]["confident"] == "true"
    assert float(rows[0]["relevance"]) > 0.35


def test_classify_to_stdout(tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "p.csv", ["id", "title"], [["x", "A survey of deep learning theory"]])
    result = runner.invoke(app, ["classify", str(source)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == ["id,direction,score", result.stdout.splitlines()[1]]
    assert result.stdout.splitlines()[1].startswith("x,surveys,")


def test_a_misspelt_taxonomy_variable_is_named_before_the_bundled_taxonomy_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLTHEORY_TAXONOMY_FIEL", str(tmp_path / "mine.yaml"))
    source = _write_csv(tmp_path / "p.csv", ["id", "title"], [["x", "A survey of deep learning theory"]])
    result = runner.invoke(app, ["classify", str(source)])
    assert result.exit_code == 0, result.output
    assert "DLTHEORY_TAXONOMY_FIEL is not a setting (did you mean DLTHEORY_TAXONOMY_FILE?)" in " ".join(
        result.stderr.split()
    )
    assert result.stdout.splitlines()[1].startswith("x,surveys,")


def test_classify_reads_stdin_and_writes_stdout_for_a_dash() -> None:
    result = runner.invoke(
        app, ["classify", "-", "-o", "-"], input="id,title\ns1,On the spectral bias of neural networks\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "id,direction,score"
    assert result.stdout.splitlines()[1].startswith("s1,implicit_bias,")


def test_classify_with_a_user_taxonomy(tmp_path: Path) -> None:
    taxonomy = tmp_path / "mine.yaml"
    taxonomy.write_text(
        """
directions:
  - id: kernels
    name: Kernel limits
    description: Infinite-width kernel limits.
    phrases: [neural tangent kernel, infinite width, gaussian process]
  - id: attacks
    name: Attacks
    description: Adversarial examples and defences.
    phrases: [adversarial examples, adversarial training, robustness]
""",
        encoding="utf-8",
    )
    source = _write_csv(
        tmp_path / "p.csv",
        ["id", "title"],
        [["k", "Gaussian process limits at infinite width"], ["a", "Adversarial training provably helps"]],
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["classify", str(source), "-o", str(out), "--taxonomy", str(taxonomy)])
    assert result.exit_code == 0, result.output
    assert [r["direction"] for r in _read_csv(out)] == ["kernels", "attacks"]


def test_classify_errors_exit_2(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["classify", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
    assert "file not found" in missing.output

    no_title = _write_csv(tmp_path / "bad.csv", ["id", "name"], [["1", "x"]])
    result = runner.invoke(app, ["classify", str(no_title)])
    assert result.exit_code == 2
    assert "missing column(s) title" in result.output

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("id,title\n1,Théorie des réseaux\n".encode("latin-1"))
    result = runner.invoke(app, ["classify", str(latin1)])
    assert result.exit_code == 2
    assert "not UTF-8 text" in result.output

    result = runner.invoke(app, ["classify", str(tmp_path)])
    assert result.exit_code == 2
    assert "a directory, not a file" in result.output

    ok_rows = _write_csv(tmp_path / "rows.csv", ["id", "title"], [["1", "x"]])
    result = runner.invoke(app, ["classify", str(ok_rows), "-o", str(tmp_path / "no" / "such" / "out.csv")])
    assert result.exit_code == 2
    assert "cannot write" in result.output

    bad_taxonomy = tmp_path / "taxonomy.yaml"
    bad_taxonomy.write_text("directions:\n  - id: X\n    name: x\n", encoding="utf-8")
    ok = _write_csv(tmp_path / "ok.csv", ["id", "title"], [["1", "x"]])
    result = runner.invoke(app, ["classify", str(ok), "--taxonomy", str(bad_taxonomy)])
    assert result.exit_code == 2
    assert "taxonomy.yaml: direction 'X': field 'id': use lower-case" in result.output


def test_without_an_id_column_the_arxiv_id_or_the_row_number_is_the_id(tmp_path: Path) -> None:
    titles = ["Neural Tangent Kernel: Convergence and Generalization", "Adversarial Spheres"]
    listed = _write_csv(
        tmp_path / "listed.csv", ["title", "arxiv_id"], [[titles[0], "1806.07572"], [titles[1], "1801.02774"]]
    )
    result = runner.invoke(app, ["classify", str(listed), "-o", str(tmp_path / "a.csv")])
    assert result.exit_code == 0, result.output
    assert "arxiv_id column is used as the id" in result.output
    assert [r["id"] for r in _read_csv(tmp_path / "a.csv")] == ["1806.07572", "1801.02774"]

    # a blank arxiv_id would leave a row without an id: number the rows instead
    partly = _write_csv(
        tmp_path / "partly.csv", ["title", "arxiv_id"], [[titles[0], "1806.07572"], [titles[1], ""]]
    )
    result = runner.invoke(app, ["classify", str(partly), "-o", str(tmp_path / "b.csv")])
    assert result.exit_code == 0, result.output
    assert "rows are numbered from 1" in result.output
    numbered = _read_csv(tmp_path / "b.csv")
    assert [r["id"] for r in numbered] == ["1", "2"]
    assert [r["direction"] for r in numbered] == ["overparameterization", "robustness"]


def test_the_dev_list_classifies_as_it_is_published(shared_dir: Path, tmp_path: Path) -> None:
    """The eval file has title,arxiv_id,... and no id column: one output row per input row."""
    dev = shared_dir / "eval" / "directions_dev.csv"
    out = tmp_path / "dev_out.csv"
    result = runner.invoke(app, ["classify", str(dev), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with dev.open(encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    written = _read_csv(out)
    assert len(written) == len(expected)
    assert all(r["direction"] for r in written)


def test_an_abstract_longer_than_the_csv_modules_default_field_limit(tmp_path: Path) -> None:
    # csv refuses fields over 128 KiB by default; pasted full texts reach that
    long_abstract = "We study the neural tangent kernel of wide networks. " * 4000
    source = _write_csv(
        tmp_path / "long.csv", ["id", "title", "abstract"], [["1", "Wide networks", long_abstract]]
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["classify", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [r["direction"] for r in _read_csv(out)] == ["overparameterization"]


def test_markup_in_paths_and_column_names_is_printed_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # short relative paths: the note line is not wrapped
    bad_header = _write_csv(tmp_path / "cols.csv", ["[/a]", "[b]abstract"], [["1", "x"]])
    result = runner.invoke(app, ["classify", bad_header.name])
    assert result.exit_code == 2
    assert "cols.csv: missing column(s) title (have: [/a], [b]abstract)" in result.output

    bracketed = _write_csv(tmp_path / "[b]bold.csv", ["id", "name"], [["1", "x"]])
    result = runner.invoke(app, ["classify", bracketed.name])
    assert result.exit_code == 2
    assert "error: [b]bold.csv: missing column(s) title" in result.output

    listed = _write_csv(
        tmp_path / "[i]list.csv", ["title", "arxiv_id"], [["Adversarial Spheres", "1801.02774"]]
    )
    result = runner.invoke(app, ["classify", listed.name, "-o", "[b]out.csv"])
    assert result.exit_code == 0, result.output
    assert "note: [i]list.csv: no id column; the arxiv_id" in result.output
    assert "-> [b]out.csv (" in result.output


def test_classifying_block_by_block_gives_the_results_of_the_whole_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # blocks of 2 over 5 rows: a last, shorter block; rows with and without an abstract
    monkeypatch.setattr(classify_cmd, "CLASSIFY_BLOCK", 2)
    papers = [
        ("Finite-width corrections to the neural tangent kernel", ""),
        ("A note on two-layer networks", "We study the neural tangent kernel of wide networks."),
        ("Adversarial examples and certified robustness for Lipschitz networks", ""),
        ("Cooking pasta at high altitude", "Water boils at a lower temperature."),
        ("Sharpness-aware minimization and the edge of stability", ""),
    ]
    source = _write_csv(
        tmp_path / "p.csv", ["id", "title", "abstract"], [[str(n), t, a] for n, (t, a) in enumerate(papers)]
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["classify", str(source), "-o", str(out), "--relevance"])
    assert result.exit_code == 0, result.output
    whole = DirectionClassifier.from_taxonomy(load_taxonomy()).classify_many(papers)
    written = _read_csv(out)
    assert [r["id"] for r in written] == ["0", "1", "2", "3", "4"]
    assert [r["direction"] for r in written] == [c.primary for c in whole]
    assert [r["relevance"] for r in written] == [f"{c.relevance:.4f}" for c in whole]
    counts = Counter(c.primary for c in whole)
    assert f"classified 5 rows -> {out} ({', '.join(f'{d} {n}' for d, n in counts.most_common())})" in (
        " ".join(result.stderr.split())
    )


def test_a_non_utf8_file_is_named_by_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("id,title\n1,Deep networks\n2,Théorie des réseaux\n".encode("latin-1"))
    result = runner.invoke(app, ["classify", str(latin1)])
    assert result.exit_code == 2
    assert f"error: {latin1}: not UTF-8 text (line 3, byte 0xe9); save it as UTF-8" in result.stderr
