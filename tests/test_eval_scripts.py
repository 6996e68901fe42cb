"""The benchmarks/eval_*.py scripts pointed at another benchmark's files: small layouts of
each shape a grader or another curator's export has, in a temporary folder."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmarks import eval_directions, eval_er, eval_langid
from dltheory_digest.directions import load_taxonomy

# three papers in each table: A's 0 and 1 are B's 10 and 11; A's 2 and B's 12 are other papers
TABLE_A = [
    ["0", "Neural tangent kernel: convergence and generalization in neural networks", "arthur jacot, franck gabriel, clement hongler", "neurips", "2018"],
    ["1", "Deep neural networks as gaussian processes", "jaehoon lee, yasaman bahri, roman novak", "iclr", "2018"],
    ["2", "Efficient optimistic concurrency control using loosely synchronized clocks", "atul adya, robert gruber, barbara liskov", "sigmod conference", "1995"],
]  # fmt: skip
TABLE_B = [
    ["10", "Neural Tangent Kernel: Convergence and Generalization in Neural Networks.", "arthur jacot, franck gabriel, clement hongler", "advances in neural information processing systems", "2018"],
    ["11", "Deep Neural Networks as Gaussian Processes", "jaehoon lee, yasaman bahri, roman novak", "international conference on learning representations", "2018"],
    ["12", "Spectrally-normalized margin bounds for neural networks", "peter bartlett, dylan foster, matus telgarsky", "neurips", "2017"],
]  # fmt: skip
# (A id, B id, label): the two matches and two non-matches
PAIRS = [("0", "10", True), ("1", "11", True), ("0", "11", False), ("2", "12", False)]


def _write(
    path: Path, header: list[str], rows: list[list[str]], *, bom: bool = False, delimiter: str = ","
) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _tables(folder: Path, header: list[str], *, bom: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "tableA.csv", header, TABLE_A, bom=bom)
    _write(folder / "tableB.csv", header, TABLE_B, bom=bom)
    return folder


def _pairs(path: Path, left: str, right: str, labels: tuple[str, str] = ("1", "0")) -> Path:
    rows = [[a, b, labels[0] if match else labels[1]] for a, b, match in PAIRS]
    return _write(path, [left, right, "label"], rows)


def _scores(out: str) -> dict[str, list[str]]:
    """The split lines of eval_er's table: name -> [pairs, P, R, F1]."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["split"])
    return {line.split()[0]: line.split()[1:] for line in lines[start + 1 :] if line.strip()}


HEADER = ["id", "title", "authors", "venue", "year"]


def test_eval_er_scores_whichever_splits_the_folder_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _tables(tmp_path / "er", HEADER)
    _pairs(data / "test.csv", "table1.id", "table2.id")
    assert eval_er.main(["--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert _scores(out) == {"test": ["4", "100.00", "100.00", "100.00"]}  # no train.csv: no traceback
    assert "published" not in out  # DBLP-ACM's references are for DBLP-ACM only


def test_eval_er_reads_magellan_pairs_bom_capitalised_headers_and_float_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _tables(tmp_path / "er", ["ID", "Title", "Author", "Venue", "Year"], bom=True)
    for split in ("train", "valid", "test"):
        _pairs(data / f"{split}.csv", "ltable_id", "rtable_id", labels=("1.0", "0.0"))
    assert eval_er.main(["--data", str(data)]) == 0
    captured = capsys.readouterr()
    assert _scores(captured.out) == {
        s: ["4", "100.00", "100.00", "100.00"] for s in ("train", "valid", "test")
    }
    assert "author as authors" in " ".join(captured.err.split())


def test_eval_er_pairs_option_left_right_ids_and_boolean_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _tables(tmp_path / "er", HEADER)
    _pairs(data / "test.csv", "table1.id", "table2.id")  # not scored: --pairs names the files
    gold = _pairs(tmp_path / "gold.csv", "left_id", "right_id", labels=("True", "false"))
    flipped = _pairs(tmp_path / "flipped.csv", "left_id", "right_id", labels=("0", "1"))
    assert (
        eval_er.main(["--data", str(data), "--pairs", str(gold), "--pairs", str(flipped), "--sources"]) == 0
    )
    scores = _scores(capsys.readouterr().out)
    assert scores == {"gold": ["4", "100.00", "100.00", "100.00"], "flipped": ["4", "0.00", "0.00", "0.00"]}


@pytest.mark.parametrize(
    ("pair_header", "labels", "message"),
    [
        (["a", "b", "label"], ["0", "10", "1"], "no pair id columns (expected one of table1.id/table2.id, ltable_id/rtable_id"),
        (["table1.id", "table2.id", "label"], ["0", "10", "maybe"], "row 2: label 'maybe' is not 1/0 or true/false"),
        (["table1.id", "table2.id", "label"], ["0", "99", "1"], "1 pairs name ids not in tableA/tableB (first: 0, 99)"),
        (["table1.id", "table2.id"], ["0", "10"], "missing column(s) label"),
    ],
)  # fmt: skip
def test_eval_er_says_why_it_cannot_score_a_pair_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pair_header: list[str],
    labels: list[str],
    message: str,
) -> None:
    data = _tables(tmp_path / "er", HEADER)
    _write(data / "test.csv", pair_header, [labels])
    assert eval_er.main(["--data", str(data)]) == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_eval_er_without_pair_files_says_how_to_name_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _tables(tmp_path / "er", HEADER)
    assert eval_er.main(["--data", str(data)]) == 2
    assert "name the pair files with --pairs FILE" in capsys.readouterr().err


def test_eval_er_errors_names_a_split_it_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _tables(tmp_path / "er", HEADER)
    _pairs(data / "test.csv", "table1.id", "table2.id")
    assert eval_er.main(["--data", str(data), "--errors", "tset"]) == 2
    assert "--errors: no split 'tset' (have: test)" in capsys.readouterr().err
    assert eval_er.main(["--data", str(data), "--errors", "test"]) == 0


LANGID_ROWS = [
    ["神经正切核 (Neural Tangent Kernel) 的经典论文", "zh-CN"],
    ["A note on two-layer networks and their kernels", "EN"],
    ["Нейронные сети и глубокое обучение", "ru"],
]


@pytest.mark.parametrize(
    ("header", "delimiter", "bom"), [(["Text", "Lang"], ",", True), (["text", "lang"], "\t", False)]
)
def test_eval_langid_reads_bom_header_case_tabs_and_region_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: list[str], delimiter: str, bom: bool
) -> None:
    path = _write(tmp_path / "lid.csv", header, LANGID_ROWS, bom=bom, delimiter=delimiter)
    assert eval_langid.main([str(path)]) == 0
    assert capsys.readouterr().out.startswith("accuracy 3/3 = 1.000")  # zh-CN is zh


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("text,label\nhello,en\n", "missing column(s) lang (have: text, label)"),
        ("text,lang\n", "no labelled rows to score"),
        ("", "missing column(s) text, lang"),
    ],
)
def test_eval_langid_says_why_it_cannot_score_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "lid.csv"
    path.write_text(text, encoding="utf-8")
    assert eval_langid.main([str(path)]) == 2
    assert message in capsys.readouterr().err


def test_eval_directions_scores_another_list_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_taxonomy().directions[0].example_titles[0]  # training text: left out
    rows = [
        ["Finite-width corrections to the neural tangent kernel, revisited", "Overparameterization"],
        ["Adversarial examples and certified robustness for Lipschitz networks", "robustness"],
        ["Certified defenses against adversarial perturbations via randomized smoothing", "robustness"],
        ["Gaussian process limits of infinitely wide deep networks", "overparameterization"],
        ["Neural scaling laws for language models", "scaling-laws"],
        [example, "generalization"],
        ["", "robustness"],
    ]
    path = _write(tmp_path / "list.csv", ["Title", "Direction"], rows)  # no arxiv_id column
    assert eval_directions.main(["--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: 7 rows; left out: 1 without a title or direction, 1 taxonomy examples" in out
    assert "labels that are no direction of the taxonomy (always misses): scaling-laws" in out
    assert "== list.csv: 5 titles" in out
    assert "macro-F1 (landscape+optimization merged):" in out
    assert "confusion matrix (rows: true, columns: predicted)" in out
    assert "dev (" not in out  # the dev file and the fixtures are not read


def test_eval_directions_file_without_rows_or_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = _write(tmp_path / "empty.csv", ["title", "direction"], [])
    assert eval_directions.main(["--file", str(empty)]) == 2
    assert "no labeled rows to score" in capsys.readouterr().err
    titles_only = _write(tmp_path / "titles.csv", ["title"], [["A"]])
    assert eval_directions.main(["--file", str(titles_only)]) == 2
    assert "missing column(s) direction" in capsys.readouterr().err


def test_eval_directions_skips_relevance_without_recorded_responses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "shared"
    (shared / "eval").mkdir(parents=True)
    rows = [
        ["Finite-width corrections to the neural tangent kernel, revisited", "overparameterization"],
        ["Adversarial examples and certified robustness for Lipschitz networks", "robustness"],
    ]
    _write(shared / "eval" / "directions_dev.csv", ["title", "direction"], rows)  # no arxiv_id
    assert eval_directions.main(["--shared", str(shared)]) == 0
    out = capsys.readouterr().out
    assert "== dev (../shared/eval/directions_dev.csv): 2 titles" in out
    assert f"relevance (threshold 0.3): skipped, no recorded responses in {shared / 'fixtures'}" in out
    assert "relevance with abstracts (threshold 0.3): skipped" in out
    assert "applied deep learning, titles" in out  # the repository's own lists are still scored
    assert eval_directions.main(["--shared", str(tmp_path / "nowhere")]) == 2
    assert "score a list with --file" in capsys.readouterr().err
