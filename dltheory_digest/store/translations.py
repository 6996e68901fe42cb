"""The translation cache in the store's `translations` table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, or_, select

from dltheory_digest.language.cache import CacheEntry, CacheKey
from dltheory_digest.store.db import Store, upsert
from dltheory_digest.store.schema import translations

_KEY_COLUMNS = ("text_hash", "from_code", "to_code", "model", "model_version")
_CHUNK = 200  # keys per SELECT: keeps the OR-list well under SQLite's parameter limit


class StoreTranslationCache:
    """`TranslationCache` on the store: rerunning a week translates nothing new."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, str]:
        found: dict[CacheKey, str] = {}
        unique = list(dict.fromkeys(keys))
        with self.store.engine.connect() as conn:
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                condition = or_(
                    *(
                        and_(
                            *(
                                translations.c[col] == value
                                for col, value in zip(_KEY_COLUMNS, key, strict=True)
                            )
                        )
                        for key in chunk
                    )
                )
                for row in conn.execute(select(translations).where(condition)):
                    key = CacheKey(*(getattr(row, col) for col in _KEY_COLUMNS))
                    found[key] = row.translated
        return found

    def put_many(self, entries: Sequence[CacheEntry]) -> None:
        if not entries:
            return
        now = dt.datetime.now(dt.UTC)
        rows = {
            entry.key: {
                **dict(zip(_KEY_COLUMNS, entry.key, strict=True)),
                "source_text": entry.source_text,
                "translated": entry.translated,
                "created_at": now,
            }
            for entry in entries
        }
        with self.store.begin() as conn:
            upsert(conn, translations, list(rows.values()), keys=_KEY_COLUMNS, update=())
