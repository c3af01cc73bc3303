"""Shared fixtures: the real embedding model, loaded once, and a real index of the bundled corpus."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.ingestion.embedding import Embedder
from assistant.ingestion.index import Index
from assistant.logging_setup import configure
from assistant.settings import PROJECT_ROOT, Settings
from tests import builders

configure()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    model = Embedder()
    model.warm_up()
    return model


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings with a fresh data directory under tmp_path; keyword arguments override fields."""

    def factory(**overrides: object) -> Settings:
        values = {"data_dir": tmp_path / "data", **overrides}
        return Settings(**values)

    return factory


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("corpus-index"), corpus_dir=PROJECT_ROOT / "corpus")


@pytest.fixture(scope="session")
def corpus_index(corpus_settings: Settings, embedder: Embedder) -> Index:
    """A real index of the bundled corpus, built once per test session. Do not modify it."""
    index = Index(corpus_settings, embedder=embedder)
    report = index.ingest([corpus_settings.corpus_dir])
    assert not report.failed, report.failed
    index.warm_up()
    yield index
    index.close()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", target)
    return target


@pytest.fixture(scope="session")
def postgres_server():  # noqa: ANN201 - a tests.postgres.PostgresServer
    """A real PostgreSQL server for the session (Debian's package, started in a temporary folder)."""
    from tests.postgres import PostgresServer

    server = PostgresServer()
    yield server
    from assistant.storage import database

    database.dispose_all()
    server.stop()


@pytest.fixture
def database_url(postgres_server) -> str:  # noqa: ANN001
    """The URL of a new, empty PostgreSQL database for this test."""
    return postgres_server.create_database()


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """A real `chroma run` server on a free loopback port, with its data in tmp_path; yields the port."""
    port = builders.free_port()
    log = (tmp_path / "chroma.log").open("w")
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"chroma run stopped: {(tmp_path / 'chroma.log').read_text()[-2000:]}")
            try:
                chromadb.HttpClient(
                    host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
                ).heartbeat()
                break
            except Exception:  # noqa: BLE001 - not listening yet
                if time.monotonic() > deadline:
                    pytest.fail("chroma run did not answer within 60 s")
                time.sleep(0.25)
        yield port
    finally:
        builders.stop(process)
        log.close()
