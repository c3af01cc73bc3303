"""The fitted decisions: the scope model, the warning signs as data, and what the fits were made on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.coaching.questionbank import QuestionBank
from assistant.coaching.retrieval import RetrievalWeights
from assistant.coaching.scope import FEATURES, ScopeModel
from assistant.coaching.selection import SelectionWeights
from assistant.coaching.signs import SignThreshold, load_signs
from assistant.errors import ConfigurationError
from assistant.ingestion.loaders import load_file
from assistant.settings import PROJECT_ROOT, Settings

SIGNS = PROJECT_ROOT / "corpus" / "varningssignaler.yaml"


def model(related: float = 0.3, covered: float = 0.8) -> ScopeModel:
    coef = tuple(1.0 if f == "coverage_top" else 0.0 for f in FEATURES)
    return ScopeModel(FEATURES, (0.5,) * len(FEATURES), (0.1,) * len(FEATURES), coef, 0.0, related, covered)


def test_three_outcomes_split_by_two_thresholds() -> None:
    m = model()
    assert m.decide({"coverage_top": 0.7}) == "covered"  # z = 2, p = 0.88
    assert m.decide({"coverage_top": 0.5}) == "related"  # p = 0.5
    assert m.decide({"coverage_top": 0.3}) == "unrelated"  # p = 0.12


def test_a_model_fit_for_other_features_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "scope.json"
    model().save(file)
    file.write_text(file.read_text().replace('"coverage_top"', '"okänt"'), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="python -m evals.fit scope"):
        ScopeModel.load(file)


def test_the_shipped_fits_were_made_on_the_dev_split() -> None:
    scope = ScopeModel.load()
    assert scope.fit["split"] == "dev" and 0 < scope.related <= scope.covered < 1
    assert SignThreshold.load().fit["split"] == "dev"
    assert SelectionWeights.load().fit["split"] == "dev"
    assert RetrievalWeights.load().fit["split"] == "dev"


def test_retrieval_weights_fit_for_the_guidance_hold_only_for_their_embedding_model_and_untouched_settings() -> None:
    fitted = RetrievalWeights({"gram": 1.0, "stem": 0.5, "dense": 0.25}, Settings().embedding_model)
    assert fitted.for_settings(Settings()) == {"gram": 1.0, "stem": 0.5, "dense": 0.25}
    assert fitted.for_settings(Settings(embedding_model="KBLab/sentence-bert-swedish-cased")) is None
    assert fitted.for_settings(Settings(channel_weights={"gram": 1.0})) is None  # set by hand: the settings decide
    assert fitted.for_settings(Settings(dense_weight=2.0)) is None
    assert RetrievalWeights().for_settings(Settings()) is None  # not fit: the settings' weights
    assert RetrievalWeights.load(PROJECT_ROOT / "saknas.json") == RetrievalWeights()


def test_warning_signs_point_at_real_questions_and_sections() -> None:
    bank = QuestionBank.load(PROJECT_ROOT / "corpus" / "fragebank.yaml")
    signs = load_signs(SIGNS)
    assert len(signs) == 6
    for sign in signs:
        doc = load_file(PROJECT_ROOT / "corpus" / f"{sign.document}.md", 10**8)
        assert sign.heading in {h for s in doc.sections for h in s.heading_path}, sign.id
        assert sign.questions and all(bank.question(q) for q in sign.questions), sign.id
        assert sign.warning.startswith("Varningssignal: ") and len(sign.situations) >= 6, sign.id


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda raw: raw["signs"][0].pop("warning"), "warning"),
    (lambda raw: raw["signs"][0].update(source={"document": "x"}), "source"),
    (lambda raw: raw["signs"][0].update(situations=["bara en"]), "minst två situations"),
])
def test_broken_signs_are_reported_in_swedish(tmp_path: Path, mutate, expected: str) -> None:  # noqa: ANN001
    raw = yaml.safe_load(SIGNS.read_text(encoding="utf-8"))
    mutate(raw)
    file = tmp_path / "signs.yaml"
    file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=expected):
        load_signs(file)


class FakeMatcher:
    """A fake `SituationMatcher` for the prior's arithmetic: fixed relative matches per query."""

    def __init__(self, relative: dict[str, dict[str, float]]) -> None:
        self.relative = relative

    def match(self, query: str, tokens):  # noqa: ANN001, ANN201
        from assistant.coaching.situations import Match

        return Match(self.relative[query], {}, {}, {})


def _bank() -> QuestionBank:
    return QuestionBank.load(PROJECT_ROOT / "corpus" / "fragebank.yaml")


def test_a_question_that_fits_most_initiatives_of_its_dimension_gets_the_highest_prior() -> None:
    from assistant.coaching.selection import question_priors

    bank = _bank()
    dim = bank.questions[0].dimension
    a, b = [q.id for q in bank.questions if q.dimension == dim][:2]
    other = next(q.id for q in bank.questions if q.dimension != dim)
    situations = FakeMatcher({"x": {a: 1.0, b: 0.2, other: 0.9}, "y": {a: 0.6, b: 0.4}, "z": {other: 1.0, b: 1.0}})
    texts = FakeMatcher({"x": {}, "y": {}, "z": {}})
    priors = question_priors(bank, situations, texts, [("x", ("x",), {dim}), ("y", ("y",), {dim}),
                                                       ("z", ("z",), {bank.question(other).dimension})])
    assert priors[a] == 1.0 and priors[b] == pytest.approx(0.3 / 0.8)  # "z" does not touch the dimension: b gains nothing
    assert priors[other] == 1.0 and all(0.0 <= v <= 1.0 for v in priors.values())


def test_a_signs_best_fitting_questions_come_first_even_when_other_questions_score_higher() -> None:
    from assistant.coaching.selection import QuestionSelector

    bank = _bank()
    sign = next(s for s in load_signs(SIGNS) if len(s.questions) >= 3)
    selector = QuestionSelector.__new__(QuestionSelector)  # pick() needs only the bank and n
    selector.bank, selector.n = bank, 6
    first, *rest = sign.questions
    # The sign's listed first question scores lowest of all, its last the highest of its questions, and every
    # question outside the sign scores higher still.
    value = {qid: 0.5 + 0.1 * n for n, qid in enumerate(rest)} | {first: 0.0}
    ranked = sorted(((value.get(q.id, 2.0), q) for q in bank.questions), key=lambda sq: (-sq[0], sq[1].id))
    picked = selector.pick(ranked, [sign], SelectionWeights())
    assert [q.id for q in picked[:2]] == [rest[-1], rest[-2]] and len(picked) == 6
    assert first not in [q.id for q in picked[:2]]
    # On a tie the sign's own order decides.
    tied = sorted(((1.0 if q.id in sign.questions else 2.0, q) for q in bank.questions), key=lambda sq: (-sq[0], sq[1].id))
    assert [q.id for q in selector.pick(tied, [sign], SelectionWeights())[:2]] == list(sign.questions[:2])
    assert not {q.id for q in selector.pick(ranked, [], SelectionWeights())[:2]} & set(sign.questions)


def test_every_training_initiative_is_labelled_with_real_signs() -> None:
    from assistant.coaching.signs import training_examples

    examples = training_examples()
    rows = (PROJECT_ROOT / "assistant" / "data" / "training" / "dimensions.jsonl").read_text(encoding="utf-8").splitlines()
    known = {s.id for s in load_signs(SIGNS)}
    assert len(examples) == len([r for r in rows if r.strip()])
    assert all(signs <= known for _, signs in examples)
    shown = [signs for _, signs in examples if signs]
    assert 0 < len(shown) < len(examples) / 2  # ordinary initiatives: most show no sign


def test_a_labelled_training_initiative_teaches_the_detector_its_sign() -> None:
    from dataclasses import replace

    from assistant.coaching.signs import SignDetector

    bank = _bank()
    signs = [replace(s, situations=s.situations[:6], not_situations=s.not_situations[:6]) for s in load_signs(SIGNS)]
    target = signs[-1].id
    # Descriptions of one kind of trouble that no situation of the signs mentions, labelled with the last sign.
    lab = ["Skrivarna på plan fyra krånglar varje tisdag och vaktmästaren får laga dem", "Skrivarna i huset krånglar",
           "Vaktmästaren lagar skrivarna igen"]
    plain = ["Vi ska byta lönesystem nästa år", "Kommunen inför digital signering", "Vi flyttar e-posten till molnet"]
    examples = [(t, frozenset({target})) for t in lab] + [(t, frozenset()) for t in plain]
    probe = "Skrivarna krånglar och vaktmästaren lagar dem"
    without = SignDetector(signs, bank, SignThreshold()).probabilities(probe)[target]
    with_examples = SignDetector(signs, bank, SignThreshold(), examples=examples).probabilities(probe)[target]
    assert with_examples > without + 0.2


def test_the_question_model_learns_which_question_of_a_dimension_comes_first() -> None:
    from assistant.coaching.classifiers import QuestionModel

    texts = ["Vi flyttar e-posten till molnet", "Ärendena ska lagras i en molntjänst", "Lönesystemet hamnar i molnet",
             "Lärarna behöver utbildning i plattformen", "Handläggarna ska lära sig det nya systemet",
             "Personalen får kurser innan starten", "Vi inför e-arkiv"]
    labels = [{"d": "moln"}] * 3 + [{"d": "kunskap"}] * 3 + [{"e": "ensam"}]
    model = QuestionModel(texts, labels, {"d": ["moln", "kunskap"], "e": ["ensam"]})
    cloud = model.probabilities("Kommunen vill lagra elevdata i molnet")
    course = model.probabilities("Vem ger personalen utbildning?")
    assert cloud["moln"] > cloud["kunskap"] and course["kunskap"] > course["moln"]
    assert cloud["moln"] + cloud["kunskap"] == pytest.approx(1.0) and cloud["ensam"] == 1.0


def test_every_labelled_first_question_belongs_to_its_dimension() -> None:
    import json

    bank = _bank()
    rows = [json.loads(line) for line in (PROJECT_ROOT / "assistant" / "data" / "training" / "dimensions.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
    labelled = [r for r in rows if "questions" in r]
    assert len(labelled) == len(rows)
    for r in labelled:
        assert set(r["questions"]) == set(r["dimensions"]), r["text"]
        assert all(bank.question(q).dimension == d for d, q in r["questions"].items()), r["text"]
