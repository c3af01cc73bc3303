"""What the Bibliotek page does to the index: uploads, metadata, removal, re-indexing.

The same `Index` code as `ingest.py`; the page only renders what these return.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from assistant.ingestion.index import Index, IngestReport
from assistant.settings import Settings
from assistant.types import DocumentRecord

OUTCOME_SV = {"added": "tillagd", "updated": "uppdaterad", "unchanged": "oförändrad (samma innehåll finns redan)"}
_lock = threading.Lock()  # one writer at a time, whichever session asks


@dataclass(frozen=True)
class UploadResult:
    name: str
    ok: bool
    message: str  # Swedish: the outcome, or why the file was refused
    document_id: str | None = None


def ingest_upload(index: Index, name: str, data: bytes, settings: Settings, by: str) -> UploadResult:
    """Ingest one uploaded file as `by`. A refused file leaves the index and the uploads folder unchanged."""
    from assistant.errors import AssistantError

    with _lock:
        # The ledger records `settings.ingested_by`; the index is shared, so it is set only under the lock.
        original = index.settings
        index.settings = original.model_copy(update={"ingested_by": by})
        try:
            doc_id, outcome = index.ingest_bytes(name, data, settings.uploads_dir)
        except AssistantError as exc:
            return UploadResult(name, False, str(exc))
        finally:
            index.settings = original
    return UploadResult(name, True, OUTCOME_SV.get(outcome, outcome), doc_id)


def reindex(index: Index, settings: Settings) -> IngestReport:
    """Re-read the bundled corpus and the uploads; only changed files are embedded again."""
    paths = [settings.corpus_dir] + ([settings.uploads_dir] if settings.uploads_dir.exists() else [])
    with _lock:
        return index.ingest(paths, prune=True)


def remove_document(index: Index, settings: Settings, document_id: str) -> bool:
    """Remove from the index; an uploaded file is deleted too, so re-indexing does not bring it back."""
    with _lock:
        record = index.ledger.document(document_id)
        if record is None:
            return False
        index.remove(document_id)
        source = Path(record.source)
        if is_upload(record, settings):
            source.unlink(missing_ok=True)
        return True


def is_upload(record: DocumentRecord, settings: Settings) -> bool:
    try:
        return Path(record.source).resolve().is_relative_to(settings.uploads_dir.resolve())
    except OSError:
        return False


def edit_metadata(index: Index, document_id: str, title: str, publisher: str, published: str) -> None:
    record = index.ledger.document(document_id)
    metadata = dict(record.metadata) if record else {}
    for key, value in (("utgivare", publisher.strip()), ("datum", published.strip())):
        if value:
            metadata[key] = value
        else:
            metadata.pop(key, None)
    with _lock:
        index.update_metadata(document_id, title, metadata)


def document_rows(records: list[DocumentRecord], settings: Settings) -> list[dict[str, object]]:
    """One row per document for the table on the page, with Swedish column names."""
    return [
        {
            "Titel": r.title,
            "Utgivare": str(r.metadata.get("utgivare", "")),
            "Datum": str(r.metadata.get("datum", "")),
            "Avsnitt": r.chunk_count,
            "Inläst": r.ingested_at.replace("T", " ")[:16],
            "Av": r.ingested_by,
            "Källa": "uppladdad" if is_upload(r, settings) else "medföljande",
            "Id": r.document_id,
        }
        for r in records
    ]
