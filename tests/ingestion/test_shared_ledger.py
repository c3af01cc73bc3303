"""The ledger is shared by every session of a Streamlit server (one SQLite connection, or PostgreSQL's pool when
ASSISTANT_DATABASE_URL is set): read from many threads while another thread writes through the Index, it never
fails and never shows a half-written document.

Real components: the real Index (Chroma, the bundled embedding model), real Markdown files. A document's chunk
rows and its record change in one transaction; a reader on the shared connection that ran inside that
transaction would see the record with only part of its chunks (or a removed document's chunks going), which is
what the checks below look for.
"""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from pathlib import Path

import pytest

from assistant.ingestion.index import Index
from assistant.settings import PROJECT_ROOT, Settings

READERS = 8
WRITER_CYCLES = 6  # each: add one document, then remove it
SOURCES = ["samverkan-mellan-kommuner.md", "medarbetare-mbl-och-arbetsmiljo.md", "valfardsteknik-i-hemtjansten.md"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ledger_is_consistent_for_eight_readers_while_a_ninth_thread_writes(backend: str, tmp_path: Path, embedder,
                                                                            request: pytest.FixtureRequest) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PROJECT_ROOT / "corpus" / "sju-fragor-for-nyttorealisering.md", corpus)
    extra = tmp_path / "extra"
    extra.mkdir()
    for name in SOURCES:
        shutil.copy(PROJECT_ROOT / "corpus" / name, extra / name)
    # Small chunks: many rows per document, so a write transaction is long enough for readers to run inside it.
    # poll 0: version() reads the database every time, so "same version" below means "nothing committed between"
    shared = ({"database_url": request.getfixturevalue("database_url"), "database_poll_seconds": 0}
              if backend == "postgresql" else {})
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, chunk_max_tokens=40, **shared)
    index = Index(settings, embedder=embedder)
    assert not index.ingest([corpus]).failed
    # Each writer document's chunk count, learned once: a document's content never changes here, so any complete
    # view of it has exactly this many chunks, numbered 0..n-1.
    expected: dict[str, int] = {}
    for name in SOURCES:
        path = extra / name
        assert not index.ingest([path]).failed
        expected[path.stem] = index.ledger.document(path.stem).chunk_count
        assert index.remove(path.stem)
    expected["sju-fragor-for-nyttorealisering"] = index.ledger.document("sju-fragor-for-nyttorealisering").chunk_count
    assert all(n >= 20 for n in expected.values()), expected
    ledger = index.ledger

    done = threading.Event()
    errors: list[str] = []
    bad: list[str] = []
    reads = Counter()
    lock = threading.Lock()

    def writer() -> None:
        try:
            for cycle in range(WRITER_CYCLES):
                path = extra / SOURCES[cycle % len(SOURCES)]
                report = index.ingest([path])
                if report.failed:
                    errors.append(f"writer: {report.failed}")
                index.remove(path.stem)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"writer: {exc!r}")
        finally:
            done.set()

    def check_round() -> None:
        before = ledger.version()
        records = {r.document_id: r for r in ledger.documents()}
        rows: dict[str, list[int]] = {}
        by_id = {}
        for chunk, tokens in ledger.all_chunks():
            rows.setdefault(chunk.document_id, []).append(chunk.ordinal)
            by_id[chunk.id] = chunk
            if not tokens:
                bad.append(f"chunk {chunk.id} without lexical tokens")
        # One query's view: every document in it is whole (all its chunks, numbered 0..n-1).
        for doc_id, ordinals in rows.items():
            if doc_id in expected and sorted(ordinals) != list(range(expected[doc_id])):
                bad.append(f"all_chunks: {doc_id} with {len(ordinals)} of {expected[doc_id]} chunks")
        for doc_id, record in records.items():
            if record.chunk_count != expected.get(doc_id, record.chunk_count):
                bad.append(f"documents: {doc_id} records {record.chunk_count}, not {expected[doc_id]}")
        # chunks(ids) returns each id's whole row or nothing.
        some = list(by_id)[:: max(1, len(by_id) // 50)]
        for cid, chunk in ledger.chunks(some).items():
            if chunk.text != by_id[cid].text:
                bad.append(f"chunks: {cid} changed text")
        # Across calls: when nothing changed in between (same version), records and chunk rows agree.
        ids = {doc_id: ledger.chunk_ids(doc_id) for doc_id in records}
        if ledger.version() == before:
            for doc_id, record in records.items():
                if len(ids[doc_id]) != record.chunk_count or len(rows.get(doc_id, ())) != record.chunk_count:
                    bad.append(f"version {before}: {doc_id} records {record.chunk_count} chunks, "
                               f"chunk_ids has {len(ids[doc_id])}, all_chunks {len(rows.get(doc_id, ()))}")
            with lock:
                reads["stable"] += 1

    def reader() -> None:
        n = 0
        while not done.is_set() or n < 3:
            try:
                check_round()
            except Exception as exc:  # noqa: BLE001 - any error on the shared connection is a failure
                errors.append(f"reader: {exc!r}")
            n += 1
        with lock:
            reads["rounds"] += n

    threads = [threading.Thread(target=reader, name=f"reader-{i}") for i in range(READERS)]
    threads.append(threading.Thread(target=writer, name="writer"))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a thread hung (a lock never released?)"
    left = {r.document_id for r in index.documents()}
    index.close()

    assert not errors, errors[:5]
    assert not bad, f"{len(bad)} inconsistent reads, e.g. {bad[:5]}"
    assert reads["rounds"] >= READERS * 3
    # After the writer: only the starting document is left, whole.
    assert left == {"sju-fragor-for-nyttorealisering"}
