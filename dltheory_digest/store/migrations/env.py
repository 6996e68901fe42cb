"""Alembic environment: runs on the connection the store hands over (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from dltheory_digest.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    raise RuntimeError("dltheory-digest migrations run through dltheory_digest.store.open_store()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
)
with context.begin_transaction():
    context.run_migrations()
