"""How an answer is shown: numbers that match "fråga N", headings, sources grouped and collapsed, the source reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.answer import Answer, Citation, CoachingQuestion, Gaps
from assistant.app.ui import render
from assistant.ingestion.index import Index
from assistant.settings import PROJECT_ROOT, Settings
from tests.app.conftest import copy_of

pytestmark = pytest.mark.slow
APP = str(PROJECT_ROOT / "app.py")
INITIATIVE = ("Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten. IT-avdelningen leder projektet och "
              "leverantören har lovat att allt är klart till sommaren.")
NUMBERED = re.compile(r"^\*\*(\d+)\. (.+?)\*\*", re.S)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, small_index: Path) -> Path:
    """A small real index of part of the bundled corpus (tests/app/conftest.py), this module's own copy."""
    return copy_of(small_index, tmp_path_factory.mktemp("answer-view-index"))


@pytest.fixture
def app(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "none")
    return AppTest.from_file(APP, default_timeout=300)  # the machine is shared; the first run loads the pipeline


def _unescaped(markdown: str) -> str:
    """Text that render.escape made safe for Markdown, as the reader sees it."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _numbered(message) -> list[tuple[int, str]]:  # noqa: ANN001 - an AppTest chat message
    return [(int(m.group(1)), _unescaped(m.group(2))) for md in message.markdown if (m := NUMBERED.match(md.value))]


def test_displayed_question_numbers_are_what_a_followup_asks_about(app: AppTest) -> None:
    app.run()
    app.chat_input[0].set_value(INITIATIVE).run()
    assert not app.exception
    shown = _numbered(app.chat_message[1])
    assert len(shown) >= 3
    assert [n for n, _ in shown] == list(range(1, len(shown) + 1))
    second = dict(shown)[2]
    app.chat_input[0].set_value("Berätta mer om fråga 2").run()
    assert not app.exception
    followup = "\n".join(md.value for md in app.chat_message[3].markdown)
    assert f"Fråga 2: {second}" in _unescaped(followup)
    # The view is asked to scroll to the start of the new answer once, after the rerun that shows it.
    assert "scroll_to_answer" not in app.session_state


def test_dimension_headings_are_h2_and_sources_are_collapsed_chips_per_document(app: AppTest) -> None:
    app.run()
    app.chat_input[0].set_value(INITIATIVE).run()
    assert not app.exception
    message = app.chat_message[1]
    assert not any(md.value.lstrip().startswith("#") for md in message.markdown)
    headings = [h.proto.body for h in message.get("html") if 'class="rf-dimension"' in h.proto.body]
    assert headings and all(h.startswith("<h2") for h in headings)
    sources = next(e for e in message.expander if e.label.startswith("Källor: "))
    assert sources.proto.expanded is False
    titles = [md.value for md in sources.markdown]
    assert len(titles) == len(set(titles))  # one entry per document
    chips = [b for b in sources.button if b.key.startswith("t0-src-")]
    assert len(chips) >= len(titles) and all(b.label.startswith("Källa ") for b in chips)
    # The source markers of a question are links in its line, "[källa n]", each to the chip of that source.
    first = next(md.value for md in message.markdown if md.value.startswith("**1. "))
    links = re.findall(r"\[\\\[källa\s(\d+)\\\]\]\(#rf-t0-src-(\d+)\)", first)
    assert links and all(a == b for a, b in links)
    assert {f"t0-src-{n}" for n, _ in links} <= {b.key for b in chips}
    assert not any(b.key.startswith("t0-q") for b in message.button)  # no buttons beside the text any more


def test_a_source_chip_opens_the_quote_in_its_section(app: AppTest) -> None:
    app.run()
    app.chat_input[0].set_value(INITIATIVE).run()
    button = next(b for b in app.chat_message[1].button if b.key.startswith("t0-src-"))
    n = int(button.key.rsplit("-", 1)[1])
    button.click().run()
    assert not app.exception
    bodies = [h.proto.body for h in app.get("html")]
    marked = [b for b in bodies if "<mark>" in b]
    assert marked, "the reader shows the section with the quote marked"
    texts = "\n".join(md.value for md in app.markdown)
    assert f"**[{n}] " in texts
    assert "Utgivare: " in texts and "Datum: " in texts
    assert "Dokumentets egna källor" in texts
    assert any(b.proto.label.startswith("Ladda ned originalet") for b in app.get("download_button"))


def test_reader_shows_the_whole_section_around_the_quote_and_escapes_it(data_dir: Path, embedder) -> None:  # noqa: ANN001
    index = Index(Settings(data_dir=data_dir), embedder=embedder)
    try:
        doc = index.documents()[0].document_id
        chunks = index.chunks_of(doc)
    finally:
        index.close()
    sections = {}
    for ch in chunks:
        sections.setdefault(ch.section, []).append(ch)
    section, members = max(sections.items(), key=lambda kv: len(kv[1]))
    assert len(members) >= 2, "the test needs a section of several chunks"
    quoted = members[-1]
    quote = quoted.text.split(". ")[0]
    c = Citation(1, doc, quoted.title, quoted.page, section, quote, chunk_id=quoted.id)
    shown = render.context(c, chunks)
    assert shown == [m.text for m in sorted(members, key=lambda m: m.ordinal)]
    assert all(t not in shown for t in (ch.text for ch in chunks if ch.section != section))
    page = render.section_html(c, chunks)
    assert page.count("<mark>") == 1
    hostile = Citation(2, doc, "x", None, None, '<img src=x onerror="alert(1)">')
    out = render.section_html(hostile, chunks)
    assert "<img" not in out and "&lt;img" in out


def _answer(gaps: Gaps) -> Answer:
    q = [CoachingQuestion("a", "nytta", "Vilken nytta?", "För att."), CoachingQuestion("b", "styrning", "Vem äger?", "Ansvar.", [1]),
         CoachingQuestion("c", "nytta", "Hur mäts den?", "Uppföljning.")]
    cite = Citation(1, "doc", "Dokument", 3, "Avsnitt", "Ett citat.")
    return Answer(text="Här är tre frågor:\n1. Vilken nytta?", questions=q, citations=[cite], gaps=gaps)


def test_gap_line_shows_what_is_covered_and_a_short_description_gets_no_list() -> None:
    name = {"nytta": "Nytta", "styrning": "Styrning", "juridik": "Juridik"}.get
    line = render.gap_line(_answer(Gaps(addressed=["nytta"], missing=["styrning", "juridik"])), name)
    assert "tar upp:** Nytta." in line and "ännu inget om:** Styrning och Juridik." in line
    short = render.gap_line(_answer(Gaps(short=True)), name)
    assert short == render.SHORT_NOTE and "Styrning" not in short


def test_plain_text_to_copy_keeps_the_numbers_in_answer_order() -> None:
    text = render.plain_text(_answer(Gaps()), {"nytta": "Nytta", "styrning": "Styrning"}.get)
    assert [line for line in text.splitlines() if re.match(r"\d+\. ", line)] == [
        "1. Vilken nytta?", "2. Vem äger? [1]", "3. Hur mäts den?"]
    assert "[1] Dokument, sidan 3, avsnittet ”Avsnitt”: ”Ett citat.”" in text
