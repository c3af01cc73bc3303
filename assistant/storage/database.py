"""The database named by ASSISTANT_DATABASE_URL: one engine (a connection pool) per process, migrated on first use.

Only PostgreSQL is supported here (`postgresql://user:password@host:5432/name`); unset, the stores use SQLite
files under data_dir as before. The schema is created and upgraded by Alembic (assistant/storage/migrations)
the first time a process connects, under a PostgreSQL advisory lock, so several app servers starting at once
migrate once. `python -m assistant.storage upgrade` does the same by hand (for a deployment step).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from assistant.errors import ConfigurationError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_lock keys (any two 32-bit numbers; the first says "Rätt frågor").
LOCK_SPACE = 0x52465247
MIGRATION_LOCK = 1
WRITE_LOCK = 2

_engines: dict[str, Engine] = {}
_engines_guard = threading.Lock()


class DatabaseUnavailable(ConfigurationError):
    """The database in ASSISTANT_DATABASE_URL cannot be reached or used."""


def normalise(url: str) -> str:
    """The URL with psycopg 3 as driver; ConfigurationError (Swedish) for anything but PostgreSQL."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise ConfigurationError(
            "ASSISTANT_DATABASE_URL är ingen giltig databasadress. Ange den som "
            "postgresql://användare:lösenord@värd:5432/databas, eller lämna den tom för SQLite-filer under data/."
        ) from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ConfigurationError(
            f"ASSISTANT_DATABASE_URL pekar på '{parsed.get_backend_name()}', men bara PostgreSQL stöds för delad "
            "lagring. Lämna inställningen tom för SQLite-filer under data/ (en server), eller ange "
            "postgresql://användare:lösenord@värd:5432/databas."
        )
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def shown(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    reason = str(getattr(exc, "orig", exc) or type(exc).__name__).strip().splitlines()[0][:300]
    return DatabaseUnavailable(
        f"Databasen {shown(url)} (ASSISTANT_DATABASE_URL) går inte att använda: {reason}. Kontrollera att "
        "PostgreSQL kör, att adressen, användaren och lösenordet stämmer och att databasen finns."
    )


def engine_for(url: str) -> Engine:
    """The process's engine for this URL, created and migrated on first use."""
    url = normalise(url)
    with _engines_guard:
        engine = _engines.get(url)
        if engine is None:
            try:
                # connect_timeout: a database host that drops packets fails a page in 10 s instead of hanging it
                engine = create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True, pool_timeout=60,
                                       connect_args={"connect_timeout": 10})
            except NoSuchModuleError as exc:
                raise unavailable(url, exc) from None
            try:
                migrate(engine)
            except DBAPIError as exc:
                engine.dispose()
                raise unavailable(url, exc) from None
            _engines[url] = engine
        return engine


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (once, whoever of several servers comes first)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:a, :b)"), {"a": LOCK_SPACE, "b": MIGRATION_LOCK})
        try:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": LOCK_SPACE, "b": MIGRATION_LOCK})
            conn.commit()


def revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None before the first migration)."""
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT to_regclass('alembic_version')")).scalar()
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if exists else None


@contextmanager
def connection(engine: Engine, url: str) -> Iterator[Connection]:
    """A pooled connection in a transaction (committed at the end, rolled back on error); a lost database
    becomes DatabaseUnavailable with a Swedish reason."""
    try:
        with engine.begin() as conn:
            yield conn
    except DBAPIError as exc:
        if exc.connection_invalidated or isinstance(exc.orig, OSError) or "connection" in str(exc.orig).lower():
            raise unavailable(url, exc) from exc
        raise


def dispose_all() -> None:
    """Close every pool (tests, and a process about to fork)."""
    with _engines_guard:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
