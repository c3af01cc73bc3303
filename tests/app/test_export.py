"""The conversation as a beslutsunderlag: questions grouped by dimension, answers and sources."""

from __future__ import annotations

import io
from datetime import date

import docx
import pytest

from assistant.answer import Turn
from assistant.app.export import to_docx, to_markdown
from assistant.coaching.questionbank import QuestionBank


@pytest.fixture(scope="module")
def turns(corpus_index, corpus_settings) -> list[Turn]:  # noqa: ANN001
    from assistant.pipeline import Pipeline

    pipeline = Pipeline.from_settings(corpus_settings, index=corpus_index)
    first = "Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten"
    answer = pipeline.ask(first, [])
    assert answer.questions and answer.citations
    return [Turn(first, answer)]


@pytest.fixture(scope="module")
def names(corpus_settings):  # noqa: ANN001, ANN201
    return QuestionBank.load(corpus_settings.question_bank).dimension_name


@pytest.mark.slow
def test_markdown_has_questions_by_dimension_and_sources(turns, names) -> None:  # noqa: ANN001
    md = to_markdown(turns, names, today=date(2026, 11, 27))
    answer = turns[0].answer
    assert "Datum: 2026-11-27" in md
    assert "> Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten" in md
    for q in answer.questions:
        assert q.text in md
        assert f"### {names(q.dimension)}" in md
    for c in answer.citations:
        assert f"{c.n}. {c.title}" in md and c.quote in md
    assert "Källor" in md


@pytest.mark.slow
def test_word_document_has_the_same_content(turns, names) -> None:  # noqa: ANN001
    document = docx.Document(io.BytesIO(to_docx(turns, names)))
    text = "\n".join(p.text for p in document.paragraphs)
    answer = turns[0].answer
    assert all(q.text in text for q in answer.questions)
    assert all(c.quote in text and c.title in text for c in answer.citations)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert names(answer.questions[0].dimension) in headings
