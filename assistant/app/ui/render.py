"""How an Answer looks: warning signs on top, questions numbered 1–N, the gap line, the sources as chips grouped by
document that open the quote in its section, and a copy button.

The question numbers are the positions in `Answer.questions` (1-based), the same numbers a follow-up "fråga N"
resolves to (`Composer.followup` takes `previous.questions[n - 1]`). Dimension headings group consecutive
questions only, so the numbers always run 1, 2, 3 … down the page.

Nothing a model or a document wrote is rendered as HTML without escaping.
"""

from __future__ import annotations

import html
import json
import mimetypes
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from assistant.answer import Answer, Citation, CoachingQuestion
from assistant.app.export import intro, where
from assistant.ingestion.index import Index
from assistant.types import Chunk

DimensionName = Callable[[str], str]
MARKER = re.compile(r"\[(\d+)\]")
READER_MAX_CHARS = 6000  # the section shown around a quote; longer sections are cut around the quoted passage
SHORT_NOTE = ("Beskrivningen är kort, så frågorna utgår mest från vad slags initiativ det är. "
              "Berätta mer om mål, ansvar och arbetssätt, så kan frågorna bli skarpare.")


# -- the answer ----------------------------------------------------------------------------------------------------
def answer(a: Answer, key: str, dimension_name: DimensionName, index: Index | None) -> None:
    for j, sign in enumerate(a.signs):
        st.warning(sign.text, icon=":material/warning:")
        _source_buttons(a, sign.citations, f"{key}-s{j}", index)
    for j, paragraph in enumerate(p for p in _without_signs(intro(a), a).split("\n\n") if p.strip()):
        st.markdown(_badges(paragraph, a))
        _source_buttons(a, _markers_in(paragraph, a), f"{key}-i{j}", index)
    for dim, numbered in runs(a.questions):
        _heading(dimension_name(dim))
        for n, q in numbered:
            st.markdown(f"**{n}. {q.text}**  \nVarför: {q.why}")
            _source_buttons(a, q.citations, f"{key}-q{n}", index)
    line = gap_line(a, dimension_name)
    if line:
        st.markdown(line)
    if a.citations:
        docs = by_document(a.citations)
        with st.expander(f"Källor: {_count(len(docs), 'dokument', 'dokument')}, "
                         f"{_count(len(a.citations), 'citat', 'citat')}", expanded=False):
            for citations in docs:
                st.markdown(f"**{citations[0].title}**")
                with st.container(horizontal=True, gap="small"):
                    for c in citations:
                        loc = where(c)
                        label = f"Källa {c.n}" + (f" · {loc}" if loc else "")
                        if st.button(label, key=f"{key}-src-{c.n}", icon=":material/format_quote:",
                                     help="Visa citatet i sitt sammanhang"):
                            reader(c, index)
    copy_button(plain_text(a, dimension_name), key)


def runs(questions: Sequence[CoachingQuestion]) -> list[tuple[str, list[tuple[int, CoachingQuestion]]]]:
    """Consecutive questions of the same dimension, each with its number (its 1-based position in the answer)."""
    out: list[tuple[str, list[tuple[int, CoachingQuestion]]]] = []
    for n, q in enumerate(questions, start=1):
        if not out or out[-1][0] != q.dimension:
            out.append((q.dimension, []))
        out[-1][1].append((n, q))
    return out


def by_document(citations: Sequence[Citation]) -> list[list[Citation]]:
    """The citations grouped by document, in the order the documents are first cited."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.document_id, []).append(c)
    return list(groups.values())


def gap_line(a: Answer, dimension_name: DimensionName) -> str:
    """What the description covers and what it does not say yet; a short description gets a note instead of a
    list of everything."""
    if not a.questions:
        return ""
    gaps = a.gaps
    if gaps.short:
        return SHORT_NOTE
    parts = []
    if gaps.addressed:
        parts.append(f"**Beskrivningen tar upp:** {_join([dimension_name(d) for d in gaps.addressed])}.")
    if gaps.missing:
        lead = "**Den säger ännu inget om:**" if gaps.addressed else "**Beskrivningen säger ännu inget om:**"
        parts.append(f"{lead} {_join([dimension_name(d) for d in gaps.missing])}.")
    return " ".join(parts)


def plain_text(a: Answer, dimension_name: DimensionName) -> str:
    """The answer as plain text to copy: the same numbers and [n] markers as on the screen, with the sources."""
    lines: list[str] = []
    text = intro(a)
    if text:
        lines += [text, ""]
    for dim, numbered in runs(a.questions):
        lines += [dimension_name(dim)]
        for n, q in numbered:
            lines += [f"{n}. {q.text}" + "".join(f" [{m}]" for m in q.citations), f"   Varför: {q.why}"]
        lines.append("")
    line = gap_line(a, dimension_name).replace("**", "")
    if line:
        lines += [line, ""]
    if a.citations:
        lines.append("Källor")
        for c in a.citations:
            loc = where(c)
            lines.append(f"[{c.n}] {c.title}" + (f", {loc}" if loc else "") + f": ”{c.quote}”")
    return "\n".join(lines).strip() + "\n"


def _heading(name: str) -> None:
    """A dimension heading one level under the page title (h2), sized for a chat message, without an anchor link."""
    st.html(f'<h2 class="rf-dimension" style="font-size:1.05rem;font-weight:600;margin:0.6rem 0 0;padding:0;'
            f'line-height:1.4">{html.escape(name)}</h2>')


def _without_signs(text: str, a: Answer) -> str:
    """The intro without the warning sign paragraphs, which are shown on top on their own."""
    if not a.signs:
        return text
    starts = tuple(s.text.strip() for s in a.signs if s.text.strip())
    return "\n\n".join(p for p in text.split("\n\n") if not p.strip().startswith(starts))


def _badges(text: str, a: Answer) -> str:
    """[n] markers of known sources as small "källa n" badges, so they do not read as question numbers."""
    known = {c.n for c in a.citations}
    return MARKER.sub(lambda m: f":blue-badge[källa {m.group(1)}]" if int(m.group(1)) in known else m.group(0), text)


def _markers_in(text: str, a: Answer) -> list[int]:
    known = {c.n for c in a.citations}
    return list(dict.fromkeys(n for n in map(int, MARKER.findall(text)) if n in known))


def _source_buttons(a: Answer, ns: Sequence[int], key: str, index: Index | None) -> None:
    """One small button per cited source; it opens the quote in its section."""
    cited = [c for n in dict.fromkeys(ns) if (c := a.citation(n)) is not None]
    if not cited:
        return
    with st.container(horizontal=True, gap="small"):
        for c in cited:
            if st.button(f"Källa {c.n}", key=f"{key}-{c.n}", type="tertiary", icon=":material/format_quote:",
                         help=f"Visa citatet ur {c.title}"):
                reader(c, index)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]


# -- copy ----------------------------------------------------------------------------------------------------------
_COPY = """<button id="copy" type="button" aria-label="Kopiera svaret som text" aria-describedby="done"
 style="font-family:'Source Sans Pro',sans-serif;font-size:14px;color:#1f4f73;background:#fff;
 border:1px solid #8a99a8;border-radius:6px;padding:4px 10px;cursor:pointer"><span aria-hidden="true">&#128203;</span> Kopiera svaret</button>
<span id="done" role="status" aria-live="polite"
 style="font-family:'Source Sans Pro',sans-serif;font-size:14px;color:#1d5a2c;margin-left:8px"></span>
<style>#copy:focus-visible{outline:3px solid #1f4f73;outline-offset:2px}</style>
<script>
const text = __TEXT__;
const done = document.getElementById("done");
function fallback() {
  const area = document.createElement("textarea");
  area.value = text; document.body.appendChild(area); area.select();
  const ok = document.execCommand("copy"); area.remove(); return ok;
}
document.getElementById("copy").addEventListener("click", async () => {
  let ok = false;
  // A clipboard call can hang without a user gesture the browser accepts: give it 1.5 s, then the fallback.
  const late = new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 1500));
  try { await Promise.race([navigator.clipboard.writeText(text), late]); ok = true; } catch (e) { ok = fallback(); }
  done.textContent = ok ? "Svaret är kopierat." : "Det gick inte att kopiera – markera texten och kopiera själv.";
});
</script>"""


def copy_button(text: str, key: str) -> None:  # noqa: ARG001 - key kept for a stable call site
    """A keyboard-reachable button that copies the answer as plain text (the text goes in as escaped JSON)."""
    import streamlit.components.v1 as components

    payload = json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    components.html(_COPY.replace("__TEXT__", payload), height=40)


# -- scroll ----------------------------------------------------------------------------------------------------------
_SCROLL = """<script>
const doc = window.parent.document;
let tries = 0;
function toAnswer() {
  const avatars = doc.querySelectorAll('[data-testid="stChatMessageAvatarAssistant"]');
  const last = avatars.length ? avatars[avatars.length - 1].closest('[data-testid="stChatMessage"]') : null;
  if (last) last.scrollIntoView({block: "start"});
  if (++tries < 6) setTimeout(toAnswer, 150 * tries);
}
toAnswer();
</script>"""


def scroll_to_latest_answer() -> None:
    """Scrolls the page so the top of the newest answer is in view (the page would otherwise stay at its end)."""
    import streamlit.components.v1 as components

    components.html(_SCROLL, height=0)


# -- the source reader -----------------------------------------------------------------------------------------------
@st.dialog("Källan i sitt sammanhang", width="large")
def reader(c: Citation, index: Index | None) -> None:
    show_source(c, index)


def show_source(c: Citation, index: Index | None) -> None:
    """The cited section with the quote marked, the document's title, utgivare, datum and sources, and the file."""
    record = index.ledger.document(c.document_id) if index is not None else None
    meta: dict[str, Any] = dict(record.metadata) if record is not None else {}
    st.markdown(f"**[{c.n}] {record.title if record is not None else c.title}**")
    facts = [f"Utgivare: {meta['utgivare']}" if meta.get("utgivare") else "",
             f"Datum: {meta['datum']}" if meta.get("datum") else "",
             _capital(where(c))]
    facts = [f for f in facts if f]
    if facts:
        st.markdown("  \n".join(facts))
    chunks = index.chunks_of(c.document_id) if index is not None else []
    st.html(section_html(c, chunks))
    sources = source_lines(meta.get("källor"))
    if sources:
        st.markdown("**Dokumentets egna källor**  \n" + "\n".join(f"- {s}" for s in sources))
    path = _source_path(record)
    if path is not None:
        _file_actions(c, path)


def section_html(c: Citation, chunks: Sequence[Chunk]) -> str:
    """The section the quote stands in, escaped, with the quote in <mark>; the quote alone when the section is gone."""
    passages = context(c, chunks)
    quote = html.escape(c.quote)
    style = "line-height:1.55;color:#1f2430"
    if not passages:
        return f'<div style="{style}"><p><mark>{quote}</mark></p></div>'
    paragraphs, marked = [], False
    for text in passages:
        escaped = html.escape(text)
        if not marked and quote and quote in escaped:
            escaped = escaped.replace(quote, f"<mark>{quote}</mark>", 1)
            marked = True
        paragraphs.append(f"<p>{escaped}</p>")
    if not marked:
        paragraphs.insert(0, f"<p><strong>Citatet:</strong> <mark>{quote}</mark></p>")
    heading = f"<p><strong>{html.escape(c.section)}</strong></p>" if c.section else ""
    return f'<div style="{style}">{heading}{"".join(paragraphs)}</div>'


def context(c: Citation, chunks: Sequence[Chunk], limit: int = READER_MAX_CHARS) -> list[str]:
    """The texts of the chunks in the quote's section (same heading; same page for a PDF without headings), in
    document order, cut to about `limit` characters around the quoted chunk."""
    if not chunks:
        return []
    ordered = sorted(chunks, key=lambda ch: ch.ordinal)
    at = next((i for i, ch in enumerate(ordered) if c.chunk_id and ch.id == c.chunk_id), None)
    if at is None:
        at = next((i for i, ch in enumerate(ordered) if c.quote and c.quote in ch.text), None)
    if at is None:
        return []
    anchor = ordered[at]
    if anchor.section:
        same = [i for i, ch in enumerate(ordered) if ch.section == anchor.section]
    elif anchor.page is not None:
        same = [i for i, ch in enumerate(ordered) if ch.page == anchor.page and not ch.section]
    else:
        same = [i for i in range(len(ordered)) if abs(i - at) <= 2]
    lo = hi = same.index(at)
    size = len(ordered[at].text)
    while True:  # grow around the quoted chunk, alternating sides, until the section or the limit ends
        grew = False
        if hi + 1 < len(same) and size + len(ordered[same[hi + 1]].text) <= limit:
            hi += 1
            size += len(ordered[same[hi]].text)
            grew = True
        if lo > 0 and size + len(ordered[same[lo - 1]].text) <= limit:
            lo -= 1
            size += len(ordered[same[lo]].text)
            grew = True
        if not grew:
            break
    return [ordered[i].text for i in same[lo:hi + 1]]


def source_lines(value: object) -> list[str]:
    """The document's own sources from its front matter (`källor`): "Utgivare: Titel (år)" or what it is about."""
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        if isinstance(item, dict):
            who = str(item.get("utgivare", "")).strip()
            what = str(item.get("titel") or item.get("avser") or "").strip()
            year = str(item.get("år", "")).strip()
            line = ": ".join(x for x in (who, what) if x) + (f" ({year})" if year else "")
        else:
            line = str(item).strip()
        if line:
            out.append(line)
    return out


def _file_actions(c: Citation, path: Path) -> None:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    kind = path.suffix.lstrip(".").upper() or "fil"
    if c.page and mime == "application/pdf":
        url = _pdf_url(path, c)
        if url:
            st.markdown(f"[Öppna PDF:en på sidan {int(c.page)}]({url}#page={int(c.page)}) (öppnas i en ny flik)")
        else:
            st.markdown(f"Citatet står på sidan {int(c.page)} i PDF:en.")
    st.download_button(f"Ladda ned originalet ({kind})", lambda: path.read_bytes(), file_name=path.name, mime=mime,
                       key=f"dl-{c.document_id}-{c.n}", icon=":material/download:", type="tertiary")


def _pdf_url(path: Path, c: Citation) -> str | None:
    """The PDF served by Streamlit's media endpoint (inline, not embedded in the page), only while the reader is
    open; None outside a running server (AppTest)."""
    try:
        from streamlit import config, runtime

        if not runtime.exists():
            return None
        url = runtime.get_instance().media_file_mgr.add(path.read_bytes(), "application/pdf",
                                                         f"source-reader-{c.document_id}-{c.n}")
    except Exception:  # noqa: BLE001 - the download button still serves the file
        return None
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}{url}" if base and url.startswith("/") else url


def _source_path(record: Any) -> Path | None:  # noqa: ANN401 - a DocumentRecord or None
    if record is None:
        return None
    path = Path(record.source)
    return path if path.is_file() else None
