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
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from assistant.answer import Answer, Citation
from assistant.app.export import intro, runs, where
from assistant.ingestion.index import Index
from assistant.types import Chunk

DimensionName = Callable[[str], str]
MARKER = re.compile(r"\[(\d+)\]")
LINK_PREFIX = "rf-"  # #rf-<key>-src-<n>: a link to a source; SOURCE_LINKS (below) opens it in the dialog
READER_MAX_CHARS = 6000  # the section shown around a quote; longer sections are cut around the quoted passage
SHORT_NOTE = ("Beskrivningen är kort, så frågorna utgår mest från vad slags initiativ det är. "
              "Berätta mer om mål, ansvar och arbetssätt, så kan frågorna bli skarpare.")


# -- the answer ----------------------------------------------------------------------------------------------------
def answer(a: Answer, key: str, dimension_name: DimensionName, index: Index | None, *, review: bool = False) -> None:
    """The answer; `review` (a strateg) adds how it was made: the mode and what the verifier removed."""
    for sign in a.signs:
        st.warning(safe_markdown(sign.text, a, key, sign.citations), icon=":material/warning:")
    for paragraph in (p for p in _without_signs(intro(a), a).split("\n\n") if p.strip()):
        st.markdown(safe_markdown(paragraph, a, key))
    for dim, numbered in runs(a.questions):
        _heading(dimension_name(dim))
        for n, q in numbered:
            st.markdown(f"**{n}. {escape(q.text)}**{source_links(a, key, q.citations)}  \n"
                        f"Varför: {escape(q.why)}")
    line = gap_line(a, dimension_name)
    if line:
        st.markdown(line)
    if a.citations:
        docs = by_document(a.citations)
        with st.expander(f"Källor: {_count(len(docs), 'dokument', 'dokument')}, "
                         f"{_count(len(a.citations), 'citat', 'citat')}", expanded=False):
            for citations in docs:
                st.markdown(f"**{escape(citations[0].title)}**")
                with st.container(horizontal=True, gap="small"):
                    for c in citations:
                        loc = where(c)
                        label = f"Källa {c.n}" + (f" · {loc}" if loc else "")
                        # No tooltip: Streamlit draws it in a faint grey (3.35:1), and the label says enough.
                        if st.button(label, key=source_key(key, c.n), icon=":material/format_quote:"):
                            reader(c, index)
    if review:
        st.caption(review_line(a))
    copy_button(plain_text(a, dimension_name), key)


MODES = {"offline": "offline (utan språkmodell)", "llm": "språkmodell",
         "fallback": "reserv (språkmodellen gav inget som höll eller svarade inte i tid, så svaret är det offline)"}


def review_line(a: Answer) -> str:
    """For a strateg: how the answer was made, and how many model sentences the verifier removed."""
    line = f"Läge: {MODES.get(a.mode, a.mode)}."
    removed = int(getattr(a, "removed_sentences", 0) or 0)
    if a.mode != "offline":
        line += (" Granskningen tog inte bort några meningar." if removed == 0 else
                 f" Granskningen tog bort {_count(removed, 'mening', 'meningar')} som inte stöddes av källorna.")
    return line


# -- text that others wrote, made safe -----------------------------------------------------------------------------
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character, which Markdown lets us escape


def escape(text: str) -> str:
    """Text shown exactly as written: every Markdown and HTML character is escaped, so nothing in it becomes a
    link, an image, HTML, a heading, a list, colour or LaTeX. Colons and slashes are escaped too, so an address
    is not turned into a link automatically. Lines lose their leading spaces (no code blocks)."""
    lines = [line.strip() for line in str(text).replace("\r", "").split("\n")]
    return "  \n".join(_PUNCT.sub(r"\\\1", line) for line in lines if line)


def source_key(key: str, n: int) -> str:
    """The widget key of the source chip [n] of the answer `key`; the [n] links in the text open it."""
    return f"{key}-src-{n}"


def source_links(a: Answer, key: str, ns: Sequence[int]) -> str:
    """" [källa n]" links for the known sources ns (nothing for unknown ones); each opens that source's quote."""
    return "".join(f" {_link(a, key, n)}" for n in dict.fromkeys(ns) if a.citation(n) is not None)


def _link(a: Answer, key: str, n: int) -> str:
    return f"[\\[källa\u00a0{n}\\]](#{LINK_PREFIX}{source_key(key, n)})"  # no line break inside


def safe_markdown(text: str, a: Answer, key: str, extra: Sequence[int] = ()) -> str:
    """Text written by a model or taken from a document, as Markdown that renders it as plain text, with only our
    own links: each [n] of a source of this answer becomes a link that opens the quote; an [n] that is not a
    source of the answer stays plain text. `extra` sources are linked after the text (a warning sign's)."""
    out, at = [], 0
    raw = str(text)
    for m in MARKER.finditer(raw):
        out.append(escape_inline(raw[at:m.start()]))
        n = int(m.group(1))
        out.append(_link(a, key, n) if a.citation(n) is not None else escape_inline(m.group(0)))
        at = m.end()
    out.append(escape_inline(raw[at:]))
    body = "".join(out)
    return body + source_links(a, key, [n for n in extra if f"[{n}]" not in raw])


def plain_sentences(sentences: Iterable[str]) -> Iterator[str]:
    """A model's sentences for `st.write_stream`, escaped so each shows as plain text (st.write_stream renders
    strings as Markdown), separated by spaces."""
    for sentence in sentences:
        text = str(sentence).strip()
        if text:
            yield escape_inline(text) + " "


def escape_inline(text: str) -> str:
    """`escape` for a piece of a line: the same, but line breaks inside it are kept as hard breaks and outer
    spaces are kept (they separate it from the link beside it)."""
    parts = str(text).replace("\r", "").split("\n")
    return "  \n".join(_PUNCT.sub(r"\\\1", part if i == 0 else part.lstrip()) for i, part in enumerate(parts))


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
    """A keyboard-reachable button that copies the answer as plain text (the text goes in as escaped JSON). It
    lives in its own small frame: the clipboard call needs a document of its own to fall back on."""
    payload = json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    st.iframe(_COPY.replace("__TEXT__", payload), height=40)


# -- scroll ----------------------------------------------------------------------------------------------------------
_SCROLL = """<script>
(() => {
  let tries = 0;
  function toAnswer() {
    const avatars = document.querySelectorAll('[data-testid="stChatMessageAvatarAssistant"]');
    const last = avatars.length ? avatars[avatars.length - 1].closest('[data-testid="stChatMessage"]') : null;
    if (last) last.scrollIntoView({block: "start"});
    if (++tries < 6) setTimeout(toAnswer, 150 * tries);
  }
  toAnswer();
})();
</script>"""


_HIDE_SCROLL = ("<style>.stElementContainer:has([data-rf-scroll]), .element-container:has([data-rf-scroll]) "
                "{ display: none; }</style>")


def scroll_to_latest_answer(nonce: int = 0) -> None:
    """Scrolls the page so the top of the newest answer is in view (the page would otherwise stay at its end).
    The nonce (the number of turns) makes each request a new element, so its script runs again."""
    st.html(f'<span data-rf-scroll="{int(nonce)}" hidden></span>' + _SCROLL + _HIDE_SCROLL, unsafe_allow_javascript=True)


# -- source links --------------------------------------------------------------------------------------------------
# No "<" inside the script: Streamlit's sanitizer (DOMPurify) drops a script whose text contains one.
SOURCE_LINKS = """<style>.stElementContainer:has(#rf-source-links), .element-container:has(#rf-source-links) { display: none; }</style>
<span id="rf-source-links" hidden></span>
<script>
(() => {
  // A [källa n] link in an answer (href "#rf-ANSWER-src-N") opens that source in the dialog, as the source's
  // chip under "Källor" does: a click (or Enter on the focused link) clicks the chip's button. Installed once.
  const doc = window.document;
  if (doc.__rfSourceLinks) return;
  doc.__rfSourceLinks = true;
  const PREFIX = "#__PREFIX__";
  const chip = (href) => doc.querySelector(`.st-key-${CSS.escape(href.slice(PREFIX.length))} button`);
  doc.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest(`a[href^="${PREFIX}"]`);
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const button = chip(link.getAttribute("href"));
    if (!button) return;
    button.click();
    // Keep the focus in the dialog while it opens and draws, so Escape closes it and Tab stays in it (after a
    // mouse click Streamlit's redraw leaves the focus on the page behind the dialog).
    let tries = 0, seen = false;
    const timer = setInterval(() => {
      const dialog = doc.querySelector('[role="dialog"]');
      if (dialog && !dialog.contains(doc.activeElement)) dialog.focus();
      seen = seen || !!dialog;
      if ((seen && !dialog) || ++tries >= 30) clearInterval(timer);
    }, 100);
  }, true);
  const label = () => {  // a name that says what the link does, for screen readers and on hover
    for (const link of doc.querySelectorAll(`a[href^="${PREFIX}"]:not([data-rf-label])`)) {
      const n = (link.textContent.match(/\\d+/) || [""])[0];
      link.setAttribute("aria-label", `Källa ${n}: visa citatet i sitt sammanhang`);
      link.setAttribute("title", "Visa citatet i sitt sammanhang");
      link.removeAttribute("target");
      link.setAttribute("data-rf-label", "");
    }
  };
  new MutationObserver(label).observe(doc.body, {subtree: true, childList: true});
  label();
})();
</script>""".replace("__PREFIX__", LINK_PREFIX)


def install_source_links() -> None:
    """Once per page run: the script that lets the [källa n] links in answers open their source."""
    st.html(SOURCE_LINKS, unsafe_allow_javascript=True)


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
