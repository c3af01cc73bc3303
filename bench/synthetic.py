"""Synthetic passages for the benchmarks: the bundled corpus plus N extra chunks, without embedding them.

Embedding 100,000 chunks at about 12–40 chunks a second would take hours, so the
synthetic chunks are written straight to Chroma and the ledger: their text
recombines 4–8 sentences of the bundled corpus, and each vector is the real
vector of the chunk its first sentence comes from plus Gaussian noise (sigma
0.02 per dimension), normalised. Retrieval, the lexical index and the coach then
work on them exactly as on real chunks. `export` writes the same ids, texts and
vectors to a plain Chroma collection for the naive comparison.
"""

from __future__ import annotations

import random
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from assistant.ingestion.chunking import index_text
from assistant.ingestion.index import Index
from assistant.settings import PROJECT_ROOT, Settings
from assistant.text import content_tokens, split_sentences
from assistant.types import Chunk, DocumentRecord

CHUNKS_PER_DOCUMENT = 25
NOISE = 0.02
BATCH_DOCUMENTS = 40  # 1,000 chunks per Chroma upsert and ledger transaction


def bundled(data_dir: Path, embedder=None) -> Settings:  # noqa: ANN001
    """The bundled corpus ingested with the real model into `data_dir` (once; reused when it is there)."""
    settings = Settings(data_dir=data_dir, corpus_dir=PROJECT_ROOT / "corpus")
    index = Index(settings, embedder=embedder)
    if index.is_empty():
        index.ingest([settings.corpus_dir])
    index.close()
    return settings


def with_synthetic(base: Settings, data_dir: Path, count: int, seed: int = 7) -> tuple[Settings, float]:
    """A copy of the bundled index in `data_dir` plus `count` synthetic chunks. Returns (settings, seconds).

    A folder that already holds the same synthetic set (a kept --workdir) is used as it is."""
    settings = base.model_copy(update={"data_dir": data_dir})
    marker = data_dir / "syntetisk.txt"
    if marker.exists() and marker.read_text() == f"{count} {seed}":
        return settings, 0.0
    if data_dir.exists():
        shutil.rmtree(data_dir)
    shutil.copytree(base.data_dir, data_dir)
    index = Index(settings)
    started = time.perf_counter()
    add_synthetic(index, count, seed)
    index.close()
    marker.write_text(f"{count} {seed}")
    return settings, time.perf_counter() - started


def add_synthetic(index: Index, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    got = index.store._collection.get(include=["embeddings"])
    vectors = {cid: np.asarray(v) for cid, v in zip(got["ids"], got["embeddings"], strict=True)}
    originals = list(index.ledger.all_chunks())
    pool = [(c.id, s) for c, _ in originals for s in split_sentences(c.text) if len(s) > 30]
    headings = sorted({c.section for c, _ in originals if c.section})
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    documents = count // CHUNKS_PER_DOCUMENT
    for start in range(0, documents, BATCH_DOCUMENTS):
        batch = []
        for d in range(start, min(start + BATCH_DOCUMENTS, documents)):
            doc_id = f"syntetisk-{d:05d}"
            title = f"Syntetiskt underlag {d}"
            chunks, vecs, cursor = [], [], 0
            for i in range(CHUNKS_PER_DOCUMENT):
                picked = rng.sample(pool, rng.randint(4, 8))
                text = " ".join(s for _, s in picked)
                chunks.append(Chunk(id=f"{doc_id}:{i:03d}", document_id=doc_id, ordinal=i, text=text, title=title,
                                    start=cursor, end=cursor + len(text), content_hash=f"{doc_id}-{i}",
                                    section=rng.choice(headings)))
                cursor += len(text) + 1
                base = vectors[picked[0][0]] + np_rng.normal(0, NOISE, size=len(vectors[picked[0][0]]))
                vecs.append((base / np.linalg.norm(base)).tolist())
            record = DocumentRecord(doc_id, f"syntetisk/{doc_id}.txt", title, "text", doc_id, len(chunks), now, "bench", {})
            batch.append((record, chunks, vecs))
        index.store.add([c for _, cs, _ in batch for c in cs], [v for _, _, vs in batch for v in vs],
                        [index_text(c) for _, cs, _ in batch for c in cs])
        with index.ledger.transaction() as conn:
            for record, chunks, _ in batch:
                index.ledger.replace_document(conn, record, chunks, [content_tokens(index_text(c)) for c in chunks])
    index._lexical = None  # rebuilt on warm-up, as after any ingestion


def export(settings: Settings, target: Path, collection: str = "naiv") -> None:
    """The same ids, texts and vectors in a plain Chroma collection, as a LangChain user would hold them."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    source = Index(settings).store._collection
    client = chromadb.PersistentClient(path=str(target), settings=ChromaSettings(anonymized_telemetry=False))
    dest = client.get_or_create_collection(collection, metadata={"hnsw:space": "cosine"}, embedding_function=None)
    offset = 0
    while True:
        got = source.get(include=["embeddings", "documents"], limit=5000, offset=offset)
        if not got["ids"]:
            break
        dest.upsert(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"],
                    metadatas=[{"document_id": cid.split(":", 1)[0]} for cid in got["ids"]])
        offset += len(got["ids"])
