"""Entity-resolution score of the dedup matcher on DBLP-ACM (../shared/eval/er/DBLP-ACM).

tableA ∪ tableB go through `dltheory-digest dedup`'s code as one input (ids "a:<id>", "b:<id>");
a labeled pair is predicted positive iff both records end in the same cluster. Prints
precision/recall/F1 on each split (train/valid for tuning; test reported, never tuned on).

    .venv/bin/python benchmarks/eval_er.py [--data DIR] [--sources] [--errors valid] [--messy SEED]

`--messy SEED` first makes table B look like a scraped bibliography (Google Scholar style):
initials for given names, author lists cut short, a third of the years and two fifths of
the venues missing, a tenth of the other years one off, typos and cut-off titles. A robustness check of the same matcher on a
harder input; the labels stay those of the clean tables.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from pathlib import Path

from dltheory_digest.cli.dedup_cmd import record_from_row
from dltheory_digest.identity import match_clusters

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "er" / "DBLP-ACM"


def load_table(path: Path, prefix: str, *, with_source: bool = False) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [{**row, "id": f"{prefix}:{row['id']}"} for row in csv.DictReader(handle)]
    if with_source:  # the optional `source` column: each table is duplicate-free
        rows = [{**row, "source": prefix} for row in rows]
    return rows


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
            return str(int(value) + rng.choice((-1, 1)))
        return value

    out = []
    for row in rows:
        words = row["title"].split()
        if words and rng.random() < 0.15:
            j = rng.randrange(len(words))
            words[j] = typo(words[j])
        if len(words) > 6 and rng.random() < 0.05:
            words = words[: rng.randrange(5, len(words))]
        authors = [initials(a.strip()) for a in row["authors"].split(",") if a.strip()]
        if len(authors) > 2 and rng.random() < 0.2:
            authors = authors[:2]
        if authors and rng.random() < 0.1:
            authors = authors[:1]
        venue_roll = rng.random()
        venue = "" if venue_roll < 0.4 else ("proceedings of the " if venue_roll < 0.6 else "") + row["venue"]
        out.append(
            {
                **row,
                "title": " ".join(words),
                "authors": ", ".join(authors),
                "year": year(row["year"]),
                "venue": venue,
            }
        )
    return out


def score(
    pairs: list[dict[str, str]], cluster: dict[str, int]
) -> tuple[float, float, float, list[dict[str, str]]]:
    tp = fp = fn = 0
    errors = []
    for pair in pairs:
        predicted = cluster[f"a:{pair['table1.id']}"] == cluster[f"b:{pair['table2.id']}"]
        actual = pair["label"] == "1"
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
        if predicted != actual:
            errors.append({**pair, "predicted": str(int(predicted))})
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--sources",
        action="store_true",
        help="also fill the optional `source` column (table A / table B): a record-linkage run",
    )
    parser.add_argument(
        "--errors",
        choices=["train", "valid", "test"],
        action="append",
        default=[],
        help="print the misclassified pairs of this split",
    )
    parser.add_argument("--messy", type=int, metavar="SEED", help="make table B noisy first (see above)")
    args = parser.parse_args()

    table_b = load_table(args.data / "tableB.csv", "b", with_source=args.sources)
    if args.messy is not None:
        table_b = messy(table_b, args.messy)
    rows = load_table(args.data / "tableA.csv", "a", with_source=args.sources) + table_b
    records = [record_from_row(row) for row in rows]
    start = time.perf_counter()
    labels = match_clusters(records)
    elapsed = time.perf_counter() - start
    cluster = {r.id: label for r, label in zip(records, labels, strict=True)}
    mode = "with source column" if args.sources else "one input, no source column"
    if args.messy is not None:
        mode += f", table B made messy (seed {args.messy})"
    print(f"{len(records)} records ({mode}) -> {len(set(labels))} clusters in {elapsed:.2f}s")
    print("published test F1 on this split: Magellan 98.4, DeepMatcher 98.4, Ditto 98.99")
    print(f"{'split':6} {'pairs':>6} {'P':>7} {'R':>7} {'F1':>7}")
    for split in ("train", "valid", "test"):
        with (args.data / f"{split}.csv").open(newline="", encoding="utf-8") as handle:
            pairs = list(csv.DictReader(handle))
        precision, recall, f1, errors = score(pairs, cluster)
        print(f"{split:6} {len(pairs):6d} {100 * precision:7.2f} {100 * recall:7.2f} {100 * f1:7.2f}")
        if split in args.errors:
            for e in errors:
                kind = "FP" if e["predicted"] == "1" else "FN"
                print(f"  {kind} {e['table1.title']!r} | {e['table2.title']!r}")
                print(f"     {e['table1.authors']!r} | {e['table2.authors']!r}")
                print(f"     {e['table1.venue']} {e['table1.year']} | {e['table2.venue']} {e['table2.year']}")


if __name__ == "__main__":
    main()
