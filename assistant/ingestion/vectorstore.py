"""Chroma as the vector store: embedded by default, or a Chroma server."""

from __future__ import annotations

from typing import Any

from assistant.errors import ConfigurationError
from assistant.settings import Settings
from assistant.types import Chunk


def chroma_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # noqa: BLE001 - chromadb raises plain exceptions on connect
            raise ConfigurationError(
                f"Kunde inte ansluta till Chroma-servern {settings.chroma_host}:{settings.chroma_port} ({exc}). "
                "Kontrollera ASSISTANT_CHROMA_HOST och ASSISTANT_CHROMA_PORT, eller ta bort dem för lokal lagring."
            ) from exc
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def reopened_client(settings: Settings) -> Any:
    """A new embedded client that reads the store from disk again.

    Embedded Chroma keeps each collection's vector index in memory and does not notice what another process
    wrote: after `ingest.py` adds a document, the app's dense search would not find it until a restart.
    Chroma shares one "system" per path within a process; dropping it from that cache (without stopping it:
    other threads may be querying through it) makes the next client load the store afresh.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    if settings.chroma_host:
        return chroma_client(settings)
    SharedSystemClient._identifier_to_system.pop(str(settings.chroma_dir), None)  # keyed by the path given
    return chroma_client(settings)


class VectorStore:
    def __init__(self, client: Any, name: str) -> None:
        self._client = client
        self.name = name
        self._collection = client.get_or_create_collection(name=name, metadata={"hnsw:space": "cosine"}, embedding_function=None)

    def count(self) -> int:
        return int(self._collection.count())

    def add(self, chunks: list[Chunk], vectors: list[list[float]], texts: list[str]) -> None:
        for start in range(0, len(chunks), 1000):
            end = start + 1000
            self._collection.upsert(
                ids=[c.id for c in chunks[start:end]],
                embeddings=vectors[start:end],
                documents=texts[start:end],
                metadatas=[c.metadata() for c in chunks[start:end]],
            )

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 1000):
            self._collection.delete(ids=ids[start : start + 1000])

    def ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    def query(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        total = self.count()
        if total == 0:
            return []
        result = self._collection.query(query_embeddings=[vector], n_results=min(k, total), include=["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)]

    def reset(self) -> None:
        self._client.delete_collection(self.name)
        self._collection = self._client.get_or_create_collection(name=self.name, metadata={"hnsw:space": "cosine"}, embedding_function=None)
