"""Chatt: every signed-in user describes an initiative or asks, and gets the right questions with sources."""

from __future__ import annotations

import logging

import streamlit as st

from assistant.answer import Turn
from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.app.ui import about, conversations, export_panel, render, resources

log = logging.getLogger(__name__)
EXAMPLES = (
    "Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten och IT leder projektet",
    "Kommunen vill att en AI-tjänst sorterar inkommande e-post till rätt handläggare",
    "Hur följer ledningsgruppen upp nyttan av en digitalisering?",
)


def page() -> None:
    settings = Settings()
    user = st.session_state["user"]
    st.title("Rätt frågor", anchor=False)
    st.caption("Beskriv ett digitaliseringsinitiativ eller ställ en fråga om vägledningen. "
               "Du får de frågor ledningsgruppen bör ställa, med källor.")
    pipeline = resources.pipeline(settings)
    conversations.resume(settings, user)  # after a reload: the conversation in the address
    turns: list[Turn] = st.session_state.setdefault("turns", [])
    names = resources.dimension_name(settings)
    render.install_source_links()  # the [källa n] links in answers open their source
    _sidebar(settings, turns, names)
    if not turns:
        st.markdown("**Exempel att börja med:**")
        for i, example in enumerate(EXAMPLES):
            st.button(example, key=f"example-{i}", on_click=_choose, args=(example,))
    for i, turn in enumerate(turns):
        with st.chat_message("user"):
            st.markdown(turn.message)
        with st.chat_message("assistant"):
            render.answer(turn.answer, f"t{i}", names, pipeline.index, review=user.is_strateg)
            _feedback(settings, user.name, i, turn)
    if st.session_state.pop("scroll_to_answer", False):
        render.scroll_to_latest_answer(len(turns))
    prompt = st.chat_input("Beskriv initiativet eller ställ en fråga") or st.session_state.pop("pending", None)
    if prompt:
        with st.chat_message("user"):
            st.markdown(prompt)
        with st.chat_message("assistant"):
            answer = _answer(pipeline, prompt, turns)
        turns.append(Turn(prompt, answer))
        conversations.save(settings, user, turns)  # at once, so a reload or sign-out loses nothing
        st.session_state["scroll_to_answer"] = True
        st.rerun()


def _answer(pipeline, prompt: str, turns: list[Turn]):  # noqa: ANN001, ANN202 - a Pipeline, an Answer
    """The answer to the message. With a language model configured, its verified sentences are shown as they
    arrive (as plain text), and the verified answer replaces them on the rerun that follows; without one, or when
    the model is slow or fails, the offline answer."""
    with st.spinner("Tar fram frågor och källor …"):
        try:
            if not hasattr(pipeline, "stream"):  # a pipeline without streaming support
                return pipeline.ask(prompt, list(turns))
            answer, stream = pipeline.stream(prompt, list(turns))
        except AssistantError as exc:
            st.error(str(exc))
            st.stop()
    if stream is None:
        return answer
    try:
        st.write_stream(render.plain_sentences(stream))
    except Exception:  # noqa: BLE001 - the stream's own result() decides: the verified answer or the offline one
        log.warning("showing the language model's sentences failed; its verified result is used")
    try:
        return stream.result()
    except Exception:  # noqa: BLE001 - never a traceback for the chef: the offline answer is always there
        log.exception("the language model's result failed; the offline answer is shown")
        return answer


def _choose(example: str) -> None:
    st.session_state["pending"] = example


def _sidebar(settings: Settings, turns: list[Turn], names) -> None:  # noqa: ANN001
    with st.sidebar:
        conversations.sidebar(settings, st.session_state["user"])  # new, open, rename, delete
        if turns:
            export_panel.panel(turns, names)
        with st.expander("Om Rätt frågor"):
            st.markdown(about.text(settings))
        with st.expander("Om återkoppling"):
            st.caption(resources.feedback(settings).notice())


def _feedback(settings: Settings, user: str, i: int, turn: Turn) -> None:
    ids: dict[int, int] = st.session_state.setdefault("feedback_ids", {})
    st.feedback("thumbs", key=f"fb-{i}", on_change=_rated, args=(settings, user, i, turn))
    if i in ids:
        with st.form(f"fbc-form-{i}", border=False, clear_on_submit=True):
            comment = st.text_input("Kommentar (valfritt)", key=f"fbc-{i}", placeholder="Vad var bra, vad saknades?")
            if st.form_submit_button("Spara kommentar", type="tertiary") and comment.strip():
                resources.feedback(settings).update(ids[i], comment=comment)
                st.toast("Tack! Kommentaren är sparad.")
        st.caption("Tack för din återkoppling. Den är sparad.")


def _rated(settings: Settings, user: str, i: int, turn: Turn) -> None:
    value = st.session_state.get(f"fb-{i}")
    ids: dict[int, int] = st.session_state.setdefault("feedback_ids", {})
    store = resources.feedback(settings)
    if value is None:
        return
    if i in ids:
        store.update(ids[i], score=int(value))
    else:
        ids[i] = store.add(user, int(value), turn.message, turn.answer)
