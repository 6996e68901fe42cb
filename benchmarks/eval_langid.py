"""Accuracy of `detect` on a labelled CSV (text,lang[,source]); prints per-class errors.

.venv/bin/python benchmarks/eval_langid.py [../shared/eval/langid_dev.csv] [-v]
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

from dltheory_digest.language import detect

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "eval" / "langid_dev.csv"


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    paths = [a for a in argv if a != "-v"]
    path = Path(paths[0]) if paths else DEFAULT
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    totals: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    for row in rows:
        gold = row["lang"]
        got = detect(row["text"]).lang
        totals[gold] += 1
        if got != gold:
            errors[gold] += 1
            confusion[(gold, got)] += 1
            if verbose:
                print(f"  {gold} -> {got}: {row['text'][:110]}")
    correct = sum(totals.values()) - sum(errors.values())
    print(f"accuracy {correct}/{len(rows)} = {correct / len(rows):.3f}  ({path.name})")
    for lang in sorted(totals, key=lambda k: -totals[k]):
        wrong = {got: n for (gold, got), n in confusion.items() if gold == lang}
        print(f"  {lang:6} {totals[lang] - errors[lang]:3}/{totals[lang]:<3} errors: {wrong or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
