"""The SQLite ledger: what each document is, and the text of its chunks (`open_ledger` picks it, or the
PostgreSQL ledger in assistant/storage/ledger.py when ASSISTANT_DATABASE_URL is set).

It is the record of what the index holds. Chunk texts and their lexical tokens
live here too, so the lexical index can be rebuilt without re-reading files,
and a document's rows change in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.types import Chunk, DocumentRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    document_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    ingested_by TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(document_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    title TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    page INTEGER,
    section TEXT,
    tokens TEXT NOT NULL,
    held_back TEXT
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id, ordinal);
"""


class Ledger:
    """One SQLite connection, shared by every thread of the process (all sessions of a Streamlit server).

    Every use of the connection, reads included, holds `_lock`, and a transaction holds it from BEGIN to COMMIT:
    a reader on this connection would otherwise see a writer's uncommitted rows (a document without its chunks),
    and two threads' statements would interleave on one connection. Every read returns materialised rows, never
    a live cursor, so no lock is held between calls.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()  # re-entrant: a transaction's body calls get_meta/set_meta on this thread
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
        if "held_back" not in columns:  # a ledger from before screening: every chunk is screened at the next ingest
            self._db.execute("ALTER TABLE chunks ADD COLUMN held_back TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        """All rows of one query, read under the lock."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:  # held until COMMIT/ROLLBACK: no other thread uses the connection mid-transaction
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get_meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def version(self) -> tuple[int, int]:
        """Changes whenever the ledger changes: commits by other connections (PRAGMA data_version, other
        processes included) and changes made on this connection (total_changes)."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0]), self._db.total_changes

    def documents(self) -> list[DocumentRecord]:
        """All documents, metadata decoded. Cached until the ledger changes (metadata can be large)."""
        with self._lock:  # the version and the rows it stands for are read together
            version = self.version()
            cached = getattr(self, "_documents_cache", None)
            if cached is not None and cached[0] == version:
                return list(cached[1])
            rows = self._db.execute(
                "SELECT document_id, source, title, kind, content_hash, chunk_count, ingested_at, ingested_by, metadata "
                "FROM documents ORDER BY document_id"
            ).fetchall()
            records = [DocumentRecord(*row[:8], metadata=json.loads(row[8])) for row in rows]
            self._documents_cache = (version, records)
            return list(records)

    def document(self, document_id: str) -> DocumentRecord | None:
        rows = self._rows(
            "SELECT document_id, source, title, kind, content_hash, chunk_count, ingested_at, ingested_by, metadata "
            "FROM documents WHERE document_id = ?",
            (document_id,),
        )
        return DocumentRecord(*rows[0][:8], metadata=json.loads(rows[0][8])) if rows else None

    def has_documents(self) -> bool:
        return bool(self._rows("SELECT 1 FROM documents LIMIT 1"))

    def chunk_id_set(self) -> dict[str, str]:
        """Every chunk id → its document id (for the consistency check)."""
        return dict(self._rows("SELECT id, document_id FROM chunks"))

    def adopt(self, other: Path, meta: dict[str, str]) -> None:
        """Replace all documents, chunks and meta with those of another ledger file, in one transaction
        (the swap of a rebuild built aside). `meta` is set on top of the other ledger's meta."""
        with self._lock:
            tables = {t: [r[1] for r in self._db.execute(f"PRAGMA table_info({t})")] for t in ("documents", "chunks", "meta")}
            self._db.execute("ATTACH DATABASE ? AS aside", (str(other),))
            try:
                with self.transaction() as conn:
                    conn.execute("DELETE FROM chunks")
                    conn.execute("DELETE FROM documents")
                    conn.execute("DELETE FROM meta")
                    for table in ("documents", "chunks", "meta"):
                        cols = ", ".join(tables[table])
                        conn.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM aside.{table}")
                    conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
            finally:
                self._db.execute("DETACH DATABASE aside")

    def chunk_ids(self, document_id: str) -> list[str]:
        rows = self._rows("SELECT id FROM chunks WHERE document_id = ? ORDER BY ordinal", (document_id,))
        return [r[0] for r in rows]

    def chunk_count(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM chunks")[0][0])

    def replace_document(self, conn: sqlite3.Connection, record: DocumentRecord, chunks: list[Chunk], tokens: list[list[str]]) -> None:
        conn.execute("DELETE FROM documents WHERE document_id = ?", (record.document_id,))
        conn.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.document_id, record.source, record.title, record.kind, record.content_hash,
                record.chunk_count, record.ingested_at, record.ingested_by,
                json.dumps(record.metadata, ensure_ascii=False),
            ),
        )
        conn.executemany(
            "INSERT INTO chunks (id, document_id, ordinal, text, title, start, end, content_hash, page, section, "
            "tokens, held_back) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (c.id, c.document_id, c.ordinal, c.text, c.title, c.start, c.end, c.content_hash, c.page, c.section,
                 json.dumps(t, ensure_ascii=False), c.held_back)
                for c, t in zip(chunks, tokens, strict=True)
            ],
        )

    def update_metadata(self, document_id: str, title: str, metadata: dict) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE documents SET title = ?, metadata = ? WHERE document_id = ?",
                (title, json.dumps(metadata, ensure_ascii=False), document_id),
            )
            conn.execute("UPDATE chunks SET title = ? WHERE document_id = ?", (title, document_id))

    def delete_document(self, conn: sqlite3.Connection, document_id: str) -> None:
        conn.execute("DELETE FROM documents WHERE document_id = ?", (document_id,))

    def all_chunks(self) -> Iterator[tuple[Chunk, list[str]]]:
        # Read whole under the lock (one consistent view; a cursor left open across yields would share the
        # connection with other threads); decoded lazily.
        rows = self._rows(
            "SELECT id, document_id, ordinal, text, title, start, end, content_hash, page, section, held_back, tokens "
            "FROM chunks ORDER BY document_id, ordinal"
        )
        for row in rows:
            yield Chunk(*row[:11]), json.loads(row[11])

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        found: dict[str, Chunk] = {}
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._rows(
                f"SELECT id, document_id, ordinal, text, title, start, end, content_hash, page, section, held_back "
                f"FROM chunks WHERE id IN ({marks})",
                batch,
            )
            for row in rows:
                found[row[0]] = Chunk(*row)
        return found

    def screening_targets(self) -> Iterator[tuple[str, str, str | None]]:
        """(id, text, section) of every chunk, for screening them again with a new detector."""
        yield from self._rows("SELECT id, text, section FROM chunks ORDER BY document_id, ordinal")

    def set_held_back(self, conn: sqlite3.Connection, reasons: dict[str, str | None]) -> None:
        conn.executemany("UPDATE chunks SET held_back = ? WHERE id = ?", [(r, cid) for cid, r in reasons.items()])

    def held_back(self, document_id: str | None = None) -> list[Chunk]:
        """The chunks kept out of answers, with their reasons; of one document or all."""
        query = ("SELECT id, document_id, ordinal, text, title, start, end, content_hash, page, section, held_back "
                 "FROM chunks WHERE held_back IS NOT NULL")
        args: tuple = ()
        if document_id is not None:
            query += " AND document_id = ?"
            args = (document_id,)
        return [Chunk(*row) for row in self._rows(query + " ORDER BY document_id, ordinal", args)]


def open_ledger(settings, path: Path | None = None):  # noqa: ANN001, ANN201 - Settings; a Ledger or SqlLedger
    """The ledger the settings name: SQLite at `path` (an explicit path, e.g. a rebuild's aside ledger, is always
    SQLite) or settings.ledger_path, or the shared PostgreSQL ledger when settings.database_url is set."""
    if path is None and settings.database_url is not None:
        from assistant.storage.ledger import SqlLedger

        return SqlLedger(settings.database_url.get_secret_value(), settings.database_poll_seconds)
    return Ledger(path or settings.ledger_path)
