"""Opening the store: engine, migrations to the latest schema, portable upserts."""

from __future__ import annotations

import errno
import glob
import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicError
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

from dltheory_digest.errors import StoreError
from dltheory_digest.redaction import redact_url

MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upgrade:
    """An existing store migrated to a newer schema: an older dltheory-digest refuses it from now
    on, so a SQLite file is first copied aside (`backup`); PostgreSQL is the operator's to back up."""

    from_revision: str
    to_revision: str
    backup: Path | None = None
    # copies earlier upgrades left beside the store, removed once this one succeeded: each is
    # as large as the store, and only the newest is worth going back to
    removed: tuple[Path, ...] = ()

    def message(self) -> str:
        done = f"store upgraded {self.from_revision} → {self.to_revision}"
        if self.backup is not None:
            older = (
                f" ({len(self.removed)} older cop{'y' if len(self.removed) == 1 else 'ies'} removed)"
                if self.removed
                else ""
            )
            return f"{done}; the previous file is kept at {self.backup}{older}"
        # said after the fact: the advice is for the next release, not this upgrade
        return (
            f"{done} in place; no copy was made (for PostgreSQL, run pg_dump before installing a new release)"
        )


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


class Store:
    """A database holding everything the pipeline saw; SQLite by default, PostgreSQL by URL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.upgraded: Upgrade | None = None  # set by `migrate` when it upgraded an existing store

    @property
    def url(self) -> str:
        return shown_url(self.engine.url)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self, revision: str = "head") -> Upgrade | None:
        """Upgrade the schema in place; existing rows are kept. One process migrates at a time
        and a migration is all or nothing, so two runs starting on a new store (or after an
        upgrade) cannot both create the tables, and a killed one leaves no half-made schema.

        An existing store (not a new, empty one) is an `Upgrade`, also kept in `upgraded`: a
        SQLite file is copied aside first, and a copy that cannot be made leaves it untouched."""
        script = ScriptDirectory(str(MIGRATIONS))
        target = script.get_current_head() if revision == "head" else revision
        current = self.revision()
        _check_known(script, current)
        if current == target:  # the usual case: no lock taken
            return None
        with self.engine.begin() as conn:
            backup: Path | None = None
            if conn.dialect.name == "sqlite":
                # pysqlite runs DDL outside any transaction: open one that holds the write lock
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            # read again under the lock: another process may have upgraded it meanwhile
            current = MigrationContext.configure(conn).get_current_revision()
            if current == target:
                return None
            database = self.engine.url.database
            if (
                current is not None
                and conn.dialect.name == "sqlite"
                and database not in (None, "", ":memory:")
            ):
                backup = _backup_sqlite(Path(str(database)), current)
            command.upgrade(_alembic_config(conn), revision)
        if current is None or target is None:  # a new store is created without a word
            return None
        removed = _remove_older_backups(Path(str(database)), backup) if backup is not None else ()
        self.upgraded = Upgrade(current, target, backup, removed)
        return self.upgraded

    def close(self) -> None:
        self.engine.dispose()


_MIGRATION_LOCK = 0x646C7468  # PostgreSQL advisory lock key of the schema migration ("dlth")


def backup_path(path: Path, revision: str) -> Path:
    """`store.sqlite.0003.bak` beside the store, or `.0003.2.bak`, ... : never an existing file."""
    candidate = path.with_name(f"{path.name}.{revision}.bak")
    number = 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.{revision}.{number}.bak")
    return candidate


def backups_of(path: Path) -> list[Path]:
    """The copies upgrades made of the SQLite store at `path` (named by `backup_path`, and
    SQLite files: another file of such a name is not one), oldest first."""
    # only the revision-named copies `backup_path` writes: an operator's own `.mine.bak` stays
    name = re.compile(re.escape(path.name) + r"\.\d{4}(?:\.\d+)?\.bak")
    found = [
        p
        for p in path.parent.glob(f"{glob.escape(path.name)}.*.bak")
        if name.fullmatch(p.name) and _is_sqlite_file(p)
    ]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def _is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _remove_older_backups(store: Path, kept: Path) -> tuple[Path, ...]:
    """Remove the copies earlier upgrades left beside `store`, all but `kept` (this upgrade's);
    one that cannot be removed stays, and is named in the log."""
    removed = []
    for older in backups_of(store):
        if older == kept:
            continue
        try:
            older.unlink()
        except OSError as exc:
            log.warning("could not remove the old copy of the store %s: %s", older, exc)
            continue
        removed.append(older)
    return tuple(removed)


def _backup_sqlite(path: Path, revision: str) -> Path:
    """Copy the store with SQLite's online backup (consistent while other processes read it), as
    a single file (no -wal beside it). Called while the migration holds the write lock, from a
    connection of its own: the locking one cannot be the source of a backup."""
    target = backup_path(path, revision)
    source = sqlite3.connect(path)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    except (sqlite3.Error, OSError) as exc:
        with suppress(OSError):  # a partial copy is no copy
            target.unlink(missing_ok=True)
        raise StoreError(
            f"cannot keep a copy of it at {target} before upgrading it from {revision} ({exc}); "
            "the store is left as it was"
        ) from None
    finally:
        source.close()
    return target


def _check_known(script: ScriptDirectory, current: str | None) -> None:
    """A revision this version does not know was written by a newer dltheory-digest."""
    if current is None:
        return
    try:
        script.get_revision(current)
    except AlembicError:
        raise StoreError(
            f"schema version {current} was written by a newer dltheory-digest (this one knows up to "
            f"{script.get_current_head()}): upgrade dltheory-digest, or point store_url elsewhere"
        ) from None


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def shown_url(url: URL) -> str:
    """The store's URL as shown to people: its password hidden, also one given as a query
    parameter (`?password=`, `?sslpassword=`), as the fetch layer hides a source's."""
    return redact_url(url.render_as_string(hide_password=False), keep_user=True)


# PostgreSQL's defaults for waiting are "for ever": a server that accepts the connection and then
# says nothing, or a session holding a lock (a psql left in a transaction, a pg_dump, a
# migration's ALTER TABLE) would hold a run until its 5 h limit. SQLite gives up after 30 s
# (busy_timeout); so does a lock wait here. Whatever sets either wins: the URL, PGCONNECT_TIMEOUT,
# PGOPTIONS, a libpq service file, ALTER ROLE/DATABASE ... SET, postgresql.conf. No
# statement_timeout: prune and a busy week's build take tens of seconds.
CONNECT_TIMEOUT = 10  # seconds
LOCK_TIMEOUT = "30s"


def _postgresql_connect_args(url: URL) -> dict[str, Any]:
    """`connect_args` for psycopg: the URL's query is the driver's too, and connect_args
    override it and a service file alike, so connect_timeout is added only where nothing else
    may set it. (`options` is never passed: it would replace a service file's, e.g. its
    search_path, and the store would look empty; the lock timeout is set once connected.)"""
    query = {name.lower() for name in url.query}
    others = ("connect_timeout", "service")
    if query.intersection(others) or os.environ.get("PGCONNECT_TIMEOUT") or os.environ.get("PGSERVICE"):
        return {}
    return {"connect_timeout": CONNECT_TIMEOUT}


def _default_lock_timeout(dbapi_connection: Any, _record: Any) -> None:
    """A `connect` hook: the lock timeout where nothing set it (its source is PostgreSQL's
    default), so a lock_timeout of 0 set on purpose is kept too."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, false) FROM pg_settings "
            "WHERE name = 'lock_timeout' AND source = 'default'",
            (LOCK_TIMEOUT,),
        )
    dbapi_connection.commit()  # a SET rolled back with its transaction is undone


# The seconds waited before each new attempt at a connection PostgreSQL refused for now: about
# 15 s in all, what a restart, a failover or a minor upgrade takes.
CONNECT_WAITS = (1.0, 2.0, 4.0, 8.0)
# SQLSTATEs of a server that cannot take connections for now: cannot_connect_now (starting up,
# shutting down, in recovery), admin_shutdown, crash_shutdown; and class 08, connection exceptions
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03"})
# libpq reports a refused connection without its SQLSTATE: then the server's words tell
_UNAVAILABLE_WORDS = ("the database system is",)
# A host name that does not resolve (a typo, a removed DNS entry; psycopg's words, then libpq's)
# is not a restart: waiting 15 s would only say "cannot connect for now" where it cannot at all
_UNRESOLVED_HOST_WORDS = ("failed to resolve host", "could not translate host name")
# ...unless the resolver itself gave up for now (EAI_AGAIN: its DNS server did not answer in
# time: glibc and BSD say "Temporary failure in name resolution", musl "Try again"), which the
# next lookup may well answer
_RESOLVER_BUSY_WORDS = ("temporary failure in name resolution", "try again")


def _server_unavailable(exc: Exception) -> bool:
    """Whether a failed connect is one a server restarting or failing over gives: no server
    listening ("Connection refused"), or one that is starting up or shutting down, or a DNS
    server that did not answer in time. A server that answered with any other refusal (a wrong
    password, no such database), or that did not answer within connect_timeout, or whose host
    name does not resolve, gives the same answer on the next attempt."""
    state = getattr(exc, "sqlstate", None)
    if state:
        return state in _UNAVAILABLE_STATES or state.startswith("08")
    detail = str(exc)
    if "FATAL:" in detail:  # the server answered, and refused
        return any(words in detail for words in _UNAVAILABLE_WORDS)
    if any(words in detail for words in _UNRESOLVED_HOST_WORDS):
        return any(words in detail.lower() for words in _RESOLVER_BUSY_WORDS)
    return "timeout expired" not in detail


def _retrying_connect(waits: tuple[float, ...], where: str) -> Callable[..., Any]:
    """A `do_connect` hook that tries a connection again after each of `waits` while the server
    is unavailable (`_server_unavailable`). Only the connect is retried: no statement ran on it
    yet, so nothing is done twice; a statement that fails is never tried again here."""

    def do_connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        for attempt, wait in enumerate((*waits, None), start=1):
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.loaded_dbapi.OperationalError as exc:
                if wait is None or not _server_unavailable(exc):
                    raise
                first_line = " ".join(str(exc).split("\n")[0].split())
                log.warning(
                    "%s: cannot connect for now (%s); trying again in %g s (attempt %d of %d)",
                    where,
                    first_line,
                    wait,
                    attempt + 1,
                    len(waits) + 1,
                )
                time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns or raises

    return do_connect


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # concurrent writers wait instead of failing
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def open_store(
    url: str,
    *,
    migrate_to: str | None = "head",
    on_upgrade: Callable[[Upgrade], None] | None = None,
    connect_waits: Sequence[float] = CONNECT_WAITS,
) -> Store:
    """Open (and create or upgrade) the store at `url`.

    `migrate_to=None` opens without migrating (tests of upgrades use an older revision).
    `connect_waits`: the seconds waited before each new attempt at a PostgreSQL connection the
    server refused for now (`CONNECT_WAITS`).
    An existing store that was upgraded is said once: to `on_upgrade` (the CLI prints it), else
    as a warning in the log. A store that cannot be opened or migrated is one line of
    `StoreError` saying why.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a host or port that does not parse
        # not echoed: a URL that does not parse may still hold a password
        raise StoreError(
            "the store: not a database URL (sqlite:///PATH or postgresql+psycopg://...)"
        ) from None
    database = parsed.database if parsed.get_backend_name() == "sqlite" else None
    shown = database if database not in (None, "", ":memory:") else None
    where = f"the store {shown}" if shown else f"the store at {shown_url(parsed)}"
    try:
        if shown:
            _check_writable(Path(shown))
        postgres = parsed.get_backend_name() == "postgresql"
        connect_args = _postgresql_connect_args(parsed) if postgres else {}
        engine = create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        elif postgres:
            event.listen(engine, "do_connect", _retrying_connect(tuple(connect_waits), where))
            event.listen(engine, "connect", _default_lock_timeout)
        store = Store(engine)
        if migrate_to is not None:
            upgrade = store.migrate(migrate_to)
            if upgrade is not None and on_upgrade is not None:
                on_upgrade(upgrade)
            elif upgrade is not None:
                log.warning("%s", upgrade.message())
        return store
    except StoreError as exc:
        raise StoreError(f"{where}: {exc}") from None
    except FileExistsError as exc:  # a file where a directory of its path should be
        raise StoreError(f"{where}: {exc.filename} is a file, not a directory") from exc
    except OSError as exc:  # its directory cannot be made
        raise StoreError(
            f"{where}: cannot create its directory {exc.filename or Path(str(shown)).parent}: "
            f"{exc.strerror or exc}"
        ) from exc
    except SQLAlchemyError as exc:
        if shown and Path(shown).is_dir():
            raise StoreError(f"{where}: is a directory, not a SQLite file") from exc
        raise StoreError(f"{where}: {store_problem(exc)}") from exc


def _check_writable(path: Path) -> None:
    """Every run writes to the store: a read-only file or directory is refused when it is opened,
    not at the first write in the middle of a run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and not os.access(path, os.W_OK):
        raise StoreError("the file is read-only: the store needs to write to it")
    if not os.access(path.parent, os.W_OK):  # SQLite keeps its journal (-wal, -shm) beside the file
        raise StoreError(f"its directory {path.parent} is not writable (SQLite writes its journal there)")


# SQLite's words for a file it cannot use, and what the operator can do about each
_SQLITE_PROBLEMS = {
    "file is not a database": "not a SQLite database (store_url or data_dir names another file?)",
    "database disk image is malformed": (
        "the file is damaged (database disk image is malformed): restore a backup, or move it "
        "away to start an empty store"
    ),
    "unable to open database file": (
        "cannot open or create the file: is its directory writable, and is it not a directory?"
    ),
    "attempt to write a readonly database": "the file is read-only: the store needs to write to it",
    "readonly database": "the file is read-only: the store needs to write to it",
    "database is locked": "locked by another process for over 30 s (another run?)",
    "already exists": "the database holds tables of another program, not a dltheory-digest store",
}


# Store failures no retry mends: the operator has to act (free the disk, fix the permissions,
# restore the file). "database is locked" is not among them: another run lets go of it.
_LASTING_PROBLEMS = (
    "database or disk is full",
    "readonly database",
    "file is not a database",
    "database disk image is malformed",
    "unable to open database file",
)
_LASTING_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT})


def lasting_failure(exc: BaseException) -> bool:
    """Whether `exc` is a full disk, a read-only file or a damaged store: retrying the task that
    raised it would only repeat its traceback."""
    if isinstance(exc, OSError) and exc.errno in _LASTING_ERRNOS:
        return True
    if isinstance(exc, SQLAlchemyError):
        detail = str(getattr(exc, "orig", None) or exc)
        return any(words in detail for words in _LASTING_PROBLEMS)
    return False


# PostgreSQL's lock_not_available: a lock wait past lock_timeout, SQLite's "database is locked"
_LOCK_NOT_AVAILABLE = "55P03"
# What passes on PostgreSQL, by SQLSTATE: a lock wait past lock_timeout; a deadlock or a
# serialization failure, where PostgreSQL's own advice is to run the transaction again (class 40
# but for 40002, a constraint, which fails again); too_many_connections, slots another run holds
# not 40003 (statement completion unknown): the commit may have happened, and a second run of
# the step would be a second write
_MOMENTARY_STATES = frozenset({_LOCK_NOT_AVAILABLE, "40001", "40P01", "53300"})
# At connect libpq gives no SQLSTATE: too_many_connections' words, for all slots, the
# superusers' reserve, a role's or a database's connection limit
_TOO_MANY_CONNECTIONS_WORDS = (
    "too many clients already",
    "remaining connection slots are reserved",
    "too many connections for",
)
# SQLite's words for a writer that waited out busy_timeout behind another process
_SQLITE_BUSY_WORDS = ("database is locked", "database is busy", "database table is locked")


def momentary_failure(exc: BaseException) -> bool:
    """Whether a statement failed on what passes: a connection lost or refused for now, a lock
    another session held past the lock timeout, a deadlock or serialization failure, all
    connection slots taken. Not a schema error ("no such table"), a bad statement or a lasting
    failure (`lasting_failure`), which fail the same way again."""
    if not isinstance(exc, DBAPIError) or lasting_failure(exc):
        return False
    if exc.connection_invalidated:
        return True
    if isinstance(exc.orig, sqlite3.Error):  # sqlite3 raises its schema errors as OperationalError
        return any(words in str(exc.orig) for words in _SQLITE_BUSY_WORDS)
    if getattr(exc.orig, "sqlstate", None) in _MOMENTARY_STATES:
        return True
    if not isinstance(exc, OperationalError) or not isinstance(exc.orig, Exception):
        return False
    if any(words in str(exc.orig) for words in _TOO_MANY_CONNECTIONS_WORDS):
        return True
    # SQLSTATE class 08 or 57P01-57P03, libpq's words for a server not taking connections, a
    # resolver that gave up for now
    return _server_unavailable(exc.orig)


def store_problem(exc: SQLAlchemyError) -> str:
    """The driver's complaint on one line (no SQL, no link to SQLAlchemy's docs), explained when
    it is one an operator can act on."""
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == _LOCK_NOT_AVAILABLE:
        return _SQLITE_PROBLEMS["database is locked"]
    detail = " ".join(str(getattr(exc, "orig", None) or exc).split("\n")[0].split())
    for words, explanation in _SQLITE_PROBLEMS.items():
        if words in detail:
            return explanation
    return detail


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    where: Callable[[Any, Any], Any] | None = None,
) -> None:
    """INSERT .. ON CONFLICT (keys) DO UPDATE (or DO NOTHING when `update` is empty).

    `where(table, excluded)` makes the update conditional inside the same statement
    (e.g. only a newer version replaces a row), so concurrent writers cannot race.

    Portable between SQLite and PostgreSQL, so several workers writing the same rows
    neither duplicate nor lose them, nor deadlock (the rows are written in key order).
    """
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - only the two supported back-ends
        raise StoreError(f"unsupported database dialect {dialect!r}")
    columns = update if update is not None else [c for c in rows[0] if c not in keys]
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: getattr(stmt.excluded, c) for c in columns},
            where=where(table, stmt.excluded) if where is not None else None,
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    # rows go in key order: PostgreSQL locks each row it upserts, and two runs writing the same
    # rows in different orders (a feed's newest-first, a week read back by key) deadlock
    ordered = sorted(rows, key=lambda row: tuple(_sortable(row[k]) for k in keys))
    conn.execute(stmt, [dict(r) for r in ordered])


def _sortable(value: Any) -> tuple[bool, Any]:
    """A key value that sorts whatever it is: None first, then values of one column's type."""
    return (value is not None, value if value is not None else 0)
