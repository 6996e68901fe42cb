"""Accuracy of `detect` on a labelled CSV (text,lang[,source]); prints per-class errors.

.venv/bin/python benchmarks/eval_langid.py [../shared/eval/langid_dev.csv] [-v]

The file is read as the CLI reads its CSV input (a byte-order mark, column names in any case),
separated by commas, tabs or semicolons, whichever its header line holds; gold codes are
compared as the product writes them (`zh-CN`, `zh_tw` -> zh).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import typer

from dltheory_digest.cli.files import read_csv
from dltheory_digest.language import detect
from dltheory_digest.language.detect import language_code

SHARED = Path(os.environ.get("DLTHEORY_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
DEFAULT = SHARED / "eval" / "langid_dev.csv"


def gold_code(label: str) -> str:
    """A gold label as the product writes codes: lower case, region dropped."""
    return language_code(label.strip().lower().replace("_", "-"))


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    paths = [a for a in argv if a != "-v"]
    path = Path(paths[0]) if paths else DEFAULT
    try:
        rows = read_csv(path, required=("text", "lang"), delimiters=",\t;").rows
    except typer.Exit as exc:  # read_csv has said why on standard error
        return exc.exit_code
    if not rows:
        print(f"error: {path}: no labelled rows to score", file=sys.stderr)
        return 2
    totals: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    for row in rows:
        gold = gold_code(row["lang"])
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
