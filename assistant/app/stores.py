"""Where the app's own stores live: SQLite files under data_dir, or the database in ASSISTANT_DATABASE_URL.

Each store module has one factory that picks by settings (`feedback.open_feedback`,
`conversations.open_conversations`, `users.account_store`, `sessions.session_store_for`);
this module holds what they and the pages share.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from assistant.storage.database import DatabaseUnavailable

# What a store may raise when its file or database cannot be used right now (the pages catch these).
STORE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, OSError, SQLAlchemyError, DatabaseUnavailable)


def database_url(settings) -> str | None:  # noqa: ANN001 - a Settings
    """The PostgreSQL URL the stores use, or None for SQLite files under data_dir."""
    return settings.database_url.get_secret_value() if settings.database_url is not None else None


def location(settings, path: Path) -> str:  # noqa: ANN001 - a Settings
    """What a cached store is keyed by: the database URL when set, else the store's own file."""
    return database_url(settings) or str(path)
