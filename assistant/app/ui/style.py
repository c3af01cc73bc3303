"""The app's few CSS adjustments, injected once per run (app.py calls `apply`).

Streamlit 1.67 draws captions (st.caption, image captions) at opacity 0.6 and quotes in a faded text colour,
which on white measures 2.7–3.9:1 (axe-core's color-contrast; WCAG 1.4.3 wants 4.5:1). A solid grey at full
opacity, 6.5:1 on white and 5.8:1 on the sidebar's grey, keeps them visibly secondary and readable. Keep everything visual that
the theme options in .streamlit/config.toml cannot express here, in one place.
"""

from __future__ import annotations

import streamlit as st

# 6.5:1 on #ffffff, 5.8:1 on the sidebar's #f0f2f6.
SECONDARY_TEXT = "#5a5d69"

CSS = f"""<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] *:not(a),
[data-testid="stImageCaption"], [data-testid="stWidgetLabel"] small,
[data-testid="stMarkdownContainer"] blockquote, [data-testid="stMarkdownContainer"] blockquote *:not(a) {{
  color: {SECONDARY_TEXT} !important;
  opacity: 1 !important;
}}
</style>"""


def apply() -> None:
    """Inject the app's CSS; call once per script run, before any page renders."""
    st.html(CSS)
