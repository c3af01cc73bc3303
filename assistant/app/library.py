"""What the Bibliotek page does to the index: uploads, metadata, removal, re-indexing.

The same `Index` code as `ingest.py`; the page only renders what these return.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from assistant.ingestion.index import Index, IngestReport
from assistant.settings import Settings
from assistant.types import DocumentRecord

log = logging.getLogger(__name__)
OUTCOME_SV = {"added": "tillagd", "updated": "uppdaterad", "unchanged": "oförändrad (samma innehåll finns redan)"}
_lock = threading.Lock()  # one writer at a time, whichever session asks


@dataclass(frozen=True)
class UploadResult:
    name: str
    ok: bool
    message: str  # Swedish: the outcome, or why the file was refused
    document_id: str | None = None
    duplicate: bool = False  # the same content is already in the library: nothing was added
    needs_confirmation: bool = False  # a changed version of an uploaded file: replaced only with replace=True


def ingest_upload(index: Index, name: str, data: bytes, settings: Settings, by: str,
                  replace: bool = False) -> UploadResult:
    """Ingest one uploaded file as `by`. A refused file leaves the index and the uploads folder unchanged.

    A file whose content is already in the library (same SHA-256 as a document in the ledger) is not added again.
    A changed file with the name of an earlier upload replaces it only with `replace=True`; otherwise the result
    asks for a confirmation and nothing changes.

    Never raises for a bad file: every failure is a Swedish message for this file (a traceback of an unexpected
    error goes to the log), so the other files of the same upload are still read.
    """
    from assistant.errors import AssistantError, ConfigurationError, ModelMismatchError
    from assistant.ingestion.loaders import check_upload_name, clean_label, os_error_sv

    shown = clean_label(str(name))[:120] or "(namnlös fil)"
    try:
        shown = check_upload_name(name)  # before the lock, the index and the uploads folder are touched
    except AssistantError as exc:
        return UploadResult(shown, False, str(exc))
    with _lock:
        same = duplicate_of(index, data)
        if same is not None:
            return UploadResult(shown, True, f"finns redan i biblioteket (samma innehåll som ”{same.title}”, "
                                f"{Path(same.source).name}) och lades inte till igen", same.document_id, duplicate=True)
        earlier = earlier_upload(index, settings, name)
        if earlier is not None and not replace:
            return UploadResult(shown, False, f"det finns redan en uppladdad fil med namnet {shown} (”{earlier.title}”, "
                                f"inläst {earlier.ingested_at.replace('T', ' ')[:16]}) med annat innehåll. "
                                "Bekräfta om den nya versionen ska ersätta den.", earlier.document_id,
                                needs_confirmation=True)
        try:  # `by` is passed, never set on the index's settings: every session reads those
            doc_id, outcome = index.ingest_bytes(name, data, settings.uploads_dir, by=by)
        except (ModelMismatchError, ConfigurationError):
            raise  # the whole index is unusable: the page's error boundary shows it
        except AssistantError as exc:
            return UploadResult(shown, False, str(exc))
        except OSError as exc:
            log.warning("upload %s could not be stored: %s", shown, type(exc).__name__)
            return UploadResult(shown, False, f"{shown} kunde inte sparas: {os_error_sv(exc)}.")
        except Exception as exc:  # noqa: BLE001 - one odd file must not stop the upload
            log.exception("unexpected error ingesting the upload %s", shown)
            return UploadResult(shown, False, f"{shown} kunde inte läsas in på grund av ett oväntat fel. "
                                              "Detaljer finns i loggen.")
    message = OUTCOME_SV.get(outcome, outcome)
    held = len(index.held_back(doc_id))
    if held:
        message += (f" – {held} avsnitt innehåller uppmaningar till assistenten och hålls utanför svaren "
                    "(se ”Avsnitt som hålls utanför svaren” nedan)")
    return UploadResult(shown, True, message, doc_id)


def duplicate_of(index: Index, data: bytes) -> DocumentRecord | None:
    """The document in the ledger with exactly this content, if any."""
    digest = hashlib.sha256(data).hexdigest()
    return next((r for r in index.documents() if r.content_hash == digest), None)


def earlier_upload(index: Index, settings: Settings, name: str) -> DocumentRecord | None:
    """The uploaded document an upload called `name` would replace (same file name in the uploads folder)."""
    from assistant.ingestion.loaders import document_id_for

    record = index.ledger.document(document_id_for(Path(name)))
    if record is None or not is_upload(record, settings) or Path(record.source).name != Path(name).name:
        return None
    return record if Path(record.source).exists() else None


def reindex(index: Index, settings: Settings) -> IngestReport:
    """Re-read the bundled corpus and the uploads; only changed files are embedded again."""
    paths = [settings.corpus_dir] + ([settings.uploads_dir] if settings.uploads_dir.exists() else [])
    # With a shared database, uploads made through other servers are in the ledger but their files are on those
    # servers: only the bundled corpus is pruned then (an upload is removed with remove_document).
    prune = [settings.corpus_dir] if settings.database_url is not None else True
    with _lock:
        return index.ingest(paths, prune=prune)


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
            "Fil": Path(r.source).name,
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
