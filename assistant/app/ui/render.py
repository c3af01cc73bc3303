"""How an Answer looks: questions grouped by dimension, the gap check, [n] markers and the sources."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from assistant.answer import Answer, Citation
from assistant.app.export import grouped, intro, where
from assistant.ingestion.index import Index


def answer(a: Answer, key: str, dimension_name: Callable[[str], str], index: Index | None) -> None:
    text = intro(a)
    if text:
        st.markdown(text)
    for dim, questions in grouped(a.questions):
        st.markdown(f"##### {dimension_name(dim)}")
        for q in questions:
            marks = "".join(f" [{n}]" for n in q.citations)
            st.markdown(f"- **{q.text}**{marks}  \n  <small>Varför: {q.why}</small>", unsafe_allow_html=True)
    if a.questions and a.gaps.missing:
        st.markdown(
            "**Det här säger beskrivningen ännu inget om:** " + ", ".join(dimension_name(d) for d in a.gaps.missing)
        )
    if a.citations:
        with st.expander(f"Källor ({len(a.citations)})", expanded=True):
            for c in a.citations:
                _citation(c, f"{key}-{c.n}", index)


def _citation(c: Citation, key: str, index: Index | None) -> None:
    loc = where(c)
    st.markdown(f"**[{c.n}] {c.title}**" + (f" – {loc}" if loc else ""))
    st.markdown(f"> {c.quote}")
    path = _source_path(c.document_id, index)
    if path is None:
        return
    data = _file_bytes(str(path), path.stat().st_mtime)
    label = f"Ladda ned {path.name}"
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    left, right = st.columns(2)
    with left:
        st.download_button(label, data, file_name=path.name, mime=mime, key=f"dl-{key}",
                           icon=":material/download:", type="tertiary")
    if c.page and mime == "application/pdf" and len(data) <= OPEN_PDF_MAX_BYTES:
        with right:
            _open_pdf_link(data, c.page)


OPEN_PDF_MAX_BYTES = 5_000_000  # the file travels inside the page; larger PDFs are download only
_OPEN_PDF = """<a id="open" href="#" target="_blank" rel="noopener"
 style="font-family:'Source Sans Pro',sans-serif;font-size:14px;color:#1f5f8b;text-decoration:none">
 &#8599; Öppna PDF:en på sidan {page}</a>
<script>
const bytes = Uint8Array.from(atob("{b64}"), c => c.charCodeAt(0));
const url = URL.createObjectURL(new Blob([bytes], {{type: "application/pdf"}}));
document.getElementById("open").href = url + "#page={page}";
</script>"""


def _open_pdf_link(data: bytes, page: int) -> None:
    """A link that opens the PDF at the cited page in a new tab, where the browser's PDF viewer allows it."""
    import base64

    import streamlit.components.v1 as components

    components.html(_OPEN_PDF.format(b64=base64.b64encode(data).decode("ascii"), page=int(page)), height=34)


def _source_path(document_id: str, index: Index | None) -> Path | None:
    if index is None:
        return None
    record = index.ledger.document(document_id)
    if record is None:
        return None
    path = Path(record.source)
    return path if path.is_file() else None


@st.cache_data(show_spinner=False, max_entries=64)
def _file_bytes(path: str, mtime: float) -> bytes:
    return Path(path).read_bytes()
