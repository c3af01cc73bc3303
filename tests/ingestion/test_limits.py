"""Limits before work: every expensive input stops at a setting, with a Swedish reason naming the file and limit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.ingestion import parsing
from assistant.ingestion.chunking import chunk_document
from assistant.ingestion.loaders import Limits, load_file, split_front_matter
from tests import builders
from tests.hardening import hostile

MB = 1_000_000
ENGLISH = ("Traceback", "Error", "error:", "expected", "while parsing", "No such file", "found character", "line ")


def swedish_only(message: str) -> str:
    assert not any(word in message for word in ENGLISH), message
    return message


def load(name: str, data: bytes, **limits: int) -> object:
    return load_file(Path(name), 25 * MB, data=data, name=name, limits=Limits(**limits))


def refused(name: str, data: bytes, **limits: int) -> str:
    with pytest.raises(IngestError) as err:
        load(name, data, **limits)
    return swedish_only(str(err.value))


# -- Word -------------------------------------------------------------------------------------------
def test_docx_bomb_stops_at_the_expanded_size_limit() -> None:
    data = hostile.docx_bomb(120)  # under 1 MB packed, 120 MB of XML
    assert len(data) < 2 * MB
    message = refused("bomb.docx", data)
    assert "bomb.docx" in message and "50 MB" in message and "ASSISTANT_MAX_DOCX_EXPANDED_MB" in message


def test_docx_expanded_size_is_counted_while_reading_not_only_from_the_header() -> None:
    # The header says 1 kB; the stream holds 20 MB. Reading stops; nothing expands past the header's claim.
    message = refused("ljuger.docx", hostile.docx_lying_header(20), docx_expanded_bytes=10 * MB)
    assert "ljuger.docx" in message and "Word-filen" in message


def test_docx_under_the_size_limit_stops_at_the_character_limit() -> None:
    message = refused("manga.docx", hostile.docx_bomb(20), docx_expanded_bytes=100 * MB, document_chars=100_000)
    assert "manga.docx" in message and "100 000 tecken" in message and "ASSISTANT_MAX_DOCUMENT_CHARS" in message


@pytest.mark.parametrize("xml", [
    b"<w:document><w:body><w:p>ej stangd",
    b'<?xml version="1.0"?><w:document xmlns:w="urn:x"><w:body></w:bod></w:document>',
    b"\x00\x01\x02 inte xml",
])
def test_malformed_docx_xml_is_a_swedish_ingest_error(xml: bytes) -> None:
    message = refused("trasig.docx", hostile.docx_with_xml(xml))
    assert "trasig.docx" in message and "skadad" in message


def test_docx_entities_are_not_expanded_or_resolved() -> None:
    try:
        doc = load("entitet.docx", hostile.xxe_docx())
    except IngestError as exc:
        swedish_only(str(exc))
        return
    text = " ".join(s.text for s in doc.sections)
    assert "root:" not in text and "aaaaaaaaaa" not in text


def test_streamed_docx_keeps_headings_tables_and_title() -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Titel \u202eröd"  # a bidi override (XML allows no escape characters)
    document.add_heading("Ansvar", level=1)
    document.add_paragraph("Ledningsgruppen utser en nyttoägare.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Roll", "Ansvar"
    table.cell(1, 0).text, table.cell(1, 1).text = "Nyttoägare", "Följer upp nyttan"
    import io

    out = io.BytesIO()
    document.save(out)
    doc = load("tabell.docx", out.getvalue())
    assert doc.title == "Titel röd"  # the override is gone
    texts = [(s.text, s.heading_path) for s in doc.sections]
    assert ("Ledningsgruppen utser en nyttoägare.", ("Ansvar",)) in texts
    assert ("Roll | Ansvar", ("Ansvar",)) in texts and ("Nyttoägare | Följer upp nyttan", ("Ansvar",)) in texts


# -- front matter ----------------------------------------------------------------------------------
def test_yaml_alias_bomb_is_refused_before_it_expands() -> None:
    message = refused("alias.md", hostile.yaml_alias_bomb())
    assert "alias.md" in message and "alias" in message and "front matter" in message


def test_a_single_anchor_is_refused_too() -> None:
    assert "ankare" in refused("ankare.md", b"---\nbas: &b nytta\nkopia: *b\n---\nText.\n")


def test_front_matter_size_limit() -> None:
    body = "---\n" + "".join(f"nyckel{i}: värde {i}\n" for i in range(5000)) + "---\nText.\n"
    message = refused("stor.md", body.encode(), front_matter_bytes=10_000)
    assert "stor.md" in message and "10 kB" in message and "ASSISTANT_MAX_FRONT_MATTER_KB" in message


@pytest.mark.parametrize("yaml_text", ["titel: [ofullständig", "a: b: c", "- lista\nnyckel: värde", "\t- tabb"])
def test_invalid_front_matter_never_shows_pyyaml_text(yaml_text: str) -> None:
    with pytest.raises(IngestError) as err:
        split_front_matter(f"---\n{yaml_text}\n---\nText.\n", name="fel.md")
    message = swedish_only(str(err.value))
    assert "fel.md" in message and "front matter" in message
    assert err.value.__cause__ is not None  # the YAML error is kept for the log, not shown


# -- PDF pages and characters ----------------------------------------------------------------------
def test_pdf_page_limit_is_checked_before_pages_are_read() -> None:
    message = refused("lang.pdf", hostile.real_pdf(5), pdf_pages=3)
    assert "lang.pdf" in message and "5 sidor" in message and "högst 3" in message and "ASSISTANT_MAX_PDF_PAGES" in message


def test_text_character_limit() -> None:
    message = refused("lang.md", ("Nytta följs upp. " * 10_000).encode(), document_chars=50_000)
    assert "lang.md" in message and "50 000 tecken" in message


# -- formats ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_bom_marked_text_is_decoded(encoding: str) -> None:
    text = "# Nyttoägare\n\nLedningsgruppen utser en nyttoägare för varje initiativ.\n"
    doc = load("unicode.md", text.encode(encoding))
    assert doc.title == "Nyttoägare"
    assert doc.sections[0].text == "Ledningsgruppen utser en nyttoägare för varje initiativ."


def test_random_bytes_without_nul_are_not_text() -> None:
    message = refused("slump.txt", hostile.random_bytes(50_000, seed=7))
    assert "slump.txt" in message and "inte är text" in message


def test_control_characters_and_ansi_escapes_are_stripped_from_titles_and_text() -> None:
    data = "---\ntitel: \"Ond \\e[2J\\e[31mtitel\\a\"\nutgivare: \"X\\e]0;hej\\a\"\n---\nText \x1b[1mfet\x1b[0m här.\n"
    doc = load("ansi.md", data.encode())
    assert doc.title == "Ond titel"
    assert doc.metadata["utgivare"] == "X"
    assert doc.sections[0].text == "Text fet här."


def test_aes_pdf_with_an_empty_user_password_opens_and_one_with_a_password_is_refused() -> None:
    doc = load("skyddad.pdf", hostile.encrypted_pdf(""))
    assert "nyttan" in doc.sections[0].text
    message = refused("lasta.pdf", hostile.encrypted_pdf("hemligt"))
    assert "lasta.pdf" in message and "lösenord" in message


# -- chunks ----------------------------------------------------------------------------------------
def test_chunk_limit_is_checked_before_anything_is_embedded(make_settings, embedder) -> None:  # noqa: ANN001
    settings = make_settings(max_document_chunks=100)
    doc = load("rubriker.md", hostile.heading_flood(60))
    with pytest.raises(IngestError) as err:
        parsing.check_chunks(doc, settings, embedder)
    message = swedish_only(str(err.value))
    assert "rubriker.md" in message and "högst 100" in message and "ASSISTANT_MAX_DOCUMENT_CHUNKS" in message


@pytest.mark.parametrize(("name", "data"), [
    ("rad.txt", hostile.no_punctuation_line(0.3)),
    ("ord.txt", hostile.giant_word(0.5)),
])
def test_long_lines_and_giant_words_become_many_bounded_chunks(embedder, name: str, data: bytes) -> None:  # noqa: ANN001
    doc = load(name, data)
    calls = []

    def count(text: str) -> int:
        calls.append(len(text))
        return embedder.count_tokens(text)

    chunks = chunk_document(doc, 200, count)
    assert len(chunks) > 10
    assert max(len(c.text) for c in chunks) <= 200 * 8 + 1
    assert all(embedder.count_tokens(c.text) <= 200 for c in chunks)
    # No quadratic recount: the characters counted stay within a small multiple of the text.
    assert sum(calls) < 4 * len(data)


# -- the worker process ----------------------------------------------------------------------------
def test_worker_imports_only_the_loaders(make_settings) -> None:  # noqa: ANN001
    settings = make_settings()
    path = builders.write(Path(settings.data_dir) / "a.md", "# A\n\nText om nytta.\n")
    assert parsing.load_limited(path, settings).title == "A"
    modules = parsing._worker(settings.parse_memory_mb * 1024 * 1024).modules()
    assert "assistant.ingestion.loaders" in modules
    heavy = [m for m in modules if m.split(".")[0] in ("torch", "sentence_transformers", "transformers", "chromadb",
                                                        "streamlit", "numpy")]
    assert heavy == []


def test_worker_timeout_becomes_a_swedish_reason_and_the_next_file_is_read(make_settings) -> None:  # noqa: ANN001
    settings = make_settings()
    data = ("Nytta följs upp varje kvartal. " * 30_000).encode()
    parsing.load_limited(Path("varm.md"), settings, data=b"# Varm\n\nText.\n", name="varm.md")  # a started worker
    impatient = make_settings(parse_timeout_seconds=1e-6)
    with pytest.raises(IngestError) as err:
        parsing.load_limited(Path("seg.md"), impatient, data=data, name="seg.md")
    message = swedish_only(str(err.value))
    assert "seg.md" in message and "sekunder" in message and "ASSISTANT_PARSE_TIMEOUT_SECONDS" in message
    assert parsing.load_limited(Path("nasta.md"), settings, data=b"# Sedan\n\nText.\n", name="nasta.md").title == "Sedan"


def test_worker_memory_limit_kills_the_parse_not_the_caller(make_settings) -> None:  # noqa: ANN001
    settings = make_settings(parse_memory_mb=256, max_document_chars=30_000_000)
    data = b"a\n\n" * 6_000_000  # 18 MB of one-letter paragraphs: millions of sections, far over 256 MB
    start = _reset_peak_rss()
    with pytest.raises(IngestError) as err:
        parsing.load_limited(Path("minne.md"), settings, data=data, name="minne.md")
    message = swedish_only(str(err.value))
    assert "minne.md" in message and "256 MB" in message and "ASSISTANT_PARSE_MEMORY_MB" in message
    assert parsing.load_limited(Path("efter.md"), settings, data=b"# Efter\n\nText.\n", name="efter.md").title == "Efter"
    # The caller never held it: its peak grew by far less than the 256 MB the worker was stopped at.
    assert _peak_rss() - start < 256 * 1024**2


def _reset_peak_rss() -> int:
    """Set this process's peak RSS (VmHWM) to its current RSS (Linux: clear_refs 5) and return it, in bytes.
    The peak of the whole test session says nothing about this test (other tests ran in the same process)."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    return _status_bytes("VmRSS")


def _peak_rss() -> int:
    return _status_bytes("VmHWM")


def _status_bytes(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) * 1024


def test_missing_file_reason_is_swedish(make_settings) -> None:  # noqa: ANN001
    with pytest.raises(IngestError) as err:
        parsing.load_limited(Path("/finns/inte.md"), make_settings())
    assert "finns inte" in swedish_only(str(err.value))
