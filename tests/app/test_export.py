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


OFF_TOPIC = "Vilket recept på kanelbullar är bäst till fikat på fredag?"


@pytest.fixture(scope="module")
def mixed(corpus_index, corpus_settings, turns) -> list[Turn]:  # noqa: ANN001
    """An answered turn, then one the assistant declines (outside the guidance)."""
    from assistant.pipeline import Pipeline

    pipeline = Pipeline.from_settings(corpus_settings, index=corpus_index)
    return [turns[0], Turn(OFF_TOPIC, pipeline.ask(OFF_TOPIC, []))]


@pytest.mark.slow
def test_word_document_is_swedish_with_this_exports_properties(turns, names) -> None:  # noqa: ANN001
    import zipfile
    from datetime import UTC, datetime

    when = datetime(2026, 11, 27, 13, 5, 9, tzinfo=UTC)
    data = to_docx(turns, names, author="Anna Andersson", now=when)
    parts = zipfile.ZipFile(io.BytesIO(data))
    core = parts.read("docProps/core.xml").decode()
    assert "<dc:title>Beslutsunderlag – Rätt frågor</dc:title>" in core
    assert "<dc:creator>Anna Andersson</dc:creator>" in core and "<cp:lastModifiedBy>Anna Andersson</cp:lastModifiedBy>" in core
    assert ">2026-11-27T13:05:09Z</dcterms:created>" in core and ">2026-11-27T13:05:09Z</dcterms:modified>" in core
    assert "<dc:language>sv-SE</dc:language>" in core
    styles = parts.read("word/styles.xml").decode()
    assert '<w:lang w:val="sv-SE"' in styles
    for name in parts.namelist():
        body = parts.read(name)
        assert b"python-docx" not in body and b"2013-" not in body and b'"en-US"' not in body, name
    props = docx.Document(io.BytesIO(data)).core_properties
    assert (props.author, props.language) == ("Anna Andersson", "sv-SE")


@pytest.mark.slow
def test_word_document_without_a_user_is_by_the_app(turns, names) -> None:  # noqa: ANN001
    props = docx.Document(io.BytesIO(to_docx(turns, names))).core_properties
    assert props.author == "Rätt frågor" and props.created.year >= 2026


@pytest.mark.slow
def test_declined_turns_are_left_out_by_default(mixed) -> None:  # noqa: ANN001
    from assistant.app.export import declined, default_selection, turn_label

    assert not declined(mixed[0].answer) and declined(mixed[1].answer)
    assert default_selection(mixed) == [0]
    assert turn_label(1, mixed[1]).endswith("(avböjd)")


def _export_panel(turns, names_path) -> None:  # noqa: ANN001
    from assistant.app.ui import export_panel
    from assistant.coaching.questionbank import QuestionBank

    export_panel.panel(turns, QuestionBank.load(names_path).dimension_name)


@pytest.mark.slow
def test_export_area_lets_the_user_choose_turns(mixed, corpus_settings) -> None:  # noqa: ANN001
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_export_panel, args=(mixed, corpus_settings.question_bank)).run()
    assert not at.exception
    choice = at.multiselect[0]
    assert choice.label == "Vilka frågor och svar ska med?" and choice.value == [0]
    assert len(choice.options) == 2
    buttons = {b.proto.label: b.proto.disabled for b in at.get("download_button")}
    assert buttons == {"Markdown (.md)": False, "Word (.docx)": False}
    choice.set_value([]).run()
    assert {b.proto.label: b.proto.disabled for b in at.get("download_button")} == {"Markdown (.md)": True,
                                                                                     "Word (.docx)": True}
    assert "Välj minst en fråga" in "\n".join(c.value for c in at.caption)


def _interleaved() -> list[Turn]:
    """Questions whose dimensions come back (nytta, styrning, nytta): the app numbers them 1-3 in this order."""
    from assistant.answer import Answer, Citation, CoachingQuestion

    q = [CoachingQuestion("a", "nytta", "Vilken nytta?", "För att.", [1]),
         CoachingQuestion("b", "styrning", "Vem äger beslutet?", "Ansvar."),
         CoachingQuestion("c", "nytta", "Hur mäts nyttan?", "Uppföljning.")]
    answer = Answer(text="Här är tre frågor:\n1. Vilken nytta?", questions=q,
                    citations=[Citation(1, "doc", "Dokument", 3, "Avsnitt", "Ett citat.")])
    return [Turn("Vi inför ett nytt system", answer)]


NAMES = {"nytta": "Nytta", "styrning": "Styrning"}.get


def test_exports_number_and_order_questions_as_the_app_shows_them() -> None:
    from assistant.app.ui import render

    turns = _interleaved()
    shown = [(n, q.text) for _, numbered in render.runs(turns[0].answer.questions) for n, q in numbered]
    assert shown == [(1, "Vilken nytta?"), (2, "Vem äger beslutet?"), (3, "Hur mäts nyttan?")]
    md = to_markdown(turns, NAMES, today=date(2026, 11, 27))
    assert [line.split(" [")[0].strip() for line in md.splitlines() if line[:1].isdigit() and ". **" in line] == [
        "1. **Vilken nytta?**", "2. **Vem äger beslutet?**", "3. **Hur mäts nyttan?**"]
    assert md.count("### Nytta") == 2  # the dimension comes back under its own heading, not pulled forward
    document = docx.Document(io.BytesIO(to_docx(turns, NAMES)))
    numbered = [p.text for p in document.paragraphs
                if p.text[:1].isdigit() and p.text[1:3] == ". " and not p.style.name.startswith("Heading")]
    assert [t.split(" [")[0] for t in numbered] == ["1. Vilken nytta?", "2. Vem äger beslutet?", "3. Hur mäts nyttan?"]


def test_word_document_names_this_app_not_microsoft_word() -> None:
    import zipfile

    app = zipfile.ZipFile(io.BytesIO(to_docx(_interleaved(), NAMES))).read("docProps/app.xml").decode()
    assert "<Application>Rätt frågor</Application>" in app
    assert "Microsoft" not in app and "Normal.dotm" not in app and "<AppVersion>" not in app
