"""The export area of the chat: choose which turns go into the beslutsunderlag, then download it."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import streamlit as st

from assistant.answer import Turn
from assistant.app import export

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def panel(turns: Sequence[Turn], names: export.DimensionName) -> None:
    """Markdown and Word downloads of the chosen turns; answered turns are chosen by default, declined ones not."""
    st.markdown("**Exportera som beslutsunderlag**")
    # A new key for each conversation and length, so a new turn or another conversation starts from the default.
    digest = zlib.crc32("\x1f".join(t.message for t in turns).encode("utf-8"))
    chosen = st.multiselect(
        "Vilka frågor och svar ska med?", list(range(len(turns))), default=export.default_selection(turns),
        format_func=lambda i: export.turn_label(i, turns[i]), key=f"export-turns-{len(turns)}-{digest:x}",
        placeholder="Välj frågor och svar",
        help="Avböjda svar (utanför vägledningen eller utan innehåll) är inte valda från början.",
    )
    selected = [turns[i] for i in sorted(chosen)]
    if not selected:
        st.caption("Välj minst en fråga och ett svar för att kunna exportera.")
    user = st.session_state.get("user")
    author = getattr(user, "name", None)
    st.download_button("Markdown (.md)", export.to_markdown(selected, names) if selected else b"",
                       file_name="beslutsunderlag.md", mime="text/markdown", key="export-md", width="stretch",
                       disabled=not selected, on_click="ignore")
    st.download_button("Word (.docx)", (lambda: export.to_docx(selected, names, author=author)) if selected else b"",
                       file_name="beslutsunderlag.docx", mime=DOCX_MIME, key="export-docx", width="stretch",
                       disabled=not selected, on_click="ignore")
