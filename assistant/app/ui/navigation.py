"""Which pages a user gets. The strateg pages are never registered for a chef."""

from __future__ import annotations

import streamlit as st

from assistant.app.auth import User
from assistant.app.ui import chat, evaluation, library, signin


def chat_page() -> st.Page:
    return st.Page(chat.page, title="Chatt", icon=":material/chat:", url_path="chatt", default=True)


def pages_for(user: User) -> list:
    pages = [chat_page()]
    if user.is_strateg:
        return pages + [
            st.Page(library.page, title="Bibliotek", icon=":material/library_books:", url_path="bibliotek"),
            st.Page(evaluation.page, title="Utvärdering", icon=":material/analytics:", url_path="utvardering"),
        ]
    # Hidden refusal pages at the same addresses, so a chef who types the URL is told why
    # instead of silently landing in the chat.
    return pages + [
        st.Page(signin.refuse, title="Ingen behörighet", url_path="bibliotek", visibility="hidden"),
        st.Page(signin.refuse_evaluation, title="Ingen behörighet ", url_path="utvardering", visibility="hidden"),
    ]
