"""Uploads: bad names are refused before any write, and one bad file never stops the others of an upload."""

from __future__ import annotations

import pytest

from assistant.app import library
from assistant.ingestion.index import Index
from tests.builders import docx_bytes, pdf_bytes, snapshot
from tests.hardening import hostile

pytestmark = pytest.mark.slow
ENGLISH = ("Traceback", "No such file", "Permission denied", "XMLSyntaxError", "DependencyError", "Errno")


@pytest.fixture
def index(make_settings, embedder):  # noqa: ANN001, ANN201
    idx = Index(make_settings(), embedder=embedder)
    yield idx
    idx.close()


@pytest.mark.parametrize("name", ["..", ".", "", "   ", "a\x00b.md", "x" * 300 + ".md", "../ut.md", "mapp/fil.md",
                                  "..\\ut.md", ".dold.md", "\x1b[2Jfarlig.md", ".md"])
def test_bad_upload_names_are_refused_before_anything_is_written(index, name: str) -> None:  # noqa: ANN001
    settings = index.settings
    library.ingest_upload(index, "forsta.md", b"# Forsta\n\nLedningsgruppen utser en nyttoagare.\n", settings, "s")
    before = snapshot(index)
    uploads_before = sorted(p.name for p in settings.uploads_dir.iterdir())
    result = library.ingest_upload(index, name, b"# Rubrik\n\nText om nytta.\n", settings, "s")
    assert not result.ok
    assert "Filnamnet" in result.message and not any(w in result.message for w in ENGLISH)
    assert "\x00" not in result.name and "\x1b" not in result.name and len(result.name) <= 120
    assert snapshot(index) == before
    assert sorted(p.name for p in settings.uploads_dir.iterdir()) == uploads_before
    assert not (settings.data_dir / "Rubrik").exists()


def test_one_hostile_file_does_not_stop_the_rest_of_an_upload(index) -> None:  # noqa: ANN001
    settings = index.settings
    files = [
        ("trasig.docx", hostile.docx_with_xml(b"<w:document><w:body><w:p>ej stangd")),
        ("bomb.docx", hostile.docx_bomb(120)),
        ("las.pdf", hostile.encrypted_pdf("hemligt")),
        ("bra.pdf", pdf_bytes(["Ledningsgruppen följer upp nyttan varje kvartal."])),
        ("..", b"# x\n\ny\n"),
        ("ord.docx", docx_bytes([("h1", "Ansvar"), ("p", "Nyttoägaren ansvarar för uppföljningen.")])),
    ]
    results = [library.ingest_upload(index, name, data, settings, "s") for name, data in files]
    assert [r.ok for r in results] == [False, False, False, True, False, True]
    for r in results:
        assert not any(w in r.message for w in ENGLISH), r.message
    assert "skadad" in results[0].message and "50 MB" in results[1].message and "lösenord" in results[2].message
    assert sorted(d.document_id for d in index.documents()) == ["bra", "ord"]
    assert sorted(p.name for p in settings.uploads_dir.iterdir()) == ["bra.pdf", "ord.docx"]


def test_unexpected_error_for_one_file_is_a_swedish_message_and_logged(index, caplog) -> None:  # noqa: ANN001
    settings = index.settings
    # An uploads "folder" that is a file: storing fails with an OSError inside the index code.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.uploads_dir.write_text("inte en mapp", encoding="utf-8")
    result = library.ingest_upload(index, "fil.md", b"# Fil\n\nLedningsgruppen utser en nyttoagare.\n", settings, "s")
    assert not result.ok
    assert "fil.md" in result.message and not any(w in result.message for w in ENGLISH), result.message
