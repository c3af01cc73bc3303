"""Chunks fit the encoder, keep their locations and have stable ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.ingestion.chunking import chunk_document, index_text
from assistant.ingestion.embedding import Embedder
from assistant.ingestion.index import Index
from assistant.ingestion.loaders import load_file
from assistant.text import split_sentences
from tests import builders

pytestmark = pytest.mark.slow

MB = 1_000_000
SENTENCES = [
    "Ledningsgruppen behöver förstå vad digitaliseringen ska åstadkomma för invånarna.",
    "Nyttan uppstår i verksamheten, inte i it-avdelningen, och måste ägas av en chef.",
    "En beställare som inte kan formulera sina behov får det leverantören vill sälja.",
    "Förvaltningsstyrning handlar om att ta hand om systemen efter att projekten är slut.",
    "Informationssäkerhet är ett ledningsansvar enligt säkerhetsskyddslagen (2018:585).",
]


def long_markdown() -> str:
    body = []
    for part in range(1, 4):
        body.append(f"## Del {part}\n")
        for rep in range(6):
            body.append(" ".join(SENTENCES[(rep + part) % 5] for _ in range(2)) + "\n")
    # One run-on sentence far over the limit: it must be cut between words.
    body.append("## Uppräkning\n")
    body.append(", ".join(f"punkt nummer {i} om verksamhetsutveckling" for i in range(120)) + ".\n")
    return "---\ntitel: Lång vägledning\n---\n# Lång vägledning\n\n" + "\n".join(body)


@pytest.fixture
def long_doc(tmp_path: Path):
    text = long_markdown()
    return text, load_file(builders.write(tmp_path / "lang.md", text), 25 * MB)


def test_every_chunk_fits_the_encoder(long_doc, embedder: Embedder) -> None:
    _, doc = long_doc
    chunks = chunk_document(doc, 200, embedder.count_tokens)
    assert len(chunks) > 5
    limit = embedder.max_tokens - 2  # [CLS] and [SEP]
    for chunk in chunks:
        assert embedder.count_tokens(index_text(chunk)) <= 200 <= limit


def test_chunks_never_cross_headings_and_cut_between_sentences(long_doc, embedder: Embedder) -> None:
    _, doc = long_doc
    chunks = chunk_document(doc, 200, embedder.count_tokens)
    assert {c.section for c in chunks} == {"Del 1", "Del 2", "Del 3", "Uppräkning"}
    for chunk in chunks:
        if chunk.section != "Uppräkning":
            assert all(s in SENTENCES for s in split_sentences(chunk.text)), chunk.text


def test_character_offsets_point_into_the_file(long_doc, embedder: Embedder) -> None:
    text, doc = long_doc
    for chunk in chunk_document(doc, 200, embedder.count_tokens):
        first = split_sentences(chunk.text)[0]
        located = re.sub(r"\s+", " ", text[chunk.start : chunk.end])
        assert located.startswith(first[:60]), (chunk.id, located[:80], first[:80])


def test_chunk_ids_are_stable_across_runs(long_doc, tmp_path: Path, embedder: Embedder) -> None:
    _, doc = long_doc
    again = load_file(tmp_path / "lang.md", 25 * MB)
    first = [c.id for c in chunk_document(doc, 200, embedder.count_tokens)]
    assert first == [c.id for c in chunk_document(again, 200, embedder.count_tokens)]
    assert len(set(first)) == len(first) and all(i.startswith("lang:") for i in first)


def test_a_renamed_heading_gives_new_ids(tmp_path: Path, embedder: Embedder) -> None:
    before = load_file(builders.write(tmp_path / "a.md", "## Gammal rubrik\n\nSamma text.\n"), MB)
    after = load_file(builders.write(tmp_path / "a.md", "## Ny rubrik\n\nSamma text.\n"), MB)
    [old] = chunk_document(before, 200, embedder.count_tokens)
    [new] = chunk_document(after, 200, embedder.count_tokens)
    assert old.text == new.text and old.id != new.id  # the heading is embedded, so the vector must change


def test_pdf_chunks_keep_pages_and_docx_chunks_keep_heading_paths(tmp_path: Path, embedder: Embedder) -> None:
    pdf = load_file(builders.write(tmp_path / "s.pdf", builders.pdf_bytes(["Ett.", "Två.", "Tre."], ["A", "B", "C"])), MB)
    assert [(c.page, c.section) for c in chunk_document(pdf, 200, embedder.count_tokens)] == [
        (1, "A"), (2, "B"), (3, "C")
    ]
    docx = load_file(
        builders.write(tmp_path / "w.docx", builders.docx_bytes([("h1", "Styrning"), ("h2", "Budget"), ("p", "Text.")])), MB
    )
    [chunk] = chunk_document(docx, 200, embedder.count_tokens)
    assert chunk.section == "Styrning > Budget"
    assert index_text(chunk).startswith("w – Styrning > Budget\n")


def test_a_too_large_setting_is_capped_at_the_encoders_limit(make_settings, tmp_path: Path, embedder: Embedder) -> None:
    text = "## Del\n\n" + " ".join(SENTENCES * 12) + "\n"
    index = Index(make_settings(chunk_max_tokens=1000), embedder=embedder)
    try:
        index.ingest([builders.write(tmp_path / "docs" / "stor.md", text)])
        chunks = index.chunks_of("stor")
        assert len(chunks) > 1
        assert all(embedder.count_tokens(index_text(c)) <= embedder.max_tokens - 2 for c in chunks)
    finally:
        index.close()
