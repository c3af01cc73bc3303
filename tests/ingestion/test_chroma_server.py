"""Client/server mode against a real `chroma run` process on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingestion.embedding import Embedder
from assistant.ingestion.index import Index
from assistant.settings import Settings
from tests import builders

pytestmark = pytest.mark.slow


def test_ingest_and_search_against_a_chroma_server(chroma_server: int, tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "docs"
    builders.write(folder / "nytta.md", "# Nytta\n\n## Ägarskap\n\nNyttan ägs av den chef som ansvarar för verksamheten.\n")
    builders.write(folder / "risk.pdf", builders.pdf_bytes(["Risker i stora it-projekt hanteras av styrgruppen."]))
    settings = Settings(data_dir=tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma_server)
    index = Index(settings, embedder=embedder)
    try:
        report = index.ingest([folder])
        assert sorted(report.added) == ["nytta", "risk"] and report.chunks == 2
        assert not settings.chroma_dir.exists()  # vectors live in the server, not under data_dir
        assert index.store.count() == 2
        top = index.search("Vem äger nyttan?", k=1, mode="dense")[0]
        assert top.chunk.document_id == "nytta" and top.chunk.section == "Ägarskap"
        assert index.search("styrgruppen risker", k=1)[0].chunk.page == 1
        assert index.ingest([folder]).chunks == 0
        assert index.remove("risk") and index.store.count() == 1
    finally:
        index.close()

    # Another client (a second app instance) sees the same collection on the server.
    again = Index(settings, embedder=embedder)
    try:
        assert again.store.count() == 1
        assert again.search("Vem äger nyttan?", k=1)[0].chunk.document_id == "nytta"
    finally:
        again.close()
