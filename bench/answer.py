"""Answer latency with a warm index: `python -m bench.answer`. Prints figures, never asserts.

Two corpora:
1. the bundled corpus, ingested into a temporary directory with the real model;
2. a synthetic corpus of 10,000 extra chunks on top of it. Embedding 10,000
   chunks at about 12–40 chunks a second would take minutes to hours, so the
   synthetic chunks are written straight to Chroma and the ledger: their text
   recombines sentences of the bundled corpus, and each vector is the real
   vector of the chunk its first sentence comes from plus small Gaussian noise
   (sigma 0.02 per dimension), normalised. Retrieval, the lexical index and
   the coach then work on 10,000+ chunks exactly as they would on real ones.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from assistant.ingestion.chunking import index_text
from assistant.ingestion.index import Index
from assistant.logging_setup import configure
from assistant.pipeline import Pipeline
from assistant.settings import PROJECT_ROOT, Settings
from assistant.text import content_tokens, split_sentences
from assistant.types import Chunk, DocumentRecord

MESSAGES = [
    "Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten",
    "Vi vill införa en AI-chattbot för invånare",
    "Kommunen ska införa en ny lärplattform i skolan",
    "Vi bygger en e-tjänst för bygglov",
    "Vi vill automatisera fakturahanteringen med RPA på ekonomienheten",
    "Vad är förvaltningsskuld?",
    "Hur ska ledningsgruppen följa upp nyttan?",
    "Får vi lagra personuppgifter i en molntjänst?",
    "Vilka lärdomar finns från stora IT-projekt?",
    "Vad menar du med nyttoägare?",
    "Vad blir det för väder i Göteborg i morgon?",
    "We want to introduce an AI chatbot for residents",
]
SYNTHETIC_CHUNKS = 10_000
CHUNKS_PER_DOCUMENT = 25
NOISE = 0.02
ROUNDS = 5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def measure(pipeline: Pipeline, label: str) -> None:
    started = time.perf_counter()
    pipeline.warm_up()
    warm_up = time.perf_counter() - started
    from assistant.answer import Turn

    first = pipeline.ask(MESSAGES[0])
    history = [Turn(MESSAGES[0], first)]
    timings: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for message in [*MESSAGES, "Berätta mer om fråga 3"]:
            t = time.perf_counter()
            answer = pipeline.ask(message, history)
            timings.setdefault(answer.kind, []).append(time.perf_counter() - t)
    every = [x for xs in timings.values() for x in xs]
    embed = []
    for message in MESSAGES:
        t = time.perf_counter()
        pipeline.index.embedder.embed_query(message)
        embed.append(time.perf_counter() - t)
    print(f"\n{label}: {pipeline.index.ledger.chunk_count()} avsnitt, uppvärmning {warm_up:.2f} s, "
          f"{len(every)} svar ({ROUNDS} varv)")
    print(f"  alla svar      p50 {percentile(every, 50) * 1000:7.1f} ms   p95 {percentile(every, 95) * 1000:7.1f} ms")
    print(f"  (varav frågevektorn p50 {percentile(embed, 50) * 1000:.1f} ms; systemlast {os.getloadavg()[0]:.1f} på {os.cpu_count()} kärnor)")
    for kind, xs in sorted(timings.items()):
        print(f"  {kind:<14} p50 {percentile(xs, 50) * 1000:7.1f} ms   p95 {percentile(xs, 95) * 1000:7.1f} ms   (n={len(xs)})")


def add_synthetic(index: Index, count: int, seed: int = 7) -> float:
    """Write `count` synthetic chunks straight into Chroma and the ledger. Returns seconds taken."""
    started = time.perf_counter()
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    got = index.store._collection.get(include=["embeddings"])
    vectors = {cid: np.asarray(v) for cid, v in zip(got["ids"], got["embeddings"], strict=True)}
    pool = [(c.id, s) for c, _ in index.ledger.all_chunks() for s in split_sentences(c.text) if len(s) > 30]
    headings = sorted({c.section for c, _ in index.ledger.all_chunks() if c.section})
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for d in range(count // CHUNKS_PER_DOCUMENT):
        doc_id = f"syntetisk-{d:04d}"
        title = f"Syntetiskt underlag {d}"
        chunks, texts, vecs, cursor = [], [], [], 0
        for i in range(CHUNKS_PER_DOCUMENT):
            picked = rng.sample(pool, rng.randint(4, 8))
            text = " ".join(s for _, s in picked)
            chunk = Chunk(id=f"{doc_id}-{i:03d}", document_id=doc_id, ordinal=i, text=text, title=title, start=cursor,
                          end=cursor + len(text), content_hash=f"{doc_id}-{i}", section=rng.choice(headings))
            cursor += len(text) + 1
            base = vectors[picked[0][0]] + np_rng.normal(0, NOISE, size=len(vectors[picked[0][0]]))
            chunks.append(chunk)
            texts.append(index_text(chunk))
            vecs.append((base / np.linalg.norm(base)).tolist())
        record = DocumentRecord(doc_id, f"syntetisk/{doc_id}.txt", title, "text", doc_id, len(chunks), now, "bench", {})
        index.store.add(chunks, vecs, texts)
        with index.ledger.transaction() as conn:
            index.ledger.replace_document(conn, record, chunks, [content_tokens(t) for t in texts])
    index._lexical = None  # rebuilt on warm-up, as after any ingestion
    return time.perf_counter() - started


def main() -> None:
    configure()
    print(__doc__.split("\n\n")[1].strip())
    with tempfile.TemporaryDirectory(prefix="bench-answer-") as tmp:
        small = Settings(data_dir=Path(tmp) / "korpus", corpus_dir=PROJECT_ROOT / "corpus")
        index = Index(small)
        started = time.perf_counter()
        index.ingest([small.corpus_dir])
        print(f"\nInläsning av den medföljande korpusen: {time.perf_counter() - started:.1f} s")
        measure(Pipeline.from_settings(small, index=index), "Medföljande korpus")
        index.close()

        large = Settings(data_dir=Path(tmp) / "syntetisk", corpus_dir=PROJECT_ROOT / "corpus")
        shutil.copytree(small.data_dir, large.data_dir)
        big = Index(large, embedder=index.embedder)
        seconds = add_synthetic(big, SYNTHETIC_CHUNKS)
        print(f"\n{SYNTHETIC_CHUNKS} syntetiska avsnitt skrivna direkt till Chroma och liggaren på {seconds:.1f} s "
              f"(vektorer: verkliga vektorer + brus sigma {NOISE})")
        measure(Pipeline.from_settings(large, index=big), "Medföljande korpus + 10 000 syntetiska avsnitt")
        big.close()


if __name__ == "__main__":
    main()
