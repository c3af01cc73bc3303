"""The LLM path against a real OpenAI-compatible server on loopback (scripted model)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.coaching.llm import verify_text
from assistant.pipeline import Pipeline
from assistant.settings import Settings
from tests import builders

pytestmark = [pytest.mark.llm, pytest.mark.slow]
QUESTION = "Vad är en konsekvensbedömning och när krävs den?"


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory):
    port = builders.free_port()
    log = tmp_path_factory.mktemp("llm") / "requests.jsonl"
    server = Path(__file__).parent.parent / "openai_server.py"
    proc = subprocess.Popen([sys.executable, str(server), str(port), str(log)])
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the OpenAI-compatible test server did not start")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/v1", log
    builders.stop(proc)


def pipeline_for(corpus_index, corpus_settings: Settings, base_url: str, model: str) -> Pipeline:
    settings = corpus_settings.model_copy(update={"llm_provider": "openai", "llm_base_url": base_url, "llm_model": model})
    return Pipeline.from_settings(settings, index=corpus_index)


def markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def test_llm_answer_is_grounded_in_retrieved_passages(corpus_index, corpus_settings, llm_server):
    base_url, log = llm_server
    answer = pipeline_for(corpus_index, corpus_settings, base_url, "grounded").ask(QUESTION)
    assert answer.mode == "llm"
    assert markers(answer.text) and markers(answer.text) <= {c.n for c in answer.citations}
    # Every passage the model's text cites is one the retriever returned (the bank's sources of the
    # related questions are not, which is why the check is on the cited numbers).
    assert all(answer.citation(n).chunk_id in answer.retrieved for n in markers(answer.text))
    request = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    assert request["messages"][0]["role"] == "system"
    assert QUESTION in request["messages"][-1]["content"]


def test_unsupported_sentences_from_the_model_are_dropped(corpus_index, corpus_settings, llm_server):
    answer = pipeline_for(corpus_index, corpus_settings, llm_server[0], "fabricates").ask(QUESTION)
    assert answer.mode == "llm"
    assert "[99]" not in answer.text and "saknar källa" not in answer.text
    assert markers(answer.text) <= {c.n for c in answer.citations}


def test_server_failure_falls_back_to_the_offline_answer(corpus_index, corpus_settings, llm_server):
    offline = Pipeline.from_settings(corpus_settings, index=corpus_index).ask(QUESTION)
    answer = pipeline_for(corpus_index, corpus_settings, llm_server[0], "broken").ask(QUESTION)
    assert answer.mode == "fallback"
    assert answer.text == offline.text and answer.citations == offline.citations


def test_refusals_do_not_reach_the_model(corpus_index, corpus_settings, llm_server):
    base_url, log = llm_server
    before = len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0
    answer = pipeline_for(corpus_index, corpus_settings, base_url, "grounded").ask("Vad blir det för väder i Göteborg i morgon?")
    assert answer.refused and answer.mode == "offline"
    after = len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0
    assert after == before


def test_verify_text_keeps_only_sentences_with_valid_markers():
    text = "Första påståendet stöds [1]. Det andra hittar på [7]. Det tredje saknar källa. Fjärde [1][2]."
    assert verify_text(text, {1, 2}) == "Första påståendet stöds [1]. Fjärde [1][2]."
