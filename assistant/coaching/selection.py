"""Choose the right questions for an initiative, and see which dimensions the description already addresses.

A question's score for a description adds six kinds of evidence, the first
four scaled to the best question for this description:

- how closely the description matches the question's situations (short
  initiatives in a chef's words where the question is the one to ask);
- how closely it matches the question's own text and why;
- how well the message's retrieval ranks the question's source sections;
- how strongly the description points at the question's dimension: the
  probability from `classifiers.DimensionModel`, trained on initiatives
  labelled with their dimensions and on the bank's own situations;
- how well the question fits, on average, the labelled training initiatives
  that touch its dimension (`question_priors`): a question that fits most
  initiatives of its kind, rather than one narrow situation;
- how central the question is to its dimension: how closely its text and why
  match the bank's own description of the dimension (`question_centrality`);
- which question of its dimension an advisor would ask first about this
  description, from `classifiers.QuestionModel` (trained on initiatives
  labelled with that question), relative to the dimension's likeliest question.
  This one only chooses among the questions of a dimension once the dimension
  has its turn: it does not change which dimensions are asked about.

The last two do not depend on the wording of the description, so they also
keep the six steadier when a chef rewords the same initiative.

The weights, and how strong a dimension must be to get a second question, are
fit on the dev split (assistant/data/selection.json, `python -m evals.fit
selection`). Questions that address a warning sign in the description come
first, each sign's most direct question (listed first in the sign) always
among them. Otherwise one question per dimension first, so the set looks at
the initiative from several sides.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.coaching.classifiers import models_for_bank
from assistant.coaching.questionbank import Question, QuestionBank
from assistant.coaching.reading import Reading
from assistant.coaching.retrieval import Retrieval, Retriever
from assistant.coaching.signs import WarningSignSpec
from assistant.coaching.situations import SituationMatcher
from assistant.data import path
from assistant.errors import ConfigurationError
from assistant.text import content_tokens

MODEL_FILE = "selection.json"
SHORT = 12  # content words: a description shorter than this says too little for a gap list
SIGN_QUESTIONS = (2, 1)  # questions taken first for the leading warning sign, and for each further one


@dataclass(frozen=True)
class SelectionWeights:
    situations: float = 1.0
    text: float = 0.5
    source: float = 0.5
    dimension: float = 0.5
    second: float = 0.9  # a dimension gets a second question when it scores this share of the best question
    prior: float = 0.0
    central: float = 0.0
    learned: float = 0.0
    priors: dict = field(default_factory=dict)  # question id → its fit to its dimension's training initiatives (0–1)
    fit: dict = field(default_factory=dict)
    # A message read as a question also gets the full set of questions when the kind model gives "initiative" at
    # least this probability: the chef may be describing her own plan in a question's words. Above 1: never.
    full_from: float = 1.1

    @classmethod
    def load(cls, file: Path | None = None) -> SelectionWeights:
        file = file or path(MODEL_FILE)
        if not file.exists():
            raise ConfigurationError(f"Vikterna för frågevalet saknas ({file}). Anpassa dem med `python -m evals.fit selection`.")
        raw = json.loads(file.read_text(encoding="utf-8"))
        return cls(**raw)

    def save(self, file: Path | None = None) -> None:
        (file or path(MODEL_FILE)).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Evidence:
    """Per question id, the scaled kinds of evidence."""

    situations: dict[str, float]
    text: dict[str, float]
    source: dict[str, float]
    dimension: dict[str, float]
    prior: dict[str, float] = field(default_factory=dict)
    central: dict[str, float] = field(default_factory=dict)
    learned: dict[str, float] = field(default_factory=dict)

    def score(self, qid: str, w: SelectionWeights) -> float:
        return (w.situations * self.situations.get(qid, 0.0) + w.text * self.text.get(qid, 0.0)
                + w.source * self.source.get(qid, 0.0) + w.dimension * self.dimension.get(qid, 0.0)
                + w.prior * self.prior.get(qid, 0.0) + w.central * self.central.get(qid, 0.0))


class QuestionSelector:
    def __init__(self, bank: QuestionBank, situations: SituationMatcher, texts: SituationMatcher,
                 retriever: Retriever, weights: SelectionWeights, n: int = 6) -> None:
        if not 5 <= n <= 8:
            raise ValueError(f"n must be between 5 and 8, got {n}")
        self.bank = bank
        self.situations = situations
        self.texts = texts
        self.retriever = retriever
        self.weights = weights
        self.n = n
        self.dimensions, self.questions = models_for_bank(bank)
        self.centrality = question_centrality(bank, texts)

    def evidence(self, reading: Reading, retrieval: Retrieval) -> Evidence:
        sit = self.situations.match(reading.query, reading.tokens).relative
        txt = self.texts.match(reading.query, reading.tokens).relative
        source: dict[str, float] = {}
        ranking = retrieval.ranking
        if ranking is not None and ranking.fused.size and ranking.fused.max() > 0:
            top = float(ranking.fused.max())
            for q in self.bank.questions:
                rows = [r for s in q.sources for r in self.retriever.section_rows(ranking, s.document, s.heading)]
                source[q.id] = float(np.max(ranking.fused[rows])) / top if rows else 0.0
        text = reading.query if reading.english else reading.text
        strength = self.dimensions.probabilities(text)
        best = max(strength.values(), default=0.0) or 1.0
        dimension = {q.id: strength.get(q.dimension, 0.0) / best for q in self.bank.questions}
        learned = relative_in_dimension(self.bank, self.questions.probabilities(text))
        return Evidence(sit, txt, source, dimension, self.weights.priors, self.centrality, learned)  # shared, never mutated

    def rank(self, reading: Reading, retrieval: Retrieval) -> list[tuple[float, Question]]:
        return self.ranked(self.evidence(reading, retrieval), self.weights)

    def ranked(self, ev: Evidence, weights: SelectionWeights) -> list[tuple[float, Question]]:
        return sorted(((ev.score(q.id, weights), q) for q in self.bank.questions), key=lambda sq: (-sq[0], sq[1].id))

    def select(self, reading: Reading, retrieval: Retrieval, signs: list[WarningSignSpec] = ()) -> list[Question]:
        evidence = self.evidence(reading, retrieval)
        return self.pick(self.ranked(evidence, self.weights), signs, self.weights, evidence.learned)

    def pick(self, ranked: list[tuple[float, Question]], signs: list[WarningSignSpec],
             weights: SelectionWeights, learned: dict[str, float] | None = None) -> list[Question]:
        """Sign questions first (the leading sign's two best-scored, another sign's best), then one question per dimension,
        a second only for a strongly matched dimension. The ranking decides which dimension has its turn; the
        dimension's question is then the one whose score plus the learned first-question evidence is highest."""
        score = {q.id: s for s, q in ranked}
        learned = learned or {}
        within = {qid: s + weights.learned * learned.get(qid, 0.0) for qid, s in score.items()}
        picked: list[Question] = []
        for i, sign in enumerate(signs):  # the questions that address the warning signs come first
            options = [q for q in (self.bank.question(qid) for qid in sign.questions) if q is not None and q not in picked]
            # Of the questions a sign lists, those that fit the description best (a sign has two to four, each
            # addressing one side of it; the list's order breaks a tie).
            order = {q.id: n for n, q in enumerate(options)}
            options.sort(key=lambda q: (-score[q.id], order[q.id]))
            picked += options[: SIGN_QUESTIONS[min(i, len(SIGN_QUESTIONS) - 1)]]
        best = ranked[0][0] if ranked else 0.0
        for round_cap in (1, 2, 3):
            for s, q in ranked:
                if len(picked) == self.n:
                    return picked
                in_dim = sum(p.dimension == q.dimension for p in picked)
                if q in picked or in_dim >= round_cap:
                    continue
                if round_cap == 2 and in_dim == 1 and s < weights.second * best:
                    continue  # a second question only for a strongly matched dimension, in this round
                options = [o for _, o in ranked if o.dimension == q.dimension and o not in picked]
                picked.append(min(options, key=lambda o: (-within[o.id], o.id)))
        return picked[: self.n]


def question_priors(bank: QuestionBank, situations: SituationMatcher, texts: SituationMatcher,
                    initiatives: list[tuple[str, tuple[str, ...], set[str]]]) -> dict[str, float]:
    """For each question, how well it fits the labelled initiatives (query, tokens, dimensions) that touch its
    dimension: the mean of its match (situations and own text, each relative to the best question for that
    initiative), divided by the best such mean in the dimension. Computed from the training set, never from
    evaluation cases."""
    total = dict.fromkeys((q.id for q in bank.questions), 0.0)
    count = dict.fromkeys((d.id for d in bank.dimensions), 0)
    for query, tokens, dimensions in initiatives:
        sit = situations.match(query, tokens).relative
        txt = texts.match(query, tokens).relative
        for q in bank.questions:
            if q.dimension in dimensions:
                total[q.id] += sit.get(q.id, 0.0) + txt.get(q.id, 0.0)
        for d in dimensions:
            if d in count:
                count[d] += 1
    mean = {q.id: total[q.id] / max(count.get(q.dimension, 0), 1) for q in bank.questions}
    return {qid: round(v, 4) for qid, v in relative_in_dimension(bank, mean).items()}


def relative_in_dimension(bank: QuestionBank, values: dict[str, float]) -> dict[str, float]:
    """Each question's value divided by the highest value among the questions of its dimension (missing: 0)."""
    top: dict[str, float] = {}
    for q in bank.questions:
        top[q.dimension] = max(top.get(q.dimension, 0.0), values.get(q.id, 0.0))
    return {q.id: values.get(q.id, 0.0) / (top[q.dimension] or 1.0) for q in bank.questions}


def question_centrality(bank: QuestionBank, texts: SituationMatcher) -> dict[str, float]:
    """How closely each question's text and why match its dimension's description in the bank, relative to the
    closest question of the same dimension (1.0). 0.0 for a dimension without a description."""
    central: dict[str, float] = {}
    for d in bank.dimensions:
        ids = [q.id for q in bank.questions if q.dimension == d.id]
        if not d.description or not ids:
            central.update(dict.fromkeys(ids, 0.0))
            continue
        relative = texts.match(d.description, tuple(content_tokens(d.description))).relative
        best = max(relative.get(qid, 0.0) for qid in ids) or 1.0
        central.update({qid: round(relative.get(qid, 0.0) / best, 4) for qid in ids})
    return central


def addressed_dimensions(bank: QuestionBank, reading: Reading, texts: SituationMatcher, threshold: float = 0.5) -> list[str]:
    """Dimensions the description already speaks about: most of a dimension's description, or of one of its
    questions, is found in the description. Empty for a short description (see `is_short`)."""
    if is_short(reading):
        return []
    match = texts.match(reading.query, reading.tokens)
    said = {q.dimension for q in bank.questions if match.said.get(q.id, 0.0) >= threshold}
    said |= {d.id for d in bank.dimensions if match.said.get(f"dimension:{d.id}", 0.0) >= threshold}
    return [d.id for d in bank.dimensions if d.id in said]


def is_short(reading: Reading) -> bool:
    return len(content_tokens(reading.text)) < SHORT
