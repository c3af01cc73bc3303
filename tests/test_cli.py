"""`python -m assistant ask` end to end, against a real index of the bundled corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.ingestion.index import Index
from assistant.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.slow


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "assistant", "ask", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_ask_prints_questions_and_sources_and_json_last(corpus_index: Index, corpus_settings: Settings) -> None:
    result = run(corpus_settings, "Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    data = json.loads(lines[-1])
    assert list(data) == ["text", "mode", "refused", "questions", "citations", "gaps", "signs", "coverage"]
    assert set(data["questions"][0]) == {"id", "dimension", "text", "why", "citations"}
    assert set(data["citations"][0]) == {"n", "document_id", "title", "page", "section", "quote"}
    assert set(data["gaps"]) == {"addressed", "missing", "short"}
    assert data["coverage"] == "covered"
    assert data["mode"] == "offline" and not data["refused"]
    printed = "\n".join(lines[:-1])
    assert "Här är sex frågor" in printed and "Källor:" in printed
    assert data["questions"][0]["text"] in printed


def test_history_file_continues_the_conversation(corpus_index: Index, corpus_settings: Settings, tmp_path: Path) -> None:
    history = tmp_path / "samtal.json"
    first = run(corpus_settings, "Regionen ska införa digital tidsbokning i en app för primärvårdens patienter", "--history", str(history), "--json")
    assert first.returncode == 0, first.stderr
    second = run(corpus_settings, "Berätta mer om fråga 1", "--history", str(history), "--json")
    assert second.returncode == 0, second.stderr
    before = json.loads(first.stdout.strip().splitlines()[-1])
    after = json.loads(second.stdout.strip().splitlines()[-1])
    assert before["questions"][0]["text"] in after["text"]
    saved = json.loads(history.read_text(encoding="utf-8"))
    assert [t["message"] for t in saved] == ["Regionen ska införa digital tidsbokning i en app för primärvårdens patienter", "Berätta mer om fråga 1"]
    assert saved[1]["answer"]["kind"] == "followup"


def test_broken_history_is_reported_in_swedish(corpus_index: Index, corpus_settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "trasig.json"
    broken.write_text("{inte json", encoding="utf-8")
    result = run(corpus_settings, "Vad är en nyttoägare?", "--history", str(broken))
    assert result.returncode == 2
    assert "Samtalsfilen" in result.stderr


def test_empty_index_says_how_to_fix(tmp_path: Path) -> None:
    result = run(Settings(data_dir=tmp_path / "tom"), "Vad är en nyttoägare?")
    assert result.returncode == 2
    assert "make index" in result.stderr
