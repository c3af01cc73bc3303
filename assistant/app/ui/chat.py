"""Chatt: every signed-in user describes an initiative or asks, and gets the right questions with sources."""

from __future__ import annotations

import streamlit as st

from assistant.answer import Turn
from assistant.errors import AssistantError
from assistant.app.export import to_docx, to_markdown
from assistant.settings import Settings
from assistant.app.ui import render, resources

EXAMPLES = (
    "Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten och IT leder projektet",
    "Kommunen vill att en AI-tjänst sorterar inkommande e-post till rätt handläggare",
    "Hur följer ledningsgruppen upp nyttan av en digitalisering?",
)


def page() -> None:
    settings = Settings()
    user = st.session_state["user"]
    st.title("Rätt frågor")
    st.caption("Beskriv ett digitaliseringsinitiativ eller ställ en fråga om vägledningen. "
               "Du får de frågor ledningsgruppen bör ställa, med källor.")
    pipeline = resources.pipeline(settings)
    turns: list[Turn] = st.session_state.setdefault("turns", [])
    names = resources.dimension_name(settings)
    _sidebar(settings, turns, names)
    if not turns:
        st.markdown("**Exempel att börja med:**")
        for i, example in enumerate(EXAMPLES):
            st.button(example, key=f"example-{i}", on_click=_choose, args=(example,))
    for i, turn in enumerate(turns):
        with st.chat_message("user"):
            st.markdown(turn.message)
        with st.chat_message("assistant"):
            render.answer(turn.answer, f"t{i}", names, pipeline.index)
            _feedback(settings, user.name, i, turn)
    prompt = st.chat_input("Beskriv initiativet eller ställ en fråga") or st.session_state.pop("pending", None)
    if prompt:
        with st.chat_message("user"):
            st.markdown(prompt)
        with st.chat_message("assistant"), st.spinner("Tar fram frågor och källor …"):
            try:
                answer = pipeline.ask(prompt, list(turns))
            except AssistantError as exc:
                st.error(str(exc))
                st.stop()
        turns.append(Turn(prompt, answer))
        st.rerun()


def _choose(example: str) -> None:
    st.session_state["pending"] = example


def _new_conversation() -> None:
    for key in [k for k in st.session_state if k in ("turns", "feedback_ids") or str(k).startswith("fb")]:
        del st.session_state[key]


def _sidebar(settings: Settings, turns: list[Turn], names) -> None:  # noqa: ANN001
    with st.sidebar:
        st.button("Ny konversation", icon=":material/add_comment:", on_click=_new_conversation, width="stretch")
        if turns:
            st.markdown("**Exportera som beslutsunderlag**")
            st.download_button("Markdown (.md)", to_markdown(turns, names), file_name="beslutsunderlag.md",
                               mime="text/markdown", key="export-md", width="stretch")
            st.download_button("Word (.docx)", to_docx(turns, names), file_name="beslutsunderlag.docx",
                               mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                               key="export-docx", width="stretch")
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
