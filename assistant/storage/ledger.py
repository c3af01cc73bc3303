"""The ledger in PostgreSQL: the same records as the SQLite ledger, shared by several app servers.

`SqlLedger` has the interface of `assistant.ingestion.ledger.Ledger`. Every transaction that changes the index
also raises `index_version` (one row) in the same commit. `version()` reads that number, at most every
`poll_seconds` (settings.database_poll_seconds), so each app server notices a change made by another within about
that long and rebuilds its lexical snapshot (see `Index.lexical`); its own changes it knows at once. Connections
come from the process's pool, one per call or transaction, so threads never share a connection.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from assistant.storage import database
from assistant.storage.schema import chunks as t_chunks
from assistant.storage.schema import documents as t_documents
from assistant.storage.schema import index_meta, index_version
from assistant.types import Chunk, DocumentRecord

_DOCUMENT = (t_documents.c.document_id, t_documents.c.source, t_documents.c.title, t_documents.c.kind,
             t_documents.c.content_hash, t_documents.c.chunk_count, t_documents.c.ingested_at,
             t_documents.c.ingested_by, t_documents.c.metadata)
_CHUNK = (t_chunks.c.id, t_chunks.c.document_id, t_chunks.c.ordinal, t_chunks.c.text, t_chunks.c.title,
          t_chunks.c.start, t_chunks.c.end, t_chunks.c.content_hash, t_chunks.c.page, t_chunks.c.section,
          t_chunks.c.held_back)
_BATCH = 1000


def _record(row: tuple) -> DocumentRecord:
    return DocumentRecord(*row[:8], metadata=json.loads(row[8]))


class SqlLedger:
    def __init__(self, url: str, poll_seconds: float = 1.0) -> None:
        self.url = database.normalise(url)
        self.engine = database.engine_for(self.url)
        self.poll_seconds = poll_seconds
        self._local = threading.local()  # the connection of the transaction this thread is in, if any
        self._lock = threading.Lock()  # guards the cached version and documents below
        self._known: int | None = None  # the newest index version seen
        self._read_at = 0.0
        self._own = 0  # versions raised by this ledger's own transactions
        self._documents_cache: tuple[int, list[DocumentRecord]] | None = None

    def close(self) -> None:
        """Nothing to close: connections return to the process's pool (database.dispose_all closes it)."""

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        """The calling thread's transaction connection, or a pooled one in a transaction of its own."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with database.connection(self.engine, self.url) as conn:
            yield conn

    def _rows(self, statement) -> list[tuple]:  # noqa: ANN001 - a SQLAlchemy statement
        with self._conn() as conn:
            return [tuple(r) for r in conn.execute(statement).all()]

    def _bump(self, conn: Connection) -> int:
        return int(conn.execute(update(index_version).where(index_version.c.id == 1)
                                .values(version=index_version.c.version + 1)
                                .returning(index_version.c.version)).scalar_one())

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction for a change of the index; the index version rises in the same commit."""
        if getattr(self._local, "conn", None) is not None:  # nested: part of the outer transaction
            yield self._local.conn
            return
        committing = False
        try:
            with database.connection(self.engine, self.url) as conn:
                self._local.conn = conn
                try:
                    yield conn
                    version = self._bump(conn)
                finally:
                    self._local.conn = None
                # Held across the commit (at the end of this block): a thread that reads the new version from the
                # database then waits here, and finds it counted as this ledger's own change (see version()).
                self._lock.acquire()
                committing = True
            self._own += 1
            self._known, self._read_at = max(version, self._known or 0), time.monotonic()
        finally:
            if committing:
                self._lock.release()

    def get_meta(self, key: str) -> str | None:
        rows = self._rows(select(index_meta.c.value).where(index_meta.c.key == key))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            statement = pg_insert(index_meta).values(key=key, value=value)
            conn.execute(statement.on_conflict_do_update(index_elements=[index_meta.c.key],
                                                         set_={"value": statement.excluded.value}))

    def _read(self) -> tuple[int, int]:
        """(the index version in the database, how many of its raises were this ledger's), read together; the
        database is asked again when the last read is older than poll_seconds."""
        now = time.monotonic()
        with self._lock:
            if self._known is not None and now - self._read_at < self.poll_seconds:
                return self._known, self._own
        found = int(self._rows(select(index_version.c.version).where(index_version.c.id == 1))[0][0])
        with self._lock:
            self._known, self._read_at = max(found, self._known or 0), now
            return self._known, self._own

    def version(self) -> tuple[int, int]:
        """(changes made by others, changes made through this ledger), like the SQLite ledger's (data_version,
        total_changes): the first number changes only when another server, process or ledger commits, which is
        when the Index must reload what it caches; its own writes it handles itself."""
        current, own = self._read()
        return current - own, own

    def documents(self) -> list[DocumentRecord]:
        version = self._read()[0]
        with self._lock:
            cached = self._documents_cache
        if cached is not None and cached[0] == version:
            return list(cached[1])
        records = [_record(r) for r in self._rows(select(*_DOCUMENT).order_by(t_documents.c.document_id))]
        with self._lock:
            self._documents_cache = (version, records)
        return list(records)

    def document(self, document_id: str) -> DocumentRecord | None:
        rows = self._rows(select(*_DOCUMENT).where(t_documents.c.document_id == document_id))
        return _record(rows[0]) if rows else None

    def has_documents(self) -> bool:
        return bool(self._rows(select(t_documents.c.document_id).limit(1)))

    def chunk_id_set(self) -> dict[str, str]:
        return dict(self._rows(select(t_chunks.c.id, t_chunks.c.document_id)))

    def chunk_ids(self, document_id: str) -> list[str]:
        rows = self._rows(select(t_chunks.c.id).where(t_chunks.c.document_id == document_id)
                          .order_by(t_chunks.c.ordinal))
        return [r[0] for r in rows]

    def chunk_count(self) -> int:
        return int(self._rows(select(func.count()).select_from(t_chunks))[0][0])

    def replace_document(self, conn: Connection, record: DocumentRecord, chunks: list[Chunk],
                         tokens: list[list[str]]) -> None:
        conn.execute(delete(t_documents).where(t_documents.c.document_id == record.document_id))
        conn.execute(insert(t_documents).values(
            document_id=record.document_id, source=record.source, title=record.title, kind=record.kind,
            content_hash=record.content_hash, chunk_count=record.chunk_count, ingested_at=record.ingested_at,
            ingested_by=record.ingested_by, metadata=json.dumps(record.metadata, ensure_ascii=False)))
        rows = [{"id": c.id, "document_id": c.document_id, "ordinal": c.ordinal, "text": c.text, "title": c.title,
                 "start": c.start, "end": c.end, "content_hash": c.content_hash, "page": c.page,
                 "section": c.section, "tokens": json.dumps(t, ensure_ascii=False), "held_back": c.held_back}
                for c, t in zip(chunks, tokens, strict=True)]
        for start in range(0, len(rows), _BATCH):
            conn.execute(insert(t_chunks), rows[start:start + _BATCH])

    def update_metadata(self, document_id: str, title: str, metadata: dict) -> None:
        with self.transaction() as conn:
            conn.execute(update(t_documents).where(t_documents.c.document_id == document_id)
                         .values(title=title, metadata=json.dumps(metadata, ensure_ascii=False)))
            conn.execute(update(t_chunks).where(t_chunks.c.document_id == document_id).values(title=title))

    def delete_document(self, conn: Connection, document_id: str) -> None:
        conn.execute(delete(t_documents).where(t_documents.c.document_id == document_id))  # chunks cascade

    def all_chunks(self) -> Iterator[tuple[Chunk, list[str]]]:
        rows = self._rows(select(*_CHUNK, t_chunks.c.tokens)
                          .order_by(t_chunks.c.document_id, t_chunks.c.ordinal))
        for row in rows:
            yield Chunk(*row[:11]), json.loads(row[11])

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        found: dict[str, Chunk] = {}
        for start in range(0, len(ids), _BATCH):
            for row in self._rows(select(*_CHUNK).where(t_chunks.c.id.in_(ids[start:start + _BATCH]))):
                found[row[0]] = Chunk(*row)
        return found

    def screening_targets(self) -> Iterator[tuple[str, str, str | None]]:
        yield from self._rows(select(t_chunks.c.id, t_chunks.c.text, t_chunks.c.section)
                              .order_by(t_chunks.c.document_id, t_chunks.c.ordinal))

    def set_held_back(self, conn: Connection, reasons: dict[str, str | None]) -> None:
        from sqlalchemy import bindparam

        if reasons:
            conn.execute(update(t_chunks).where(t_chunks.c.id == bindparam("cid"))
                         .values(held_back=bindparam("reason")),
                         [{"cid": cid, "reason": r} for cid, r in reasons.items()])

    def held_back(self, document_id: str | None = None) -> list[Chunk]:
        statement = select(*_CHUNK).where(t_chunks.c.held_back.is_not(None))
        if document_id is not None:
            statement = statement.where(t_chunks.c.document_id == document_id)
        return [Chunk(*r) for r in self._rows(statement.order_by(t_chunks.c.document_id, t_chunks.c.ordinal))]

    def adopt(self, other: Path, meta: dict[str, str]) -> None:
        """Replace all documents, chunks and meta with those of an SQLite ledger file (a rebuild built aside),
        in one transaction; `meta` is set on top."""
        source = sqlite3.connect(other)
        try:
            docs = source.execute(
                "SELECT document_id, source, title, kind, content_hash, chunk_count, ingested_at, ingested_by, "
                "metadata FROM documents").fetchall()
            rows = source.execute(
                "SELECT id, document_id, ordinal, text, title, start, end, content_hash, page, section, tokens, "
                "held_back FROM chunks").fetchall()
            old_meta = dict(source.execute("SELECT key, value FROM meta").fetchall())
        finally:
            source.close()
        names = [c.name for c in t_chunks.columns]
        with self.transaction() as conn:
            conn.execute(delete(t_chunks))
            conn.execute(delete(t_documents))
            conn.execute(delete(index_meta))
            if docs:
                conn.execute(insert(t_documents), [dict(zip([c.name for c in _DOCUMENT], d, strict=True))
                                                   for d in docs])
            chunk_rows = [dict(zip(names, r, strict=True)) for r in rows]
            for start in range(0, len(chunk_rows), _BATCH):
                conn.execute(insert(t_chunks), chunk_rows[start:start + _BATCH])
            merged = {**old_meta, **meta}
            if merged:
                conn.execute(insert(index_meta), [{"key": k, "value": v} for k, v in merged.items()])
