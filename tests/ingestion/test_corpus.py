"""The bundled guidance corpus: every number has a source, every document opens with a short summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.ingestion.corpus_check import FACT_SHEET, documents, unsourced
from assistant.ingestion.loaders import split_front_matter
from assistant.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"
needs_facts = pytest.mark.skipif(not FACT_SHEET.exists(), reason="faktabladet finns inte på den här maskinen")


@needs_facts
def test_every_number_in_the_corpus_has_a_source() -> None:
    missing = unsourced(CORPUS, FACT_SHEET)
    assert not missing, "Tal utan källa:\n" + "\n".join(map(str, missing))


def _write(path: Path, sources: str, body: str) -> None:
    path.write_text(f"---\ntitel: \"T\"\nkällor:\n{sources}---\n\n# T\n\n{body}\n", encoding="utf-8")


def test_the_check_finds_a_number_without_a_source_and_accepts_sourced_ones(tmp_path: Path) -> None:
    facts = tmp_path / "facts.md"
    facts.write_text("Agency IT costs 18.2 bn kr in 2018; 1,094 projects.\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write(
        corpus / "a.md",
        '  - utgivare: "Riksdagen"\n    titel: "Lag (2018:1937) om tillgänglighet"\n',
        "Kostnaden var 18,2 miljarder 2018 i 1 094 projekt. Lagen (2018:1937) gäller. Hela 73 procent lyckades.",
    )
    (corpus / "fragebank.yaml").write_text(
        "questions:\n"
        "- id: q\n  text: Följer vi lagen (2018:1937)?\n  why: Hälften av 42 projekt saknade plan.\n"
        "  situations: [Vi har 12 skolor.]\n  sources: [{document: a, heading: H}]\n",
        encoding="utf-8",
    )
    found = unsourced(corpus, facts)
    assert [(f.document, f.number) for f in found] == [("a", "73"), ("fragebank/q", "42")]
    assert "73 procent" in found[0].sentence


def _body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text[split_front_matter(text)[1]:]


@pytest.mark.parametrize("path", documents(CORPUS), ids=lambda p: p.stem)
def test_every_document_opens_with_i_korthet_in_three_lines(path: Path) -> None:
    body = _body(path)
    match = re.search(r"I korthet:\s*\n\s*\n((?:- .+\n){3})(?!- )", body)
    assert match, f"{path.name}: 'I korthet:' med tre punkter saknas"
    assert body.index("I korthet:") < (body.find("\n## ") if "\n## " in body else len(body))


@pytest.mark.parametrize("path", documents(CORPUS), ids=lambda p: p.stem)
def test_every_source_names_a_publication_or_says_what_it_refers_to(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    meta, _ = split_front_matter(text)
    sources = meta.get("källor") or []
    assert sources, f"{path.name}: inga källor"
    for source in sources:
        assert source.get("utgivare"), f"{path.name}: källa utan utgivare: {source}"
        assert source.get("titel") or source.get("avser"), f"{path.name}: källa utan titel eller avser: {source}"
    assert "Rätt frågor:s" not in text
