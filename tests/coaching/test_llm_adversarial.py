"""The adversarial suite: a real OpenAI-compatible server on loopback scripted with hostile outputs.

Every behaviour in `tests/openai_server.BEHAVIOURS` must end in a verified answer (mode "llm") or the
offline answer (mode "fallback"), and never show the chef the hostile part. The assertions are
independent of the assistant's own support check: the behaviour's hostile strings must be absent from
the answer text, the questions' whys and the streamed sentences; no model-written sentence may hold a
URL, a link, an image or HTML; every number in a model-written sentence must occur in a passage it cites.
"""

from __future__ import annotations

import re

import pytest

from assistant.coaching.llm import chat_model_from_settings
from assistant.pipeline import Pipeline
from tests import builders
from tests.openai_server import BEHAVIOURS, serve

pytestmark = [pytest.mark.llm, pytest.mark.slow]
QUESTION = "Vad är en konsekvensbedömning och när krävs den?"
INITIATIVE = "Vi ska upphandla ett nytt verksamhetssystem för hemtjänsten och IT leder projektet"
TIMEOUT = 2.0  # seconds; the scripted slow behaviours sleep longer
ACTIVE_RE = re.compile(r"https?://|www\.|\]\(|!\[|<[a-zA-Z/!]|&lt;|&#|javascript:|data:|`|[\u200b-\u200f\u202a-\u202e]",
                       re.IGNORECASE)
NUMBER_RE = re.compile(r"\d+(?:[:/]\d+)?")
OUTCOMES: dict[str, str] = {}


@pytest.fixture(scope="module")
def setup(corpus_index, corpus_settings, request):
    base_url, proc = serve()
    settings = corpus_settings.model_copy(update={"llm_provider": "openai", "llm_base_url": base_url,
                                                  "llm_model": "grounded", "llm_timeout": TIMEOUT})
    pipeline = Pipeline.from_settings(settings, index=corpus_index)
    offline = Pipeline.from_settings(corpus_settings, index=corpus_index)
    expected = {QUESTION: offline.ask(QUESTION), INITIATIVE: offline.ask(INITIATIVE)}
    assert expected[INITIATIVE].kind == "initiative" and expected[INITIATIVE].coverage == "covered"
    yield pipeline, settings, expected
    builders.stop(proc)


def test_the_suite_is_large_enough():
    assert len(BEHAVIOURS) >= 30
    assert {b.path for b in BEHAVIOURS.values()} == {"text", "json"}


@pytest.mark.parametrize("name", sorted(BEHAVIOURS))
def test_hostile_output_ends_verified_or_offline(name, setup):
    pipeline, settings, expected = setup
    behaviour = BEHAVIOURS[name]
    pipeline.composer.model = chat_model_from_settings(settings.model_copy(update={"llm_model": name}))
    message = QUESTION if behaviour.path == "text" else INITIATIVE
    offline, stream = pipeline.stream(message)
    assert stream is not None and offline.text == expected[message].text
    shown = list(stream)
    answer = stream.result()
    OUTCOMES[name] = answer.mode
    assert answer.mode in ("llm", "fallback")
    if behaviour.expect != "any":
        assert answer.mode == behaviour.expect
    if answer.mode == "fallback":
        assert answer.text == offline.text and answer.questions == offline.questions
        assert answer.citations == offline.citations
    bank = {q.id: q.why for q in pipeline.coaching.bank.questions}
    model_written = list(shown)
    if answer.mode == "llm":
        model_written += [s for s in re.split(r"(?<=[.!?])\s+", answer.body) if s.strip()]
        model_written += [q.why for q in answer.questions if q.why != bank.get(q.id)]
        assert set(shown) <= set(model_written) and all(s in answer.text for s in shown)
    # 1. The behaviour's own hostile strings never reach the chef.
    surfaces = [answer.text, *(q.why for q in answer.questions), *(q.text for q in answer.questions), *shown]
    for bad in behaviour.forbidden:
        assert not any(bad in s for s in surfaces), (name, bad)
    # 2. Nothing active in what the model wrote: no URL, link, image, HTML, code or hidden control characters.
    for sentence in model_written:
        assert not ACTIVE_RE.search(sentence), (name, sentence)
    # 3. Each model sentence cites a passage of this answer, and its numbers stand in that passage.
    quotes = {c.n: c.quote for c in answer.citations}
    for sentence in model_written:
        cited = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
        if sentence in (q.why for q in answer.questions):
            cited = next(q.citations for q in answer.questions if q.why == sentence)
        assert cited and all(n in quotes for n in cited), (name, sentence)
        source = " ".join(quotes[n] for n in cited)
        for number in NUMBER_RE.findall(re.sub(r"\[\d+\]", "", sentence)):
            assert number in source, (name, number, sentence)
    # 4. The answer's references hold: every [n] and every question's source is a citation of the answer.
    known = {c.n for c in answer.citations}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} <= known
    assert all(set(q.citations) <= known for q in answer.questions)
    assert all(c.chunk_id in answer.retrieved for c in answer.citations)
    if behaviour.path == "json" and answer.mode == "llm":
        assert {q.id for q in answer.questions} <= set(bank)
        assert 5 <= len(answer.questions) <= 8


def test_the_grounded_initiative_reply_picks_from_the_candidates(setup):
    pipeline, settings, expected = setup
    pipeline.composer.model = chat_model_from_settings(settings.model_copy(update={"llm_model": "picks"}))
    answer = pipeline.ask(INITIATIVE)
    offline = expected[INITIATIVE]
    assert answer.mode == "llm"
    # The scripted model picks from the end of the candidate list: questions the offline answer did not ask.
    assert {q.id for q in answer.questions} - {q.id for q in offline.questions}
    bank = {q.id: q.why for q in pipeline.coaching.bank.questions}
    assert any(q.why != bank[q.id] for q in answer.questions)  # tailored whys that passed verification
    assert answer.citations[: len(offline.citations)] == offline.citations
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


def test_summary(capsys):
    """One line for the closing note: how many behaviours, how many kept, how many fell back."""
    assert len(OUTCOMES) == len(BEHAVIOURS)
    kept = sorted(n for n, m in OUTCOMES.items() if m == "llm")
    line = (f"adversarial LLM suite: {len(OUTCOMES)} behaviours, {len(kept)} kept (verified answer), "
            f"{len(OUTCOMES) - len(kept)} fallback (offline answer), 0 unsupported sentences shown; kept: {', '.join(kept)}")
    with capsys.disabled():  # shown in the test run's output, for the closing note
        print(f"\n{line}")
