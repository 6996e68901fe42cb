"""Store tests run on a SQLite file and, when DLTHEORY_TEST_POSTGRES_URL is set (CI), on PostgreSQL too."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dltheory_digest.store import Store, open_store

POSTGRES = os.environ.get("DLTHEORY_TEST_POSTGRES_URL")


def _fresh_postgres_db() -> str:
    """A new empty database on the test server for one test."""
    assert POSTGRES
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}"


def _skip_without_postgres() -> None:
    if not POSTGRES:
        pytest.skip(
            "PostgreSQL store tests run when DLTHEORY_TEST_POSTGRES_URL is set (.ci/run starts a server)"
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    _skip_without_postgres()
    return _fresh_postgres_db()


@pytest.fixture
def postgres_url() -> str:
    """A new empty database, for what only PostgreSQL does (connect retries, lock_timeout)."""
    _skip_without_postgres()
    return _fresh_postgres_db()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()
