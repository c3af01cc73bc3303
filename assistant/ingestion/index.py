"""The index: ingestion into Chroma + the lexical index, and hybrid search.

Each document is written atomically: vectors are added first, the ledger row
and chunk texts change in one SQLite transaction, and only then are the old
vectors deleted. A failure before the commit removes what was just added, so
the index holds for that document exactly what it held before.
"""

from __future__ import annotations

import functools
import getpass
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import numpy as np

from assistant.ingestion import screening
from assistant.ingestion.chunking import chunk_document, index_text
from assistant.ingestion.embedding import Embedder, file_sha256
from assistant.errors import AssistantError, ConfigurationError, IngestError, ModelMismatchError
from assistant.ingestion.ledger import open_ledger
from assistant.ingestion.fusion import Ranking, fuse
from assistant.ingestion.lexical import LexicalIndex
from assistant.ingestion.loaders import SUPPORTED_SUFFIXES, check_upload_name, document_id_for
from assistant.ingestion.parsing import check_chunk_count, load_limited, precheck_chunks
from assistant.settings import Settings
from assistant.text import content_tokens
from assistant.types import Chunk, DocumentRecord, Hit, LoadedDocument
from assistant.ingestion.vectorstore import VectorStore, reopened_client
from assistant.ingestion.locking import write_lock_for
from assistant.boundary import os_error_sv

log = logging.getLogger(__name__)
SearchMode = Literal["hybrid", "dense", "lexical", "stem", "part", "fold", "gram"]
MODES = ("hybrid", "dense", "lexical", "stem", "part", "fold", "gram")


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    chunks: int = 0  # chunks embedded in this run
    seconds: float = 0.0

    def summary(self) -> dict:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "failed": list(self.failed),
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
        }


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest. Folders are walked for supported types; names starting with _ or . are skipped."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                rel = candidate.relative_to(path).parts
                if any(p.startswith(("_", ".")) for p in rel):
                    continue
                if candidate.is_file() and candidate.suffix.lower() in SUPPORTED_SUFFIXES:
                    files.append(candidate)
        else:
            files.append(path)
    return files


def _writes(method: Callable) -> Callable:
    """Run a write under the cross-process write lock. Ledger reads are fresh once it is held; the lexical
    snapshot and the Chroma collection follow the ledger (see `lexical` and `store`)."""

    @functools.wraps(method)
    def locked(self: Index, *args: object, **kwargs: object) -> object:
        with self.write_lock.hold():
            return method(self, *args, **kwargs)

    return locked


def _model_first(method: Callable) -> Callable:
    """Load the embedding model before a write that may embed takes the write lock: loading takes seconds (much
    longer on a busy machine), and other writers should not wait for it."""

    @functools.wraps(method)
    def loaded(self: Index, *args: object, **kwargs: object) -> object:
        if not self.write_lock.held:
            try:
                self.embedder.warm_up()
            except AssistantError:
                pass  # the write itself reports it, after what it checks first (e.g. an index built with another model)
        return method(self, *args, **kwargs)

    return loaded


class Index:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, *, ledger_path: Path | None = None,
                 collection: str | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder(settings.embedding_model, settings.embedding_device, settings.embedding_batch_size)
        self.ledger = open_ledger(settings, ledger_path)
        self._collection = collection  # set only for a rebuild's aside index; otherwise the ledger names it
        self._client = None
        self._chroma_generation: int | None = None
        self._store: VectorStore | None = None
        self._lexical: LexicalIndex | None = None
        self._lexical_generation: int | None = None
        self._lexical_lock = threading.Lock()
        # One writer at a time, across processes and servers (see locking.py); readers never take it.
        self.write_lock = write_lock_for(settings)

    # -- state ---------------------------------------------------------
    @property
    def chroma(self):  # noqa: ANN201 - a chromadb client
        generation = self.ledger.version()[0]  # changes when another process (or connection) commits
        # Embedded Chroma keeps its vector index in memory and shares one system per path within a process. A new
        # Index would get the one an earlier Index opened, and any Index would keep it after another writer
        # committed; neither has seen what other processes wrote. So a new Index, and an Index after a commit
        # elsewhere, loads the store afresh (reopened_client opens the first client the same way).
        if self._client is None or (generation != self._chroma_generation and not self.settings.chroma_host):
            self._client = reopened_client(self.settings)
            self._store = None
        self._chroma_generation = generation
        return self._client

    def collection_name(self) -> str:
        """The Chroma collection holding the vectors: recorded in the ledger by the last rebuild's swap."""
        return self._collection or self.ledger.get_meta("collection") or self.settings.collection

    @property
    def store(self) -> VectorStore:
        name = self.collection_name()
        client = self.chroma  # first: it drops the store when another process has written
        store = self._store
        if store is None or store.name != name:  # a rebuild (here or in another process) swapped collections
            store = self._store = VectorStore(client, name)
        return store

    def check_model(self) -> None:
        built_with = self.ledger.get_meta("embedding_model")
        if built_with is not None and built_with != self.settings.embedding_model:
            raise ModelMismatchError(
                f"Indexet byggdes med embeddingmodellen '{built_with}', men inställningen är nu "
                f"'{self.settings.embedding_model}'. Vektorer från olika modeller kan inte blandas. "
                "Bygg om indexet med `python ingest.py --rebuild`, eller återställ ASSISTANT_EMBEDDING_MODEL."
            )

    def documents(self) -> list[DocumentRecord]:
        return self.ledger.documents()

    def is_empty(self) -> bool:
        return not self.ledger.has_documents()

    def check(self, repair: bool = True, wait: bool = True):  # noqa: ANN201 - a maintenance.CheckReport
        """Compare ledger, vectors and lexical index and repair what differs (see maintenance.py)."""
        from assistant.ingestion import maintenance

        return maintenance.check(self, repair=repair, wait=wait)

    def close(self) -> None:
        self.ledger.close()

    # -- ingestion -----------------------------------------------------
    @_model_first
    @_writes
    def ingest(
        self,
        paths: Iterable[Path],
        prune: bool | Iterable[Path] = False,
        on_file: Callable[[Path, str, str | None], None] | None = None,
        progress: bool = False,
        replace: bool = False,
    ) -> IngestReport:
        """Ingest files and folders. `on_file(path, outcome, reason)` is called per file. A file whose document id
        the ledger holds for another (existing) source file is refused unless `replace`. `prune`: remove the
        documents whose file is gone, among those under the given paths (True) or under these folders only (a
        shared database also holds documents uploaded through other servers, whose files this one never sees)."""
        self.check_model()
        self.screen_stored()
        started = time.perf_counter()
        report = IngestReport()
        paths = list(paths)
        files = collect_files(paths)
        seen: dict[str, Path] = {}
        iterator: Iterable[Path] = files
        if progress and files:
            from tqdm import tqdm

            iterator = tqdm(files, desc="Läser in", unit="fil", leave=False)
        for path in iterator:
            doc_id = document_id_for(path)
            if doc_id in seen:
                reason = f"Samma dokument-id ({doc_id}) som {seen[doc_id].name}; byt namn på en av filerna."
                report.failed.append({"path": str(path), "reason": reason})
                on_file and on_file(path, "failed", reason)
                continue
            seen[doc_id] = path
            collision = None if replace else self.id_collision(doc_id, path)
            if collision is not None:
                report.failed.append({"path": str(path), "reason": collision})
                on_file and on_file(path, "failed", collision)
                continue
            try:
                outcome = self._ingest_one(path, report)
            except IngestError as exc:
                report.failed.append({"path": str(path), "reason": str(exc)})
                on_file and on_file(path, "failed", str(exc))
                continue
            except (ModelMismatchError, ConfigurationError):
                raise
            except OSError as exc:
                log.info("could not read %s", path, exc_info=True)
                reason = os_error_sv(exc, path)
                report.failed.append({"path": str(path), "reason": reason})
                on_file and on_file(path, "failed", reason)
                continue
            except Exception as exc:  # noqa: BLE001 - one odd file must not stop the run
                log.exception("unexpected error ingesting %s", path)
                reason = f"Filen kunde inte läsas in på grund av ett oväntat fel ({type(exc).__name__}). Se loggen."
                report.failed.append({"path": str(path), "reason": reason})
                on_file and on_file(path, "failed", reason)
                continue
            on_file and on_file(path, outcome, None)
        if prune:
            within = [Path(p).resolve() for p in (paths if prune is True else prune)]
            for record in self.ledger.documents():
                source = Path(record.source)
                if any(source.is_relative_to(folder) for folder in within) and not source.exists():
                    self.remove(record.document_id)
                    report.removed.append(record.document_id)
        report.seconds = time.perf_counter() - started
        return report

    @_model_first
    @_writes
    def ingest_bytes(self, name: str, data: bytes, keep_dir: Path, by: str | None = None) -> tuple[str, str]:
        """Ingest an upload. The file is kept under `keep_dir` only when it was accepted. `by` is recorded as
        who ingested it (default: settings.ingested_by or the OS user); the shared settings are not changed."""
        self.check_model()
        check_upload_name(name)  # before anything is read or written: no '..', separators, NUL or overlong names
        self.screen_stored()
        doc = load_limited(Path(name), self.settings, data=data, name=name)
        precheck_chunks(doc, self.settings)  # a cheap lower bound; the exact count is checked after chunking
        keep_dir.mkdir(parents=True, exist_ok=True)
        target = keep_dir / Path(name).name
        existing = self.ledger.document(doc.document_id)
        if existing and Path(existing.source).resolve() != target.resolve() and Path(existing.source).exists():
            raise IngestError(
                f"Det finns redan ett dokument med id '{doc.document_id}' ({Path(existing.source).name}). "
                "Byt namn på filen eller ta bort det befintliga dokumentet först."
            )
        tmp = target.with_name(f".{target.name}.uppladdning")
        tmp.write_bytes(data)
        doc = LoadedDocument(**{**doc.__dict__, "source": str(target)})
        report = IngestReport()
        try:
            outcome = self._write(doc, report, existing, by=by)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(target)
        return doc.document_id, outcome

    def id_collision(self, doc_id: str, path: Path) -> str | None:
        """Why `path` may not take `doc_id`: the ledger holds the id for another source file that still exists
        (a file that moved takes its id with it). None when it may."""
        existing = self.ledger.document(doc_id)
        if existing is None:
            return None
        try:
            other = Path(existing.source)
            if other.resolve() == path.resolve() or not other.exists():
                return None
        except OSError:
            return None
        return (
            f"Dokument-id '{doc_id}' finns redan i indexet för en annan fil: {existing.source}. "
            f"Filen {path} skulle ersätta det dokumentet och lästes därför inte in. Byt namn på filen, "
            "eller kör `python ingest.py --replace …` om den ska ersätta dokumentet."
        )

    def _max_bytes(self) -> int:
        return int(self.settings.max_file_mb * 1_000_000)

    def _ingest_one(self, path: Path, report: IngestReport) -> str:
        doc_id = document_id_for(path)
        existing = self.ledger.document(doc_id)
        if existing is not None:
            try:
                same = path.stat().st_size <= self._max_bytes() and file_sha256(path) == existing.content_hash
            except OSError:
                same = False
            if same:
                report.unchanged.append(doc_id)
                return "unchanged"
        doc = load_limited(path, self.settings)  # in a worker process, under the time and memory limits
        precheck_chunks(doc, self.settings)  # a cheap lower bound; the exact count is checked after chunking
        return self._write(doc, report, existing)

    def _write(self, doc: LoadedDocument, report: IngestReport, existing: DocumentRecord | None,
               by: str | None = None) -> str:
        if existing is not None and existing.content_hash == doc.content_hash:
            report.unchanged.append(doc.document_id)
            return "unchanged"
        # Never above what the encoder reads (its limit minus [CLS] and [SEP]), whatever the setting says.
        max_tokens = min(self.settings.chunk_max_tokens, self.embedder.max_tokens - 2)
        chunks = chunk_document(doc, max_tokens, self.embedder.count_tokens)
        if not chunks:
            raise IngestError("Filen gav inga textavsnitt att indexera.")
        check_chunk_count(doc, chunks, self.settings)  # before anything is embedded
        chunks = screened(chunks)
        texts = [index_text(c) for c in chunks]
        old_ids = self.ledger.chunk_ids(doc.document_id)
        new_ids = [c.id for c in chunks if c.id not in set(old_ids)]
        to_embed = [i for i, c in enumerate(chunks) if c.id in set(new_ids)]
        vectors_new = self.embedder.embed_passages([texts[i] for i in to_embed])
        report.chunks += len(to_embed)
        fresh = [chunks[i] for i in to_embed]
        record = DocumentRecord(
            document_id=doc.document_id,
            source=doc.source,
            title=doc.title,
            kind=doc.kind,
            content_hash=doc.content_hash,
            chunk_count=len(chunks),
            ingested_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            ingested_by=by or self.settings.ingested_by or _current_user(),
            metadata=doc.metadata,
        )
        try:
            # Inside the try: a failed (partial) add must not leave vectors behind either.
            self.store.add(fresh, vectors_new, [texts[i] for i in to_embed])
            with self.ledger.transaction() as conn:
                if self.ledger.get_meta("embedding_model") is None:
                    self.ledger.set_meta("embedding_model", self.settings.embedding_model)
                self.ledger.replace_document(conn, record, chunks, [content_tokens(t) for t in texts])
        except BaseException:
            self.store.delete([c.id for c in fresh])
            raise
        stale = sorted(set(old_ids) - {c.id for c in chunks})
        if stale:
            self.store.delete(stale)
        self._lexical = None
        (report.updated if existing is not None else report.added).append(doc.document_id)
        return "updated" if existing is not None else "added"

    @_writes
    def screen_stored(self) -> int:
        """Screen every stored chunk again when the detector changed since the index was screened (a ledger from
        before screening, or new training data). Returns how many chunks are held back."""
        current = screening.version()
        if self.ledger.get_meta("screening") == current:
            return -1
        model = screening.PassageModel.bundled()
        reasons: dict[str, str | None] = {}
        for cid, text, section in self.ledger.screening_targets():
            finding = model.screen(text, section)
            reasons[cid] = finding.reason() if finding else None
        with self.ledger.transaction() as conn:
            self.ledger.set_held_back(conn, reasons)
            self.ledger.set_meta("screening", current)
        self._lexical = None
        held = sum(r is not None for r in reasons.values())
        log.info("screened %d stored chunks: %d held back", len(reasons), held)
        return held

    def held_back(self, document_id: str | None = None) -> list[Chunk]:
        return self.ledger.held_back(document_id)

    @_writes
    def remove(self, document_id: str) -> bool:
        ids = self.ledger.chunk_ids(document_id)
        if self.ledger.document(document_id) is None:
            return False
        with self.ledger.transaction() as conn:
            self.ledger.delete_document(conn, document_id)
        self.store.delete(ids)
        self._lexical = None
        return True

    @_model_first
    @_writes
    def rebuild(self, paths: Iterable[Path] = (), on_file: Callable[[Path, str, str | None], None] | None = None,
                progress: bool = False) -> IngestReport:
        """Start over from `paths` (none: an empty index), forgetting which model built the index. Built aside
        and swapped in only when complete: interrupted, the previous index stays (see maintenance.py)."""
        from assistant.ingestion import maintenance

        return maintenance.rebuild(self, paths, on_file=on_file, progress=progress)

    @_writes
    def update_metadata(self, document_id: str, title: str, metadata: dict) -> None:
        """Edit a document's title and metadata. Chunk texts and vectors stay as they are."""
        if not title.strip():
            raise AssistantError("Titeln får inte vara tom.")
        self.ledger.update_metadata(document_id, title.strip(), metadata)
        self._lexical = None

    # -- search --------------------------------------------------------
    @property
    def lexical(self) -> LexicalIndex:
        """The current lexical snapshot; built from the ledger after each write, then swapped in whole."""
        snapshot = self._lexical
        generation = self.ledger.version()[0]  # changes when another process commits to the ledger
        if snapshot is None or generation != self._lexical_generation:
            with self._lexical_lock:
                snapshot = self._lexical
                if snapshot is None or generation != self._lexical_generation:
                    self._lexical_generation = generation
                    snapshot = LexicalIndex.build(
                        ((chunk.id, tokens) for chunk, tokens in self.ledger.all_chunks() if not chunk.held_back),
                        k1=self.settings.bm25_k1, b=self.settings.bm25_b,
                    )
                    self._lexical = snapshot
        return snapshot

    def warm_up(self) -> None:
        self.embedder.warm_up()
        _ = self.lexical

    def weights_for(self, mode: SearchMode) -> dict[str, float]:
        """Channel → weight in the fusion: the settings for hybrid, one channel (or family) otherwise."""
        lexical = dict(self.settings.channel_weights)
        if mode == "hybrid":
            return {**lexical, "dense": self.settings.dense_weight}
        if mode == "lexical":
            return lexical
        return {mode: 1.0}

    def rank(self, query: str, mode: SearchMode = "hybrid", weights: dict[str, float] | None = None,
             dense_depth: int = 100) -> Ranking:
        """Every passage scored for the query. Each channel's scores are divided by the channel's best score,
        weighted (settings.channel_weights and settings.dense_weight, fit on SweFAQ dev) and added."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.check_model()
        weights = {c: w for c, w in (weights or self.weights_for(mode)).items() if w}
        lexical = self.lexical  # one snapshot for the whole query, whatever a writer does meanwhile
        tokens = content_tokens(query)
        raw: dict[str, np.ndarray] = {}
        if any(c != "dense" for c in weights) and tokens and len(lexical):
            raw = lexical.channel_scores(tokens)
        if "dense" in weights and len(lexical) and query.strip():
            dense = np.zeros(len(lexical), dtype=np.float32)
            for cid, cosine in self._dense(query, dense_depth):
                row = lexical.row(cid)
                if row is not None:  # a vector the snapshot does not know yet is found after the next rebuild
                    dense[row] = max(cosine, 0.0)
            raw["dense"] = dense
        return Ranking(lexical, fuse(raw, weights, len(lexical)), raw, weights)

    def _dense(self, query: str, depth: int) -> list[tuple[str, float]]:
        vector = self.embedder.embed_query(query)
        try:
            return self.store.query(vector, depth)
        except Exception:  # noqa: BLE001 - a rebuild elsewhere swapped and deleted the collection just now
            log.info("dense query failed; reopening the collection", exc_info=True)
            self._store = None
            return self.store.query(vector, depth)

    def hits(self, ranking: Ranking, rows: list[int]) -> list[Hit]:
        """The passages of these rows as hits, leaving out any removed since the snapshot was built."""
        ids = [ranking.snapshot.ids[r] for r in rows]
        chunks = self.ledger.chunks(ids)
        out = []
        for r, cid in zip(rows, ids, strict=True):
            chunk = chunks.get(cid)
            if chunk is None or chunk.held_back:  # removed since the snapshot was built, or held back: never shown
                continue
            channels = ranking.channels(r)
            out.append(Hit(
                chunk=chunk,
                score=float(ranking.fused[r]),
                dense_score=channels.get("dense") if "dense" in ranking.weights else None,
                lexical_score=ranking.lexical_part(r) if any(c != "dense" for c in ranking.weights) else None,
                channels=channels,
            ))
        return out

    def search(self, query: str, k: int = 10, mode: SearchMode = "hybrid",
               weights: dict[str, float] | None = None) -> list[Hit]:
        """The k best passages for the query (see `rank`)."""
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        ranking = self.rank(query, mode, weights, dense_depth=max(k * 4, 100))
        return self.hits(ranking, ranking.top(k))

    def chunks_of(self, document_id: str) -> list[Chunk]:
        ids = self.ledger.chunk_ids(document_id)
        found = self.ledger.chunks(ids)
        return [found[i] for i in ids if i in found]


def screened(chunks: list[Chunk]) -> list[Chunk]:
    """The chunks with `held_back` set on those that instruct the assistant (see assistant.ingestion.screening)."""
    model = screening.PassageModel.bundled()
    out = []
    for chunk in chunks:
        finding = model.screen(chunk.text, chunk.section)
        out.append(replace(chunk, held_back=finding.reason() if finding else None))
    return out


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "okänd"
