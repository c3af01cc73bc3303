"""Streamlit pages. Each renders what the `assistant` package returns; app.py wires them together."""
