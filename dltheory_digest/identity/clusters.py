"""This week's items -> one `PaperCluster` per paper, with every sighting and version."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

from dltheory_digest.identity.matching import Record, canonical_ids, match_clusters
from dltheory_digest.identity.normalize import (
    clean_text,
    english_runs,
    is_latin,
    normalize_title,
    title_shape,
)
from dltheory_digest.models import Item, ItemKind, Paper, PaperCluster, Sighting, fit_key

_UTC_MIN = dt.datetime.min.replace(tzinfo=dt.UTC)


def _item_record(index: int, item: Item, papers: Mapping[str, Paper]) -> Record:
    paper = papers.get(item.arxiv_id) if item.arxiv_id else None
    # a mention's date is the date of the page that mentions it, not the paper's
    when = paper.published if paper else item.published if item.kind is ItemKind.PAPER else None
    year = when.year if when is not None else None
    return Record(
        id=f"item:{index}",
        title=item.title,
        authors=item.authors or (paper.authors if paper else ()),
        year=year,
        doi=item.doi,
        arxiv_id=item.arxiv_id,
        lang=item.lang,
        url=item.url,
        title_en=item.title_en,
    )


def _paper_record(paper: Paper) -> Record:
    return Record(
        id=f"paper:{paper.key}",
        title=paper.title,
        authors=paper.authors,
        year=paper.published.year if paper.published else None,
        doi=paper.doi,
        arxiv_id=paper.arxiv_id,
        url=paper.url,
    )


def _english_title(item: Item) -> str | None:
    """The item's English title: its translation, the title itself, or the English run embedded in it."""
    if item.title_en:
        return clean_text(item.title_en).strip()
    if is_latin(item.title):
        return clean_text(item.title).strip()
    runs = english_runs(item.title)
    return runs[0] if runs else None


def _best_title(members: Sequence[Item]) -> str:
    """An English title for a paper arXiv does not describe: one that reads as a title (not markup
    a page showed, nor a reader's remark), then papers' own records, then English sources."""

    def rank(item: Item) -> tuple[int, int, int, int, str]:
        title = _english_title(item) or ""
        original_english = bool(title) and item.title_en is None
        return (
            0 if title else 1,
            -title_shape(title),
            0 if item.kind is ItemKind.PAPER else 1,
            0 if original_english else 1,  # an English original beats a machine translation
            title,
        )

    best = min(members, key=rank)
    return _english_title(best) or clean_text(best.title).strip()


def _sighting(item: Item, source_names: Mapping[str, str]) -> Sighting:
    original = item.original_title
    if original is None and item.lang not in (None, "en") and not is_latin(item.title):
        original = item.title
    return Sighting(
        source_id=item.source_id,
        source_name=source_names.get(item.source_id, item.source_id),
        url=item.url,
        lang=item.lang,
        original_title=original,
        kind=item.kind,
        commentary=item.text_en or item.text if item.kind is not ItemKind.PAPER else "",
        version=item.version,
        announce_type=item.announce_type,
        seen_at=item.updated or item.published,
        titled_by_text=dict(item.extra).get("evidence") == "abstract_only",
    )


def _cluster_key(arxiv_id: str | None, doi: str | None, title: str) -> str:
    if arxiv_id:
        return f"arxiv:{arxiv_id}"
    if doi:
        return f"doi:{doi}"
    return fit_key(f"title:{normalize_title(title)}")  # fits the store's key columns


def cluster_items(
    items: Sequence[Item],
    papers: Mapping[str, Paper],
    *,
    source_names: Mapping[str, str] | None = None,
) -> list[PaperCluster]:
    """Group this week's paper and mention items into one cluster per paper.

    `papers` is arXiv's metadata by arXiv id; its title is the cluster's title when known,
    and a mention that carries no id is matched against these papers too (papers seen by
    no item this week produce no cluster).
    A Chinese or Arabic mention joins its paper through the English title embedded in it
    (`Item.title`) or its translation (`Item.title_en`). Posts are not papers: callers pass
    the posts' `cited` mentions instead. Clusters come out sorted by key, sightings by
    source and URL, so the result does not depend on the order of `items`.
    """
    names = source_names or {}
    paper_items = [item for item in items if item.kind in (ItemKind.PAPER, ItemKind.MENTION)]
    # a stable input order makes labels (and so everything downstream) order-independent
    paper_items.sort(key=lambda i: (i.source_id, i.key, i.version or 0, i.title))
    records = [_item_record(n, item, papers) for n, item in enumerate(paper_items)]
    # every known paper is a candidate, so a mention without an id still finds its arXiv paper
    records += [_paper_record(papers[a]) for a in sorted(papers)]
    labels = match_clusters(records)

    groups: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        groups[label].append(index)

    clusters: list[PaperCluster] = []
    for members in groups.values():
        member_items = [paper_items[i] for i in members if i < len(paper_items)]
        if not member_items:
            continue
        ids = [canonical_ids(records[i]) for i in members]
        arxiv_ids = sorted({a for a, _ in ids if a})
        dois = sorted({d for _, d in ids if d})
        arxiv_id = arxiv_ids[0] if arxiv_ids else None
        paper = papers.get(arxiv_id) if arxiv_id else None
        title = paper.title if paper else _best_title(member_items)
        versions = sorted(
            {i.version for i in member_items if i.version}
            | ({paper.version} if paper and paper.version else set())
        )
        if paper is None:
            authors = next((i.authors for i in member_items if i.authors), ())
            paper = Paper(
                key=_cluster_key(arxiv_id, dois[0] if dois else None, title),
                title=title,
                arxiv_id=arxiv_id,
                version=versions[-1] if versions else None,
                authors=authors,
                doi=dois[0] if dois else None,
                published=min((i.published for i in member_items if i.published), default=None),
                url=next((i.url for i in member_items if i.url), None),
            )
        else:
            if paper.doi is None and dois:
                # a journal DOI seen on another source, linked through the arXiv id
                paper = replace(paper, doi=dois[0])
            if versions and versions[-1] > (paper.version or 0):
                paper = replace(paper, version=versions[-1])  # a listing newer than the metadata
        sightings: dict[tuple[str, str], Sighting] = {}
        for item in member_items:
            key = (item.source_id, item.key)
            seen = sightings.get(key)
            if seen is None or (item.version or 0) > (seen.version or 0):
                sightings[key] = _sighting(item, names)
        ordered = sorted(
            sightings.values(),
            key=lambda s: (s.source_id, s.url or "", s.version or 0, s.seen_at or _UTC_MIN),
        )
        foreign = next(
            (s for s in ordered if s.lang not in (None, "en") and s.original_title),
            None,
        )
        clusters.append(
            PaperCluster(
                paper=paper,
                sightings=tuple(ordered),
                versions=tuple(versions),
                item_keys=tuple(sorted({f"{i.source_id}|{i.key}" for i in member_items})),
                original_title=foreign.original_title if foreign else None,
                original_lang=foreign.lang if foreign else None,
            )
        )
    return _unique_keys(clusters)


def _unique_keys(clusters: list[PaperCluster]) -> list[PaperCluster]:
    """Sort by key; papers that only share a title ("Editorial" of two years) get distinct keys."""

    def order(c: PaperCluster) -> tuple[str, str, str, tuple[str, ...]]:
        published = c.paper.published.isoformat() if c.paper.published else ""
        return (c.paper.key, published, c.paper.title, c.item_keys)

    out: list[PaperCluster] = []
    taken: dict[str, int] = {}
    for cluster in sorted(clusters, key=order):
        key = cluster.paper.key
        if key in taken:
            taken[key] += 1
            year = cluster.paper.published.year if cluster.paper.published else "n.d."
            cluster = replace(cluster, paper=replace(cluster.paper, key=f"{key}|{year}|{taken[key]}"))
        else:
            taken[key] = 0
        out.append(cluster)
    out.sort(key=lambda c: c.paper.key)
    return out
