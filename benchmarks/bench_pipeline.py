"""CPU cost of the whole parse -> digest path, against the bare feed/XML parse of the same bytes.

The recorded arXiv RSS listings and API page (../shared/fixtures) are repeated with distinct
ids and distinct titles until they hold N items (half RSS, half API). Then, all measured in
this one run with time.process_time(); then, in a second pass (tracing slows everything, so it
is kept apart from the CPU figures), each stage's peak of newly allocated memory as Python's
tracemalloc sees it (numpy and scipy report to it; lxml's and expat's C buffers do not):

    feedparser   feedparser.parse of the bytes (what a generic feed reader pays)
    lxml         etree.fromstring of the bytes
    parse        arxiv_rss.parse + arxiv_api.parse -> items
    language     language.localize_items (detection; no model installed, nothing to translate)
    identity     resolve.paper_from_item + identity.cluster_items
    directions   DirectionClassifier.classify_many on title + abstract
    digest       digest.build_digest + render_markdown

Usage: .venv/bin/python benchmarks/bench_pipeline.py [N_ITEMS]   (default 20000)
Goal (issue 2): parse -> digest <= 3x the bare feedparser parse. Memory has no goal; the
largest stage's peak is printed against feedparser's and against the input's size, with the
process's peak resident size.
"""

from __future__ import annotations

import datetime as dt
import re
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_parse
import feedparser
from lxml import etree

from dltheory_digest import digest, directions, identity, language, resolve
from dltheory_digest.models import RawPage
from dltheory_digest.sources import arxiv_api, arxiv_rss


def _distinct_titles(document: bytes, tag: str) -> bytes:
    """Give every repeated record its own title, as a real week has (identity would merge copies)."""
    counter = iter(range(10**9))
    pattern = re.compile(rb"(<item>\s*<title>|<entry>\s*<id>[^<]*</id>\s*<title>)([^<]*)")

    def renamed(match: re.Match[bytes]) -> bytes:
        return match.group(1) + match.group(2) + f" (variant {next(counter):06d})".encode()

    return pattern.sub(renamed, document)


def _cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.process_time()
    result = fn()
    return time.process_time() - started, result


def _peak_bytes(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Peak of memory allocated while `fn` runs (what earlier stages hold is not counted)."""
    tracemalloc.start()
    try:
        result = fn()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def measure(n_items: int = 20_000) -> dict[str, float]:
    rss = _distinct_titles(bench_parse.rss_listing(n_items // 2), "item")
    api = _distinct_titles(bench_parse.api_page(n_items - n_items // 2), "entry")
    figures: dict[str, float] = {}

    figures = _stages(rss, api, _cpu, "CPU")
    peaks = _stages(rss, api, _peak_bytes, "memory")
    total = figures["total"]
    print(f"parse -> digest / feedparser parse = {total / figures['feedparser']:.2f}x  (goal <= 3)")
    print(f"parse -> digest / lxml parse       = {total / figures['lxml']:.1f}x")
    stage_peak = max(peaks[k] for k in STAGES)
    print(f"largest stage peak / feedparser peak = {stage_peak / peaks['feedparser']:.2f}x")
    print(f"largest stage peak / input bytes     = {stage_peak / (len(rss) + len(api)):.1f}x")
    # ru_maxrss is in KiB on Linux
    print(f"process peak resident size: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    return figures


STAGES = ("parse", "language", "identity", "directions", "digest")


def _stages(
    rss: bytes, api: bytes, measure_one: Callable[[Callable[[], Any]], tuple[Any, Any]], what: str
) -> dict[str, float]:
    """Run every stage once through `measure_one` (CPU seconds or peak bytes)."""
    figures: dict[str, float] = {}
    figures["feedparser"], _ = measure_one(lambda: (feedparser.parse(rss), feedparser.parse(api)))
    figures["lxml"], _ = measure_one(lambda: (etree.fromstring(rss), etree.fromstring(api)))

    def parse() -> list[Any]:
        options_rss = arxiv_rss.KIND.options.model_validate({"categories": ["cs.LG"]})
        options_api = arxiv_api.KIND.options.model_validate({"search_query": "all:testing"})
        got = arxiv_rss.parse(RawPage("rss", "https://rss.arxiv.org/rss/cs.LG", 200, rss), options_rss)
        got2 = arxiv_api.parse(RawPage("api", "https://export.arxiv.org/api/query", 200, api), options_api)
        return list(got.items) + list(got2.items)

    figures["parse"], items = measure_one(parse)
    figures["language"], localized = measure_one(lambda: language.localize_items(items, None))

    def cluster() -> list[Any]:
        papers = {i.arxiv_id: resolve.paper_from_item(i) for i in localized.items if i.arxiv_id}
        return identity.cluster_items(localized.items, papers)

    figures["identity"], clusters = measure_one(cluster)
    taxonomy = directions.load_taxonomy()
    classifier = directions.DirectionClassifier.from_taxonomy(
        taxonomy
    )  # fitted once per process, not per week
    figures["directions"], classes = measure_one(
        lambda: classifier.classify_many([(c.paper.title, c.paper.abstract) for c in clusters])
    )

    def render() -> str:
        built = digest.build_digest(
            week="2026-W47",
            window_start=dt.datetime(2026, 11, 16, tzinfo=dt.UTC),
            window_end=dt.datetime(2026, 11, 23, tzinfo=dt.UTC),
            timezone="UTC",
            clusters=clusters,
            classifications={c.paper.key: k for c, k in zip(clusters, classes, strict=True)},
            directions=[(d.id, d.name) for d in taxonomy.directions],
            relevance_threshold=0.30,
        )
        return digest.render_markdown(built)

    figures["digest"], markdown = measure_one(render)
    figures["total"] = sum(figures[k] for k in STAGES)
    if what == "CPU":
        print(
            f"{len(items)} items, {len(clusters)} papers, {len(rss) + len(api):,} bytes, digest {len(markdown):,} chars"
        )
    for name in ("feedparser", "lxml", *STAGES, "total"):
        shown = f"{figures[name]:8.2f} s CPU" if what == "CPU" else f"{figures[name] / 2**20:8.1f} MiB peak"
        if what == "CPU" or name not in ("lxml", "total"):  # lxml allocates outside tracemalloc
            print(f"  {name:<11} {shown}")
    return figures


if __name__ == "__main__":
    measure(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
