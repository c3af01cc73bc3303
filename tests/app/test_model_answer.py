"""A language model's answer in the app: streamed as plain text, shown with only our own source links, and for a
strateg the mode and what the verifier removed. The model is the scripted OpenAI-compatible server on loopback
(tests/openai_server.py); the renderer is also tested directly with hostile text, as if the verifier had let it
through."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from assistant.answer import Answer, Citation
from assistant.app.ui import about, render
from assistant.settings import PROJECT_ROOT, Settings
from tests.app.conftest import copy_of
from tests.openai_server import EVIL, serve

APP = str(PROJECT_ROOT / "app.py")
QUESTION = "Hur följer ledningsgruppen upp nyttan av ett nytt verksamhetssystem?"
HOSTILE = [
    "Se ![x](http://127.0.0.1:9/leak) här [1].",
    'Bilden <img src="http://127.0.0.1:9/leak" onerror="alert(1)"> syns inte [1].',
    "Läs [klick](http://127.0.0.1:9/leak) och [ref][r] [2].\n\n[r]: http://127.0.0.1:9/ref",
    f"Adressen {EVIL} och www.evil-example.se och <http://127.0.0.1:9/auto> och a@evil.example [1].",
    "[Klicka](javascript:alert(document.cookie)) ![x](data:image/png;base64,iVBORw0KGgo=) [1].",
    "<script>fetch('http://127.0.0.1:9/leak')</script> &lt;b&gt; :red[röd] $x^2$ `kod` [1].",
    "# Rubrik\n    indraget kodblock\n- lista\n> citat\n---\n| a | b |\n|---|---|\n| 1 | 2 | [1]",
    "Okänd källa [99] och en känd [2].",
]
CITATIONS = [Citation(1, "doc-a", "Dokument A", 2, "Avsnitt", "Ett citat."),
             Citation(2, "doc-b", "Dokument <b>B</b> [x](http://127.0.0.1:9/t)", None, None, "Ett annat citat.")]


def _html(markdown: str) -> str:
    """CommonMark with raw HTML allowed: stricter than Streamlit, which drops raw HTML in st.markdown."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


def _answer(text: str, **kw) -> Answer:  # noqa: ANN003
    return Answer(text=text, mode="llm", citations=CITATIONS, **kw)


@pytest.mark.parametrize("text", HOSTILE)
def test_model_text_renders_as_plain_text_with_only_our_source_links(text: str) -> None:
    md = render.safe_markdown(text, _answer(text), "t0")
    out = _html(md)
    assert "<img" not in out and "<script" not in out and "<b>" not in out and "<h1" not in out
    assert "<pre" not in out and "<code" not in out and "<ul" not in out and "<table" not in out
    hrefs = re.findall(r'href="([^"]*)"', out)
    assert all(re.fullmatch(r"#rf-t0-src-[12]", h) for h in hrefs), hrefs
    # GitHub-style bare links (www., https://, e-mail) are not in CommonMark: the source must not hold them at all.
    assert "://" not in md and "www." not in md and "a@evil" not in md and ":red[" not in md
    # Every known [n] became our link, an unknown one stayed plain text, and the words are all still there.
    for n in re.findall(r"\[(\d)\]", text):
        assert f'href="#rf-t0-src-{n}"' in out
    assert "rf-t0-src-99" not in md
    words = re.findall(r"[A-Za-zÅÄÖåäö]{4,}", text)
    visible = re.sub(r"<[^>]+>", "", out)
    assert all(w in visible for w in words), [w for w in words if w not in visible]


def test_streamed_sentences_are_plain_text() -> None:
    chunks = "".join(render.plain_sentences(iter(["Se ![x](http://127.0.0.1:9/leak) [1].", "<img src=x>", " "])))
    out = _html(chunks)
    assert "<img" not in out and "href" not in out and "://" not in chunks


def _show(text: str, review: bool) -> None:
    from assistant.answer import Answer, Citation, CoachingQuestion, WarningSign
    from assistant.app.ui import render

    cites = [Citation(1, "doc-a", "Dokument A", 2, "Avsnitt", "Ett citat.")]
    a = Answer(text=text, mode="llm", citations=cites, removed_sentences=2,
               questions=[CoachingQuestion("q", "nytta", "Vem <b>äger</b> [x](http://127.0.0.1:9/q)?", "För att.", [1])],
               signs=[WarningSign("s", "Signal", "Varningssignal: ![x](http://127.0.0.1:9/s)", [1])])
    render.answer(a, "t0", str, None, review=review)


def test_the_whole_answer_view_links_only_to_our_sources() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_show, args=(" ".join(HOSTILE), False)).run()
    assert not at.exception
    shown = [m.value for m in at.markdown] + [w.proto.body for w in at.warning]
    for md in shown:
        out = _html(md)
        assert "<img" not in out and "<b>" not in out, md
        assert all(h.startswith("#rf-t0-src-") for h in re.findall(r'href="([^"]*)"', out)), md
        assert "://" not in md, md
    assert not any(c.value.startswith("Läge:") for c in at.caption)  # a chef is not told


def test_a_strateg_sees_the_mode_and_what_the_verifier_removed() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_show, args=("Ett citat [1].", True)).run()
    [line] = [c.value for c in at.caption if c.value.startswith("Läge:")]
    assert line == "Läge: språkmodell. Granskningen tog bort 2 meningar som inte stöddes av källorna."
    assert render.review_line(Answer(text="x")) == "Läge: offline (utan språkmodell)."
    assert render.review_line(Answer(text="x", mode="fallback")).startswith("Läge: reserv")
    assert "1 mening som" in render.review_line(Answer(text="x", mode="llm", removed_sentences=1))


def test_the_about_text_says_what_leaves_the_machine() -> None:
    offline = about.text(Settings())
    assert "Ingenting" in offline and "stannar på den här servern" in offline
    llm = about.text(Settings(llm_provider="openai", llm_base_url="http://127.0.0.1:8000/v1", llm_model="liten"))
    assert "127.0.0.1" in llm and "liten" in llm
    for sent in ("ditt meddelande, rensat", "de senaste meddelandena", "avsnitt ur vägledningen"):
        assert sent in llm
    assert "inte** skickas: användarnamn och konton, uppladdade filer som filer" in llm and "återkopplingen" in llm


# -- the real app with a scripted model on loopback ------------------------------------------------------------------
@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    from tests import builders

    url, proc = serve()
    try:
        yield url
    finally:
        builders.stop(proc)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, small_index: Path) -> Path:
    return copy_of(small_index, tmp_path_factory.mktemp("model-answer-index"))


def _app(monkeypatch: pytest.MonkeyPatch, data_dir: Path, model_url: str, model: str):  # noqa: ANN202
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "none")  # the developer user, a strateg
    monkeypatch.setenv("ASSISTANT_LLM_PROVIDER", "openai")
    monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", model_url)
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", model)
    monkeypatch.setenv("ASSISTANT_LLM_TIMEOUT", "20")
    return AppTest.from_file(APP, default_timeout=300)


@pytest.mark.slow
def test_a_model_answer_is_streamed_then_shown_verified_with_its_review(monkeypatch, data_dir, model_url) -> None:  # noqa: ANN001
    app = _app(monkeypatch, data_dir, model_url, "grounded").run()
    app.chat_input[0].set_value(QUESTION).run()
    assert not app.exception
    message = app.chat_message[1]
    assert any(c.value.startswith("Läge: språkmodell.") for c in message.caption), [c.value for c in message.caption]
    assert any("#rf-t0-src-" in md.value for md in message.markdown)
    about_text = "\n".join(md.value for md in app.sidebar.markdown)
    assert "En språkmodell är inställd" in about_text


@pytest.mark.slow
@pytest.mark.parametrize("model", ["markdown_image", "html_img", "markdown_link"])
def test_a_hostile_model_answer_shows_nothing_active(monkeypatch, data_dir, model_url, model: str) -> None:  # noqa: ANN001
    app = _app(monkeypatch, data_dir, model_url, model).run()
    app.chat_input[0].set_value(QUESTION).run()
    assert not app.exception
    for md in [m.value for m in app.chat_message[1].markdown]:
        out = _html(md)
        assert "<img" not in out and "<script" not in out and "://" not in md, md
        assert all(h.startswith("#rf-t0-src-") for h in re.findall(r'href="([^"]*)"', out)), md
