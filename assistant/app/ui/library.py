"""Bibliotek (strateg only): upload documents, see and edit what the index holds, remove, re-index."""

from __future__ import annotations

import logging

import streamlit as st

from assistant.app import library
from assistant.errors import AssistantError
from assistant.ingestion.loaders import SUPPORTED_SUFFIXES, SUPPORTED_TEXT
from assistant.settings import Settings
from assistant.app.ui import resources
from assistant.app.ui.signin import require_strateg

log = logging.getLogger(__name__)
NOTICE = "library-notice"  # (kind, text) shown at the top of the page after a rerun, until the next action
PENDING = "library-replace"  # {file name: bytes} of changed files waiting for "Ersätt" or "Behåll"
UPLOAD_TYPES = sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
COLUMNS = ("Titel", "Fil", "Utgivare", "Datum", "Avsnitt", "Inläst", "Av")
# Pixel widths that together (856 px) fit the main area of a 1366 px window with the sidebar open (about 900 px),
# so no column hides behind horizontal scrolling; a wider area stretches them. Long titles and names are cut
# with an ellipsis in the cell and shown whole in the form below the table.
WIDTHS = {"Titel": 230, "Fil": 130, "Utgivare": 130, "Datum": 88, "Avsnitt": 68, "Inläst": 120, "Av": 90}


def page() -> None:
    user = require_strateg()
    settings = Settings()
    st.set_page_config(layout="wide")  # the documents table fits without horizontal scrolling
    st.title("Bibliotek", anchor=False)
    st.caption("Vägledningen som assistenten svarar utifrån. Nya dokument kan användas i svaren direkt efter inläsning.")
    index = resources.prepared_index(settings)
    _notice()
    _upload(index, settings, user.name)
    _confirm_replacements(index, settings, user.name)
    st.divider()
    _documents(index, settings)


def _notice() -> None:
    """The outcome of the last action (saved, removed, replaced), kept across the rerun that follows it."""
    notice = st.session_state.get(NOTICE)
    if notice:
        kind, text = notice
        (st.success if kind == "success" else st.info)(text)


def _tell(kind: str, text: str) -> None:
    st.session_state[NOTICE] = (kind, text)


def progress_text(done: int, ok: int, duplicates: int, total: int) -> str:
    """'3 inlästa, 1 fanns redan, 1 inte inläst av 5': successes and failures counted separately."""
    failed = done - ok - duplicates
    parts = [f"{ok} {'inläst' if ok == 1 else 'inlästa'}"]
    if duplicates:
        parts.append(f"{duplicates} fanns redan")
    parts.append(f"{failed} inte {'inläst' if failed == 1 else 'inlästa'}")
    return ", ".join(parts) + f" av {total}"


def _upload(index, settings: Settings, by: str) -> None:  # noqa: ANN001
    st.header("Lägg till dokument", anchor=False)
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(f"Välj en eller flera filer ({SUPPORTED_TEXT}, högst {settings.max_file_mb:g} MB per fil)",
                                 type=UPLOAD_TYPES, accept_multiple_files=True)
        st.caption(f"Dra filerna hit eller välj dem med knappen. Tillåtna filtyper: {SUPPORTED_TEXT}. "
                   f"Högst {settings.max_file_mb:g} MB per fil.")
        submitted = st.form_submit_button("Läs in", type="primary")
    if not (submitted and files):
        return
    st.session_state.pop(NOTICE, None)
    progress = st.progress(0.0, text="Läser in …")
    ok = duplicates = 0
    for k, f in enumerate(files, start=1):
        result = _ingest_one(index, settings, by, f.name, f.getvalue())
        if result.needs_confirmation:
            st.session_state.setdefault(PENDING, {})[f.name] = f.getvalue()
        ok += result.ok and not result.duplicate
        duplicates += result.duplicate
        progress.progress(k / len(files), text=progress_text(k, ok, duplicates, len(files)))


def _ingest_one(index, settings: Settings, by: str, name: str, data: bytes, replace: bool = False):  # noqa: ANN001, ANN202
    """One file with its own status line: read in, already there, waiting for a confirmation, or why not."""
    with st.status(f"{_shown(name)}: läses in …", expanded=False) as status:
        try:
            result = library.ingest_upload(index, name, data, settings, by, replace=replace)
        except Exception:  # noqa: BLE001 - one file must not stop the others of the upload
            log.exception("upload of one file failed")
            result = library.UploadResult(_shown(name), False, "Filen kunde inte läsas in på grund av ett "
                                          "oväntat fel. Detaljer finns i loggen.")
        if result.ok:
            status.update(label=f"{result.name}: {result.message}", state="complete")
        elif result.needs_confirmation:
            status.update(label=f"{result.name}: väntar på bekräftelse – se nedan", state="complete")
        else:
            st.write(result.message)
            status.update(label=f"{result.name}: inte inläst – {result.message}", state="error", expanded=True)
    return result


def _confirm_replacements(index, settings: Settings, by: str) -> None:  # noqa: ANN001
    """A changed file with the name of an earlier upload: replace it only when the strateg says so. The question
    stays until it is answered, across reruns."""
    pending: dict[str, bytes] = st.session_state.get(PENDING, {})
    for name, data in list(pending.items()):
        earlier = library.earlier_upload(index, settings, name)
        with st.container(border=True):
            where = f" (”{earlier.title}”, inläst {earlier.ingested_at.replace('T', ' ')[:16]})" if earlier else ""
            st.warning(f"Det finns redan en uppladdad fil som heter {_shown(name)}{where}. Den nya filen har ett "
                       "annat innehåll. Ska den nya versionen ersätta den gamla?")
            left, right = st.columns(2)
            if left.button("Ersätt med den nya versionen", key=f"replace-yes-{name}", type="primary"):
                del pending[name]
                result = library.ingest_upload(index, name, data, settings, by, replace=True)
                _tell("success" if result.ok else "info", f"{result.name}: " + (
                    "ersatt med den nya versionen." if result.ok else f"inte ersatt – {result.message}"))
                st.rerun()
            if right.button("Behåll den gamla", key=f"replace-no-{name}"):
                del pending[name]
                _tell("info", f"{_shown(name)}: den gamla versionen är kvar, den nya lästes inte in.")
                st.rerun()


def _shown(name: str) -> str:
    from assistant.ingestion.loaders import clean_label

    return clean_label(str(name))[:120] or "(namnlös fil)"


def _documents(index, settings: Settings) -> None:  # noqa: ANN001
    records = index.documents()
    st.header(f"Dokument i indexet ({len(records)})", anchor=False)
    if not records:
        st.info("Indexet är tomt. Läs in dokument ovan eller bygg om indexet.")
    else:
        st.dataframe(library.document_rows(records, settings), hide_index=True, width="stretch", column_order=COLUMNS,
                     column_config={name: _column(name) for name in COLUMNS})
        by_id = {r.document_id: r for r in records}
        chosen = st.selectbox("Ändra eller ta bort ett dokument", list(by_id), index=None,
                              format_func=lambda d: by_id[d].title, placeholder="Välj dokument")
        if chosen:
            _edit(index, settings, by_id[chosen])
        _held_back(index, by_id)
    st.divider()
    st.header("Bygg om indexet", anchor=False)
    st.caption("Läser in de medföljande dokumenten och alla uppladdade filer på nytt. Bara ändrade filer bearbetas.")
    if st.button("Bygg om indexet"):
        with st.spinner("Läser in på nytt …"):
            report = library.reindex(index, settings)
        s = report.summary()
        st.success(f"Klart: {s['added']} tillagda, {s['updated']} uppdaterade, {s['unchanged']} oförändrade, "
                   f"{s['removed']} borttagna.")
        for failed in report.failed:
            st.error(f"{failed['path']}: {failed['reason']}")


def _column(name: str):  # noqa: ANN202 - a Streamlit column config
    if name == "Avsnitt":
        return st.column_config.NumberColumn("Avsnitt", width=WIDTHS[name], help="Antal avsnitt (delar) i indexet")
    if name == "Av":
        return st.column_config.TextColumn("Av", width=WIDTHS[name], help="Inläst av")
    return st.column_config.TextColumn(name, width=WIDTHS[name])


def _held_back(index, by_id: dict) -> None:  # noqa: ANN001
    """Passages that speak to the assistant instead of about the work: listed with the reason, never used in answers."""
    held = index.held_back()
    if not held:
        return
    st.header(f"Avsnitt som hålls utanför svaren ({len(held)})", anchor=False)
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
                _tell("success", f"Uppgifterna för ”{title.strip() or record.title}” är sparade.")
                st.rerun()
    uploaded = library.is_upload(record, settings)
    note = "Filen raderas också." if uploaded else "Det är ett medföljande dokument: det kommer tillbaka när indexet byggs om."
    confirm = st.checkbox(f"Ja, ta bort ”{record.title}” ur indexet. {note}", key=f"confirm-{record.document_id}")
    if st.button("Ta bort dokumentet", disabled=not confirm, key=f"remove-{record.document_id}"):
        removed = library.remove_document(index, settings, record.document_id)
        _tell("success" if removed else "info",
              f"”{record.title}” är borttaget ur indexet." + (" Filen är raderad." if removed and uploaded else "")
              if removed else f"”{record.title}” fanns inte längre i indexet.")
        st.rerun()
