"""Where the app's own stores live: SQLite files under data_dir, or the database in ASSISTANT_DATABASE_URL.

Each store module has one factory that picks by settings (`feedback.open_feedback`,
`conversations.open_conversations`, `users.account_store`, `sessions.session_store_for`);
this module holds what they and the pages share.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from assistant.storage.database import DatabaseUnavailable, connection, engine_for, shown

# What a store may raise when its file or database cannot be used right now (the pages catch these).
STORE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, OSError, SQLAlchemyError, DatabaseUnavailable)


def database_url(settings) -> str | None:  # noqa: ANN001 - a Settings
    """The PostgreSQL URL the stores use, or None for SQLite files under data_dir."""
    return settings.database_url.get_secret_value() if settings.database_url is not None else None


def location(settings, path: Path) -> str:  # noqa: ANN001 - a Settings
    """What a cached store is keyed by: the database URL when set, else the store's own file."""
    return database_url(settings) or str(path)


class RetainedRows:
    """What the PostgreSQL feedback and conversation stores share: the pooled engine of the URL, a transaction per
    call, and a retention period applied (`purge`, defined by each store) whenever a store is opened."""

    def __init__(self, url: str, retention_days: int) -> None:
        if retention_days <= 0:
            raise ValueError(f"retention_days must be > 0, got {retention_days}")
        self.url = url
        self.path = f"databasen {shown(url)}"  # where the rows are, for messages
        self.retention_days = retention_days
        self._engine = engine_for(url)
        self.purge()

    def purge(self, now=None) -> int:  # noqa: ANN001
        raise NotImplementedError

    def _conn(self):  # noqa: ANN202 - a context manager giving a Connection in a transaction
        return connection(self._engine, self.url)

    def close(self) -> None:
        """Nothing to close: the engine (one per process) is shared by the stores."""
