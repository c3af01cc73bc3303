"""The conversation list in the chat's sidebar: new, open, rename, delete; and saving after each answer.

The open conversation's id is also in the address (?konversation=…), so a reload
(F5) opens it again. Every turn is saved right after its answer, so starting a
new conversation or signing out discards nothing; an action that would discard
something (an unsaved conversation, a deletion) asks first, and the question
stays until it is answered.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import streamlit as st

from assistant.answer import Turn
from assistant.app.auth import User
from assistant.app.conversations import ConversationStore, SqlConversationStore, Summary, open_conversations
from assistant.app.stores import STORE_ERRORS, location
from assistant.errors import AssistantError
from assistant.settings import Settings

log = logging.getLogger(__name__)
PARAM = "konversation"
SHOWN = 12  # the newest ones in the list; older ones behind "Äldre konversationer"
MONTHS = ("jan", "feb", "mars", "april", "maj", "juni", "juli", "aug", "sep", "okt", "nov", "dec")
_ID, _TURNS, _UNSAVED, _ASK = "conversation_id", "turns", "conversation_unsaved", "conversation_ask"


@st.cache_resource(show_spinner=False)
def _store(where: str, retention_days: int, _settings: Settings) -> ConversationStore | SqlConversationStore:
    return open_conversations(_settings)


def store(settings: Settings) -> ConversationStore | SqlConversationStore:
    """The conversation store (SQLite under data_dir, or the shared database), one per file or database URL."""
    found = _store(location(settings, settings.conversations_path), settings.conversation_retention_days, settings)
    found.purge()
    return found


def _clear() -> None:
    """Forget the open conversation in this browser session (it stays saved)."""
    for key in [k for k in st.session_state
                if k in (_TURNS, _ID, _UNSAVED, _ASK, "feedback_ids") or str(k).startswith("fb")]:
        del st.session_state[key]
    st.session_state[_ID] = None
    if PARAM in st.query_params:
        del st.query_params[PARAM]


def resume(settings: Settings, user: User) -> None:
    """At the top of the chat page: after a reload, open the conversation the address names (if it is the user's)."""
    if _ID in st.session_state:
        return
    st.session_state[_ID] = None
    wanted = st.query_params.get(PARAM)
    if wanted and not _load(settings, user, wanted):
        del st.query_params[PARAM]


def _load(settings: Settings, user: User, conversation_id: str) -> bool:
    try:
        found = store(settings).open(user.owner, conversation_id)
    except STORE_ERRORS:
        log.exception("could not open a conversation")
        st.toast("Konversationen gick inte att öppna just nu. Försök igen om en stund.")
        return False
    if found is None:
        return False
    _clear()
    st.session_state[_TURNS] = list(found.turns)
    st.session_state[_ID] = found.id
    st.query_params[PARAM] = found.id
    return True


def save(settings: Settings, user: User, turns: list[Turn]) -> None:
    """Right after an answer: store the new turn (the first one creates the conversation)."""
    try:
        conversation_id = store(settings).save(user.owner, st.session_state.get(_ID), turns)
    except STORE_ERRORS:
        log.exception("could not save a conversation of %s", user.owner)
        st.session_state[_UNSAVED] = True
        return
    st.session_state.pop(_UNSAVED, None)
    st.session_state[_ID] = conversation_id
    st.query_params[PARAM] = conversation_id


def when(at: datetime, now: datetime | None = None) -> str:
    """A short Swedish date for the list: "i dag 14:05", "i går", "3 nov", "3 nov 2025"."""
    local = at.astimezone()
    today = (now or datetime.now().astimezone()).astimezone().date()
    if local.date() == today:
        return f"i dag {local:%H:%M}"
    if local.date() == today - timedelta(days=1):
        return "i går"
    day = f"{local.day} {MONTHS[local.month - 1]}"
    return day if local.year == today.year else f"{day} {local.year}"


def _plain(text: str) -> str:
    """A title as literal text in a button label (which reads Markdown)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", text)


def _ask(what: str, conversation_id: str | None = None) -> None:
    for key in ("conversation-title", "conversation-rename-error"):  # the rename form starts from the title
        st.session_state.pop(key, None)
    st.session_state[_ASK] = (what, conversation_id)


def _cancel() -> None:
    st.session_state.pop(_ASK, None)
    st.session_state.pop("conversation-rename-error", None)


def _new(force: bool = False) -> None:
    if st.session_state.get(_UNSAVED) and not force:
        _ask("new")
        return
    _clear()


def _open(settings: Settings, user: User, conversation_id: str, force: bool = False) -> None:
    if st.session_state.get(_UNSAVED) and not force:
        _ask("open", conversation_id)
        return
    if not _load(settings, user, conversation_id):
        st.toast("Konversationen finns inte längre. Den kan ha tagits bort i en annan flik eller efter "
                 f"{settings.conversation_retention_days} dagar.")


def _delete(settings: Settings, user: User, conversation_id: str) -> None:
    st.session_state.pop(_ASK, None)
    try:
        store(settings).delete(user.owner, conversation_id)
    except STORE_ERRORS:
        log.exception("could not delete a conversation of %s", user.owner)
        st.toast("Konversationen gick inte att ta bort just nu. Försök igen om en stund.")
        return
    if st.session_state.get(_ID) == conversation_id:
        _clear()
    st.toast("Konversationen är borttagen.")


def _rename(settings: Settings, user: User, conversation_id: str) -> None:
    title = st.session_state.get("conversation-title", "")
    try:
        store(settings).rename(user.owner, conversation_id, title)
    except AssistantError as exc:
        st.session_state["conversation-rename-error"] = str(exc)
        return
    except STORE_ERRORS:
        log.exception("could not rename a conversation of %s", user.owner)
        st.session_state["conversation-rename-error"] = "Namnet gick inte att spara just nu. Försök igen om en stund."
        return
    st.session_state.pop(_ASK, None)
    st.session_state.pop("conversation-rename-error", None)


def sidebar(settings: Settings, user: User) -> None:
    """Inside `with st.sidebar`: the conversation actions and the list."""
    ask = st.session_state.get(_ASK)
    st.button("Ny konversation", icon=":material/add_comment:", on_click=_new, width="stretch",
              disabled=bool(ask and ask[0] in ("new", "open")))
    if st.session_state.get(_UNSAVED):
        st.error("Senaste svaret kunde inte sparas på servern. Det finns kvar här tills du byter konversation "
                 "eller laddar om sidan.")
    if ask and ask[0] in ("new", "open"):
        st.warning("Den här konversationen är inte sparad. Vill du lämna den ändå? Den går då förlorad.")
        yes, no = st.columns(2)
        if ask[0] == "new":
            yes.button("Ja, lämna den", key="conversation-leave", type="primary", on_click=_new, args=(True,))
        else:
            yes.button("Ja, lämna den", key="conversation-leave", type="primary", on_click=_open,
                       args=(settings, user, ask[1], True))
        no.button("Avbryt", key="conversation-stay", on_click=_cancel)
    try:
        summaries = store(settings).list(user.owner)
    except STORE_ERRORS:
        log.exception("could not list the conversations of %s", user.owner)
        st.error("Dina sparade konversationer gick inte att visa just nu.")
        summaries = []
    current = st.session_state.get(_ID)
    open_one = next((s for s in summaries if s.id == current), None)
    if open_one is not None:
        _actions(settings, user, open_one, ask)
    if summaries:
        st.markdown("**Dina konversationer**")
        for summary in summaries[:SHOWN]:
            _entry(settings, user, summary, summary.id == current)
        if len(summaries) > SHOWN:
            with st.expander(f"Äldre konversationer ({len(summaries) - SHOWN})"):
                for summary in summaries[SHOWN:]:
                    _entry(settings, user, summary, summary.id == current)
    try:
        st.caption(store(settings).notice())
    except STORE_ERRORS:  # the list above already says the store cannot be reached
        log.warning("could not reach the conversation store for its notice")


def _entry(settings: Settings, user: User, summary: Summary, current: bool) -> None:
    label = f"{_plain(summary.title)} · {when(summary.updated_at)}"
    st.button(label, key=f"conversation-{summary.id}", type="secondary" if current else "tertiary",
              width="stretch", on_click=_open, args=(settings, user, summary.id),
              help="Den öppna konversationen" if current else "Öppna konversationen")


def _actions(settings: Settings, user: User, summary: Summary, ask: tuple | None) -> None:
    if ask and ask[0] == "delete" and ask[1] == summary.id:
        st.warning(f"Ta bort ”{summary.title}” för gott? Det går inte att ångra.")
        yes, no = st.columns(2)
        yes.button("Ja, ta bort", key="conversation-delete-yes", type="primary", on_click=_delete,
                   args=(settings, user, summary.id))
        no.button("Avbryt", key="conversation-delete-no", on_click=_cancel)
        return
    if ask and ask[0] == "rename" and ask[1] == summary.id:
        with st.form("conversation-rename", border=False):
            st.text_input("Nytt namn", value=summary.title, key="conversation-title", max_chars=100)
            save_col, cancel_col = st.columns(2)
            save_col.form_submit_button("Spara namn", type="primary", on_click=_rename,
                                        args=(settings, user, summary.id))
            cancel_col.form_submit_button("Avbryt", on_click=_cancel)
        if error := st.session_state.get("conversation-rename-error"):
            st.error(error)
        return
    rename, delete = st.columns(2)
    rename.button("Byt namn", key="conversation-rename-ask", icon=":material/edit:", type="tertiary",
                  on_click=_ask, args=("rename", summary.id))
    delete.button("Ta bort", key="conversation-delete-ask", icon=":material/delete:", type="tertiary",
                  on_click=_ask, args=("delete", summary.id))
