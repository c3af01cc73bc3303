"""Data files the assistant reads: training sets, the English glossary, ordinals and fitted parameters.

See README.md in this folder for what each file is, where it came from and how to change it.
"""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent


def path(name: str) -> Path:
    return DATA_DIR / name
