"""The sent-ledger on SQLite and PostgreSQL (the `store` fixture runs each test on both)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from dltheory_digest.identity import LedgerEntry, cluster_items, history_keys, ledger_entries
from dltheory_digest.identity.novelty import SentPaper
from dltheory_digest.models import ITEM_KEY_LENGTH, Item, ItemKind, Paper, PaperCluster
from dltheory_digest.store import Store, save_papers
from dltheory_digest.store.ledger import load_history, record_week, sent_papers


def test_a_paper_known_only_by_a_very_long_title_is_recorded_and_recognized(store: Store) -> None:
    # a notes page's "title" can be a whole paragraph: its title key must still fit the column
    title = "On the implicit bias of gradient descent in deep linear networks " * 9
    mention = Item("notes", ItemKind.MENTION, title.strip(), url="https://notes.example.org/list")
    [cluster] = cluster_items([mention], {})
    entries = ledger_entries(cluster, "2026-W46")
    assert all(len(e.paper_key) <= ITEM_KEY_LENGTH for e in entries)
    record_week(store, "2026-W46", entries)

    [again] = cluster_items([mention], {})
    keys = history_keys(again)
    assert all(len(k) <= ITEM_KEY_LENGTH for k in keys)
    history = load_history(store, keys)
    assert {e.week for entries in history.values() for e in entries} == {"2026-W46"}


def test_the_papers_sent_in_a_span_of_weeks_come_once_each_with_their_last_title_and_metadata(
    store: Store,
) -> None:
    pdlt = Paper(
        key="arxiv:2106.10165",
        title="The Principles of Deep Learning Theory",
        arxiv_id="2106.10165",
        version=1,
        authors=("Daniel A. Roberts", "Sho Yaida", "Boris Hanin"),
        published=dt.datetime(2021, 6, 18, tzinfo=dt.UTC),
    )
    save_papers(store, [pdlt])
    ntk = "Neural Tangent Kernel: Convergence and Generalization in Neural Networks"
    mention = Item("zhihu", ItemKind.MENTION, "Deep Double Descent: Where Bigger Models and More Data Hurt")
    [mention_cluster] = cluster_items([mention], {})

    def entry(key: str, week: str, title: str | None) -> LedgerEntry:
        return LedgerEntry(key, week, 1, ("arxiv",), ("en",), title)

    record_week(store, "2025-W40", [entry("arxiv:1806.07572", "2025-W40", ntk)])  # before the span
    record_week(
        store, "2026-W40", [entry("arxiv:2106.10165", "2026-W40", "Principles of Deep Learning Theory")]
    )
    # under its key and its title alias: the alias is not another paper
    sent_pdlt = PaperCluster(paper=pdlt, sightings=(), versions=(1,), item_keys=())
    record_week(store, "2026-W44", ledger_entries(sent_pdlt, "2026-W44"))
    record_week(store, "2026-W45", ledger_entries(mention_cluster, "2026-W45"))  # the key and its alias
    record_week(store, "2026-W46", [entry("arxiv:1806.07572", "2026-W46", ntk)])  # a partial digest
    record_week(store, "2026-W47", [entry("title:a paper of this week", "2026-W47", "A paper of this week")])

    sent = sent_papers(store, since="2025-W47", before="2026-W47", skip_weeks={"2026-W46"})
    assert load_history(store, ["alias:title:the principles of deep learning theory"])  # recorded
    assert [(s.key, s.week, s.title) for s in sent] == [
        ("arxiv:2106.10165", "2026-W44", pdlt.title),
        (mention_cluster.paper.key, "2026-W45", mention.title),
    ]
    assert sent[0].paper == pdlt  # the store's arXiv metadata, joined
    assert sent[1].paper is None and sent[1].arxiv_id is None and sent[0].arxiv_id == "2106.10165"
    assert sent_papers(store, since="2026-W48", before="2026-W50") == []


def test_only_the_sent_papers_wanted_come_back_judged_by_the_title_readers_saw_last(store: Store) -> None:
    ntk = Paper(
        key="arxiv:1806.07572",
        title="Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        arxiv_id="1806.07572",
        version=2,
    )
    save_papers(store, [ntk])
    record_week(store, "2026-W40", [LedgerEntry(ntk.key, "2026-W40", 1, ("arxiv",), ("en",), "NTK draft")])
    record_week(store, "2026-W44", [LedgerEntry(ntk.key, "2026-W44", 2, ("arxiv",), ("en",), ntk.title)])
    other = LedgerEntry("arxiv:2106.10165", "2026-W44", 1, ("arxiv",), ("en",), "Another paper")
    record_week(store, "2026-W45", [replace(other, week="2026-W45")])
    mention = LedgerEntry("title:ntk notes", "2026-W45", None, ("zhihu",), ("zh",), "NTK notes")
    record_week(store, "2026-W45", [mention])
    asked: list[tuple[str, str, str | None]] = []

    def wanted(sent: SentPaper) -> bool:
        asked.append((sent.key, sent.week, sent.title))
        return sent.key != "arxiv:2106.10165"

    got = sent_papers(store, since="2026-W01", before="2026-W47", wanted=wanted)
    # each key asked once, with its last week and title
    assert sorted(asked) == [
        ("arxiv:1806.07572", "2026-W44", ntk.title),
        ("arxiv:2106.10165", "2026-W45", "Another paper"),
        ("title:ntk notes", "2026-W45", "NTK notes"),
    ]
    assert [(s.key, s.paper) for s in got] == [(ntk.key, ntk), ("title:ntk notes", None)]
