"""Utvärdering (strateg only): run the evaluation over a gold set and read its report."""

from __future__ import annotations

import streamlit as st

from assistant.app import evalrun
from assistant.settings import Settings
from assistant.app.ui.signin import require_strateg


def page() -> None:
    require_strateg()
    settings = Settings()
    st.title("Utvärdering")
    st.caption("Mäter hur väl assistenten hittar rätt källor och frågor i en uppsättning facitfrågor.")
    gold = evalrun.gold_sets()
    if not gold:
        st.info("Det finns inga facitfiler att utvärdera mot.")
        st.stop()
    chosen = st.selectbox("Vad ska utvärderas?", gold, format_func=evalrun.gold_label)
    result = None
    if st.button("Kör utvärderingen", type="primary"):
        with st.spinner("Utvärderingen körs. Det kan ta några minuter …"):
            result = evalrun.run(settings, chosen)
        if not result.ok:
            st.error("Utvärderingen misslyckades. Utdrag ur loggen:")
            st.code(result.log or "(ingen utskrift)")
            st.stop()
    result = result or evalrun.latest(settings)
    if result is None:
        st.info("Ingen utvärdering har körts ännu.")
        return
    st.caption(f"Senaste körningen: {result.out_dir.name}")
    if result.summary:
        st.markdown(result.summary)
    for plot, caption in result.plots:
        st.image(str(plot), caption=caption)
    if result.details:
        with st.expander("Alla mått och fall"):
            st.markdown(result.details)
