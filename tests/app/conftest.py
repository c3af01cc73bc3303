"""A small real index of part of the bundled corpus, embedded once per session and copied for each module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.ingestion.index import Index
from assistant.settings import PROJECT_ROOT, Settings

DOCS = ("nyttorealisering.md", "sju-fragor-for-nyttorealisering.md", "bestallarkompetens-och-upphandling.md",
        "juridik-och-sakerhet.md", "ledningsgruppens-roll.md", "forandringsledning.md")


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # noqa: ANN001
    data = tmp_path_factory.mktemp("small-index")
    index = Index(Settings(data_dir=data), embedder=embedder)
    report = index.ingest([PROJECT_ROOT / "corpus" / name for name in DOCS])
    assert not report.failed, report.failed
    index.close()
    return data


def copy_of(small_index: Path, target: Path) -> Path:
    """A module's own writable copy (feedback, accounts and conversations land in it)."""
    shutil.copytree(small_index, target / "data")
    return target / "data"
