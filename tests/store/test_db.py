from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Boolean, DateTime, column, func, insert, inspect, select, table, text

from dltheory_digest.errors import StoreError
from dltheory_digest.identity.novelty import LedgerEntry
from dltheory_digest.store import Store, Upgrade, head_revision, open_store, upsert
from dltheory_digest.store.db import _alembic_config, _postgresql_connect_args
from dltheory_digest.store.ledger import load_history, record_week
from dltheory_digest.store.schema import cursors, digests, papers, sent_ledger, translations


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


# --- a store the operator cannot use is one line saying why ---------------------------------


def _open_error(url: str) -> str:
    with pytest.raises(StoreError) as info:
        open_store(url)
    message = str(info.value)
    assert "\n" not in message and "sqlalche.me" not in message
    return message


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 50, encoding="utf-8")
    assert _open_error(f"sqlite:///{path}") == (
        f"the store {path}: not a SQLite database (store_url or data_dir names another file?)"
    )


def test_a_url_that_does_not_parse_is_a_store_error_that_hides_it() -> None:
    for url in ("postgresql+psycopg://digest:s3cret@[::1", "digest:s3cret"):
        with pytest.raises(StoreError) as caught:
            open_store(url)
        assert (
            str(caught.value) == "the store: not a database URL (sqlite:///PATH or postgresql+psycopg://...)"
        )


def test_a_damaged_store(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    open_store(f"sqlite:///{path}").close()
    data = bytearray(path.read_bytes())
    for at in range(200, len(data), 7):  # scribble over the pages, keep SQLite's header
        data[at] = 0xAB
    path.write_bytes(bytes(data))
    assert _open_error(f"sqlite:///{path}").startswith(
        f"the store {path}: the file is damaged (database disk image is malformed)"
    )


def test_a_store_of_a_newer_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    newer = open_store(url)
    with newer.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_later'"))
    newer.close()
    assert _open_error(url) == (
        f"the store {tmp_path / 'store.sqlite'}: schema version 0099_later was written by a newer "
        f"dltheory-digest (this one knows up to {head_revision()}): upgrade dltheory-digest, or "
        "point store_url elsewhere"
    )


def test_a_database_of_another_program(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE papers (title TEXT)")
    assert _open_error(f"sqlite:///{path}") == (
        f"the store {path}: the database holds tables of another program, not a dltheory-digest store"
    )


def test_a_store_path_through_a_file_or_onto_a_directory(tmp_path: Path) -> None:
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x", encoding="utf-8")
    assert _open_error(f"sqlite:///{a_file / 'store.sqlite'}") == (
        f"the store {a_file / 'store.sqlite'}: {a_file} is a file, not a directory"
    )
    assert _open_error(f"sqlite:///{tmp_path}") == f"the store {tmp_path}: is a directory, not a SQLite file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only files")
def test_a_read_only_store_is_refused_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    open_store(f"sqlite:///{path}").close()
    path.chmod(0o444)
    assert _open_error(f"sqlite:///{path}") == (
        f"the store {path}: the file is read-only: the store needs to write to it"
    )
    path.chmod(0o644)
    tmp_path.chmod(0o555)
    try:
        assert _open_error(f"sqlite:///{path}").startswith(
            f"the store {path}: its directory {tmp_path} is not writable"
        )
    finally:
        tmp_path.chmod(0o755)


def test_a_path_with_spaces_and_unicode(tmp_path: Path) -> None:
    path = tmp_path / "my digests" / "数据 ü" / "store.sqlite"
    store = open_store(f"sqlite:///{path}")
    assert store.revision() == head_revision() and path.is_file()
    store.close()


def test_an_older_store_is_upgraded_at_once_and_an_upgraded_one_is_left_alone(store_url: str) -> None:
    open_store(store_url, migrate_to="0002").close()
    store = open_store(store_url)
    assert store.revision() == head_revision()
    store.close()
    again = open_store(store_url)  # at the head: nothing to migrate
    assert again.revision() == head_revision()
    again.close()


def _sent_ledger_columns(store: Store) -> dict[str, bool]:
    """Column name -> nullable, as the database itself reports the table."""
    return {c["name"]: c["nullable"] for c in inspect(store.engine).get_columns("sent_ledger")}


def test_the_sent_ledger_gains_a_title_and_keeps_its_rows(store_url: str) -> None:
    """A store with a sent-ledger written before 0004 is upgraded in place: its rows stay, with no
    title (nothing was recorded), and new rows carry the title sent."""
    old = open_store(store_url, migrate_to="0003")
    stamp = dt.datetime(2026, 11, 9, 7, tzinfo=dt.UTC)
    rows = [
        {
            "paper_key": "arxiv:2106.10165",
            "week": "2026-W45",
            "version": 1,
            "source_ids": ["arxiv-rss", "zhihu"],
            "langs": ["en", "zh"],
            "section": "new",
            "created_at": stamp,
        },
        {
            "paper_key": "alias:title:the principles of deep learning theory",
            "week": "2026-W45",
            "version": 1,
            "source_ids": ["arxiv-rss"],
            "langs": ["en"],
            "section": "new",
            "created_at": stamp,
        },
    ]
    with old.begin() as conn:
        conn.execute(insert(sent_ledger), rows)
    assert "title" not in _sent_ledger_columns(old)
    old.close()

    upgraded = open_store(store_url)
    try:
        assert upgraded.revision() == head_revision()
        assert _sent_ledger_columns(upgraded)["title"] is True  # nullable
        history = load_history(upgraded, [str(r["paper_key"]) for r in rows])
        assert history["arxiv:2106.10165"] == [
            LedgerEntry("arxiv:2106.10165", "2026-W45", 1, ("arxiv-rss", "zhihu"), ("en", "zh"), None)
        ]
        assert history["alias:title:the principles of deep learning theory"][0].title is None
        book = "The Principles of Deep Learning Theory: An Effective Theory Approach to Understanding Neural Networks"
        record_week(
            upgraded,
            "2026-W46",
            [LedgerEntry("arxiv:2106.10165", "2026-W46", 2, ("arxiv-rss",), ("en",), book)],
        )
        assert [
            (e.week, e.title) for e in load_history(upgraded, ["arxiv:2106.10165"])["arxiv:2106.10165"]
        ] == [
            ("2026-W45", None),
            ("2026-W46", book),
        ]
        with upgraded.begin() as conn:
            # the week index survived the upgrade (week lookups of `weeks_sent`)
            assert "ix_sent_ledger_week" in {i["name"] for i in inspect(conn).get_indexes("sent_ledger")}
    finally:
        upgraded.close()


def test_the_sent_ledger_title_can_be_downgraded_keeping_the_rows(store_url: str) -> None:
    store = open_store(store_url)
    record_week(
        store,
        "2026-W45",
        [
            LedgerEntry(
                "arxiv:2106.10165",
                "2026-W45",
                1,
                ("arxiv-rss",),
                ("en",),
                "The Principles of Deep Learning Theory",
            )
        ],
    )
    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0003")
    try:
        assert store.revision() == "0003" and "title" not in _sent_ledger_columns(store)
        with store.begin() as conn:
            assert conn.execute(
                select(text("paper_key, version")).select_from(text("sent_ledger"))
            ).all() == [("arxiv:2106.10165", 1)]
    finally:
        store.close()


def test_digests_gain_their_week_end_from_the_json_they_keep(store_url: str) -> None:
    """0006 fills `window_end` of older rows from their digest JSON; a row without one (or with
    JSON that has none) stays NULL and is judged as before."""
    old = open_store(store_url, migrate_to="0005")
    stamp = dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)
    base = {"markdown": "# W\n", "path": None, "paper_keys": [], "report": [], "created_at": stamp}
    with old.begin() as conn:
        conn.execute(
            insert(digests),
            [
                {
                    **base,
                    "week": "2026-W47",
                    "edition": "default",
                    "published": True,
                    "data": '{"week": "2026-W47", "window_end": "2026-11-23T00:00:00-08:00"}',
                },
                {**base, "week": "2026-W46", "edition": "default", "published": None, "data": None},
                {**base, "week": "2026-W45", "edition": "default", "published": True, "data": "{}"},
            ],
        )
    old.close()

    upgraded = open_store(store_url)
    try:
        with upgraded.begin() as conn:
            ends = dict(conn.execute(select(digests.c.week, digests.c.window_end)).all())
        assert ends["2026-W46"] is None and ends["2026-W45"] is None
        assert ends["2026-W47"].replace(tzinfo=dt.UTC) == dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC)
    finally:
        upgraded.close()


def test_a_store_gains_the_crossref_records_table_and_can_drop_it(store_url: str) -> None:
    """0007 adds `doi_records` to a store at 0006 (its rows kept); a downgrade drops the table."""
    from dltheory_digest.models import DoiRecord, Paper
    from dltheory_digest.store.records import load_doi_records, save_doi_records

    old = open_store(store_url, migrate_to="0006")
    stamp = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)
    row = {"key": "arxiv:hep-th/9711200", "arxiv_id": "hep-th/9711200", "title": "The Large N Limit"}
    with old.begin() as conn:
        conn.execute(insert(papers), [{**row, "authors": [], "first_seen": stamp, "last_seen": stamp}])
    assert "doi_records" not in inspect(old.engine).get_table_names()
    old.close()

    upgraded = open_store(store_url)
    try:
        assert upgraded.revision() == head_revision()
        assert "doi_records" in inspect(upgraded.engine).get_table_names()
        with upgraded.begin() as conn:
            assert conn.execute(select(papers.c.title)).scalar() == "The Large N Limit"
        doi = "10.4310/atmp.1998.v2.n2.a1"
        record = DoiRecord(
            doi, Paper(f"doi:{doi}", "The Large N Limit", doi=doi, url=f"https://doi.org/{doi}")
        )
        save_doi_records(upgraded, [record])
        assert load_doi_records(upgraded, [doi])[doi].paper == record.paper
        with upgraded.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0006")
        assert upgraded.revision() == "0006"
        assert "doi_records" not in inspect(upgraded.engine).get_table_names()
    finally:
        upgraded.close()


def test_unusable_fetches_gain_a_column_marked_from_their_error_and_misses_a_table(store_url: str) -> None:
    """0008 adds `fetches.unusable`, set on the rows a store at 0007 marked by their error text
    only (so `sources check` reads them as before), and the `title_misses` table; a downgrade
    to 0007 removes both and keeps the fetches."""
    from dltheory_digest.store.records import last_successes
    from dltheory_digest.store.schema import fetches

    # the table as 0001-0007 made it (schema.fetches has the column the store lacks yet)
    fetches_0007 = table(
        "fetches",
        *(column(name) for name in ("run_id", "source_id", "url", "status", "bytes", "elapsed_ms")),
        column("cache_hit", Boolean),
        column("error"),
        column("fetched_at", DateTime(timezone=True)),
    )
    old = open_store(store_url, migrate_to="0007")
    week1 = dt.datetime(2026, 11, 9, 8, tzinfo=dt.UTC)
    week2 = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)
    url = "https://notes.example/list"
    base = {"run_id": None, "bytes": 900, "elapsed_ms": 20.0, "cache_hit": False}
    rows = [
        {**base, "source_id": "notes", "url": url, "status": 200, "error": None, "fetched_at": week1},
        {**base, "source_id": "notes", "url": url, "status": 200, "error": None, "fetched_at": week2},
        # the marker 0001-0007 wrote after a page that did not parse: its error text only
        {
            **base,
            "source_id": "notes",
            "url": url,
            "status": 200,
            "error": "unusable response: no papers listed",
            "fetched_at": week2 + dt.timedelta(seconds=1),
        },
        {**base, "source_id": "blog", "url": url, "status": None, "error": "timeout", "fetched_at": week2},
    ]
    with old.begin() as conn:
        conn.execute(insert(fetches_0007), rows)
    assert "unusable" not in {c["name"] for c in inspect(old.engine).get_columns("fetches")}
    old.close()

    upgraded = open_store(store_url)
    try:
        assert upgraded.revision() == head_revision()
        with upgraded.begin() as conn:
            marked = conn.execute(select(fetches.c.error, fetches.c.unusable).order_by(fetches.c.id)).all()
        assert [bool(u) for _e, u in marked] == [False, False, True, False]
        assert last_successes(upgraded) == {"notes": week1}
        assert "title_misses" in inspect(upgraded.engine).get_table_names()
        with upgraded.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0007")
        assert upgraded.revision() == "0007"
        assert "title_misses" not in inspect(upgraded.engine).get_table_names()
        assert "unusable" not in {c["name"] for c in inspect(upgraded.engine).get_columns("fetches")}
        with upgraded.begin() as conn:
            assert conn.execute(select(func.count()).select_from(text("fetches"))).scalar() == 4
    finally:
        upgraded.close()


def _an_old_store(path: Path, revision: str = "0003") -> None:
    """A store as an older release left it: migrated only to `revision`, with a row in it."""
    old = open_store(f"sqlite:///{path}", migrate_to=revision)
    with old.begin() as conn:
        conn.execute(
            insert(cursors),
            [
                {
                    "source_id": "offconvex",
                    "state": {"etag": "x"},
                    "updated_at": dt.datetime(2026, 11, 16, tzinfo=dt.UTC),
                }
            ],
        )
    old.close()


def test_upgrading_an_existing_sqlite_store_keeps_a_copy_at_the_old_revision_and_says_so(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.sqlite"
    _an_old_store(path)
    said: list[Upgrade] = []
    store = open_store(f"sqlite:///{path}", on_upgrade=said.append)
    store.close()
    backup = tmp_path / "store.sqlite.0003.bak"
    assert said == [Upgrade("0003", head_revision(), backup)]
    assert (
        said[0].message() == f"store upgraded 0003 → {head_revision()}; the previous file is kept at {backup}"
    )
    # the copy is a whole store at the old revision, in one file (no -wal beside it)
    assert not Path(f"{backup}-wal").exists()
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [("0003",)]
        assert copy.execute("SELECT source_id FROM cursors").fetchall() == [("offconvex",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_an_upgrade_never_overwrites_an_earlier_copy(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    earlier = tmp_path / "store.sqlite.0003.bak"
    earlier.write_bytes(b"the operator's own copy")
    _an_old_store(path)
    said: list[Upgrade] = []
    open_store(f"sqlite:///{path}", on_upgrade=said.append).close()
    assert earlier.read_bytes() == b"the operator's own copy"
    assert said[0].backup == tmp_path / "store.sqlite.0003.2.bak" and said[0].backup.is_file()


def test_an_upgrade_keeps_only_its_own_copy_and_removes_those_of_earlier_upgrades(tmp_path: Path) -> None:
    """Each copy is as large as the store: a year of releases must not leave a year of copies."""
    path = tmp_path / "store.sqlite"
    _an_old_store(path)
    open_store(f"sqlite:///{path}", migrate_to="0005").close()  # an earlier release's upgrade
    first = tmp_path / "store.sqlite.0003.bak"
    assert first.is_file()
    theirs = tmp_path / "store.sqlite.0004.bak"
    theirs.write_bytes(b"not a SQLite file: not a copy an upgrade made")
    # the operator's own copy, a SQLite file too, named unlike the upgrades' copies
    mine = tmp_path / "store.sqlite.mine.bak"
    mine.write_bytes(first.read_bytes())
    said: list[Upgrade] = []
    open_store(f"sqlite:///{path}", on_upgrade=said.append).close()
    newest = tmp_path / "store.sqlite.0005.bak"
    assert said == [Upgrade("0005", head_revision(), newest, (first,))]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".bak")) == [
        "store.sqlite.0004.bak",
        "store.sqlite.0005.bak",
        "store.sqlite.mine.bak",
    ]
    assert said[0].message().endswith(f"the previous file is kept at {newest} (1 older copy removed)")
    with sqlite3.connect(newest) as copy:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [("0005",)]


def test_a_digest_is_stored_compressed_and_read_back_whole(tmp_path: Path) -> None:
    """A busy week's digest JSON is about 10 MB: kept deflated, read back as it was; a row an
    older release wrote plain reads as it is."""
    path = tmp_path / "store.sqlite"
    store = open_store(f"sqlite:///{path}")
    data = '{"week": "2026-W47", "below_threshold": [' + ", ".join(['{"title": "x"}'] * 5000) + "]}"
    with store.begin() as conn:
        row = {"edition": "default", "paper_keys": [], "report": [], "created_at": dt.datetime.now(dt.UTC)}
        conn.execute(insert(digests), [{**row, "week": "2026-W47", "markdown": "# W47\n", "data": data}])
        conn.exec_driver_sql(
            "INSERT INTO digests (week, edition, markdown, paper_keys, report, data, created_at) "
            "VALUES ('2026-W46', 'default', '# W46 plain', '[]', '[]', '{\"week\": \"2026-W46\"}', "
            "'2026-11-16 07:00:00')"
        )
        read = dict(conn.execute(select(digests.c.week, digests.c.data)).tuples().all())
        markdown = dict(conn.execute(select(digests.c.week, digests.c.markdown)).tuples().all())
    store.close()
    assert read == {"2026-W47": data, "2026-W46": '{"week": "2026-W46"}'}
    assert markdown == {"2026-W47": "# W47\n", "2026-W46": "# W46 plain"}
    with sqlite3.connect(path) as raw:
        stored = raw.execute("SELECT data FROM digests WHERE week = '2026-W47'").fetchone()[0]
    assert stored.startswith("zlib+base64:") and len(stored) < len(data) / 10


def test_a_new_store_and_one_at_the_head_are_opened_without_a_word_or_a_copy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "store.sqlite"
    said: list[Upgrade] = []
    open_store(f"sqlite:///{path}", on_upgrade=said.append).close()
    open_store(f"sqlite:///{path}", on_upgrade=said.append).close()
    assert said == [] and "upgraded" not in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".bak")) == []


def test_without_a_listener_the_upgrade_is_a_warning_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "store.sqlite"
    _an_old_store(path)
    with caplog.at_level("WARNING", logger="dltheory_digest.store.db"):
        open_store(f"sqlite:///{path}").close()
    assert f"store upgraded 0003 → {head_revision()}; the previous file is kept at" in caplog.text


def test_a_copy_that_cannot_be_made_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.sqlite"
    _an_old_store(path)
    # a place SQLite cannot write to, as a full or read-only disk would be
    nowhere = tmp_path / "no such directory" / "store.sqlite.0003.bak"
    monkeypatch.setattr("dltheory_digest.store.db.backup_path", lambda _path, _revision: nowhere)
    with pytest.raises(StoreError, match=r"cannot keep a copy of it at .*no such directory.* left as it was"):
        open_store(f"sqlite:///{path}")
    untouched = open_store(f"sqlite:///{path}", migrate_to=None)
    assert untouched.revision() == "0003"
    untouched.close()


def test_a_postgresql_upgrade_says_so_and_asks_for_a_backup() -> None:
    upgrade = Upgrade("0003", "0008")
    assert upgrade.message() == (
        "store upgraded 0003 → 0008 in place; no copy was made (for PostgreSQL, run pg_dump before "
        "installing a new release)"
    )


def test_a_full_disk_or_unusable_file_is_a_lasting_failure_and_a_lock_is_not(tmp_path: Path) -> None:
    import errno

    from sqlalchemy.exc import OperationalError

    from dltheory_digest.store.db import lasting_failure

    def raised_by_sqlite(message: str) -> OperationalError:
        return OperationalError("INSERT INTO items ...", {}, sqlite3.OperationalError(message))

    assert lasting_failure(raised_by_sqlite("database or disk is full"))
    assert lasting_failure(raised_by_sqlite("attempt to write a readonly database"))
    assert lasting_failure(OSError(errno.ENOSPC, "No space left on device"))
    assert not lasting_failure(raised_by_sqlite("database is locked"))  # another run lets go
    assert not lasting_failure(OSError(errno.ECONNRESET, "Connection reset by peer"))
    assert not lasting_failure(ValueError("a parser bug"))
    # a real read-only store file, as the driver reports it (root writes through file modes)
    path = tmp_path / "ro.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    readonly = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as failed:
        readonly.execute("INSERT INTO t VALUES (1)")
    readonly.close()
    assert lasting_failure(OperationalError("INSERT", {}, failed.value))


# --- PostgreSQL: a server restarting, a lock held elsewhere, a password in the query ----------


def _refused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting to it is refused at once."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_password_given_as_a_query_parameter_is_hidden_wherever_the_store_url_is_shown() -> None:
    from sqlalchemy import create_engine

    port = _refused_port()
    for url, shown in (
        (
            f"postgresql+psycopg://digest@127.0.0.1:{port}/db?password=S3cr3t",
            f"postgresql+psycopg://digest@127.0.0.1:{port}/db?password=REDACTED",
        ),
        (
            f"postgresql+psycopg://digest:S3cr3t@127.0.0.1:{port}/db?sslmode=require&sslpassword=S3cr3t",
            f"postgresql+psycopg://digest:REDACTED@127.0.0.1:{port}/db?sslmode=require&sslpassword=REDACTED",
        ),
        (  # libpq's keywords in the query, host and user too
            f"postgresql+psycopg:///db?host=127.0.0.1&port={port}&user=digest&password=S3cr3t",
            f"postgresql+psycopg:///db?host=127.0.0.1&password=REDACTED&port={port}&user=digest",
        ),
    ):
        assert Store(create_engine(url)).url == shown
        with pytest.raises(StoreError) as caught:
            open_store(url, connect_waits=())
        assert str(caught.value).startswith(f"the store at {shown}: ")
        assert "S3cr3t" not in str(caught.value)


def test_a_refused_connection_is_tried_again_after_each_wait(caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql+psycopg://digest@127.0.0.1:{_refused_port()}/db"
    with pytest.raises(StoreError) as caught:
        open_store(url, connect_waits=(0, 0))
    assert "Connection refused" in str(caught.value)
    retried = [r.getMessage() for r in caplog.records if "cannot connect for now" in r.getMessage()]
    assert [m.rpartition("(")[2] for m in retried] == ["attempt 2 of 3)", "attempt 3 of 3)"]


def test_only_a_server_restarting_or_failing_over_is_tried_again() -> None:
    from dltheory_digest.store.db import _server_unavailable

    class Refused(Exception):
        def __init__(self, message: str, sqlstate: str | None = None) -> None:
            super().__init__(message)
            self.sqlstate = sqlstate

    failed = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
    assert _server_unavailable(Refused(failed + "Connection refused"))
    assert _server_unavailable(Refused(failed + "FATAL:  the database system is shutting down"))
    assert _server_unavailable(Refused(failed + "FATAL:  the database system is starting up"))
    assert _server_unavailable(Refused("terminating connection", "57P01"))
    assert _server_unavailable(Refused("connection failure", "08006"))
    # the server answered and refused: the next attempt gets the same answer
    assert not _server_unavailable(Refused(failed + 'FATAL:  password authentication failed for user "d"'))
    assert not _server_unavailable(Refused(failed + 'FATAL:  database "nosuch" does not exist'))
    assert not _server_unavailable(Refused("invalid password", "28P01"))
    assert not _server_unavailable(Refused(failed + "timeout expired"))  # a hung server: 10 s each
    # a host name that does not resolve (psycopg's words, then libpq's) is not a restart
    assert not _server_unavailable(
        Refused("failed to resolve host 'store.invalid': [Errno -2] Name or service not known")
    )
    assert not _server_unavailable(
        Refused(
            failed + 'could not translate host name "store.invalid" to address: Name or service not known'
        )
    )
    assert not _server_unavailable(Refused("failed to resolve host 'db': [Errno -5] No address associated"))
    # ...but a DNS server that did not answer in time (EAI_AGAIN) may answer the next lookup
    assert _server_unavailable(
        Refused("failed to resolve host 'db.example': [Errno -3] Temporary failure in name resolution")
    )
    assert _server_unavailable(
        Refused(
            failed
            + 'could not translate host name "db.example" to address: Temporary failure in name resolution'
        )
    )
    # musl (Alpine images) words EAI_AGAIN "Try again"
    assert _server_unavailable(Refused("failed to resolve host 'db.example': [Errno -3] Try again"))


def test_a_store_whose_server_restarted_connects_again_once_it_takes_connections(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart kills the pooled connection, and the first new connect finds the server still
    starting up: the store connects on the next attempt. A statement is never tried again."""
    import psycopg
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    store = open_store(postgres_url, connect_waits=(0, 0))
    with store.begin() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}).scalar()
    admin.dispose()

    connect = psycopg.connect  # what SQLAlchemy's psycopg dialect calls
    attempts: list[str] = []

    def starting_up_once(*args: object, **kwargs: object) -> psycopg.Connection:
        attempts.append("connect")
        if len(attempts) == 1:
            raise psycopg.OperationalError("connection failed: FATAL:  the database system is starting up")
        return connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg, "connect", starting_up_once)
    with store.begin() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert attempts == ["connect", "connect"]

    # once a statement ran, a lost connection is the caller's failure: nothing is repeated
    with pytest.raises(OperationalError), store.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    assert attempts == ["connect", "connect"]
    store.close()


def test_a_connection_the_server_refuses_for_good_is_not_tried_again(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(postgres_url.rsplit("/", 1)[0] + "/no_such_database", connect_waits=(0, 0))
    assert 'database "no_such_database" does not exist' in str(caught.value)
    assert not [r for r in caplog.records if "cannot connect for now" in r.getMessage()]


def test_postgresql_waits_for_a_lock_as_long_as_sqlite_and_says_so_alike(postgres_url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from dltheory_digest.store.db import store_problem
    from dltheory_digest.store.deliveries import deliveries_of

    store = open_store(postgres_url)
    with store.begin() as conn:  # the defaults, where the URL sets neither
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "30s"
        assert conn.connection.dbapi_connection.info.get_parameters()["connect_timeout"] == "10"  # type: ignore[union-attr]
    store.close()

    # the URL's own setting wins (set low here, so the test does not wait 30 s)
    store = open_store(postgres_url + "?options=-c%20lock_timeout%3D200&connect_timeout=5")
    with store.begin() as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "200ms"
        assert conn.connection.dbapi_connection.info.get_parameters()["connect_timeout"] == "5"  # type: ignore[union-attr]
    holder = create_engine(postgres_url)
    with holder.begin() as locking:
        locking.execute(text("LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(OperationalError) as caught:
            deliveries_of(store, "2026-W47")
    holder.dispose()
    assert store_problem(caught.value) == "locked by another process for over 30 s (another run?)"
    store.close()


def test_a_deadlock_and_a_serialization_failure_are_momentary(postgres_url: str) -> None:
    """PostgreSQL's own advice for both is to run the transaction again, and the tasks that
    write the store are idempotent upserts."""
    import threading

    from sqlalchemy import Connection, create_engine
    from sqlalchemy.exc import OperationalError

    from dltheory_digest.store.db import momentary_failure

    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE rows (id int PRIMARY KEY, v int)"))
        conn.execute(text("INSERT INTO rows VALUES (1, 0), (2, 0)"))

    first, second = engine.connect(), engine.connect()
    first.execute(text("UPDATE rows SET v = 1 WHERE id = 1"))
    second.execute(text("UPDATE rows SET v = 1 WHERE id = 2"))
    waiting_pid = first.execute(text("SELECT pg_backend_pid()")).scalar()
    failures: list[OperationalError] = []

    def update(conn: Connection, row: int) -> None:
        try:
            conn.execute(text("UPDATE rows SET v = 2 WHERE id = :id"), {"id": row})
        except OperationalError as exc:
            failures.append(exc)
        conn.rollback()  # lets the other one through

    waiting = threading.Thread(target=update, args=(first, 2))
    waiting.start()
    with engine.connect() as watcher:  # the first one waits for row 2 before the second asks for row 1
        while not watcher.execute(
            text("SELECT 1 FROM pg_locks WHERE pid = :pid AND NOT granted"), {"pid": waiting_pid}
        ).first():
            threading.Event().wait(0.05)
    update(second, 1)
    waiting.join()
    assert [exc.orig.sqlstate for exc in failures] == ["40P01"]  # type: ignore[union-attr]
    assert momentary_failure(failures[0])

    # a serializable transaction that read a row another one changed before it wrote it
    first.execute(text("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"))
    first.execute(text("SELECT v FROM rows WHERE id = 1"))
    second.execute(text("UPDATE rows SET v = 3 WHERE id = 1"))
    second.commit()
    with pytest.raises(OperationalError) as caught:
        first.execute(text("UPDATE rows SET v = 4 WHERE id = 1"))
    assert caught.value.orig.sqlstate == "40001"  # type: ignore[union-attr]
    assert momentary_failure(caught.value)
    first.close()
    second.close()
    engine.dispose()


def test_a_libpq_service_file_keeps_its_options_and_the_lock_timeout_is_only_a_default(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service file's `options` (its search_path) and connect_timeout are the operator's: a
    store that overrode them would read and write `public`, look empty, and mail readers again."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    server = make_url(postgres_url)
    with create_engine(postgres_url).begin() as conn:
        conn.execute(text("CREATE SCHEMA digest_schema"))
    service = f"host={server.host}\nport={server.port}\nuser={server.username}\ndbname={server.database}\n"
    (tmp_path / "pg_service.conf").write_text(
        f"[digest]\n{service}options=-c search_path=digest_schema,public\nconnect_timeout=7\n"
        f"[patient]\n{service}options=-c lock_timeout=0\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(tmp_path / "pg_service.conf"))
    monkeypatch.delenv("PGSERVICE", raising=False)
    monkeypatch.delenv("PGOPTIONS", raising=False)

    store = open_store("postgresql+psycopg:///?service=digest")
    with store.begin() as conn:
        assert conn.execute(text("SHOW search_path")).scalar() == "digest_schema,public"
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "30s"
        assert conn.connection.dbapi_connection.info.get_parameters()["connect_timeout"] == "7"  # type: ignore[union-attr]
        tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = :schema"
        assert conn.execute(text(tables), {"schema": "digest_schema"}).scalar()
        assert conn.execute(text(tables), {"schema": "public"}).scalar() == 0
    store.close()

    # a lock_timeout set on purpose, even to 0 (wait for ever), is kept
    store = open_store("postgresql+psycopg:///?service=patient")
    with store.begin() as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "0"
    store.close()
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=250")
    store = open_store(postgres_url)
    with store.begin() as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "250ms"
    store.close()


def test_a_connect_timeout_is_added_only_where_nothing_else_may_set_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sqlalchemy.engine import make_url

    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    monkeypatch.delenv("PGSERVICE", raising=False)
    plain = make_url("postgresql+psycopg://digest@127.0.0.1/dltheory")
    assert _postgresql_connect_args(plain) == {"connect_timeout": 10}
    # the URL, libpq's environment or a service file (which may hold one) decides instead
    assert _postgresql_connect_args(make_url(f"{plain}?connect_timeout=3")) == {}
    assert _postgresql_connect_args(make_url(f"{plain}?service=digest")) == {}
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "5")
    assert _postgresql_connect_args(plain) == {}
    monkeypatch.delenv("PGCONNECT_TIMEOUT")
    monkeypatch.setenv("PGSERVICE", "digest")
    assert _postgresql_connect_args(plain) == {}
