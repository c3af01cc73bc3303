"""Keeping the index whole: the consistency check with repair, and rebuilding aside then swapping.

The ledger is the record of what the index holds. The check compares it with the
Chroma vector ids and the in-memory lexical snapshot and repairs what differs:

- a vector without a ledger chunk (a writer died between adding vectors and
  committing, or between committing a removal and deleting the vectors) is deleted;
- a ledger chunk without a vector is embedded again from the chunk text in the ledger;
- a document whose chunk rows do not match its recorded chunk count is removed, so
  the next ingest reads it in again whole (it cannot happen with SQLite transactions,
  but it is what "half-written" would mean);
- a stale lexical snapshot is dropped (it is rebuilt from the ledger on the next search);
- what an interrupted rebuild left behind (its collection, its ledger file) is deleted.

`rebuild` builds a complete new index aside (a new ledger file and a new Chroma
collection), then swaps it in with one SQLite transaction that copies the new
ledger in and points the `collection` meta key at the new collection. Killed
before that commit, the previous index keeps answering.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.ingestion.chunking import index_text
from assistant.ingestion.locking import WriteLockTimeout

if TYPE_CHECKING:
    from assistant.ingestion.index import Index, IngestReport

log = logging.getLogger(__name__)
REBUILD_MARK = ".rebuild-"  # in collection names (after settings.collection) and in aside ledger file names


@dataclass
class Survey:
    ledger_chunks: int = 0
    vectors: int = 0
    orphan_vectors: list[str] = field(default_factory=list)
    missing_vectors: list[str] = field(default_factory=list)
    incomplete_documents: list[str] = field(default_factory=list)
    lexical_stale: bool = False
    stray_collections: list[str] = field(default_factory=list)
    stray_files: list[Path] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        """Ledger, vectors and lexical index agree, and every document is whole."""
        return not (self.orphan_vectors or self.missing_vectors or self.incomplete_documents or self.lexical_stale)

    @property
    def clean(self) -> bool:
        return self.consistent and not (self.stray_collections or self.stray_files)


@dataclass
class CheckReport:
    before: Survey
    after: Survey
    re_embedded: int = 0
    repaired: bool = False
    skipped_repair: str | None = None  # why repair did not run (another writer held the lock)

    @property
    def consistent(self) -> bool:
        return self.after.consistent

    def counts(self) -> dict[str, int | bool]:
        b = self.before
        return {
            "ledger_chunks": self.after.ledger_chunks, "vectors": self.after.vectors,
            "orphan_vectors": len(b.orphan_vectors), "missing_vectors": len(b.missing_vectors),
            "incomplete_documents": len(b.incomplete_documents), "lexical_stale": b.lexical_stale,
            "stray_collections": len(b.stray_collections), "stray_files": len(b.stray_files),
            "re_embedded": self.re_embedded, "consistent": self.consistent,
        }

    def lines_sv(self) -> list[str]:
        b, a = self.before, self.after
        lines = [f"Kontroll av indexet: {a.ledger_chunks} avsnitt i liggaren, {a.vectors} vektorer i Chroma."]
        if b.clean:
            lines.append("Allt stämmer: liggaren, vektorerna och det lexikala indexet innehåller samma avsnitt.")
            return lines
        if b.orphan_vectors:
            lines.append(f"{len(b.orphan_vectors)} vektorer utan avsnitt i liggaren (föräldralösa) – borttagna.")
        if b.missing_vectors:
            lines.append(f"{len(b.missing_vectors)} avsnitt i liggaren saknade vektor – {self.re_embedded} "
                         "beräknades på nytt ur texten i liggaren.")
        if b.incomplete_documents:
            lines.append(f"{len(b.incomplete_documents)} dokument var ofullständigt skrivna "
                         f"({', '.join(b.incomplete_documents)}) – borttagna; läs in dem igen med ingest.py.")
        if b.lexical_stale:
            lines.append("Det lexikala indexet var inaktuellt – byggs om från liggaren.")
        if b.stray_collections or b.stray_files:
            lines.append(f"Rester av en avbruten ombyggnad ({len(b.stray_collections)} samlingar, "
                         f"{len(b.stray_files)} filer) – borttagna.")
        if self.skipped_repair:
            lines.append(self.skipped_repair)
        lines.append("Indexet stämmer nu." if a.consistent else "Indexet stämmer fortfarande inte; se loggen.")
        return lines


def survey(index: Index) -> Survey:
    """Compare ledger, vectors and lexical snapshot without changing anything."""
    chunk_docs = index.ledger.chunk_id_set()
    vectors = index.store.ids()
    result = Survey(ledger_chunks=len(chunk_docs), vectors=len(vectors))
    result.orphan_vectors = sorted(vectors - chunk_docs.keys())
    result.missing_vectors = sorted(chunk_docs.keys() - vectors)
    per_document: dict[str, int] = {}
    for doc_id in chunk_docs.values():
        per_document[doc_id] = per_document.get(doc_id, 0) + 1
    for record in index.ledger.documents():
        if per_document.get(record.document_id, 0) != record.chunk_count:
            result.incomplete_documents.append(record.document_id)
    snapshot = index.lexical if index._lexical is not None else None  # what the next search would use
    if snapshot is not None:
        expected = {chunk.id for chunk, _ in index.ledger.all_chunks() if not getattr(chunk, "held_back", None)}
        result.lexical_stale = set(snapshot.ids) != expected
    active = index.collection_name()
    prefix = index.settings.collection + REBUILD_MARK
    try:
        names = [c.name for c in index.chroma.list_collections()]
    except Exception:  # noqa: BLE001 - listing is housekeeping only
        log.exception("could not list Chroma collections")
        names = []
    result.stray_collections = sorted(n for n in names if n != active and (n == index.settings.collection or n.startswith(prefix)))
    data_dir = index.settings.data_dir
    result.stray_files = sorted(data_dir.glob(REBUILD_MARK + "*")) if data_dir.exists() else []
    return result


def check(index: Index, repair: bool = True, wait: bool = True) -> CheckReport:
    """Survey, and repair under the write lock when something is off. `wait=False`: skip repair if another
    writer holds the lock (at app start: the other writer's own run ends consistent)."""
    before = survey(index)
    report = CheckReport(before=before, after=before)
    if before.clean or not repair:
        return report
    lock = index.write_lock if wait else index.write_lock.with_timeout(0.0)
    try:
        with lock.hold():
            before = report.before = survey(index)  # again: a writer may have finished meanwhile
            if not before.clean:
                report.re_embedded = _repair(index, before)
                report.repaired = True
            report.after = survey(index)
    except WriteLockTimeout:
        report.skipped_repair = "Ett annat program skriver till indexet just nu; reparationen hoppades över."
    log.info("index check: %s", report.counts())
    return report


def _repair(index: Index, found: Survey) -> int:
    store = index.store
    for doc_id in found.incomplete_documents:
        index.remove(doc_id)
    if found.orphan_vectors:
        store.delete(found.orphan_vectors)
    re_embedded = 0
    missing = [cid for cid in found.missing_vectors if cid not in set(found.incomplete_documents)]
    if missing:
        chunks = index.ledger.chunks(missing)
        ordered = [chunks[cid] for cid in missing if cid in chunks]
        for start in range(0, len(ordered), 256):
            batch = ordered[start : start + 256]
            texts = [index_text(c) for c in batch]
            store.add(batch, index.embedder.embed_passages(texts), texts)
            re_embedded += len(batch)
    index._lexical = None
    for name in found.stray_collections:
        try:
            index.chroma.delete_collection(name)
        except Exception:  # noqa: BLE001 - already gone
            log.exception("could not delete the stray collection %s", name)
    for path in found.stray_files:
        path.unlink(missing_ok=True)
    return re_embedded


def rebuild(index: Index, paths: Iterable[Path], on_file: Callable[[Path, str, str | None], None] | None = None,
            progress: bool = False) -> IngestReport:
    """Build a new index of `paths` aside and swap it in when it is complete (see the module docstring)."""
    from assistant.ingestion.index import Index, IngestReport

    with index.write_lock.hold():
        stamp = f"{time.time_ns()}"
        name = f"{index.settings.collection}{REBUILD_MARK}{stamp}"
        aside_path = index.settings.data_dir / f"{REBUILD_MARK}{os.getpid()}-{stamp}.sqlite3"
        aside = Index(index.settings, index.embedder, ledger_path=aside_path, collection=name)
        aside._client = index.chroma
        old_name = index.collection_name()
        try:
            paths = list(paths)
            report = aside.ingest(paths, on_file=on_file, progress=progress) if paths else IngestReport()
            aside.ledger.close()
            index.ledger.adopt(aside_path, {"collection": name})
        except BaseException:
            aside.ledger.close()
            _forget(index, name, aside_path)
            raise
        index._lexical = None
        index._store = None
        if old_name != name:
            try:
                index.chroma.delete_collection(old_name)
            except Exception:  # noqa: BLE001 - a collection never created (empty index) or already gone
                log.info("previous collection %s not deleted", old_name, exc_info=True)
        for leftover in aside_path.parent.glob(aside_path.name + "*"):
            leftover.unlink(missing_ok=True)
        return report


def _forget(index: Index, name: str, aside_path: Path) -> None:
    try:
        index.chroma.delete_collection(name)
    except Exception:  # noqa: BLE001
        log.info("aside collection %s not deleted", name, exc_info=True)
    for leftover in aside_path.parent.glob(aside_path.name + "*"):
        leftover.unlink(missing_ok=True)
