"""The Streamlit app driven by AppTest: chat, roles, development mode, feedback and export."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.app.auth import User
from assistant.app.feedback import FeedbackStore
from assistant.settings import PROJECT_ROOT, Settings
from tests.app.conftest import copy_of
from assistant.app.ui.signin import DEV_BANNER
from assistant.app.users import AccountStore

pytestmark = pytest.mark.slow
APP = str(PROJECT_ROOT / "app.py")
INITIATIVE = "Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, small_index: Path) -> Path:
    """A small real index of part of the bundled corpus (tests/app/conftest.py), this module's own copy."""
    return copy_of(small_index, tmp_path_factory.mktemp("app-index"))


@pytest.fixture
def app(data_dir: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "none")
    return AppTest.from_file(APP, default_timeout=120)


def _as(at: AppTest, monkeypatch: pytest.MonkeyPatch, role: str, tmp_path: Path) -> AppTest:
    """Signed in as a local account (roles are looked up in the accounts file on every page load)."""
    accounts = tmp_path / "accounts.json"
    AccountStore(accounts).add(f"test-{role}", role, "ett-langt-losenord")
    monkeypatch.setenv("ASSISTANT_ACCOUNTS_FILE", str(accounts))
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "accounts")
    at.session_state["user"] = User(f"test-{role}", role, "accounts")
    return at


def _texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_development_mode_is_labelled_and_acts_as_strateg(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert [w.body for w in app.sidebar.warning] == [DEV_BANNER]
    assert "Utvecklingsläge – ingen inloggning" in DEV_BANNER


def test_chat_input_gives_questions_by_dimension_and_sources(app: AppTest) -> None:
    app.run()
    app.chat_input[0].set_value(INITIATIVE).run()
    assert not app.exception
    assert [m.name for m in app.chat_message] == ["user", "assistant"]
    text = _texts(app)
    assert any(line.startswith("**1. ") for line in text.splitlines())  # numbered questions
    assert any('class="rf-dimension"' in h.proto.body for h in app.get("html"))  # a dimension heading
    assert any(b.label.startswith("Källa 1") for b in app.main.button)  # the chip under "Källor"
    assert "](#rf-t0-src-1)" in text  # [källa 1] in the text, a link that opens that chip's source
    assert any(e.label.startswith("Källor: ") for e in app.main.expander)
    labels = [b.proto.label for b in app.get("download_button")]
    assert "Markdown (.md)" in labels and "Word (.docx)" in labels


def test_example_prompt_asks_it(app: AppTest) -> None:
    app.run()
    app.button(key="example-0").click().run()
    assert [m.name for m in app.chat_message] == ["user", "assistant"]
    next(b for b in app.button if b.label == "Ny konversation").click().run()
    assert not app.chat_message


def test_feedback_is_stored_with_the_answer(app: AppTest, data_dir: Path) -> None:
    app.run()
    app.chat_input[0].set_value(INITIATIVE).run()
    app.feedback[0].set_value(1).run()
    assert not app.exception
    rows = FeedbackStore(Settings(data_dir=data_dir).feedback_path, 90).rows()
    row = rows[-1]
    assert (row.score, row.message, row.user) == (1, INITIATIVE, "utvecklare")
    assert row.answer.questions
    app.text_input(key="fbc-0").input("Bra, men för många frågor")
    next(b for b in app.button if b.label == "Spara kommentar").click().run()
    assert FeedbackStore(Settings(data_dir=data_dir).feedback_path, 90).rows()[-1].comment == "Bra, men för många frågor"


def _pages(role: str) -> None:
    import streamlit as st

    from assistant.app.auth import User
    from assistant.app.ui.navigation import pages_for

    pages = pages_for(User("x", role, "accounts"))
    st.session_state["pages"] = [(p.url_path, p.visibility, p.title) for p in pages]


def test_chef_gets_no_strateg_pages_in_the_menu() -> None:
    chef = AppTest.from_function(_pages, args=("chef",)).run().session_state["pages"]
    strateg = AppTest.from_function(_pages, args=("strateg",)).run().session_state["pages"]
    assert [title for _, visibility, title in strateg if visibility == "visible"] == ["Chatt", "Bibliotek", "Utvärdering"]
    assert [title for _, visibility, title in chef if visibility == "visible"] == ["Chatt"]
    # The addresses answer with a refusal for a chef instead of the real pages.
    assert {(path, visibility) for path, visibility, _ in chef} >= {("bibliotek", "hidden"), ("utvardering", "hidden")}


def _guarded(page: str) -> None:
    import streamlit as st

    from assistant.app.auth import User
    from assistant.app.ui import evaluation, library

    st.session_state["user"] = User("c", "chef", "accounts")
    {"library": library.page, "evaluation": evaluation.page}[page]()


@pytest.mark.parametrize("page", ["library", "evaluation"])
def test_strateg_pages_stop_a_chef(page: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data_dir))
    at = AppTest.from_function(_guarded, args=(page,), default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Ingen behörighet"]
    assert "bara för strateger" in at.error[0].value
    assert [link.proto.label for link in at.get("page_link")] == ["Till Chatt"]
    assert not at.file_uploader


def test_chef_is_signed_in_as_chef(app: AppTest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _as(app, monkeypatch, "chef", tmp_path).run()
    assert not app.exception
    assert "Inloggad som **test-chef** (chef)" in [c.value for c in app.sidebar.caption]
    assert not app.sidebar.warning


def test_sign_in_with_local_account(app: AppTest, data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.json"
    AccountStore(accounts).add("bertil", "chef", "bertils-losenord")
    monkeypatch.setenv("ASSISTANT_ACCOUNTS_FILE", str(accounts))
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "auto")
    app.run()
    assert not app.chat_input
    app.text_input[0].input("bertil")
    app.text_input[1].input("fel-losenord")
    app.button[0].click().run()
    assert "Fel användarnamn eller lösenord." in [e.value for e in app.error]
    app.text_input[1].input("bertils-losenord")
    app.button[0].click().run()
    assert app.session_state["user"].role == "chef"
    assert app.chat_input


def _evaluation_as_strateg() -> None:
    import streamlit as st

    from assistant.app.auth import User
    from assistant.app.ui import evaluation

    st.session_state["user"] = User("s", "strateg", "accounts")
    evaluation.page()


def test_evaluation_page_shows_the_latest_summary_with_captioned_plots(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    from evals.report import write_report
    from evals.runner import summarize_run

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    record = {"id": "c1", "kind": "question", "split": "test", "set": "questions", "variant_of": None, "variant": None,
              "message": "Vem äger nyttan?", "expected_dimensions": [], "seconds": 0.01,
              "metrics": {"retrieval.hit_at_5": 1.0, "refusal.false_refusal_rate": 0.0, "intent.accuracy": 1.0},
              "answer": {"text": "…", "refused": False, "declined": False, "kind": "question", "question_ids": [],
                         "dimensions": [], "documents": ["nyttorealisering"]},
              "missed_key_points": [], "missed_dimensions": [], "missed_sources": []}
    run = tmp_path / "evals" / "20261127-120000-gold"
    write_report(summarize_run([record]), run, "evals/gold")
    at = AppTest.from_function(_evaluation_as_strateg, default_timeout=60).run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert "Sammanfattning" in shown and "Testdelen" in shown
    assert "![" not in shown  # no Markdown image link the page cannot resolve
    captions = [img.caption for image in at.get("image") for img in image.proto.imgs]
    assert captions and all(captions), captions
