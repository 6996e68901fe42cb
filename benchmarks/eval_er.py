"""Entity-resolution score of the dedup matcher on DBLP-ACM (../shared/eval/er/DBLP-ACM).

tableA ∪ tableB go through `dltheory-digest dedup`'s code as one input (ids "a:<id>", "b:<id>");
a labeled pair is predicted positive iff both records end in the same cluster. Prints
precision/recall/F1 on each split (train/valid for tuning; test reported, never tuned on).

    .venv/bin/python benchmarks/eval_er.py [--data DIR] [--pairs FILE ...] [--sources]
                                           [--errors SPLIT] [--messy SEED]

Another benchmark of the same kind: `--data DIR` holding tableA.csv and tableB.csv (read as
`dedup` reads its input: a byte-order mark, column names in any case, `author` for authors)
and labeled pairs: whichever of train/valid/test.csv DIR holds, or the files given with
`--pairs` (repeatable). A pair file names the two records' ids as table1.id/table2.id
(DeepMatcher's exports), ltable_id/rtable_id (Magellan) or left_id/right_id, and its label as
1/0, 1.0/0.0 or true/false.

`--messy SEED` first makes table B look like a scraped bibliography (Google Scholar style):
initials for given names, author lists cut short, a third of the years and two fifths of
the venues missing, a tenth of the other years one off, typos and cut-off titles. A robustness check of the same matcher on a
harder input; the labels stay those of the clean tables.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import typer

from dltheory_digest.cli.dedup_cmd import parse_year, readable_rows, record_from_row
from dltheory_digest.cli.files import read_csv
from dltheory_digest.identity import match_clusters

SHARED = Path(os.environ.get("DLTHEORY_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
DEFAULT_DATA = SHARED / "eval" / "er" / "DBLP-ACM"
SPLITS = ("train", "valid", "test")
# how pair files name the two records: DeepMatcher's exports, Magellan's, and a plain form
PAIR_ID_COLUMNS = (("table1.id", "table2.id"), ("ltable_id", "rtable_id"), ("left_id", "right_id"))
TRUE_LABELS = frozenset({"true", "yes", "match"})
FALSE_LABELS = frozenset({"false", "no", "non-match", "nonmatch"})


class Unusable(Exception):
    """An input the script cannot score: one line, exit 2."""


def load_table(path: Path, prefix: str, *, with_source: bool = False) -> list[dict[str, str]]:
    """The rows of one table, ids prefixed ("a:<id>"), read as `dedup` reads its input."""
    rows = readable_rows(path, read_csv(path, required=("id", "title")))
    ids = [row["id"].strip() for row in rows]
    if len(set(ids)) != len(ids) or not all(ids):
        raise Unusable(f"{path}: each row needs an id of its own (an id is empty or repeated)")
    rows = [{**row, "id": f"{prefix}:{record_id}"} for row, record_id in zip(rows, ids, strict=True)]
    if with_source:  # the optional `source` column: each table is duplicate-free
        rows = [{**row, "source": prefix} for row in rows]
    return rows


def parse_label(value: str) -> bool:
    """A match label: 1/0, 1.0/0.0, true/false (any case)."""
    text = value.strip().lower()
    if text in TRUE_LABELS or text in FALSE_LABELS:
        return text in TRUE_LABELS
    try:
        return float(text) != 0
    except ValueError:
        raise ValueError(f"label {value!r} is not 1/0 or true/false") from None


def load_pairs(path: Path) -> list[tuple[str, str, bool]]:
    """(table A id, table B id, label) of each labeled pair in `path`."""
    table = read_csv(path, required=("label",))
    found = next(((a, b) for a, b in PAIR_ID_COLUMNS if a in table.columns and b in table.columns), None)
    if found is None:
        names = ", ".join(f"{a}/{b}" for a, b in PAIR_ID_COLUMNS)
        raise Unusable(
            f"{path}: no pair id columns (expected one of {names}; have: {', '.join(table.columns)})"
        )
    left, right = found
    pairs = []
    for row, number in zip(table.rows, table.row_numbers, strict=True):
        try:
            label = parse_label(row["label"])
        except ValueError as exc:
            raise Unusable(f"{path}: row {number}: {exc}") from None
        pairs.append((row[left].strip(), row[right].strip(), label))
    return pairs


def messy(rows: list[dict[str, str]], seed: int) -> list[dict[str, str]]:
    """The rows as a scraper of a noisy bibliography might have produced them."""
    rng = random.Random(seed)

    def typo(word: str) -> str:
        if len(word) < 5:
            return word
        i = rng.randrange(1, len(word) - 1)
        roll = rng.random()
        if roll < 0.4:
            return word[:i] + word[i + 1 :]  # a letter dropped
        if roll < 0.7:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # two letters swapped
        return word[:i] + rng.choice("aeiourstn") + word[i:]  # a letter added

    def initials(name: str) -> str:
        parts = name.split()
        return " ".join([*(p[0] for p in parts[:-1]), parts[-1]]) if len(parts) > 1 else name

    def year(value: str) -> str:
        if rng.random() < 0.3:
            return ""
        if value and rng.random() < 0.1:  # the preprint's or the proceedings' year
            read = parse_year(value)
            return str(read + rng.choice((-1, 1))) if read else value
        return value

    out = []
    for row in rows:
        words = row["title"].split()
        if words and rng.random() < 0.15:
            j = rng.randrange(len(words))
            words[j] = typo(words[j])
        if len(words) > 6 and rng.random() < 0.05:
            words = words[: rng.randrange(5, len(words))]
        authors = [initials(a.strip()) for a in row.get("authors", "").split(",") if a.strip()]
        if len(authors) > 2 and rng.random() < 0.2:
            authors = authors[:2]
        if authors and rng.random() < 0.1:
            authors = authors[:1]
        venue_roll = rng.random()
        venue = (
            ""
            if venue_roll < 0.4
            else ("proceedings of the " if venue_roll < 0.6 else "") + row.get("venue", "")
        )
        out.append(
            {
                **row,
                "title": " ".join(words),
                "authors": ", ".join(authors),
                "year": year(row.get("year", "")),
                "venue": venue,
            }
        )
    return out


def score(
    pairs: list[tuple[str, str, bool]], cluster: dict[str, int]
) -> tuple[float, float, float, list[tuple[str, str, bool]]]:
    """Precision, recall and F1 of the pairs (A id, B id, label), and the pairs got wrong."""
    tp = fp = fn = 0
    errors = []
    for a_id, b_id, actual in pairs:
        predicted = cluster[f"a:{a_id}"] == cluster[f"b:{b_id}"]
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
        if predicted != actual:
            errors.append((a_id, b_id, predicted))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, errors


def pair_files(data: Path, given: list[Path]) -> dict[str, Path]:
    """The pair files to score, by name: those given, else whichever splits `data` holds."""
    if given:
        named: dict[str, Path] = {}
        for path in given:  # two files of one name (a/test.csv, b/test.csv) keep their paths
            named[str(path) if path.stem in named else path.stem] = path
        return named
    found = {split: data / f"{split}.csv" for split in SPLITS if (data / f"{split}.csv").is_file()}
    if not found:
        raise Unusable(f"{data}: no train.csv, valid.csv or test.csv; name the pair files with --pairs FILE")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of tableA.csv and tableB.csv")
    parser.add_argument(
        "--pairs",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a labeled pair file to score (repeatable; default: the train/valid/test.csv in --data)",
    )
    parser.add_argument(
        "--sources",
        action="store_true",
        help="also fill the optional `source` column (table A / table B) and read it as dedup's "
        "--duplicate-free-sources does: a record-linkage run",
    )
    parser.add_argument(
        "--errors",
        action="append",
        default=[],
        metavar="SPLIT",
        help="print the misclassified pairs of this split (train, valid, test or a --pairs file's name)",
    )
    parser.add_argument("--messy", type=int, metavar="SEED", help="make table B noisy first (see above)")
    args = parser.parse_args(argv)
    try:
        return evaluate(args)
    except Unusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except typer.Exit as exc:  # read_csv has said why on standard error
        return exc.exit_code


def evaluate(args: argparse.Namespace) -> int:
    splits = {name: load_pairs(path) for name, path in pair_files(args.data, args.pairs).items()}
    # any split name is allowed (a --pairs file's), so a typo would print no errors and pass
    unknown_errors = [name for name in args.errors if name not in splits]
    if unknown_errors:
        raise Unusable(f"--errors: no split {unknown_errors[0]!r} (have: {', '.join(splits)})")
    table_b = load_table(args.data / "tableB.csv", "b", with_source=args.sources)
    if args.messy is not None:
        table_b = messy(table_b, args.messy)
    rows = load_table(args.data / "tableA.csv", "a", with_source=args.sources) + table_b
    by_id = {row["id"]: row for row in rows}
    for name, pairs in splits.items():
        unknown = [(a, b) for a, b, _ in pairs if f"a:{a}" not in by_id or f"b:{b}" not in by_id]
        if unknown:
            raise Unusable(
                f"{name}: {len(unknown)} pairs name ids not in tableA/tableB (first: {unknown[0][0]}, {unknown[0][1]})"
            )
    records = [record_from_row(row, duplicate_free_sources=args.sources) for row in rows]
    start = time.perf_counter()
    labels = match_clusters(records)
    elapsed = time.perf_counter() - start
    cluster = {r.id: label for r, label in zip(records, labels, strict=True)}
    mode = "with source column" if args.sources else "one input, no source column"
    if args.messy is not None:
        mode += f", table B made messy (seed {args.messy})"
    print(f"{len(records)} records ({mode}) -> {len(set(labels))} clusters in {elapsed:.2f}s")
    if args.data.resolve() == DEFAULT_DATA.resolve() and not args.pairs:
        print("published test F1 on this split: Magellan 98.4, DeepMatcher 98.4, Ditto 98.99")
    print(f"{'split':6} {'pairs':>6} {'P':>7} {'R':>7} {'F1':>7}")
    for name, pairs in splits.items():
        precision, recall, f1, errors = score(pairs, cluster)
        print(f"{name:6} {len(pairs):6d} {100 * precision:7.2f} {100 * recall:7.2f} {100 * f1:7.2f}")
        if name in args.errors:
            for a_id, b_id, predicted in errors:
                a, b = by_id[f"a:{a_id}"], by_id[f"b:{b_id}"]
                print(f"  {'FP' if predicted else 'FN'} {a['title']!r} | {b['title']!r}")
                print(f"     {a.get('authors', '')!r} | {b.get('authors', '')!r}")
                print(
                    f"     {a.get('venue', '')} {a.get('year', '')} | {b.get('venue', '')} {b.get('year', '')}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
