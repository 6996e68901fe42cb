"""What making the papers sent in recent weeks candidates costs a week's identity stage.

A SQLite store holds `--weeks` weeks of sent papers (`--per-week` arXiv papers and a fifth as
many title-only mentions a week, with the arXiv metadata of each arXiv paper); one week of
`--week-items` listing items and a fifth as many title-only mentions is then clustered as
`pipeline.build_week` does it, without and with the sent papers. Prints the time of the one
ledger query, of `cluster_items` without and with the candidates, of `match_sent`, and the
ratio of the identity stage with the candidates to the stage without them.

    .venv/bin/python benchmarks/bench_sent_candidates.py [--weeks 52] [--horizon 52] [--per-week 100] [--week-items 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from dltheory_digest.identity import LedgerEntry, cluster_items
from dltheory_digest.identity.novelty import match_sent, sent_candidates
from dltheory_digest.models import Item, ItemKind, Paper
from dltheory_digest.pipeline import SENT_CANDIDATE_WEEKS, sent_horizon
from dltheory_digest.store import open_store, save_papers
from dltheory_digest.store.ledger import record_week, sent_papers
from dltheory_digest.weeks import Week

WORDS = [
    "deep",
    "learning",
    "neural",
    "networks",
    "gradient",
    "descent",
    "generalization",
    "overparameterized",
    "kernel",
    "tangent",
    "implicit",
    "bias",
    "regularization",
    "infinite",
    "width",
    "mean",
    "field",
    "feature",
    "dynamics",
    "stochastic",
    "optimization",
    "benign",
    "overfitting",
    "double",
    "descent",
    "transformers",
    "attention",
    "scaling",
    "laws",
    "lottery",
    "tickets",
    "sharpness",
    "edge",
    "stability",
    "linear",
    "regression",
    "random",
    "features",
    "lazy",
    "training",
    "grokking",
    "memorization",
    "loss",
    "landscape",
]
# real titles draw on thousands of words, a few of them common: a topical core plus made-up
# rarer words, picked with Zipf-like weights
_RARE = ["".join(random.Random(n).choices("bcdfghklmnprstvz", k=3)) + "ion" + str(n % 7) for n in range(3000)]
VOCABULARY = WORDS + _RARE
WEIGHTS = [1 / (rank + 10) for rank in range(len(VOCABULARY))]
SURNAMES = [
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Smith",
    "Kumar",
    "Müller",
    "Rossi",
    "Garcia",
    "Tanaka",
    "Kim",
    "Nguyen",
    "Haddad",
    "Ivanova",
]


def title(rng: random.Random) -> str:
    words = dict.fromkeys(rng.choices(VOCABULARY, WEIGHTS, k=rng.randint(5, 9)))
    return " ".join(words).capitalize()


def authors(rng: random.Random) -> tuple[str, ...]:
    return tuple(
        f"{rng.choice('ABCDEFGHJKLMNPRS')}. {rng.choice(SURNAMES)}" for _ in range(rng.randint(1, 4))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--per-week", type=int, default=100)
    parser.add_argument("--week-items", type=int, default=300)
    parser.add_argument(
        "--horizon", type=int, default=SENT_CANDIDATE_WEEKS, help="weeks of sent papers loaded"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    target = Week.parse("2026-W47")

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'store.sqlite'}")
        week = target
        serial = 0
        for _ in range(args.weeks):
            week = week.previous()
            entries, stored = [], []
            for _ in range(args.per_week):
                serial += 1
                arxiv_id = f"25{1 + serial // 90000:02d}.{serial % 90000:05d}"  # valid ids: 2501.00001, ...
                paper = Paper(
                    key=f"arxiv:{arxiv_id}",
                    title=title(rng),
                    arxiv_id=arxiv_id,
                    version=1,
                    authors=authors(rng),
                    published=dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
                )
                stored.append(paper)
                entries.append(LedgerEntry(paper.key, str(week), 1, ("arxiv",), ("en",), paper.title))
            for _ in range(args.per_week // 5):
                text = title(rng)
                entries.append(
                    LedgerEntry(f"title:{text.lower()}", str(week), None, ("zhihu",), ("zh",), text)
                )
            save_papers(store, stored)
            record_week(store, str(week), entries)
        sent_count = args.weeks * (args.per_week + args.per_week // 5)

        week_papers: dict[str, Paper] = {}
        items: list[Item] = []
        for n in range(args.week_items):
            arxiv_id = f"2611.{n:05d}"
            paper = Paper(key=f"arxiv:{arxiv_id}", title=title(rng), arxiv_id=arxiv_id, authors=authors(rng))
            week_papers[arxiv_id] = paper
            items.append(
                Item(
                    "arxiv", ItemKind.PAPER, paper.title, arxiv_id=arxiv_id, authors=paper.authors, lang="en"
                )
            )
        items += [
            Item("zhihu", ItemKind.MENTION, title(rng), url=f"https://zhuanlan.zhihu.com/p/{n}", lang="en")
            for n in range(args.week_items // 5)
        ]

        started = time.perf_counter()
        since = sent_horizon(target, args.horizon)
        sent = sent_papers(store, since=str(since), before=str(target))
        query = time.perf_counter() - started
        started = time.perf_counter()
        base = cluster_items(items, week_papers)
        without = time.perf_counter() - started
        started = time.perf_counter()
        clusters = cluster_items(items, {**sent_candidates(sent), **week_papers})
        with_candidates = time.perf_counter() - started
        started = time.perf_counter()
        match_sent(clusters, sent)
        matching = time.perf_counter() - started
        store.close()

    print(
        f"sent papers in the store: {sent_count}; loaded: {len(sent)}; week: {len(items)} items, {len(base)} clusters"
    )
    print(f"ledger query (one, joined to papers): {query * 1000:.0f} ms")
    print(f"cluster_items without sent candidates: {without * 1000:.0f} ms")
    print(f"cluster_items with sent candidates:    {with_candidates * 1000:.0f} ms")
    print(f"match_sent (title-only sent papers):   {matching * 1000:.0f} ms")
    extra = query + with_candidates + matching - without
    print(
        f"identity stage with / without: {(query + with_candidates + matching) / without:.1f}x (+{extra:.1f} s a week)"
    )


if __name__ == "__main__":
    main()
