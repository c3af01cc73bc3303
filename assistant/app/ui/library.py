"""Bibliotek (strateg only): upload documents, see and edit what the index holds, remove, re-index."""

from __future__ import annotations

import logging

import streamlit as st

from assistant.app import library
from assistant.errors import AssistantError
from assistant.ingestion.loaders import SUPPORTED_TEXT
from assistant.settings import Settings
from assistant.app.ui import resources
from assistant.app.ui.signin import require_strateg

log = logging.getLogger(__name__)


def page() -> None:
    user = require_strateg()
    settings = Settings()
    st.title("Bibliotek")
    st.caption("Vägledningen som assistenten svarar utifrån. Nya dokument kan användas i svaren direkt efter inläsning.")
    index = resources.prepared_index(settings)
    _upload(index, settings, user.name)
    st.divider()
    _documents(index, settings)


def _upload(index, settings: Settings, by: str) -> None:  # noqa: ANN001
    st.subheader("Lägg till dokument")
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(f"Välj en eller flera filer ({SUPPORTED_TEXT}, högst {settings.max_file_mb:g} MB)",
                                 accept_multiple_files=True)
        submitted = st.form_submit_button("Läs in", type="primary")
    if not (submitted and files):
        return
    progress = st.progress(0.0, text="Läser in …")
    for k, f in enumerate(files, start=1):
        with st.status(f"{_shown(f.name)}: läses in …", expanded=False) as status:
            try:
                result = library.ingest_upload(index, f.name, f.getvalue(), settings, by)
            except Exception:  # noqa: BLE001 - one file must not stop the others of the upload
                log.exception("upload of one file failed")
                result = library.UploadResult(_shown(f.name), False, "Filen kunde inte läsas in på grund av ett "
                                              "oväntat fel. Detaljer finns i loggen.")
            if result.ok:
                status.update(label=f"{result.name}: {result.message}", state="complete")
            else:
                st.write(result.message)
                status.update(label=f"{result.name}: inte inläst – {result.message}", state="error", expanded=True)
        progress.progress(k / len(files), text=f"{k} av {len(files)} filer klara")


def _shown(name: str) -> str:
    from assistant.ingestion.loaders import clean_label

    return clean_label(str(name))[:120] or "(namnlös fil)"


def _documents(index, settings: Settings) -> None:  # noqa: ANN001
    records = index.documents()
    st.subheader(f"Dokument i indexet ({len(records)})")
    if not records:
        st.info("Indexet är tomt. Läs in dokument ovan eller bygg om indexet.")
    else:
        st.dataframe(library.document_rows(records, settings), hide_index=True, width="stretch")
        by_id = {r.document_id: r for r in records}
        chosen = st.selectbox("Ändra eller ta bort ett dokument", list(by_id), index=None,
                              format_func=lambda d: by_id[d].title, placeholder="Välj dokument")
        if chosen:
            _edit(index, settings, by_id[chosen])
        _held_back(index, by_id)
    st.divider()
    st.subheader("Bygg om indexet")
    st.caption("Läser in de medföljande dokumenten och alla uppladdade filer på nytt. Bara ändrade filer bearbetas.")
    if st.button("Bygg om indexet"):
        with st.spinner("Läser in på nytt …"):
            report = library.reindex(index, settings)
        s = report.summary()
        st.success(f"Klart: {s['added']} tillagda, {s['updated']} uppdaterade, {s['unchanged']} oförändrade, "
                   f"{s['removed']} borttagna.")
        for failed in report.failed:
            st.error(f"{failed['path']}: {failed['reason']}")


def _held_back(index, by_id: dict) -> None:  # noqa: ANN001
    """Passages that speak to the assistant instead of about the work: listed with the reason, never used in answers."""
    held = index.held_back()
    if not held:
        return
    st.subheader(f"Avsnitt som hålls utanför svaren ({len(held)})")
    st.caption("De här avsnitten innehåller meningar som ser ut att ge assistenten instruktioner, till exempel "
               "”ignorera tidigare instruktioner” eller ”assistenten ska svara att …”. De används aldrig i svar "
               "eller skickas till en språkmodell. Är avsnittet ofarligt kan du skriva om meningen i källfilen och "
               "läsa in den igen.")
    for chunk in held:
        record = by_id.get(chunk.document_id)
        where = " – ".join(p for p in (record.title if record else chunk.document_id, chunk.section,
                                       f"s. {chunk.page}" if chunk.page else None) if p)
        with st.expander(where):
            st.markdown(f"**Skäl:** {chunk.held_back}")
            st.text(chunk.text[:1500])


def _edit(index, settings: Settings, record) -> None:  # noqa: ANN001
    with st.form(f"edit-{record.document_id}"):
        title = st.text_input("Titel", record.title)
        publisher = st.text_input("Utgivare", str(record.metadata.get("utgivare", "")))
        published = st.text_input("Datum", str(record.metadata.get("datum", "")), placeholder="ÅÅÅÅ-MM-DD")
        if st.form_submit_button("Spara uppgifterna"):
            try:
                library.edit_metadata(index, record.document_id, title, publisher, published)
            except AssistantError as exc:
                st.error(str(exc))
            else:
                st.success("Uppgifterna är sparade.")
                st.rerun()
    uploaded = library.is_upload(record, settings)
    note = "Filen raderas också." if uploaded else "Det är ett medföljande dokument: det kommer tillbaka när indexet byggs om."
    confirm = st.checkbox(f"Ja, ta bort ”{record.title}” ur indexet. {note}", key=f"confirm-{record.document_id}")
    if st.button("Ta bort dokumentet", disabled=not confirm, key=f"remove-{record.document_id}"):
        library.remove_document(index, settings, record.document_id)
        st.success(f"”{record.title}” är borttaget.")
        st.rerun()
