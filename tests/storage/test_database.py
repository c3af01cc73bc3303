"""ASSISTANT_DATABASE_URL against a real PostgreSQL: the URL check, Alembic's migration, the shared write lock and
the index version that tells one app server about another's change."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from assistant.errors import ConfigurationError
from assistant.ingestion.index import Index
from assistant.ingestion.locking import DatabaseWriteLock, WriteLockTimeout
from assistant.settings import PROJECT_ROOT, Settings
from assistant.storage import database
from assistant.storage.schema import metadata
from tests import builders

pytestmark = pytest.mark.slow


def test_only_postgresql_urls_are_accepted_with_a_swedish_reason() -> None:
    with pytest.raises(ConfigurationError, match="bara PostgreSQL stöds"):
        database.normalise("sqlite:///data/ledger.sqlite3")
    with pytest.raises(ConfigurationError, match="ingen giltig databasadress"):
        database.normalise("inte en adress")
    assert database.normalise("postgresql://a:b@db:5432/rf").startswith("postgresql+psycopg://a:b@db:5432/rf")


def test_an_unreachable_database_is_a_swedish_error_without_the_password() -> None:
    url = f"postgresql://app:hemligt-losenord@127.0.0.1:{builders.free_port()}/rf"
    with pytest.raises(ConfigurationError) as caught:
        database.engine_for(url)
    message = str(caught.value)
    assert "går inte att använda" in message and "Kontrollera att PostgreSQL kör" in message
    assert "hemligt-losenord" not in message


def test_the_migration_creates_exactly_the_schema_the_code_queries(database_url: str) -> None:
    engine = database.engine_for(database_url)
    assert database.revision(engine) == "0001"
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
    database.migrate(engine)  # again: nothing to do, nothing fails
    assert database.revision(engine) == "0001"


def test_two_servers_starting_at_once_migrate_once(postgres_server) -> None:  # noqa: ANN001
    url = postgres_server.create_database()
    env = {"ASSISTANT_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    runs = [subprocess.Popen([sys.executable, "-m", "assistant.storage", "upgrade"], cwd=PROJECT_ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert all("schemaversion 0001" in out for out, _ in outputs)
    with database.engine_for(url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM index_version")).scalar() == 1


HOLDER = textwrap.dedent("""
    import sys, time
    from assistant.ingestion.locking import DatabaseWriteLock
    with DatabaseWriteLock(sys.argv[1], 30).hold():
        print("held", flush=True)
        time.sleep(600)
""")


def test_the_write_lock_is_shared_between_servers_and_freed_when_its_holder_dies(database_url: str) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, database_url], cwd=PROJECT_ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        lock = DatabaseWriteLock(database_url, timeout=0.3)
        with pytest.raises(WriteLockTimeout, match="Ett annat program har skrivit till indexet"):
            with lock.hold():
                pass
        holder.kill()  # like kill -9 of a server mid-write: PostgreSQL ends its session and frees the lock
        holder.wait()
        with DatabaseWriteLock(database_url, timeout=30).hold() as outermost:
            assert outermost
    finally:
        holder.kill()


def test_another_server_sees_an_ingest_after_its_poll_interval(database_url: str, tmp_path: Path, embedder) -> None:  # noqa: ANN001
    folder = tmp_path / "docs"
    builders.write(folder / "nytta.md", "# Nytta\n\n## Ägarskap\n\nNyttan ägs av den chef som ansvarar för verksamheten.\n")
    # Two servers: their own data_dir (and Chroma under it here), one database. Poll every 0.2 s.
    one = Index(Settings(data_dir=tmp_path / "a", database_url=database_url, database_poll_seconds=0.2),
                embedder=embedder)
    other = Index(Settings(data_dir=tmp_path / "b", database_url=database_url, database_poll_seconds=0.2),
                  embedder=embedder)
    assert one.ingest([folder]).added == ["nytta"]
    assert other.search("nyttan ägs av chefen", k=1, mode="lexical")[0].chunk.document_id == "nytta"
    builders.write(folder / "risk.md", "# Risk\n\n## Styrgrupp\n\nKvartalsvis riskgenomgång i styrgruppen.\n")
    assert one.ingest([folder]).added == ["risk"]
    deadline = time.monotonic() + 30
    while True:
        found = [h.chunk.document_id for h in other.search("riskgenomgång styrgruppen", k=1, mode="lexical")]
        if found == ["risk"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert found == ["risk"]
    assert one.remove("nytta")
    deadline = time.monotonic() + 30
    while "nytta" in {r.document_id for r in other.documents()} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.document_id for r in other.documents()] == ["risk"]
    # A removed document is never shown, even from a snapshot built before the removal.
    assert all(h.chunk.document_id != "nytta" for h in other.search("nyttan ägs av chefen", k=3, mode="lexical"))


def test_rebuild_metadata_and_screening_on_the_shared_ledger(database_url: str, tmp_path: Path, embedder) -> None:  # noqa: ANN001
    from tests.ingestion.test_screening import HOSTILE

    folder = tmp_path / "docs"
    builders.write(folder / "nytta.md", "# Nytta\n\n## Ägarskap\n\nNyttan ägs av den chef som ansvarar för verksamheten.\n")
    builders.write(folder / "kommentarer.md", HOSTILE)
    settings = Settings(data_dir=tmp_path / "a", database_url=database_url, database_poll_seconds=0)
    index = Index(settings, embedder=embedder)
    assert sorted(index.ingest([folder]).added) == ["kommentarer", "nytta"]
    held = index.held_back()
    assert held and {c.document_id for c in held} == {"kommentarer"}
    # A new detector version screens every stored chunk again, in one transaction on the database.
    index.ledger.set_meta("screening", "en äldre version")
    assert index.screen_stored() == len(held)
    assert [c.id for c in index.held_back()] == [c.id for c in held]
    # A rebuild is built aside (an SQLite ledger and a new Chroma collection) and adopted in one transaction.
    before = index.ledger.version()
    report = index.rebuild([folder])
    assert sorted(report.added) == ["kommentarer", "nytta"] and index.ledger.version() != before
    assert index.ledger.get_meta("collection") == index.collection_name() != settings.collection
    assert index.check(repair=False).before.clean
    assert [c.id for c in index.held_back()] == [c.id for c in held]
    index.update_metadata("nytta", "Vem äger nyttan?", {"utgivare": "Testkommunen"})
    other = Index(Settings(data_dir=tmp_path / "b", database_url=database_url), embedder=embedder)
    record = other.ledger.document("nytta")
    assert record.title == "Vem äger nyttan?" and record.metadata == {"utgivare": "Testkommunen"}
    assert {c.title for c in other.chunks_of("nytta")} == {"Vem äger nyttan?"}


def test_a_ledgers_own_commits_are_not_taken_for_another_servers(database_url: str) -> None:
    # The Index reloads its lexical snapshot and reopens a local Chroma when version()[0] changes; its own writes
    # it handles itself. Reopening Chroma on its own commits, under load, broke concurrent answers (a real run).
    from assistant.storage.ledger import SqlLedger

    one, other = SqlLedger(database_url, poll_seconds=0), SqlLedger(database_url, poll_seconds=0)
    mine, theirs = one.version(), other.version()
    one.set_meta("prov", "1")
    assert one.version()[0] == mine[0] and one.version() != mine
    assert other.version()[0] != theirs[0]
