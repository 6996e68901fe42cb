"""The translation cache contract; `store.translations.StoreTranslationCache` keeps it in the store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol


class CacheKey(NamedTuple):
    """What a translation depends on: the exact text the model saw, the pair and the model."""

    text_hash: str  # sha256 of the prepared source text
    from_code: str
    to_code: str
    model: str  # "argos zh→en"
    model_version: str  # the package version


class CacheEntry(NamedTuple):
    key: CacheKey
    source_text: str
    translated: str


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TranslationCache(Protocol):
    def get_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, str]:
        """The cached translations among `keys` (missing keys are absent)."""
        ...

    def put_many(self, entries: Sequence[CacheEntry]) -> None:
        """Remember translations; an existing key keeps its first translation."""
        ...


class MemoryTranslationCache:
    """A cache for one process (the CLI without a store, tests of the protocol)."""

    def __init__(self, entries: Iterable[CacheEntry] = ()) -> None:
        self._data: dict[CacheKey, str] = {e.key: e.translated for e in entries}

    def get_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, str]:
        return {k: self._data[k] for k in keys if k in self._data}

    def put_many(self, entries: Sequence[CacheEntry]) -> None:
        for entry in entries:
            self._data.setdefault(entry.key, entry.translated)

    def __len__(self) -> int:
        return len(self._data)
