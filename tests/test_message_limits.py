"""Chat messages: a length limit with a Swedish request to shorten, and messages that are not clean text."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assistant.errors import MessageTooLongError
from assistant.ingestion.index import Index
from assistant.pipeline import Pipeline
from assistant.settings import PROJECT_ROOT, Settings
from assistant.text import clean_message


def test_too_long_message_gets_a_friendly_swedish_request(make_settings, embedder) -> None:  # noqa: ANN001
    settings = make_settings(max_message_chars=500)
    pipeline = Pipeline(settings, Index(settings, embedder=embedder))
    with pytest.raises(MessageTooLongError) as err:
        pipeline.ask("x" * 100_000)
    message = str(err.value)
    assert "100000 tecken" in message and "högst 500 tecken" in message and "korta" in message
    assert pipeline._coaching is None  # refused before any reading or retrieval was built


def test_clean_message_replaces_lone_surrogates_and_drops_controls() -> None:
    assert clean_message("nytta \udcff\udcfe och \x1b[31mröd\x07") == "nytta \ufffd\ufffd och [31mröd"
    assert clean_message("rad ett\nrad\ttvå") == "rad ett\nrad\ttvå"
    assert clean_message("x" * 100_000) == "x" * 100_000


@pytest.mark.slow
def test_ask_with_undecodable_bytes_in_the_message_answers(corpus_index: Index, corpus_settings: Settings) -> None:
    env = {**os.environ, "ASSISTANT_DATA_DIR": os.fsencode(str(corpus_settings.data_dir)).decode()}
    argv = [os.fsencode(sys.executable), b"-m", b"assistant", b"ask", b"Beh\xc3\xb6ver vi utse en nytto\xc3\xa4gare \xff\xfe?"]
    done = subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=300)
    stderr = done.stderr.decode("utf-8", errors="replace")
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr and "oväntat fel" not in stderr
    assert "nyttoägare" in done.stdout.decode("utf-8").lower()
