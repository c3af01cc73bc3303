"""Load guidance files (PDF, Word, Markdown, text) into sections with locations.

The file type is decided by content, not by the name: a renamed image is
refused even when it is called `.pdf`. Every refusal is an `IngestError` with
a Swedish reason.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import IngestError
from assistant.types import LoadedDocument, Section

SUPPORTED_SUFFIXES = {".pdf": "pdf", ".docx": "docx", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}
SUPPORTED_TEXT = "PDF, Word (.docx), Markdown (.md) och text (.txt)"
_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
FRONT_MATTER_MARK = "ratt-fragor-front-matter\n"
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def document_id_for(path: Path) -> str:
    """A stable, URL-safe id from the file stem: 'Min rapport (2024)' → 'min-rapport-2024'."""
    stem = unicodedata.normalize("NFKD", path.stem.lower())
    stem = "".join(c for c in stem if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")
    return slug or "dokument"


def detect_kind(data: bytes, suffix: str) -> str:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if "word/document.xml" in zf.namelist():
                    return "docx"
        except zipfile.BadZipFile as exc:
            raise IngestError("Filen ser ut som ett zip-arkiv men är skadad.") from exc
        raise IngestError(f"Filtypen stöds inte (ett zip-arkiv som inte är ett Word-dokument). Tillåtna format: {SUPPORTED_TEXT}.")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError("Det äldre Word-formatet (.doc) stöds inte. Spara filen som .docx och försök igen.")
    if b"\x00" in data[:8192]:
        raise IngestError(f"Filtypen stöds inte (binärfil). Tillåtna format: {SUPPORTED_TEXT}.")
    kind = SUPPORTED_SUFFIXES.get(suffix.lower())
    if kind in ("markdown", "text"):
        return kind
    if suffix.lower() in (".pdf", ".docx"):
        raise IngestError(f"Filen heter {suffix} men innehållet är inte en giltig {suffix[1:].upper()}-fil.")
    return "text" if suffix == "" else _refuse_suffix(suffix)


def _refuse_suffix(suffix: str) -> str:
    raise IngestError(f"Filtypen {suffix} stöds inte. Tillåtna format: {SUPPORTED_TEXT}.")


def decode_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def split_front_matter(text: str) -> tuple[dict[str, Any], int]:
    """Return (front matter, offset where the body starts)."""
    m = _FRONT_MATTER_RE.match(text)
    if not m:
        return {}, 0
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise IngestError(f"Dokumentets inledande metadata (front matter) är inte giltig YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise IngestError("Dokumentets inledande metadata (front matter) måste vara nyckel: värde-par.")
    return {str(k): _plain(v) for k, v in meta.items()}, m.end()


def _plain(value: Any) -> Any:
    """YAML dates and the like become strings so metadata is JSON-safe."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _paragraph_sections(text: str, base: int, heading_path: tuple[str, ...], page: int | None = None) -> list[Section]:
    sections = []
    # A paragraph ends at a blank line or at the end of the text, trailing whitespace allowed
    # (files end with a newline; without `\s*\Z` their last paragraph was dropped).
    for m in re.finditer(r"\S(?:.*?\S)?(?=[ \t]*\n\s*\n|\s*\Z)", text, re.DOTALL):
        sections.append(Section(text=m.group(0), start=base + m.start(), page=page, heading_path=heading_path))
    return sections


def load_markdown(text: str) -> tuple[str | None, list[Section], dict[str, Any]]:
    meta, body_start = split_front_matter(text)
    title: str | None = None
    path: list[tuple[int, str]] = []
    sections: list[Section] = []
    pos = body_start
    block_start = body_start
    lines = text[body_start:].split("\n")

    def flush(end: int) -> None:
        chunk = text[block_start:end]
        sections.extend(_paragraph_sections(chunk, block_start, tuple(h for _, h in path)))

    for line in lines:
        m = _HEADING_RE.match(line)
        if m:
            flush(pos)
            level, heading = len(m.group(1)), m.group(2).strip()
            if level == 1 and title is None:
                title = heading
            else:
                path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, heading)]
            block_start = pos + len(line) + 1
        pos += len(line) + 1
    flush(len(text))
    return title, sections, meta


def load_text(text: str) -> tuple[str | None, list[Section], dict[str, Any]]:
    meta, body_start = split_front_matter(text)
    return None, _paragraph_sections(text[body_start:], body_start, ()), meta


def load_pdf(data: bytes) -> tuple[str | None, list[Section], dict[str, Any]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception:  # noqa: BLE001 - pypdf raises several kinds here
                opened = 0
            if not opened:
                raise IngestError("PDF-filen är krypterad eller lösenordsskyddad och kan inte läsas. Spara en version utan lösenord.")
        pages = [page.extract_text() or "" for page in reader.pages]
        outline = _pdf_outline(reader)
        info = reader.metadata
        info_title = (info.title if info else None) or None
        meta = embedded_metadata(info.subject if info else None, info.author if info else None)
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise IngestError(f"PDF-filen är skadad och kan inte läsas ({type(exc).__name__}).") from exc
    if not pages:
        raise IngestError("PDF-filen har inga sidor.")
    sections: list[Section] = []
    base = 0
    current: tuple[str, ...] = ()
    for number, page_text in enumerate(pages, start=1):
        page_text = unicodedata.normalize("NFC", page_text)
        cuts: list[tuple[int, tuple[str, ...]]] = []
        search_from = 0
        for heading_path in outline.get(number, []):
            idx = page_text.find(heading_path[-1], search_from)
            at = idx if idx >= 0 else search_from
            cuts.append((at, heading_path))
            search_from = at + (len(heading_path[-1]) if idx >= 0 else 0)
        boundaries = [(0, current)] + cuts
        for i, (start, path) in enumerate(boundaries):
            end = boundaries[i + 1][0] if i + 1 < len(boundaries) else len(page_text)
            segment = page_text[start:end]
            if path and segment.startswith(path[-1]):
                segment_start = start + len(path[-1])
            else:
                segment_start = start
            sections.extend(_paragraph_sections(page_text[segment_start:end], base + segment_start, path, page=number))
            current = path
        base += len(page_text) + 2
    return info_title, sections, meta


def _pdf_outline(reader: Any) -> dict[int, list[tuple[str, ...]]]:
    """Map page number → heading paths of bookmarks starting on that page."""
    result: dict[int, list[tuple[str, ...]]] = {}

    def walk(items: list[Any], parents: tuple[str, ...]) -> None:
        last: tuple[str, ...] | None = None
        for item in items:
            if isinstance(item, list):
                if last is not None:
                    walk(item, last)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1
            except Exception:  # noqa: BLE001 - a broken bookmark only loses its heading
                continue
            last = parents + (str(item.title).strip(),)
            result.setdefault(page, []).append(last)

    try:
        walk(reader.outline, ())
    except Exception:  # noqa: BLE001 - outlines are optional
        return {}
    return result


def load_docx(data: bytes) -> tuple[str | None, list[Section], dict[str, Any]]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise IngestError("Word-filen är skadad och kan inte läsas.") from exc
    title = document.core_properties.title or None
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    pos = 0
    for para in document.paragraphs:
        text = unicodedata.normalize("NFC", para.text.strip())
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        level = _docx_heading_level(style)
        if style == "Title":
            title = title or text
        elif level:
            path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, text)]
        else:
            sections.append(Section(text=text, start=pos, heading_path=tuple(h for _, h in path)))
        pos += len(text) + 2
    for table in document.tables:
        for row in table.rows:
            text = " | ".join(c.text.strip() for c in row.cells if c.text.strip())
            if text:
                sections.append(Section(text=text, start=pos, heading_path=tuple(h for _, h in path)))
                pos += len(text) + 2
    props = document.core_properties
    return title, sections, embedded_metadata(props.comments, props.author)


def embedded_metadata(carrier: str | None, author: str | None) -> dict[str, Any]:
    """Front matter embedded by assistant.ingestion.corpus_formats, else just the author as utgivare."""
    if carrier and carrier.startswith(FRONT_MATTER_MARK):
        try:
            meta = yaml.safe_load(carrier[len(FRONT_MATTER_MARK):])
        except yaml.YAMLError:
            meta = None
        if isinstance(meta, dict):
            return {str(k): _plain(v) for k, v in meta.items()}
    return {"utgivare": author} if author else {}


def _docx_heading_level(style: str) -> int:
    m = re.match(r"^(?:Heading|Rubrik)\s*(\d)$", style)
    return int(m.group(1)) if m else 0


def load_file(path: Path, max_bytes: int, data: bytes | None = None, name: str | None = None) -> LoadedDocument:
    """Load one file. Raises IngestError with a Swedish reason when it cannot be used."""
    name = name or path.name
    if data is None:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise IngestError(f"Filen kunde inte läsas: {exc.strerror or exc}.") from exc
        if size > max_bytes:
            raise IngestError(_too_large(size, max_bytes))
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise IngestError(_too_large(len(data), max_bytes))
    if not data.strip():
        raise IngestError("Filen är tom.")
    suffix = Path(name).suffix
    kind = detect_kind(data, suffix)
    if kind == "pdf":
        title, sections, meta = load_pdf(data)
    elif kind == "docx":
        title, sections, meta = load_docx(data)
    else:
        text = decode_text(data)
        title, sections, meta = (load_markdown if kind == "markdown" else load_text)(text)
    if not any(s.text.strip() for s in sections):
        if kind == "pdf":
            raise IngestError("PDF-filen innehåller ingen läsbar text. Den kan vara en skannad bild utan textlager; kör textigenkänning (OCR) först.")
        raise IngestError("Filen innehåller ingen text.")
    doc_id = document_id_for(Path(name))
    title = str(meta.get("titel") or title or Path(name).stem)
    return LoadedDocument(
        document_id=doc_id,
        source=str(path.resolve()),  # absolute, so --prune works from any working directory
        title=title,
        kind=kind,
        content_hash=hashlib.sha256(data).hexdigest(),
        sections=tuple(sections),
        metadata=meta,
    )


def _too_large(size: int, max_bytes: int) -> str:
    return f"Filen är för stor ({size / 1e6:.3g} MB). Största tillåtna storlek är {max_bytes / 1e6:.3g} MB."
