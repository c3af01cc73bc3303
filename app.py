"""Rätt frågor: the Streamlit app. Thin: sign-in, then the pages the user's role may see, inside one error boundary."""

from __future__ import annotations

import streamlit as st

from assistant.logging_setup import configure
from assistant.settings import Settings
from assistant.app.ui import boundary, navigation, signin, style, swedish

configure()
st.set_page_config(page_title="Rätt frågor", page_icon=":material/quiz:", layout="centered")
style.apply()
swedish.apply()  # lang="sv" and Swedish for Streamlit's own texts (skip link, aria labels, uploader)

with boundary.guard("app"):
    user = signin.current_user(Settings())
    if user is None:
        st.navigation(signin.sign_in_pages(), position="hidden").run()
        st.stop()
    signin.sidebar(user)
    st.navigation(navigation.pages_for(user)).run()
