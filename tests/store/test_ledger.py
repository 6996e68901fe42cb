"""The sent-ledger on SQLite and PostgreSQL (the `store` fixture runs each test on both)."""

from __future__ import annotations

from dltheory_digest.identity import cluster_items, history_keys, ledger_entries
from dltheory_digest.models import ITEM_KEY_LENGTH, Item, ItemKind
from dltheory_digest.store import Store
from dltheory_digest.store.ledger import load_history, record_week


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
