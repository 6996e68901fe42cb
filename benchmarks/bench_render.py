"""CPU cost of the digest stage on a big week, against bare markdown-it on the same Markdown.

    .venv/bin/python benchmarks/bench_render.py [--papers 3000]

Prints the time of build_digest, render_markdown, render_html (markdown-it + nh3 + inline
styles) and one reader's filtered edition, and the ratio of the whole email rendering to a
bare markdown-it render of the same text, all measured in this one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from markdown_it import MarkdownIt

from dltheory_digest import digest as dg
from dltheory_digest import mail
from dltheory_digest.config import Reader
from dltheory_digest.models import AnnounceType, Classification, Item, ItemKind, Paper, PaperCluster, Sighting

UTC = dt.UTC
DIRECTIONS = [(f"d{i}", f"Direction {i}") for i in range(12)] + [("other", "Other")]


def big_week(papers: int) -> dict[str, Any]:
    clusters, classes = [], {}
    for n in range(papers):
        arxiv_id = f"2611.{n:05d}"
        paper = Paper(
            key=f"arxiv:{arxiv_id}",
            title=f"On the $O(1/\\sqrt{{n}})$ rate of *model* {n} | a study",
            arxiv_id=arxiv_id,
            version=1 + n % 3,
            authors=tuple(f"Author {n}-{k}" for k in range(1 + n % 7)),
            abstract="We study e.g. wide networks (see Fig. 2). The loss falls by 3.5 points. " * 3,
            published=dt.datetime(2026, 11, 17, tzinfo=UTC),
            categories=("cs.LG", "stat.ML"),
            primary_category="cs.LG",
        )
        sightings = (
            Sighting(
                "arxiv", "arXiv", f"https://arxiv.org/abs/{arxiv_id}", "en", announce_type=AnnounceType.NEW
            ),
            Sighting("zhihu", "Zhihu", f"https://zhuanlan.zhihu.com/p/{n}", "zh", "关于宽网络的研究"),
        )
        clusters.append(PaperCluster(paper=paper, sightings=sightings, versions=(1,)))
        classes[paper.key] = Classification(DIRECTIONS[n % len(DIRECTIONS)][0], relevance=(n % 100) / 100)
    posts = [
        Item(
            source_id="offconvex",
            kind=ItemKind.POST,
            title=f"Post {i}",
            url=f"https://offconvex.org/{i}",
            links=tuple(f"https://arxiv.org/abs/2611.{(i * 7 + k) % papers:05d}" for k in range(5)),
        )
        for i in range(50)
    ]
    return {
        "week": "2026-W47",
        "window_start": dt.datetime(2026, 11, 16, tzinfo=UTC),
        "window_end": dt.datetime(2026, 11, 23, tzinfo=UTC),
        "timezone": "UTC",
        "clusters": clusters,
        "classifications": classes,
        "directions": DIRECTIONS,
        "posts": posts,
        "relevance_threshold": 0.2,
    }


def timed(label: str, fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.process_time()
    result = fn()
    spent = time.process_time() - start
    print(f"{label:<34} {spent * 1000:9.1f} ms")
    return result, spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=3000)
    args = parser.parse_args()
    inputs = big_week(args.papers)
    dg.render_html("warm up")  # template and parser set-up is not part of the per-week cost
    digest, t_build = timed(f"build_digest ({args.papers} papers)", lambda: dg.build_digest(**inputs))
    markdown, t_md = timed("render_markdown", lambda: dg.render_markdown(digest))
    html, t_html = timed("render_html (markdown-it+nh3+css)", lambda: dg.render_html(markdown))
    reader = Reader(email="r@example.org", include_directions=("d1", "d2"), negative_keywords=("model 7",))
    timed("filter_for_reader", lambda: dg.filter_for_reader(digest, reader))
    _, t_bare = timed(
        "bare markdown-it render", lambda: MarkdownIt("commonmark").enable("table").render(markdown)
    )
    print(f"markdown {len(markdown) / 1e6:.2f} MB, html {len(html) / 1e6:.2f} MB")
    sent, _ = timed("render_edition (as mailed)", lambda: mail.render_edition(digest, dg.ENGLISH))
    form = (
        "whole"
        if not sent.attachment
        else ("one line a paper" if "\n### " not in sent.markdown else "no appendix")
    )
    print(
        f"mailed html {len(sent.html.encode()) / 1e3:.0f} KB ({form}; budget {mail.HTML_BUDGET / 1e3:.0f} KB)"
        + (f", {sent.attachment[0]} attached" if sent.attachment else "")
    )
    print(f"email rendering / bare markdown-it: {(t_md + t_html) / t_bare:.2f}x")
    print(f"whole digest stage / bare markdown-it: {(t_build + t_md + t_html) / t_bare:.2f}x")


if __name__ == "__main__":
    main()
