from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select

from dltheory_digest.store import Store, head_revision, open_store, upsert
from dltheory_digest.store.schema import cursors, papers, translations


def test_new_store_is_at_the_latest_revision(store: Store) -> None:
    assert store.revision() == head_revision()


def test_upgrade_keeps_existing_rows(store_url: str) -> None:
    """A store written by the first release is upgraded in place, its rows kept."""
    old = open_store(store_url, migrate_to="0001")
    assert old.revision() == "0001"
    stamp = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)
    with old.begin() as conn:
        conn.execute(
            insert(papers),
            [
                {
                    "key": "arxiv:1806.07572",
                    "arxiv_id": "1806.07572",
                    "title": "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
                    "authors": ["Arthur Jacot", "Franck Gabriel", "Clément Hongler"],
                    "abstract": "",
                    "categories": ["cs.LG"],
                    "latest_version": 4,
                    "first_seen": stamp,
                    "last_seen": stamp,
                }
            ],
        )
        conn.execute(
            insert(cursors), [{"source_id": "offconvex", "state": {"etag": "x"}, "updated_at": stamp}]
        )
    old.close()

    upgraded = open_store(store_url)
    assert upgraded.revision() == head_revision()
    with upgraded.begin() as conn:
        row = conn.execute(select(papers).where(papers.c.key == "arxiv:1806.07572")).mappings().one()
        assert row["authors"] == ["Arthur Jacot", "Franck Gabriel", "Clément Hongler"]
        assert row["latest_version"] == 4
        assert conn.execute(select(cursors.c.state)).scalar() == {"etag": "x"}
        assert conn.execute(select(func.count()).select_from(translations)).scalar() == 0  # new table exists
    upgraded.close()


def test_upsert_updates_and_never_duplicates(store: Store) -> None:
    stamp = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)
    row = {"source_id": "a", "state": {"n": "1"}, "updated_at": stamp}
    with store.begin() as conn:
        upsert(conn, cursors, [row], ["source_id"])
        upsert(conn, cursors, [{**row, "state": {"n": "2"}}], ["source_id"])
        upsert(conn, cursors, [{**row, "state": {"n": "3"}}], ["source_id"], update=[])  # do nothing
    with store.begin() as conn:
        rows = conn.execute(select(cursors.c.state)).all()
    assert [r.state for r in rows] == [{"n": "2"}]
