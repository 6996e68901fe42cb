"""Item.key: one stable key per sighting, short enough for the store's columns."""

from __future__ import annotations

import pytest
from sqlalchemy import String

from dltheory_digest.models import ITEM_KEY_LENGTH, Item, ItemKind
from dltheory_digest.store.schema import items, week_items

ZHIHU = "https://zhuanlan.zhihu.com/p/1"


def test_the_store_columns_hold_any_item_key() -> None:
    for column in (items.c.item_key, week_items.c.item_key):
        assert isinstance(column.type, String) and column.type.length == ITEM_KEY_LENGTH


@pytest.mark.parametrize(
    ("item", "key"),
    [
        # keys already in stores: unchanged
        (Item("s", ItemKind.PAPER, "NTK", arxiv_id="1806.07572"), "arxiv:1806.07572"),
        (
            Item("s", ItemKind.MENTION, "Deep  Learning Theory", url=ZHIHU),
            f"mention:{ZHIHU}|deep learning theory",
        ),
        (Item("s", ItemKind.POST, "A post", url=ZHIHU), f"url:{ZHIHU}"),
        (Item("s", ItemKind.OTHER, "A Course"), "title:a course"),
    ],
)
def test_short_keys_are_what_they_always_were(item: Item, key: str) -> None:
    assert item.key == key


def test_a_key_of_exactly_the_column_length_is_kept_whole() -> None:
    url = "https://example.org/" + "a" * (ITEM_KEY_LENGTH - len("url:https://example.org/"))
    item = Item("s", ItemKind.POST, "Post", url=url)
    assert item.key == f"url:{url}" and len(item.key) == ITEM_KEY_LENGTH


@pytest.mark.parametrize("kind", [ItemKind.MENTION, ItemKind.POST, ItemKind.OTHER])
def test_a_longer_key_keeps_its_prefix_and_start_and_ends_in_a_hash_of_the_whole(kind: ItemKind) -> None:
    # a tracking-laden link: two of them differ only after the first 512 characters
    base = "https://example.org/read?" + "utm_content=" + "x" * 600
    first = Item("s", kind, "A title " * 80, url=f"{base}&id=1")
    second = Item("s", kind, "A title " * 80, url=f"{base}&id=2")
    assert len(first.key) == ITEM_KEY_LENGTH
    assert first.key.startswith(
        "mention:https://example.org/" if kind is ItemKind.MENTION else "url:https://"
    )
    assert first.key[:100] == second.key[:100] and first.key != second.key
    assert first.key == Item("s", kind, "A title " * 80, url=f"{base}&id=1").key  # stable across runs


def test_a_long_title_without_a_link_is_keyed_within_the_column_too() -> None:
    item = Item("s", ItemKind.OTHER, "Lecture notes on deep learning theory " * 20)
    assert len(item.key) == ITEM_KEY_LENGTH and item.key.startswith("title:lecture notes on deep learning")
