"""The bank of right questions: its shape, and that every source points at a real heading."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.ingestion.index import collect_files
from assistant.ingestion.loaders import load_file
from assistant.coaching.questionbank import DIMENSION_IDS, QuestionBank, QuestionBankError
from assistant.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"
BANK = CORPUS / "fragebank.yaml"


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    return QuestionBank.load(BANK)


@pytest.fixture(scope="module")
def headings() -> dict[str, set[str]]:
    """Document id -> every heading of it (Markdown ##/###, Word headings, PDF bookmarks)."""
    found: dict[str, set[str]] = {}
    for path in collect_files([CORPUS]):
        doc = load_file(path, 50_000_000)
        found[doc.document_id] = {h for s in doc.sections for h in s.heading_path}
    return found


def test_exactly_the_ten_dimensions_with_swedish_names(bank: QuestionBank) -> None:
    assert [d.id for d in bank.dimensions] == list(DIMENSION_IDS)
    assert all(d.name and d.name != d.id for d in bank.dimensions)
    assert bank.dimension_name("mal-och-nytta") == "Mål och nytta"


def test_at_least_fifty_questions_and_four_per_dimension(bank: QuestionBank) -> None:
    assert len(bank.questions) >= 50
    assert all(count >= 4 for count in bank.counts().values()), bank.counts()


def test_ids_are_unique_in_the_file_itself() -> None:
    raw = yaml.safe_load(BANK.read_text(encoding="utf-8"))
    ids = [q["id"] for q in raw["questions"]]
    assert len(ids) == len(set(ids))


def test_every_question_has_text_why_situations_and_sources(bank: QuestionBank) -> None:
    for q in bank.questions:
        assert q.text.endswith("?"), q.id
        assert q.why and q.sources and 2 <= len(q.situations) <= 5, q.id
    situations = [s for q in bank.questions for s in q.situations]
    assert len(situations) == len(set(situations)), "the same situation under two questions"


def test_every_source_resolves_to_an_existing_document_and_heading(bank: QuestionBank, headings: dict[str, set[str]]) -> None:
    broken = [
        f"{q.id}: {s.document} / {s.heading}"
        for q in bank.questions
        for s in q.sources
        if s.heading not in headings.get(s.document, set())
    ]
    assert not broken, "Källor som inte finns i korpusen:\n" + "\n".join(broken)


def test_every_corpus_format_has_headings(headings: dict[str, set[str]]) -> None:
    assert headings["lardomar-fran-stora-it-projekt"], "PDF bookmarks"
    assert headings["forvaltningsstyrning-och-digitalt-arv"], "Word headings"


def _bank_with(tmp_path: Path, mutate) -> Path:  # noqa: ANN001
    raw = yaml.safe_load(BANK.read_text(encoding="utf-8"))
    mutate(raw)
    path = tmp_path / "fragebank.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda raw: raw["questions"][0].update(dimension="okand-dimension"), "okand-dimension"),
        (lambda raw: raw["questions"][1].update(id=raw["questions"][0]["id"]), "mer än en gång"),
        (lambda raw: raw["questions"][0].pop("why"), "why"),
        (lambda raw: raw["questions"][0].update(sources=[]), "källa"),
        (lambda raw: raw["questions"][0].update(id="Fel Id"), "ogiltigt id"),
        (lambda raw: raw["questions"][0].update(situations=["bara en"]), "2–5 situations"),
        (lambda raw: raw["questions"][0].pop("situations"), "situations"),
        (lambda raw: raw["dimensions"].pop(), "saknas"),
    ],
)
def test_errors_say_in_swedish_what_is_wrong(tmp_path: Path, mutate, expected: str) -> None:  # noqa: ANN001
    with pytest.raises(QuestionBankError, match=expected):
        QuestionBank.load(_bank_with(tmp_path, mutate))


def test_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(QuestionBankError, match="ASSISTANT_QUESTION_BANK"):
        QuestionBank.load(tmp_path / "finns-inte.yaml")


def test_broken_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "trasig.yaml"
    path.write_text("questions: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(QuestionBankError, match="inte giltig YAML"):
        QuestionBank.load(path)
