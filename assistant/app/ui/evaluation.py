"""Utvärdering (strateg only): run the evaluation over a gold set in the background and read its report."""

from __future__ import annotations

import re

import streamlit as st

from assistant.app import evalrun
from assistant.settings import Settings
from assistant.app.ui.signin import require_strateg

POLL_SECONDS = 2.0


def page() -> None:
    require_strateg()
    settings = Settings()
    st.title("Utvärdering", anchor=False)
    st.caption("Mäter hur väl assistenten hittar rätt källor och ställer rätt frågor, på en uppsättning meddelanden "
               "med kända svar (facit).")
    gold = evalrun.gold_sets()
    job = evalrun.current()
    if not gold:
        st.info("Det finns inga facitfiler att utvärdera mot.")
    else:
        _start(settings, gold, job)
    running = job is not None and not job.finished
    st.fragment(_progress, run_every=POLL_SECONDS if running else None)()  # polls only while a run is going
    result = evalrun.latest(settings)
    if result is None:
        st.info("Ingen utvärdering har körts ännu.")
        return
    _report(result)


def _start(settings: Settings, gold: list, job: evalrun.Job | None) -> None:  # noqa: ANN001
    running = job is not None and not job.finished
    chosen = st.selectbox("Vad ska utvärderas?", gold, format_func=evalrun.gold_label, disabled=running)
    minutes = st.number_input("Avbryt efter (minuter)", min_value=1, max_value=24 * 60, step=5,
                              value=int(settings.eval_timeout_minutes), disabled=running,
                              help="Utvärderingen stoppas om den inte är klar inom den här tiden.")
    if st.button("Kör utvärderingen", type="primary", disabled=running,
                 help="Körs i bakgrunden. Du kan använda andra sidor under tiden." if not running else
                 "En utvärdering körs redan."):
        evalrun.start(settings, chosen, timeout=minutes * 60)  # returns the running one if another session started it
        st.rerun()


def _progress() -> None:
    """The running evaluation's progress, refreshed on its own; the rest of the page and the app stay usable."""
    job = evalrun.current()
    if job is None:
        return
    if not job.finished:
        st.progress(job.fraction, text=job.progress_text)
        if st.button("Avbryt utvärderingen", key="eval-cancel"):
            job.cancel()
        st.session_state["eval-watching"] = True
        return
    if st.session_state.pop("eval-watching", False):
        st.rerun(scope="app")  # it has just ended: show the new report
    if not job.result.ok:
        st.error(job.failure)
        if job.result.log and not job.cancelled:
            with st.expander("Utdrag ur loggen"):
                st.code(job.result.log)


def _report(result: evalrun.EvalRun) -> None:
    st.header("Senaste utvärderingen", anchor=False)
    st.caption(f"Körd {result.label}.")
    if result.summary:
        st.markdown(_no_heading_links(result.summary))
    plots = result.plots
    if plots:
        st.header("Diagram", anchor=False)
    for plot, caption in plots:
        st.image(str(plot), caption=caption)
    if result.details:
        with st.expander("Alla mått och fall"):
            st.markdown(_no_heading_links(result.details))


def _no_heading_links(markdown: str) -> str:
    """Markdown headings as bold lines: Streamlit gives every Markdown heading an English "link to heading"
    anchor (an extra tab stop), and the page's own headings already give the structure."""
    return re.sub(r"^#{1,6}\s+(.+?)\s*#*$", r"**\1**", markdown, flags=re.MULTILINE)
