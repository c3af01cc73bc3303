"""Alembic's environment: migrations run on the connection that assistant.storage.database hands over."""

from __future__ import annotations

from alembic import context

from assistant.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through assistant.storage.database.migrate (python -m assistant.storage upgrade)")
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
