"""CPU cost of parsing arXiv listings into items, against the bare XML / feed parse of the same bytes.

The recorded RSS listings (../shared/fixtures/arxiv_rss) and API search page
(../shared/fixtures/arxiv_api) are repeated with distinct ids until they hold `n_items`
items together, half RSS and half API. Each figure is the best of a few runs of
`time.process_time()`, all measured in this one run:

    lxml        etree.fromstring of the bytes (what our parsers build on)
    feedparser  feedparser.parse of the bytes (what a generic feed reader pays)
    parse       the kinds' parse -> Item tuples (arxiv_rss.parse + arxiv_api.parse)

Usage: .venv/bin/python benchmarks/bench_parse.py [N_ITEMS]
Goal: parse / lxml <= 3.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import feedparser
from lxml import etree

from dltheory_digest.models import RawPage
from dltheory_digest.sources import arxiv_api, arxiv_rss

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DLTHEORY_SHARED_DIR", ROOT.parent / "shared"))
RSS_RECORDINGS = ("jmamath-repo_arxiv_cs_lg.xml", "jmamath-repo_arxiv_cs_ai.xml")
API_RECORDING = "lukasschwab_q_testing_s0_m100_cfe7536492ca.json"

_RSS_ID = re.compile(r"2604\.219\d\d")
# the id in <id> and in the abs/pdf links, up to its version: http://arxiv.org/abs/2202.12139v1
_API_ID = re.compile(r"(?P<kind>abs|pdf)/[^<\"]+?(?=v\d+[<\"])")


def synthetic_id(index: int) -> str:
    # YYMM.NNNNN, valid new-style ids, distinct for up to ~1 million items
    return f"25{index // 90000 % 12 + 1:02d}.{10000 + index % 90000:05d}"


def _split(document: str, tag: str) -> tuple[str, list[str], str]:
    start, end = document.index(f"<{tag}>"), document.rindex(f"</{tag}>") + len(f"</{tag}>")
    chunks = re.findall(rf"<{tag}>.*?</{tag}>", document[start:end], flags=re.S)
    return document[:start], chunks, document[end:]


def rss_listing(n: int) -> bytes:
    head, items, tail = "", [], ""
    for name in RSS_RECORDINGS:
        text = (SHARED / "fixtures" / "arxiv_rss" / name).read_text(encoding="utf-8")
        head, chunks, tail = _split(text, "item")
        items += chunks
    body = [_RSS_ID.sub(synthetic_id(i), items[i % len(items)]) for i in range(n)]
    return (head + "\n".join(body) + tail).encode()


def api_page(n: int) -> bytes:
    wrapper = json.loads((SHARED / "fixtures" / "arxiv_api" / API_RECORDING).read_text(encoding="utf-8"))
    text = wrapper["body"].encode("latin-1").decode("utf-8")
    head, entries, tail = _split(text, "entry")
    body = []
    for i in range(n):
        body.append(_API_ID.sub(rf"\g<kind>/{synthetic_id(500_000 + i)}", entries[i % len(entries)]))
    return (head + "\n".join(body) + tail).encode()


def _cpu(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.process_time()
    result = fn()
    return time.process_time() - started, result


def _best_interleaved(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, object]]:
    """Best CPU time of each function, run in turns so a busy machine slows all of them alike."""
    best: dict[str, tuple[float, object]] = {name: (float("inf"), None) for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            spent, result = _cpu(fn)
            if spent < best[name][0]:
                best[name] = (spent, result)
    return best


def measure(n_items: int = 20_000, *, repeat: int = 7, with_feedparser: bool = True) -> dict[str, float]:
    """Time the three parses of the same ~n_items; print and return the figures (seconds, ratios)."""
    rss_bytes, api_bytes = rss_listing(n_items // 2), api_page(n_items - n_items // 2)
    rss_page = RawPage("bench-rss", "https://rss.arxiv.org/rss/cs.LG+cs.AI", 200, rss_bytes)
    api_url = "https://export.arxiv.org/api/query?search_query=testing&start=0&max_results=20000"
    api_raw = RawPage("bench-api", api_url, 200, api_bytes)
    rss_options, api_options = arxiv_rss.ArxivRssOptions(), arxiv_api.ArxivApiOptions(max_results=30000)

    def rss_parse() -> int:
        return len(arxiv_rss.parse(rss_page, rss_options).items)

    def api_parse() -> int:
        return len(arxiv_api.parse(api_raw, api_options).items)

    def rss_lxml() -> int:
        return len(etree.fromstring(rss_bytes, arxiv_api.XML_PARSER))

    def api_lxml() -> int:
        return len(etree.fromstring(api_bytes, arxiv_api.XML_PARSER))

    # the copies must be distinct papers, as in a real large listing
    parsed_ids = {item.arxiv_id for item in arxiv_rss.parse(rss_page, rss_options).items}
    parsed_ids |= {item.arxiv_id for item in arxiv_api.parse(api_raw, api_options).items}
    assert len(parsed_ids) == n_items, f"{len(parsed_ids)} distinct ids for {n_items} items"
    timed = _best_interleaved(
        {"rss_lxml": rss_lxml, "rss_parse": rss_parse, "api_lxml": api_lxml, "api_parse": api_parse}, repeat
    )
    seconds = {name: spent for name, (spent, _) in timed.items()}
    lxml_s = seconds["rss_lxml"] + seconds["api_lxml"]
    parse_s = seconds["rss_parse"] + seconds["api_parse"]
    count = n_items
    figures: dict[str, float] = {
        "items": float(count),
        "bytes": float(len(rss_bytes) + len(api_bytes)),
        "lxml_s": lxml_s,
        "parse_s": parse_s,
        "parse_per_item_us": parse_s / count * 1e6,
        "ratio_vs_lxml": parse_s / lxml_s,
        "rss_ratio_vs_lxml": seconds["rss_parse"] / seconds["rss_lxml"],
        "api_ratio_vs_lxml": seconds["api_parse"] / seconds["api_lxml"],
    }
    if with_feedparser:
        feedparser_s, _ = _cpu(lambda: (feedparser.parse(rss_bytes), feedparser.parse(api_bytes)))
        figures["feedparser_s"] = feedparser_s
        figures["ratio_vs_feedparser"] = parse_s / feedparser_s
    print(f"items parsed          {int(figures['items']):>10,}  ({figures['bytes'] / 1e6:.1f} MB of XML)")
    print(f"bare lxml parse       {lxml_s:>10.3f} s CPU")
    if with_feedparser:
        print(f"bare feedparser parse {figures['feedparser_s']:>10.3f} s CPU")
    print(f"parse -> items        {parse_s:>10.3f} s CPU  ({figures['parse_per_item_us']:.1f} µs/item)")
    print(f"ratio parse / lxml    {figures['ratio_vs_lxml']:>10.2f}x  (goal <= 3x)")
    print(f"  RSS listing alone   {figures['rss_ratio_vs_lxml']:>10.2f}x")
    print(f"  API search alone    {figures['api_ratio_vs_lxml']:>10.2f}x")
    if with_feedparser:
        print(f"ratio parse / feedparser {figures['ratio_vs_feedparser']:>7.2f}x")
    return figures


if __name__ == "__main__":
    measure(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
