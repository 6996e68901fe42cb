"""Opening the store: engine, migrations to the latest schema, portable upserts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dltheory_digest.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


class Store:
    """A database holding everything the pipeline saw; SQLite by default, PostgreSQL by URL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema in place; existing rows are kept."""
        with self.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), revision)

    def close(self) -> None:
        self.engine.dispose()


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # concurrent writers wait instead of failing
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def open_store(url: str, *, migrate_to: str | None = "head") -> Store:
    """Open (and create or upgrade) the store at `url`.

    `migrate_to=None` opens without migrating (tests of upgrades use an older revision).
    """
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = Store(engine)
        if migrate_to is not None:
            store.migrate(migrate_to)
        return store
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot open the store at {make_url(url).render_as_string(hide_password=True)}: {exc}"
        ) from exc


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
    neither duplicate nor lose them.
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
    conn.execute(stmt, [dict(r) for r in rows])
