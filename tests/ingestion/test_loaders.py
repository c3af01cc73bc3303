"""Loading guidance files: locations, metadata, and Swedish refusals of files that cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.ingestion.loaders import FRONT_MATTER_MARK, detect_kind, document_id_for, load_file
from tests import builders

MB = 1_000_000

MARKDOWN = """---
titel: Nyttorealisering i praktiken
utgivare: Exempelmyndigheten
datum: 2024-05-02
källor:
  - https://www.exempel.se/nytta
ämnen: [nytta, styrning]
---
# Nyttorealisering

Inledningen gäller hela dokumentet.

## Planera nyttan

Ledningsgruppen bestämmer vem som äger nyttan.

### Mätetal

Varje nytta behöver ett mätetal.

## Följa upp

Uppföljningen sker varje kvartal.
"""


def load(tmp_path: Path, name: str, content: str | bytes, max_bytes: int = 25 * MB):
    return load_file(builders.write(tmp_path / name, content), max_bytes)


def test_markdown_heading_paths_and_offsets(tmp_path: Path) -> None:
    doc = load(tmp_path, "nytta.md", MARKDOWN)
    assert doc.kind == "markdown" and doc.title == "Nyttorealisering i praktiken"
    paths = {s.text: s.heading_path for s in doc.sections}
    assert paths["Inledningen gäller hela dokumentet."] == ()
    assert paths["Ledningsgruppen bestämmer vem som äger nyttan."] == ("Planera nyttan",)
    assert paths["Varje nytta behöver ett mätetal."] == ("Planera nyttan", "Mätetal")
    assert paths["Uppföljningen sker varje kvartal."] == ("Följa upp",)
    for section in doc.sections:
        assert MARKDOWN[section.start : section.start + len(section.text)] == section.text


def test_markdown_front_matter_is_kept(tmp_path: Path) -> None:
    meta = load(tmp_path, "nytta.md", MARKDOWN).metadata
    assert meta == {
        "titel": "Nyttorealisering i praktiken",
        "utgivare": "Exempelmyndigheten",
        "datum": "2024-05-02",
        "källor": ["https://www.exempel.se/nytta"],
        "ämnen": ["nytta", "styrning"],
    }


def test_markdown_title_falls_back_to_first_heading_then_file_name(tmp_path: Path) -> None:
    assert load(tmp_path, "a.md", "# Rubriken\n\nText här.\n").title == "Rubriken"
    assert load(tmp_path, "Min rapport.txt", "Bara text.\n").title == "Min rapport"


def test_invalid_front_matter_is_refused_in_swedish(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="front matter"):
        load(tmp_path, "fel.md", "---\ntitel: [ofullständig\n---\nText.\n")


def test_document_id_is_a_slug_of_the_file_stem() -> None:
    assert document_id_for(Path("Förändringsledning i Åre (2024).pdf")) == "forandringsledning-i-are-2024"


def test_pdf_pages_and_bookmarks(tmp_path: Path) -> None:
    data = builders.pdf_bytes(
        ["Första sidan handlar om mål.", "Andra sidan handlar om risker.", "Tredje sidan handlar om nytta."],
        bookmarks=["Mål", "Risker", "Nytta"],
        title="Tre sidor",
    )
    doc = load(tmp_path, "tre-sidor.pdf", data)
    assert doc.kind == "pdf" and doc.title == "Tre sidor"
    located = [(s.page, s.heading_path, s.text) for s in doc.sections]
    assert located == [
        (1, ("Mål",), "Första sidan handlar om mål."),
        (2, ("Risker",), "Andra sidan handlar om risker."),
        (3, ("Nytta",), "Tredje sidan handlar om nytta."),
    ]


def test_pdf_embedded_front_matter(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_subject(FRONT_MATTER_MARK + "titel: Inbäddad\nutgivare: Myndigheten\nämnen: [risk]\n")
    pdf.add_font("DejaVu", "", str(builders.font_path()))
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Text på sidan.")
    doc = load(tmp_path, "inbaddad.pdf", bytes(pdf.output()))
    assert doc.title == "Inbäddad"
    assert doc.metadata == {"titel": "Inbäddad", "utgivare": "Myndigheten", "ämnen": ["risk"]}


def test_docx_heading_paths_title_and_metadata(tmp_path: Path) -> None:
    data = builders.docx_bytes(
        [
            ("title", "Förvaltning av system"),
            ("p", "Inledande stycke."),
            ("h1", "Styrning"),
            ("p", "Förvaltningen styrs av en ledningsgrupp."),
            ("h2", "Budget"),
            ("p", "Budgeten sätts varje år."),
            ("h1", "Arv"),
            ("p", "Gamla system kostar pengar."),
        ],
        comments=FRONT_MATTER_MARK + "utgivare: Förvaltningsverket\ndatum: '2023-01-01'\n",
    )
    doc = load(tmp_path, "forvaltning.docx", data)
    assert doc.kind == "docx" and doc.title == "Förvaltning av system"
    assert [(s.heading_path, s.text) for s in doc.sections] == [
        ((), "Inledande stycke."),
        (("Styrning",), "Förvaltningen styrs av en ledningsgrupp."),
        (("Styrning", "Budget"), "Budgeten sätts varje år."),
        (("Arv",), "Gamla system kostar pengar."),
    ]
    assert doc.metadata == {"utgivare": "Förvaltningsverket", "datum": "2023-01-01"}


def test_type_is_detected_by_content_not_name(tmp_path: Path) -> None:
    docx_named_zip = load(tmp_path, "rapport.zip", builders.docx_bytes([("p", "Innehållet avgör.")]))
    assert docx_named_zip.kind == "docx"
    assert detect_kind(b"%PDF-1.7 ...", ".txt") == "pdf"


BAD_FILES = [
    ("trasig.pdf", builders.broken_pdf_bytes, "skadad"),
    ("avklippt.pdf", builders.truncated_pdf_bytes, "skadad"),
    ("krypterad.pdf", builders.encrypted_pdf_bytes, "krypterad"),
    ("skannad.pdf", builders.textless_pdf_bytes, "ingen läsbar text"),
    ("tom.md", lambda: b"", "tom"),
    ("blanksteg.txt", lambda: b" \n\n \t\n", "tom"),
    ("bild.pdf", lambda: builders.PNG_BYTES, "stöds inte"),
    ("arkiv.zip", builders.zip_bytes, "zip-arkiv som inte är ett Word-dokument"),
    ("falsk.docx", builders.zip_bytes, "zip-arkiv som inte är ett Word-dokument"),
    ("gammal.doc", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".doc"),
    ("bild.png", lambda: builders.PNG_BYTES, "stöds inte"),
    ("text.pdf", lambda: b"Bara vanlig text, inte en PDF.", "inte en giltig PDF"),
]


@pytest.mark.parametrize(("name", "make", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_unusable_files_are_refused_with_a_swedish_reason(tmp_path: Path, name: str, make, reason: str) -> None:
    with pytest.raises(IngestError) as err:
        load(tmp_path, name, make())
    assert reason in str(err.value)


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="för stor") as err:
        load(tmp_path, "stor.md", "Mycket text. " * 200, max_bytes=1000)
    assert "0.001 MB" in str(err.value)
