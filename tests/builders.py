"""Real test documents built on the fly: PDFs with fpdf2, Word files with python-docx.

Nothing here is a fake: the files are what a user would upload, and the
broken ones are broken the way real files are (cut off, encrypted, scanned).
"""

from __future__ import annotations

import io
import socket
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.ingestion.corpus_formats import font_path

# The eight-byte PNG signature and a minimal IHDR chunk: a real image header.
PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\x00" * 64


def pdf_bytes(pages: Sequence[str], bookmarks: Sequence[str] | None = None, title: str | None = None) -> bytes:
    """One page per entry of `pages`; `bookmarks[i]` starts an outline entry on page i + 1 and heads it."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.set_font("DejaVu", size=11)
    if title:
        pdf.set_title(title)
    for i, text in enumerate(pages):
        pdf.add_page()
        if bookmarks:
            pdf.start_section(bookmarks[i], level=0)
            pdf.multi_cell(0, 7, bookmarks[i], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def textless_pdf_bytes() -> bytes:
    """A 'scanned' page: only a drawn rectangle, no text layer."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.rect(20, 20, 120, 80, style="F")
    return bytes(pdf.output())


def encrypted_pdf_bytes(text: str = "Hemlig text om ledningsgruppens beslut.") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes([text]))))
    writer.encrypt(user_password="hemligt", owner_password="agare")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def broken_pdf_bytes() -> bytes:
    """A PDF header followed by garbage, like a download that went wrong."""
    return b"%PDF-1.7\n" + b"\x8f\x02trasig data utan struktur " * 40


def truncated_pdf_bytes() -> bytes:
    data = pdf_bytes(["Den här filen blev avklippd mitt i överföringen."])
    return data[: len(data) // 2]


def docx_bytes(blocks: Sequence[tuple[str, str]], title: str | None = None, comments: str | None = None) -> bytes:
    """Blocks are (kind, text): 'title', 'h1', 'h2', 'h3' or 'p'."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    if comments:
        document.core_properties._element._get_or_add("description").text = comments
    for kind, text in blocks:
        if kind == "title":
            document.add_heading(text, level=0)
        elif kind.startswith("h"):
            document.add_heading(text, level=int(kind[1]))
        else:
            document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bytes(files: dict[str, str] | None = None) -> bytes:
    """A real zip archive that is not a Word document."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content in (files or {"rapport.txt": "Bara en textfil i ett arkiv."}).items():
            zf.writestr(name, content)
    return out.getvalue()


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def snapshot(index: Any) -> dict[str, Any]:
    """Everything the index holds: ledger documents, ledger chunk texts, Chroma ids, texts and metadata."""
    got = index.store._collection.get(include=["documents", "metadatas"])
    chroma = sorted(zip(got["ids"], got["documents"], [sorted(m.items()) for m in got["metadatas"]], strict=True))
    return {
        "documents": [(d.document_id, d.source, d.content_hash, d.chunk_count, d.ingested_at, d.metadata) for d in index.documents()],
        "ledger_chunks": sorted((c.id, c.text, c.start, c.end, c.page, c.section) for c, _ in index.ledger.all_chunks()),
        "chroma": chroma,
    }


def free_port() -> int:
    """A free TCP port on loopback for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen) -> None:
    """Terminate a server a test started, killing it if it does not stop in 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
