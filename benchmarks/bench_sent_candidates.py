"""What the papers sent in recent weeks cost a week's identity stage, at a busy configuration's volume.

A SQLite store holds `--weeks` weeks of digests as `publish_week` records them: `--per-week` arXiv
papers a week (the appendix included), each under its key and its title alias, with arXiv's
metadata, and `--mentions` title-only mentions a week. One week of `--week-items` arXiv
listings and `--week-mentions` title-only mentions is then clustered as `pipeline.build_week`
does it, twice: with every sent paper as a candidate (session 11) and with the sent papers
`novelty.sent_paper_filter` keeps. A third of the week's mentions name a sent arXiv paper in
other words (shortened, words reordered, a citation's tail); both runs must find them all.
Prints, for each, the ledger query, `cluster_items`, `match_sent`, the candidates, and the ratios.

The defaults are R2's simulated busy year (about 3,100 papers and 6,100 ledger rows a week,
3,850 sightings a week, 52 weeks of history; its ledger held 25 title-only keys after 46 weeks,
5 a week is generous). Building the store takes a minute or two.

    .venv/bin/python benchmarks/bench_sent_candidates.py [--weeks 52] [--per-week 3100] [--week-items 3800]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from dltheory_digest.identity import cluster_items, ledger_entries
from dltheory_digest.identity.novelty import LedgerEntry, match_sent, sent_candidates, sent_paper_filter
from dltheory_digest.models import Item, ItemKind, Paper, PaperCluster
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
    parser.add_argument("--per-week", type=int, default=3100, help="arXiv papers a digest sends")
    parser.add_argument("--mentions", type=int, default=5, help="title-only papers a digest sends")
    parser.add_argument("--week-items", type=int, default=3800, help="the week's arXiv listings")
    parser.add_argument("--week-mentions", type=int, default=60, help="the week's title-only mentions")
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
        sent_arxiv: list[Paper] = []
        started = time.perf_counter()
        for _ in range(args.weeks):
            week = week.previous()
            entries: list[LedgerEntry] = []
            stored = []
            for _ in range(args.per_week):
                serial += 1
                arxiv_id = f"25{1 + serial // 90000:02d}.{serial % 90000:05d}"  # valid ids: 2501.00001, ...
                paper = Paper(
                    key=f"arxiv:{arxiv_id}",
                    title=title(rng),
                    arxiv_id=arxiv_id,
                    version=1,
                    authors=authors(rng),
                    abstract=" ".join(rng.choices(VOCABULARY, WEIGHTS, k=150)),
                    published=dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
                )
                stored.append(paper)
                # under its key and its title alias, as `publish_week` records every cluster
                cluster = PaperCluster(paper=paper, sightings=(), versions=(1,), item_keys=())
                entries += ledger_entries(cluster, str(week))
            for _ in range(args.mentions):
                text = title(rng)
                entries.append(
                    LedgerEntry(f"title:{text.lower()}", str(week), None, ("zhihu",), ("zh",), text)
                )
            save_papers(store, stored)
            record_week(store, str(week), entries)
            sent_arxiv += stored
        built = time.perf_counter() - started

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
        # a third of the mentions name a sent paper in other words; the rest are papers never sent
        named = rng.sample(sent_arxiv, args.week_mentions // 3)
        for n, paper in enumerate(named):
            words = paper.title.split()
            url = f"https://zhuanlan.zhihu.com/p/{n}"
            if n % 3 == 0:  # shortened
                shortened = " ".join(words[: max(3, len(words) - 2)])
                items.append(Item("zhihu", ItemKind.MENTION, shortened, url=url, lang="en"))
            elif n % 3 == 1:  # a citation's tail
                items.append(
                    Item("zhihu", ItemKind.MENTION, paper.title + ". arXiv preprint", url=url, lang="en")
                )
            else:  # a Chinese title whose machine translation orders the words otherwise
                reordered = " ".join(words[1:] + words[:1])
                items.append(
                    Item("zhihu", ItemKind.MENTION, f"论文{n}", url=url, lang="zh", title_en=reordered)
                )
        naming = list(zip(items[len(week_papers) :], named, strict=True))
        items += [
            Item("blog", ItemKind.MENTION, title(rng), url=f"https://blog.example.org/{n}", lang="en")
            for n in range(args.week_mentions - len(named))
        ]

        results = {}
        for label, wanted in (("all sent papers", None), ("filtered", sent_paper_filter(items))):
            started = time.perf_counter()
            sent = sent_papers(
                store, since=str(sent_horizon(target, args.horizon)), before=str(target), wanted=wanted
            )
            query = time.perf_counter() - started
            started = time.perf_counter()
            candidates = sent_candidates(sent)
            clusters = cluster_items(items, {**candidates, **week_papers})
            clustering = time.perf_counter() - started
            started = time.perf_counter()
            match_sent(clusters, sent)
            matching = time.perf_counter() - started
            # each naming mention must join the very paper it names
            joined = {k: c.paper.arxiv_id for c in clusters for k in c.item_keys}
            found = sum(joined.get(f"zhihu|{item.key}") == paper.arxiv_id for item, paper in naming)
            results[label] = (query, clustering, matching, len(candidates), found)
            del sent, candidates, clusters
        store.close()

    print(
        f"store: {args.weeks} weeks x {args.per_week} arXiv papers (+ aliases) and {args.mentions} mentions"
        f" (built in {built:.0f} s); week: {args.week_items} listings, {args.week_mentions} title-only"
        f" mentions, {len(named)} of them naming a sent paper in other words"
    )
    for label, (query, clustering, matching, count, found) in results.items():
        print(
            f"{label:>16}: {count:6d} candidates; ledger {query:6.2f} s, cluster_items {clustering:6.2f} s,"
            f" match_sent {matching:5.2f} s; mentions found on their sent paper: {found}/{len(named)}"
        )
    (q0, c0, m0, *_), (q1, c1, m1, *_) = results.values()
    print(
        f"ratio all / filtered: ledger {q0 / q1:.1f}x, cluster_items {c0 / c1:.1f}x,"
        f" identity stage {(q0 + c0 + m0) / (q1 + c1 + m1):.1f}x"
    )


if __name__ == "__main__":
    main()
