"""The runaway-translation check (`_longest_repeat`) on a model output that looped, measured
in this one run against the check as it was before (every start, every phrase length):

    .venv/bin/python benchmarks/bench_runaway.py [--words 2000]

Prints each one's seconds for N and 2N repeated words, the growth per doubling (linear ~2x,
quadratic ~4x) and the speed-up at 2N. Both must find the same repeat.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from dltheory_digest.language.translate import _WORD, MAX_PHRASE_WORDS, _longest_repeat


def every_start(text: str) -> tuple[int, str]:
    """The check before session 11: a run of n words is measured again from each of its starts."""
    words = [w.lower() for w in _WORD.findall(text)]
    best, phrase = 1, ""
    for size in range(1, MAX_PHRASE_WORDS + 1):
        for start in range(len(words) - size + 1):
            unit = words[start : start + size]
            if not any(ch.isalpha() for word in unit for ch in word):
                continue
            count = 1
            while words[start + count * size : start + (count + 1) * size] == unit:
                count += 1
            if count > best:
                best, phrase = count, " ".join(unit)
    return best, phrase


def timed(check: Callable[[str], tuple[int, str]], text: str) -> tuple[float, tuple[int, str]]:
    start = time.perf_counter()
    found = check(text)
    return time.perf_counter() - start, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=2000, help="repeated words in the smaller output")
    n = parser.parse_args().words
    seconds: dict[str, list[float]] = {"scan": [], "every start": []}
    for words in (n, 2 * n):
        output = "the bound is " + "of the " * (words // 2) + "tight"
        for name, check in (("scan", _longest_repeat), ("every start", every_start)):
            elapsed, found = timed(check, output)
            seconds[name].append(elapsed)
            print(f"{name:12s} {words:6d} words: {elapsed:8.4f} s  {found[1]!r} x{found[0]}")
        assert _longest_repeat(output) == every_start(output)
    for name, (small, large) in seconds.items():
        print(f"{name:12s} growth per doubling: {large / small:5.1f}x")
    print(f"speed-up at {2 * n} words: {seconds['every start'][1] / seconds['scan'][1]:.0f}x")


if __name__ == "__main__":
    main()
