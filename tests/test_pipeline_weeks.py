"""Two weeks through the plain pipeline functions (no Prefect): the sent-ledger at work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dltheory_digest import pipeline
from dltheory_digest.config import SourceSpec
from dltheory_digest.directions import DirectionClassifier, load_taxonomy
from dltheory_digest.models import AnnounceType, Item, ItemKind, SourceReport
from dltheory_digest.store import open_store
from dltheory_digest.weeks import Week

LISTING = SourceSpec(id="arxiv", kind="arxiv_rss", name="arXiv", options={"categories": ["cs.LG"]})
ZHIHU = SourceSpec(id="zhihu", kind="zhihu", name="Zhihu", url="https://zhuanlan.zhihu.com/p/1", lang="zh")


def paper(arxiv_id: str, title: str, version: int, kind: AnnounceType, authors: tuple[str, ...]) -> Item:
    return Item(
        source_id="arxiv",
        kind=ItemKind.PAPER,
        title=title,
        arxiv_id=arxiv_id,
        version=version,
        authors=authors,
        lang="en",
        text="We study wide neural networks trained by gradient descent and prove generalization bounds.",
        updated=dt.datetime(2026, 11, 17, tzinfo=dt.UTC),
        categories=("cs.LG", "stat.ML"),
        primary_category="cs.LG",
        announce_type=kind,
        url=f"https://arxiv.org/abs/{arxiv_id}",
    )


NTK = ("1806.07572", "Neural Tangent Kernel: Convergence and Generalization in Neural Networks")
BENIGN = ("1906.11300", "Benign Overfitting in Linear Regression")


def run_week(store_url: str, out: Path, week: str, items: list[Item]) -> pipeline.WeekBuild:
    store = open_store(store_url)
    taxonomy = load_taxonomy()
    stages = pipeline.Stages(
        translator=None, classifier=DirectionClassifier.from_taxonomy(taxonomy), taxonomy=taxonomy
    )
    by_source: dict[str, list[Item]] = {}
    for item in items:
        by_source.setdefault(item.source_id, []).append(item)
    collected = [
        pipeline.Collected(sid, tuple(found), SourceReport(sid, "test", fetched=1, parsed=len(found)))
        for sid, found in by_source.items()
    ]
    target = Week.parse(week)
    pipeline.record_collection(store, target, collected)
    build = pipeline.build_week(
        store,
        target,
        zone_name="UTC",
        specs=[LISTING, ZHIHU],
        fetch_bytes=None,
        stages=stages,
        relevance_threshold=0.0,
    )
    pipeline.publish_week(store, out, target, build)
    store.close()
    return build


def test_a_paper_is_new_once_then_only_updated_with_a_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    week1 = [
        paper(*NTK, 1, AnnounceType.NEW, ("Arthur Jacot", "Franck Gabriel", "Clément Hongler")),
        paper(*BENIGN, 1, AnnounceType.NEW, ("Peter L. Bartlett", "Philip M. Long")),
    ]
    first = run_week(url, tmp_path / "out", "2026-W46", week1)
    assert {c.paper.key for c in first.clusters} == {"arxiv:1806.07572", "arxiv:1906.11300"}
    assert first.digest.updated == ()

    zhihu_mention = Item(
        source_id="zhihu",
        kind=ItemKind.MENTION,
        title="Benign Overfitting in Linear Regression",
        text="良性过拟合的经典论文，讨论了最小范数插值何时泛化。",
        lang="zh",
        arxiv_id="1906.11300",
        url="https://zhuanlan.zhihu.com/p/1",
    )
    week2 = [
        paper(*NTK, 2, AnnounceType.REPLACE, ("Arthur Jacot", "Franck Gabriel", "Clément Hongler")),
        paper(
            *BENIGN, 1, AnnounceType.NEW, ("Peter L. Bartlett", "Philip M. Long")
        ),  # seen again: nothing new
        zhihu_mention,
    ]
    second = run_week(url, tmp_path / "out", "2026-W47", week2)
    fresh_keys = {p.paper.key for s in second.digest.sections for p in s.papers}
    assert fresh_keys == set()  # neither paper is presented as new again
    reasons = {p.paper.key: p.reason for p in second.digest.updated}
    assert set(reasons) == {"arxiv:1806.07572", "arxiv:1906.11300"}
    assert "v2" in (reasons["arxiv:1806.07572"] or "")
    assert "Zhihu" in (reasons["arxiv:1906.11300"] or "")
    markdown = (tmp_path / "out" / "2026-W47.md").read_text(encoding="utf-8")
    assert "Updated and newly discussed" in markdown

    # rerunning week 2 gives the same digest
    again = run_week(url, tmp_path / "out", "2026-W47", week2)
    assert again.markdown == second.markdown


def test_a_paper_sent_once_is_not_new_again_as_a_title_only_mention(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    double_descent = ("1912.02292", "Deep Double Descent: Where Bigger Models and More Data Hurt")
    authors = ("Preetum Nakkiran", "Gal Kaplun", "Yamini Bansal")
    run_week(url, tmp_path / "out", "2026-W46", [paper(*double_descent, 1, AnnounceType.NEW, authors)])

    # no id and no lookup (offline): the mention is keyed by its title, which the ledger now knows
    mention = Item(
        source_id="zhihu",
        kind=ItemKind.MENTION,
        title="Deep Double Descent: Where Bigger Models and More Data Hurt",
        text="双下降现象的经典实验论文。",
        lang="zh",
        url="https://zhuanlan.zhihu.com/p/1",
    )
    second = run_week(url, tmp_path / "out", "2026-W47", [mention])
    assert [p for s in second.digest.sections for p in s.papers] == []
    assert [p.paper.title for p in second.digest.updated] == [double_descent[1]]
