"""The shared sentence-support check: what it refuses, what it lets through, and that its threshold is fit honestly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.coaching import support
from assistant.data import path
from evals import metrics
from evals.support.__main__ import figures, fit, load

ROOT = Path(__file__).resolve().parents[2]
PASSAGE = ("Dataskyddsförordningen, GDPR, gäller sedan den 25 maj 2018. I Sverige gäller den tillsammans med "
           "dataskyddslagen (2018:218). Kommuner hanterar stora mängder personuppgifter, och därför berör "
           "dataskyddet nästan varje digitaliseringsinitiativ.")
OTHER = "Kotter beskrev 1995 åtta steg för att leda en stor omställning."


@pytest.mark.parametrize("sentence", [
    "GDPR gäller i Sverige tillsammans med dataskyddslagen (2018:218) [1].",
    "Dataskyddet berör nästan varje digitaliseringsinitiativ i kommuner [1].",
    "Dataskyddsförordningen gäller sedan den 25 maj 2018 [1].",
])
def test_faithful_sentences_pass(sentence):
    verdict = support.check(sentence, [PASSAGE])
    assert verdict.ok, verdict.reasons


@pytest.mark.parametrize(("sentence", "reason"), [
    ("GDPR gäller i Sverige tillsammans med dataskyddslagen (2018:219) [1].", "number"),
    ("Dataskyddsförordningen gäller sedan den 25 maj 2016 [1].", "number"),
    ("Dataskyddsförordningen gäller sedan den 25 juni 2018 [1].", "number"),
    ("GDPR gäller i Sverige tillsammans med dataskyddslagen och tre andra lagar [1].", "number"),
    ("GDPR gäller tillsammans med dataskyddslagen och tillsyn sker av Integritetsskyddsmyndigheten [1].", "name"),
    ("GDPR gäller tillsammans med dataskyddslagen och IMY granskar varje initiativ [1].", "name"),
    ("GDPR gäller tillsammans med dataskyddslagen och kommunallagen [1].", "name"),
    ("Dataskyddet berör alltid alla digitaliseringsinitiativ i kommuner [1].", "absolute"),
    ("Dataskyddet berör inte digitaliseringsinitiativ i kommuner [1].", "negation"),
    ("Kommuner bör upphandla molntjänster med tydliga exitklausuler [1].", "coverage"),
])
def test_unsupported_sentences_fail_for_the_right_reason(sentence, reason):
    verdict = support.check(sentence, [PASSAGE])
    assert not verdict.ok and reason in verdict.reasons


def test_every_cited_passage_must_support_the_sentence():
    sentence = "GDPR gäller i Sverige tillsammans med dataskyddslagen (2018:218) [1][2]."
    assert support.check(sentence, [PASSAGE]).ok
    assert not support.check(sentence, [PASSAGE, OTHER]).ok  # [2] says nothing of the kind
    assert support.check(sentence, []).reasons == ["no_source"]


def test_names_are_read_from_the_text():
    assert support.names("Enligt DIGG och Skolverket gäller arbetsmiljölagen") == ["DIGG", "Skolverket", "arbetsmiljölagen"]
    assert support.names("Kommunen bör fråga leverantören") == []  # a capital that only begins the sentence


def test_the_labelled_sets_are_large_and_drawn_from_the_corpus():
    corpus = " ".join(p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.md"))
    for split in ("dev", "test"):
        items = load(split)
        assert len(items) >= 80
        assert {True, False} == {i["supported"] for i in items}
        assert {"changed_number", "invented_name", "other_passage", "generalisation", "negation", "paraphrase",
                "near_quote"} <= {i["type"] for i in items}
        assert all(i["passage"] in corpus for i in items)
    dev_passages = {i["passage"] for i in load("dev")}
    assert not dev_passages & {i["passage"] for i in load("test")}  # no passage in both


def test_the_stored_threshold_is_the_dev_fit_and_its_figures_are_current():
    stored = json.loads(path(support.MODEL_FILE).read_text(encoding="utf-8"))
    dev, test = load("dev"), load("test")
    assert stored["threshold"] == fit(dev) == support.threshold()
    assert stored["test"] == figures(test, stored["threshold"])
    assert stored["test"]["precision"] >= 0.9


def test_the_evaluation_uses_the_same_check():
    for item in load("dev"):
        assert metrics.is_supported(item["sentence"], [item["passage"]]) == support.check(item["sentence"], [item["passage"]]).ok
