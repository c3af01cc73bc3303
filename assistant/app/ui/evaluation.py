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
    if not evalrun.available():
        st.info("Utvärderingen är inte tillgänglig ännu. Den kommer när utvärderingsskriptet (evals) är på plats.")
        st.stop()
    gold = evalrun.gold_sets()
    if not gold:
        st.info(f"Det finns inga facitfiler (*.jsonl) i {evalrun.GOLD_DIR}.")
        st.stop()
    chosen = st.selectbox("Facitfil", gold, format_func=lambda p: p.name)
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
    st.caption(f"Rapport: {result.out_dir.name}")
    if result.report:
        st.markdown(result.report)
    for plot in result.plots:
        st.image(str(plot), caption=plot.stem.replace("_", " "))
