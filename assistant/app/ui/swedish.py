"""Swedish where Streamlit itself writes English: the page language, the skip link, aria labels, the uploader.

Streamlit has no locale setting. A small script (st.html with JavaScript, run in the page itself, not an iframe)
sets <html lang="sv"> and replaces Streamlit's own fixed English texts, again whenever Streamlit redraws. Only
exact, known strings in Streamlit's own elements are replaced, never text a user or the assistant wrote.
What cannot be changed this way is listed in the README ("Kända begränsningar i Streamlit").
"""

from __future__ import annotations

import json

import streamlit as st

LABELS = {  # aria-label / title attributes Streamlit sets itself
    "Chat message from assistant": "Svar från assistenten",
    "Chat message from user": "Ditt meddelande",
    "Thumbs up": "Tumme upp (bra svar)",
    "Thumbs down": "Tumme ned (dåligt svar)",
    "Link to heading": "Länk till rubriken",
    "Show password text": "Visa lösenordet",
    "Hide password text": "Dölj lösenordet",
    "Delete": "Ta bort",
    "Remove": "Ta bort",
    "Clear all": "Rensa allt",
    "Open": "Öppna",
    "Close": "Stäng",
}
TEXTS = {  # the whole text of one of Streamlit's own elements
    "Skip to main content": "Hoppa till huvudinnehållet",
    "Drag and drop files here": "Dra och släpp filer här",
    "Drag and drop a file here": "Dra och släpp en fil här",
    "Upload": "Välj filer",
    "Browse files": "Välj filer",
    "Page not found": "Sidan finns inte",
    "Clear all": "Rensa allt",
}
PATTERNS = [  # (regular expression, replacement) for texts with a number or a page name in them
    [r"^Limit (\d+(?:\.\d+)?)\s*MB per file(?: • (.*))?$", "Högst $1 MB per fil"],
    [r"^(\d+(?:\.\d+)?)\s*MB per file(?: • (.*))?$", "Högst $1 MB per fil"],
    [r"^You have requested page .* but no corresponding file was found.*$", "Sidan finns inte i appen. Du visas startsidan."],
    [r"^The page that you have requested does not seem to exist\. Running the app's main page\.$",
     "Sidan finns inte i appen. Du visas startsidan."],
]
# Where the fixed texts live: Streamlit's own elements only (test ids of Streamlit 1.67).
SCOPES = ['[data-testid="stSkipToContent"]', '[data-testid="stFileUploaderDropzone"] span',
          '[data-testid="stFileUploaderDropzone"] small', '[data-testid="stFileUploaderDropzoneInstructions"] *',
          '[data-testid="stFileUploaderDropzone"] button *', '[role="dialog"] *', '[data-testid="stToast"] *']

SCRIPT = """
<style>.stElementContainer:has(#rf-svenska), .element-container:has(#rf-svenska) { display: none; }</style>
<span id="rf-svenska" hidden></span>
<script>
(() => {
  const doc = window.document;
  if (doc.__rfSvenska) return;
  doc.__rfSvenska = true;
  const LABELS = %(labels)s, TEXTS = %(texts)s, SCOPES = %(scopes)s;
  const PATTERNS = %(patterns)s.map(([re, to]) => [new RegExp(re), to]);
  const swap = (text) => {
    const t = (text || "").trim();
    if (TEXTS[t]) return TEXTS[t];
    for (const [re, to] of PATTERNS) if (re.test(t)) return t.replace(re, to);
    return null;
  };
  const fix = () => {
    if (doc.documentElement.lang !== "sv") doc.documentElement.lang = "sv";
    for (const el of doc.querySelectorAll("[aria-label], [title]")) {
      for (const attr of ["aria-label", "title"]) {
        const v = el.getAttribute(attr);
        if (v && LABELS[v]) el.setAttribute(attr, LABELS[v]);
      }
    }
    for (const el of doc.querySelectorAll(SCOPES.join(","))) {
      for (const node of el.childNodes) {
        if (node.nodeType !== 3) continue;
        const to = swap(node.nodeValue);
        if (to !== null && to !== node.nodeValue) node.nodeValue = to;
      }
    }
  };
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; fix(); });
  }).observe(doc.body, {subtree: true, childList: true, characterData: true, attributes: true,
                        attributeFilter: ["aria-label", "title"]});
  fix();
})();
</script>
"""


def script() -> str:
    return SCRIPT % {"labels": json.dumps(LABELS, ensure_ascii=False), "texts": json.dumps(TEXTS, ensure_ascii=False),
                     "scopes": json.dumps(SCOPES), "patterns": json.dumps(PATTERNS, ensure_ascii=False)}


def apply() -> None:
    """Once per page run; the script installs itself once per browser tab."""
    st.html(script(), unsafe_allow_javascript=True)
