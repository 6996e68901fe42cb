"""split_by_novelty and the sent-ledger across weeks (a real SQLite store)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dltheory_digest.identity import (
    LedgerEntry,
    cluster_items,
    history_keys,
    ledger_entries,
    ledger_entry,
    split_by_novelty,
    update_reason,
)
from dltheory_digest.identity.novelty import (
    SentPaper,
    match_sent,
    retitled_from,
    sent_candidates,
    sent_paper_filter,
)
from dltheory_digest.models import (
    AnnounceType,
    Item,
    ItemKind,
    JournalVersion,
    Paper,
    PaperCluster,
    Place,
    Sighting,
    UpdateReason,
    VersionChange,
)
from dltheory_digest.store import Store, open_store
from dltheory_digest.store.ledger import load_history, record_week, weeks_sent
from dltheory_digest.store.schema import sent_ledger

NTK = Paper(
    key="arxiv:1806.07572",
    title="Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
    arxiv_id="1806.07572",
    authors=("Arthur Jacot", "Franck Gabriel", "Clément Hongler"),
)
RETHINKING = Paper(
    key="arxiv:1611.03530",
    title="Understanding deep learning requires rethinking generalization",
    arxiv_id="1611.03530",
    authors=("Chiyuan Zhang", "Samy Bengio", "Moritz Hardt", "Benjamin Recht", "Oriol Vinyals"),
)
PAPERS = {"1806.07572": NTK, "1611.03530": RETHINKING}
NAMES = {"arxiv-rss": "arXiv cs.LG", "zhihu": "Zhihu", "shamra": "Shamra Academia"}


def arxiv_item(paper: Paper, version: int) -> Item:
    return Item(
        source_id="arxiv-rss",
        kind=ItemKind.PAPER,
        title=paper.title,
        url=f"https://arxiv.org/abs/{paper.arxiv_id}v{version}",
        arxiv_id=paper.arxiv_id,
        version=version,
        lang="en",
        announce_type=AnnounceType.NEW if version == 1 else AnnounceType.REPLACE,
    )


def zhihu_item(paper: Paper) -> Item:
    return Item(
        source_id="zhihu",
        kind=ItemKind.MENTION,
        title=f"{paper.title} 论文解读",
        lang="zh",
        url="https://zhuanlan.zhihu.com/p/000000003",
    )


def week_clusters(*items: Item) -> list[PaperCluster]:
    return cluster_items(items, PAPERS, source_names=NAMES)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield opened
    opened.close()


def send_week(
    store: Store, week: str, clusters: list[PaperCluster]
) -> tuple[list[str], list[tuple[str, str]]]:
    """What the pipeline does each week: split against the ledger, then record what was sent."""
    history = load_history(store, [key for c in clusters for key in history_keys(c)])
    new, updated = split_by_novelty(clusters, history, week)
    sent = new + [c for c, _ in updated]
    record_week(
        store,
        week,
        # as publish_week records it: under the paper's key and its aliases (the DOI among them)
        [e for c in sent for e in ledger_entries(c, week)],
        sections={c.paper.key: "updated" for c, _ in updated},
    )
    return [c.paper.key for c in new], [(c.paper.key, reason.english()) for c, reason in updated]


def test_unseen_papers_are_new() -> None:
    clusters = week_clusters(arxiv_item(NTK, 1), arxiv_item(RETHINKING, 1))
    new, updated = split_by_novelty(clusters, {}, "2026-W45")
    assert [c.paper.key for c in new] == ["arxiv:1611.03530", "arxiv:1806.07572"] and updated == []


def test_only_earlier_weeks_count() -> None:
    clusters = week_clusters(arxiv_item(NTK, 1))
    same_week = {
        "arxiv:1806.07572": [LedgerEntry("arxiv:1806.07572", "2026-W45", 1, ("arxiv-rss",), ("en",))]
    }
    new, updated = split_by_novelty(clusters, same_week, "2026-W45")
    assert len(new) == 1 and updated == []
    new, updated = split_by_novelty(clusters, same_week, "2026-W46")
    assert new == [] and updated == []  # same version, same sources: dropped


def test_ledger_across_two_weeks(store: Store) -> None:
    week1 = week_clusters(arxiv_item(NTK, 1), arxiv_item(RETHINKING, 1))
    assert send_week(store, "2026-W45", week1) == (["arxiv:1611.03530", "arxiv:1806.07572"], [])

    # week 2: NTK gets v2, the other paper is discussed on Zhihu, a third listing repeats v1 of nothing new
    week2 = week_clusters(arxiv_item(NTK, 2), arxiv_item(RETHINKING, 1), zhihu_item(RETHINKING))
    new, updated = send_week(store, "2026-W46", week2)
    assert new == []
    assert updated == [
        ("arxiv:1611.03530", "newly discussed on Zhihu (zh)"),
        ("arxiv:1806.07572", "updated to v2 (was v1 on 2026-W45)"),
    ]
    # rerunning week 2 (its own rows are now in the ledger) gives the same answer
    assert send_week(store, "2026-W46", week2) == (new, updated)
    assert weeks_sent(store) == ["2026-W45", "2026-W46"]

    history = load_history(store, ["arxiv:1806.07572", "arxiv:1611.03530", "arxiv:0000.00000"])
    assert set(history) == {"arxiv:1806.07572", "arxiv:1611.03530"}
    assert [(e.week, e.version) for e in history["arxiv:1806.07572"]] == [("2026-W45", 1), ("2026-W46", 2)]
    assert history["arxiv:1611.03530"][-1].source_ids == ("arxiv-rss", "zhihu")
    assert history["arxiv:1611.03530"][-1].langs == ("en", "zh")

    # week 3: nothing changed -> nothing comes back; a Shamra page is new coverage
    week3 = week_clusters(arxiv_item(NTK, 2), zhihu_item(RETHINKING))
    assert send_week(store, "2026-W47", week3) == ([], [])
    shamra = Item(
        source_id="shamra",
        kind=ItemKind.PAPER,
        title=NTK.title,
        lang="ar",
        url="https://shamra-academia.com/show/000004",
    )
    week4 = week_clusters(shamra)
    assert send_week(store, "2026-W48", week4) == (
        [],
        [("arxiv:1806.07572", "newly discussed on Shamra Academia (ar)")],
    )


def test_another_arxiv_feed_is_not_new_coverage() -> None:
    history = {"arxiv:1806.07572": [LedgerEntry("arxiv:1806.07572", "2026-W45", 1, ("arxiv-rss",), ("en",))]}
    other_feed = Item(
        source_id="arxiv-api",
        kind=ItemKind.PAPER,
        title=NTK.title,
        arxiv_id="1806.07572",
        version=1,
        url="https://arxiv.org/abs/1806.07572v1",
        lang="en",
    )
    assert split_by_novelty(week_clusters(other_feed), history, "2026-W46") == ([], [])


def test_version_and_coverage_together() -> None:
    history = {
        "arxiv:1806.07572": [
            LedgerEntry("arxiv:1806.07572", "2026-W40", 1, ("arxiv-rss",), ("en",)),
            LedgerEntry("arxiv:1806.07572", "2026-W42", 2, ("arxiv-rss",), ("en",)),
        ]
    }
    clusters = week_clusters(arxiv_item(NTK, 3), zhihu_item(NTK))
    _, updated = split_by_novelty(clusters, history, "2026-W45")
    assert updated[0][1].english() == "updated to v3 (was v2 on 2026-W42); newly discussed on Zhihu (zh)"


def test_record_week_is_an_idempotent_upsert(store: Store) -> None:
    entry = LedgerEntry("arxiv:1806.07572", "2026-W45", 1, ("arxiv-rss",), ("en",))
    assert record_week(store, "2026-W45", [entry]) == 1
    assert (
        record_week(
            store,
            "2026-W45",
            [LedgerEntry("arxiv:1806.07572", "2026-W45", 2, ("zhihu", "arxiv-rss"), ("zh", "en"))],
        )
        == 1
    )
    history = load_history(store, ["arxiv:1806.07572"])
    assert history == {
        "arxiv:1806.07572": [
            LedgerEntry("arxiv:1806.07572", "2026-W45", 2, ("arxiv-rss", "zhihu"), ("en", "zh"))
        ]
    }
    with pytest.raises(ValueError):
        record_week(store, "2026-W46", [entry])


def test_a_paper_first_sent_through_a_mention_is_not_new_once_arxiv_knows_it(store: Store) -> None:
    # week 1: only a blog's mention, no id and no metadata yet -> a title key
    mention = Item(
        source_id="offconvex",
        kind=ItemKind.MENTION,
        title=NTK.title.upper(),
        lang="en",
        url="https://example.org/ntk-post",
    )
    week1 = cluster_items([mention], {}, source_names=NAMES)
    assert send_week(store, "2026-W45", week1) == ([week1[0].paper.key], [])
    assert week1[0].paper.key.startswith("title:")
    # week 2: the arXiv listing itself
    week2 = week_clusters(arxiv_item(NTK, 1))
    assert week2[0].paper.key == "arxiv:1806.07572"
    assert send_week(store, "2026-W46", week2) == ([], [])


DOUBLE_DESCENT = Paper(
    key="arxiv:1912.02292",
    title="Deep Double Descent: Where Bigger Models and More Data Hurt",
    arxiv_id="1912.02292",
    authors=(
        "Preetum Nakkiran",
        "Gal Kaplun",
        "Yamini Bansal",
        "Tristan Yang",
        "Boaz Barak",
        "Ilya Sutskever",
    ),
    doi="10.1088/1742-5468/ac3a74",
)


def test_an_arxiv_paper_coming_back_as_a_doi_link_or_a_bare_title_is_not_new_again(store: Store) -> None:
    week1 = cluster_items([arxiv_item(DOUBLE_DESCENT, 1)], {"1912.02292": DOUBLE_DESCENT}, source_names=NAMES)
    sent = [e for c in week1 for e in ledger_entries(c, "2026-W46")]
    assert {e.paper_key for e in sent} == {
        "arxiv:1912.02292",
        "alias:doi:10.1088/1742-5468/ac3a74",
        "alias:title:deep double descent where bigger models and more data hurt",
    }
    record_week(store, "2026-W46", sent)
    # week 2: a journal link and a reading-list title, neither resolved to the arXiv id
    journal = Item(
        source_id="offconvex",
        kind=ItemKind.MENTION,
        title="Deep double descent: where bigger models and more data hurt",
        lang="en",
        url="https://iopscience.iop.org/article/10.1088/1742-5468/ac3a74/meta",
        doi="10.1088/1742-5468/ac3a74",
    )
    listed = Item(
        source_id="zhihu",
        kind=ItemKind.MENTION,
        title="Deep Double Descent: Where Bigger Models and More Data Hurt",
        lang="zh",
        url="https://zhuanlan.zhihu.com/p/000000004",
    )
    # an English place is named alone, a Chinese one with its language
    for item, said in ((journal, "offconvex"), (listed, "Zhihu (zh)")):
        week2 = cluster_items([item], {}, source_names=NAMES)
        history = load_history(store, [k for c in week2 for k in history_keys(c)])
        new, updated = split_by_novelty(week2, history, "2026-W47")
        assert new == []
        assert [reason.english() for _, reason in updated] == [f"newly discussed on {said}"]


def test_a_short_title_is_no_ledger_alias() -> None:
    deep = Paper(key="doi:10.1038/nature14539", title="Deep learning", doi="10.1038/nature14539")
    cluster = PaperCluster(paper=deep, sightings=(), versions=(), item_keys=())
    assert [e.paper_key for e in ledger_entries(cluster, "2026-W46")] == ["doi:10.1038/nature14539"]


def test_another_arxiv_paper_with_a_sent_papers_title_is_still_new(store: Store) -> None:
    first = Paper(
        key="arxiv:2301.00001",
        title="A Survey on Deep Learning Theory",
        arxiv_id="2301.00001",
        authors=("A. One",),
    )
    second = Paper(
        key="arxiv:2611.00002",
        title="A Survey on Deep Learning Theory",
        arxiv_id="2611.00002",
        authors=("B. Two",),
    )
    week1 = cluster_items([arxiv_item(first, 1)], {"2301.00001": first}, source_names=NAMES)
    record_week(store, "2026-W46", [e for c in week1 for e in ledger_entries(c, "2026-W46")])
    week2 = cluster_items([arxiv_item(second, 1)], {"2611.00002": second}, source_names=NAMES)
    history = load_history(store, [k for c in week2 for k in history_keys(c)])
    new, updated = split_by_novelty(week2, history, "2026-W47")
    assert [c.paper.key for c in new] == ["arxiv:2611.00002"] and updated == []


BENIGN = Paper(
    key="arxiv:1906.11300",
    title="Benign Overfitting in Linear Regression",
    arxiv_id="1906.11300",
    authors=("Peter L. Bartlett", "Philip M. Long", "Gábor Lugosi", "Alexander Tsigler"),
)


def test_a_journal_doi_is_news_once_and_a_withdrawal_says_so(store: Store) -> None:
    def week_of(paper: Paper, version: int) -> list[PaperCluster]:
        return cluster_items([arxiv_item(paper, version)], {paper.arxiv_id or "": paper}, source_names=NAMES)

    assert send_week(store, "2026-W45", week_of(BENIGN, 1)) == (["arxiv:1906.11300"], [])
    journal = Paper(
        key=BENIGN.key,
        title=BENIGN.title,
        arxiv_id=BENIGN.arxiv_id,
        authors=BENIGN.authors,
        doi="10.1073/pnas.1907378117",
        journal_ref="Proc. Natl. Acad. Sci. U.S.A. 117 (48) 30063-30070 (2020)",
    )
    _, updated = send_week(store, "2026-W46", week_of(journal, 2))
    assert updated == [
        (
            "arxiv:1906.11300",
            "updated to v2 (was v1 on 2026-W45); journal version: Proc. Natl. Acad. Sci. U.S.A. 117 (48) "
            "30063-30070 (2020), doi:10.1073/pnas.1907378117",
        )
    ]
    # the DOI was sent with v2: a v3 is an update, not journal news again
    assert send_week(store, "2026-W47", week_of(journal, 3))[1] == [
        ("arxiv:1906.11300", "updated to v3 (was v2 on 2026-W46)")
    ]
    withdrawn = Paper(
        key=BENIGN.key,
        title=BENIGN.title,
        arxiv_id=BENIGN.arxiv_id,
        doi=journal.doi,
        comment="This paper has been withdrawn by the authors",
    )
    assert send_week(store, "2026-W48", week_of(withdrawn, 4))[1] == [
        ("arxiv:1906.11300", "withdrawn in v4 (was v3 on 2026-W47)")
    ]


PDLT = Paper(
    key="arxiv:2106.10165",
    title="The Principles of Deep Learning Theory",
    arxiv_id="2106.10165",
    authors=("Daniel A. Roberts", "Sho Yaida", "Boris Hanin"),
)
# v2 took the book's subtitle
PDLT_BOOK_TITLE = (
    "The Principles of Deep Learning Theory: An Effective Theory Approach to Understanding Neural Networks"
)


def published(store: Store, week: str, paper: Paper, version: int) -> list[tuple[str, str]]:
    """One week of `paper` at `version` as publish_week does it: split against the ledger, then
    record every paper shown under its key and aliases. Returns the (key, reason) of the updates."""
    clusters = cluster_items([arxiv_item(paper, version)], {paper.arxiv_id or "": paper}, source_names=NAMES)
    history = load_history(store, [key for c in clusters for key in history_keys(c)])
    new, updated = split_by_novelty(clusters, history, week)
    record_week(store, week, [e for c in new + [c for c, _ in updated] for e in ledger_entries(c, week)])
    return [(c.paper.key, reason.english()) for c, reason in updated]


def test_a_retitled_version_says_which_title_readers_were_sent(store: Store) -> None:
    assert published(store, "2026-W45", PDLT, 1) == []
    assert load_history(store, [PDLT.key])[PDLT.key][0].title == PDLT.title

    retitled = replace(PDLT, title=PDLT_BOOK_TITLE)
    assert published(store, "2026-W46", retitled, 2) == [
        (
            PDLT.key,
            'updated to v2 (was v1 on 2026-W45), retitled (was: "The Principles of Deep Learning Theory")',
        )
    ]
    # the ledger now holds the title this week's readers got, under the key and the title alias
    history = load_history(store, [PDLT.key, "alias:title:" + " ".join(PDLT_BOOK_TITLE.lower().split())])
    assert [(e.week, e.version, e.title) for e in history[PDLT.key]] == [
        ("2026-W45", 1, PDLT.title),
        ("2026-W46", 2, PDLT_BOOK_TITLE),
    ]
    # a v3 that only changes the capitalisation and punctuation of the title is no retitle
    recased = replace(PDLT, title=PDLT_BOOK_TITLE.lower().replace(":", " -"))
    assert published(store, "2026-W47", recased, 3) == [(PDLT.key, "updated to v3 (was v2 on 2026-W46)")]


def test_a_rerun_of_the_week_records_the_title_of_the_rerun(store: Store) -> None:
    record_week(store, "2026-W45", [ledger_entry(PaperCluster(paper=PDLT), "2026-W45")])
    retitled = PaperCluster(paper=replace(PDLT, title=PDLT_BOOK_TITLE))
    record_week(store, "2026-W45", [ledger_entry(retitled, "2026-W45")])
    assert [e.title for e in load_history(store, [PDLT.key])[PDLT.key]] == [PDLT_BOOK_TITLE]


def test_rows_sent_before_the_ledger_kept_titles_claim_no_retitle(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = open_store(url, migrate_to="0003")  # the release before sent_ledger.title
    with old.begin() as conn:
        conn.execute(
            sent_ledger.insert(),
            [
                {
                    "paper_key": PDLT.key,
                    "week": "2026-W45",
                    "version": 1,
                    "source_ids": ["arxiv-rss"],
                    "langs": ["en"],
                    "section": "new",
                    "created_at": dt.datetime(2026, 11, 9, 7, tzinfo=dt.UTC),
                }
            ],
        )
    old.close()
    store = open_store(url)
    try:
        assert load_history(store, [PDLT.key])[PDLT.key][0].title is None
        assert published(store, "2026-W46", replace(PDLT, title=PDLT_BOOK_TITLE), 2) == [
            (PDLT.key, "updated to v2 (was v1 on 2026-W45)")
        ]
    finally:
        store.close()


def test_a_changed_title_alone_brings_no_paper_back() -> None:
    # arXiv changes a title only with a version; a same-version row with other wording
    # (e.g. what a mention called it) is no news
    history = {PDLT.key: [LedgerEntry(PDLT.key, "2026-W45", 1, ("arxiv-rss",), ("en",), PDLT_BOOK_TITLE)]}
    assert split_by_novelty(week_clusters(arxiv_item(PDLT, 1)), history, "2026-W46") == ([], [])


def test_a_withdrawal_that_retitles_says_both() -> None:
    history = {PDLT.key: [LedgerEntry(PDLT.key, "2026-W45", 1, ("arxiv-rss",), ("en",), PDLT.title)]}
    withdrawn = replace(PDLT, title="Withdrawn", comment="This paper has been withdrawn by the authors")
    clusters = cluster_items([arxiv_item(withdrawn, 2)], {"2106.10165": withdrawn}, source_names=NAMES)
    _, updated = split_by_novelty(clusters, history, "2026-W46")
    assert [reason.english() for _, reason in updated] == [
        'withdrawn in v2 (was v1 on 2026-W45), retitled (was: "The Principles of Deep Learning Theory")'
    ]


@pytest.mark.parametrize(
    ("sent", "now"),
    [
        ("The Principles of Deep Learning Theory", "the principles of  deep-learning theory."),
        (r"Rates of $O(1/\sqrt{m})$ for $\ell_2$ loss", "Rates of O(1/√m) for ℓ₂ Loss"),
        (r"Wide networks in the $\mu$P limit", "Wide Networks in the μP Limit"),
        ("Neural Tangent Kernel: Convergence and Generalization in Neural Networks", NTK.title + " (v2)"),
    ],
)
def test_the_same_title_written_otherwise_is_no_retitle(sent: str, now: str) -> None:
    assert retitled_from(now, sent) is None


def test_retitled_from_gives_the_sent_title_as_one_line() -> None:
    assert retitled_from(PDLT_BOOK_TITLE, "The Principles of\n  Deep Learning Theory") == PDLT.title
    assert retitled_from(PDLT_BOOK_TITLE, None) is None  # a row written before the ledger kept titles
    assert retitled_from(PDLT_BOOK_TITLE, "") is None


def test_a_reason_keeps_each_part_apart_however_names_and_titles_are_written() -> None:
    # a source name holding " and " and ", ", an old title holding what once split a reason
    old_title = 'Why "flat"; journal version: minima generalize'
    names = {**NAMES, "notes": "Notes · Theory, and practice"}
    history = {PDLT.key: [LedgerEntry(PDLT.key, "2026-W45", 1, ("arxiv-rss",), ("en",), old_title)]}
    journal = replace(PDLT, doi="10.1073/pnas.1907378117", journal_ref="JMLR 24")
    listed = Item(
        source_id="notes",
        kind=ItemKind.MENTION,
        title=PDLT.title,
        arxiv_id=PDLT.arxiv_id,
        lang="en",
        url="https://notes.example.org/reading",
    )
    clusters = cluster_items(
        [arxiv_item(journal, 2), zhihu_item(journal), listed], {"2106.10165": journal}, source_names=names
    )
    _, [(_, reason)] = split_by_novelty(clusters, history, "2026-W46")
    assert reason == UpdateReason(
        version_change=VersionChange(new=2, old=1, week="2026-W45", old_title=old_title),
        journal=JournalVersion(doi="10.1073/pnas.1907378117", venue="JMLR 24"),
        discussed_on=(Place("Notes · Theory, and practice", "en"), Place("Zhihu", "zh")),
    )
    assert reason.english() == (
        f'updated to v2 (was v1 on 2026-W45), retitled (was: "{old_title}"); '
        "journal version: JMLR 24, doi:10.1073/pnas.1907378117; "
        'newly discussed on "Notes · Theory, and practice" and Zhihu (zh)'
    )
    # nothing changed: no reason at all
    assert update_reason(clusters[0], [e for c in clusters for e in ledger_entries(c, "2026-W46")]) is None


# --- papers sent before, recognised under other words (`sent_candidates`, `match_sent`) --------

PDLT = Paper(
    key="arxiv:2106.10165",
    title="The Principles of Deep Learning Theory",
    arxiv_id="2106.10165",
    version=1,
    authors=("Daniel A. Roberts", "Sho Yaida", "Boris Hanin"),
    published=dt.datetime(2021, 6, 18, tzinfo=dt.UTC),
)


def test_sent_arxiv_papers_are_candidates_a_translated_mention_joins() -> None:
    sent = [
        SentPaper(key="arxiv:2106.10165", week="2026-W44", title=PDLT.title, paper=PDLT),
        SentPaper(key="arxiv:1806.07572", week="2026-W44", title=NTK.title),  # no stored metadata
        SentPaper(key="title:some reading list entry", week="2026-W44", title="Some reading list entry"),
    ]
    candidates = sent_candidates(sent)
    assert candidates["2106.10165"] is PDLT
    assert candidates["1806.07572"] == Paper(
        key="arxiv:1806.07572", title=NTK.title, arxiv_id="1806.07572", url="https://arxiv.org/abs/1806.07572"
    )
    assert set(candidates) == {"2106.10165", "1806.07572"}
    mention = Item(
        source_id="zhihu",
        kind=ItemKind.MENTION,
        title="深度学习理论原理",
        title_en="Principles of deep learning theory",
        lang="zh",
        url="https://zhuanlan.zhihu.com/p/1",
    )
    # only the paper a sighting names becomes a cluster
    [cluster] = cluster_items([mention], candidates, source_names=NAMES)
    assert cluster.paper is PDLT


def test_a_paper_sent_as_a_title_only_mention_is_matched_when_arxiv_lists_it() -> None:
    [listed] = cluster_items([arxiv_item(PDLT, 3)], {"2106.10165": PDLT}, source_names=NAMES)
    sent = [
        SentPaper(
            key="title:principles of deep learning theory",
            week="2026-W44",
            title="Principles of deep learning theory",
        ),
        # a sent arXiv paper is `sent_candidates`' (an arXiv id is never matched by content)
        SentPaper(key="arxiv:1806.07572", week="2026-W44", title=NTK.title),
    ]
    sent_as = match_sent([listed], sent)
    assert sent_as == {"arxiv:2106.10165": ("title:principles of deep learning theory",)}

    zhihu = Sighting(
        source_id="zhihu",
        source_name="Zhihu",
        url="https://zhuanlan.zhihu.com/p/1",
        lang="zh",
        kind=ItemKind.MENTION,
    )
    earlier = LedgerEntry(
        "title:principles of deep learning theory",
        "2026-W44",
        None,
        ("zhihu",),
        ("zh",),
        "Principles of deep learning theory",
    )
    history = {earlier.paper_key: [earlier]}
    assert split_by_novelty([listed], history, "2026-W47") == ([listed], [])  # exact keys only: new again
    assert split_by_novelty([listed], history, "2026-W47", sent_as=sent_as) == ([], [])  # nothing new
    discussed = replace(
        listed, sightings=(*listed.sightings, replace(zhihu, source_id="zhihu-2", source_name="Zhihu 2"))
    )
    new, updated = split_by_novelty([discussed], history, "2026-W47", sent_as=sent_as)
    assert new == [] and [r.discussed_on for _, r in updated] == [(Place("Zhihu 2", "zh"),)]


def test_a_new_paper_whose_title_starts_like_a_sent_mentions_is_not_taken_for_it() -> None:
    eigen = Paper(
        key="arxiv:2110.03922",
        title="Neural Tangent Kernel Eigenvalues Accurately Predict Generalization",
        arxiv_id="2110.03922",
        authors=("James B. Simon", "Madeline Dickens", "Michael R. DeWeese"),
        published=dt.datetime(2021, 10, 8, tzinfo=dt.UTC),
    )
    clusters = cluster_items([arxiv_item(eigen, 1)], {"2110.03922": eigen}, source_names=NAMES)
    sent = [SentPaper(key="title:neural tangent kernel", week="2026-W44", title="Neural Tangent Kernel")]
    sent += [SentPaper(key="doi:10.5555/3327757.3327948", week="2026-W40", title=NTK.title)]
    assert match_sent(clusters, sent) == {}


def test_a_title_key_sent_before_titles_were_kept_is_matched_by_the_title_it_spells() -> None:
    old = SentPaper(key="title:the principles of deep learning theory|2021|1", week="2025-W50", title=None)
    assert old.shown_title == "the principles of deep learning theory" and old.arxiv_id is None
    [listed] = cluster_items([arxiv_item(PDLT, 1)], {"2106.10165": PDLT}, source_names=NAMES)
    assert match_sent([listed], [old]) == {"arxiv:2106.10165": (old.key,)}


def test_two_of_the_weeks_papers_never_become_one_through_a_sent_paper() -> None:
    sent = [
        SentPaper(
            key="title:principles of deep learning theory",
            week="2026-W44",
            title="Principles of deep learning theory",
        )
    ]
    [listed] = cluster_items([arxiv_item(PDLT, 1)], {"2106.10165": PDLT}, source_names=NAMES)
    # the same words on another page this week, kept apart by the clustering (another year)
    other = PaperCluster(
        paper=Paper(key="title:the principles of deep learning theory|2026|1", title=PDLT.title),
        sightings=(),
        versions=(),
        item_keys=("notes|x",),
    )
    matched = match_sent([listed, other], sent)
    assert len([k for k, v in matched.items() if v]) == 1


def test_a_citation_sent_first_with_its_preprint_tail_is_matched_when_arxiv_lists_the_paper() -> None:
    [listed] = cluster_items([arxiv_item(PDLT, 1)], {"2106.10165": PDLT}, source_names=NAMES)
    sent = [
        SentPaper(
            key="title:the principles of deep learning theory arxiv preprint",
            week="2026-W44",
            title="The principles of deep learning theory. arXiv preprint",
        )
    ]
    assert match_sent([listed], sent) == {"arxiv:2106.10165": (sent[0].key,)}


def test_a_book_version_a_year_after_a_sent_preprint_is_its_journal_version(store: Store) -> None:
    week1 = cluster_items([arxiv_item(PDLT, 1)], {"2106.10165": PDLT}, source_names=NAMES)
    record_week(store, "2026-W10", [e for c in week1 for e in ledger_entries(c, "2026-W10")])
    # the book adds a subtitle to the preprint's title and carries its own DOI and year
    book = Item(
        source_id="crossref",
        kind=ItemKind.PAPER,
        title=PDLT_BOOK_TITLE,
        doi="10.1017/9781009023405",
        url="https://doi.org/10.1017/9781009023405",
        authors=PDLT.authors,
        published=dt.datetime(2022, 5, 26, tzinfo=dt.UTC),
    )
    sent = [SentPaper(key="arxiv:2106.10165", week="2026-W10", title=PDLT.title, paper=PDLT)]
    wanted = sent_paper_filter([book])
    week2 = cluster_items([book], sent_candidates([s for s in sent if wanted(s)]), source_names=NAMES)
    history = load_history(store, [k for c in week2 for k in history_keys(c)])
    new, updated = split_by_novelty(week2, history, "2026-W11", sent_as=match_sent(week2, sent))
    assert new == []
    assert [(c.paper.key, r.journal) for c, r in updated] == [
        ("arxiv:2106.10165", JournalVersion(doi="10.1017/9781009023405", venue=None))
    ]


# --- which sent papers a week's sightings are matched against (`sent_paper_filter`) ---------

TP4_V1 = "Feature Learning in Infinite-Width Neural Networks"
TP5 = "Tensor Programs V: Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer"


def _sent(key: str, title: str | None) -> SentPaper:
    return SentPaper(key=key, week="2026-W40", title=title)


def test_a_sent_arxiv_paper_is_a_candidate_only_when_an_id_less_sighting_shares_its_words() -> None:
    sightings = [
        arxiv_item(NTK, 1),  # a listing: it has its id, and names no other paper
        Item(
            "zhihu",
            ItemKind.MENTION,
            "深度学习理论原理",
            title_en="The principles of the theory of deep learning",  # translated, words reordered
            lang="zh",
        ),
        Item("blog", ItemKind.MENTION, "Tensor Programs V", lang="en"),  # shortened
        # the v3 title, with the series name the v1 title readers were sent did not have
        Item("notes", ItemKind.MENTION, "Tensor Programs IV: " + TP4_V1, lang="en"),
        Item("notes", ItemKind.MENTION, RETHINKING.title + ". arXiv preprint", lang="en"),
    ]
    wanted = sent_paper_filter(sightings)
    named = {
        "arxiv:2106.10165": PDLT.title,
        "arxiv:2203.03466": TP5,
        "arxiv:2011.14522": TP4_V1,
        "arxiv:1611.03530": RETHINKING.title,
    }
    for key, title in named.items():
        assert wanted(_sent(key, title)), title
    # sharing a word or two is not being the same title
    assert not wanted(_sent("arxiv:1806.07572", NTK.title))  # "neural networks"
    assert not wanted(_sent(DOUBLE_DESCENT.key, DOUBLE_DESCENT.title))  # "deep"
    # an arXiv paper sent before titles were kept has no words to find it by
    assert not wanted(_sent("arxiv:2106.10165", None))
    # the few sent papers without an arXiv id are always matched (`match_sent` wants them all)
    assert wanted(_sent("title:some reading list entry", "Some reading list entry"))
    assert wanted(_sent("doi:10.5555/3327757.3327948", NTK.title))


def test_with_no_sighting_lacking_an_arxiv_id_no_sent_arxiv_paper_is_a_candidate() -> None:
    wanted = sent_paper_filter([arxiv_item(NTK, 2), arxiv_item(RETHINKING, 1)])
    assert not wanted(_sent("arxiv:1806.07572", NTK.title))
    assert wanted(_sent("title:principles of deep learning theory", "Principles of deep learning theory"))


def test_a_generic_mention_inside_many_sent_titles_does_not_make_them_all_candidates() -> None:
    # "neural networks" is in most of the week's titles: a mention saying only that is no title
    listings = [
        Item("arxiv-rss", ItemKind.PAPER, f"Paper {n} on neural networks", arxiv_id=f"2611.0000{n}")
        for n in range(6)
    ]
    wanted = sent_paper_filter([*listings, Item("blog", ItemKind.MENTION, "Neural networks", lang="en")])
    assert not wanted(_sent("arxiv:2011.14522", TP4_V1))
    # the same words as a whole title still are one
    assert wanted(_sent("arxiv:1000.00001", "Neural Networks"))


def test_the_filtered_candidates_keep_a_translated_mention_on_the_sent_paper() -> None:
    mention = Item(
        "zhihu",
        ItemKind.MENTION,
        "深度学习理论原理",
        title_en="Principles of deep learning theory",
        lang="zh",
    )
    sent = [
        SentPaper(key="arxiv:2106.10165", week="2026-W44", title=PDLT.title, paper=PDLT),
        SentPaper(key="arxiv:1806.07572", week="2026-W44", title=NTK.title, paper=NTK),
    ]
    kept = [s for s in sent if sent_paper_filter([mention])(s)]
    assert [s.key for s in kept] == ["arxiv:2106.10165"]
    [cluster] = cluster_items([mention], sent_candidates(kept), source_names=NAMES)
    assert cluster.paper is PDLT


# --- Chinese aggregators listing arXiv papers are community coverage -------------------------


@pytest.mark.parametrize(
    ("source_id", "fixture", "url"),
    [
        (
            "papers-cool-lg",
            "papers_cool_cs.LG_2021-06-21.html",
            "https://papers.cool/arxiv/cs.LG?date=2021-06-21",
        ),
        ("arxivdaily-lg", "arxivdaily_thread.html", "https://www.arxivdaily.com/thread/43210"),
    ],
)
def test_a_chinese_aggregators_listing_of_a_sent_paper_makes_it_newly_discussed(
    fixtures_dir: Path, source_id: str, fixture: str, url: str
) -> None:
    """papers.cool and arxivdaily items are PAPER items linking to arxiv.org: only their language
    makes them people's coverage rather than arXiv's own listing."""
    from dltheory_digest.identity.novelty import is_community_sighting
    from dltheory_digest.sources import REGISTRY

    kind = source_id.rsplit("-", 1)[0].replace("-", "_")
    parsed = REGISTRY[kind].parse_bytes(
        (fixtures_dir / "sources" / fixture).read_bytes(), url=url, source_id=source_id
    )
    listed = next(i for i in parsed.items if i.arxiv_id == "2106.10165")
    assert (listed.kind, listed.lang) == (ItemKind.PAPER, "zh")
    assert (listed.url or "").startswith("https://arxiv.org/")
    names = {**NAMES, source_id: "Aggregator"}
    [sent] = cluster_items([arxiv_item(PDLT, 1)], {"2106.10165": PDLT}, source_names=names)
    history = {sent.paper.key: [ledger_entry(sent, "2026-W44")]}
    [again] = cluster_items([arxiv_item(PDLT, 1), listed], {"2106.10165": PDLT}, source_names=names)
    [sighting] = [s for s in again.sightings if s.source_id == source_id]
    assert is_community_sighting(sighting)
    assert not is_community_sighting(replace(sighting, lang="en"))  # an English arXiv mirror is not
    new, updated = split_by_novelty([again], history, "2026-W47")
    assert new == [] and [r.discussed_on for _, r in updated] == [(Place("Aggregator", "zh"),)]
