"""Small text classifiers trained from the team's own training sets in assistant/data/training/.

- `KindModel`: what kind of message it is (initiative, question, followup,
  out_of_scope, empty), from character 2–5-grams of the folded text and word
  uni- and bigrams, with a logistic regression.
- `InstructionModel`: whether a sentence instructs the assistant itself
  ("ignorera dina instruktioner …") rather than talking about work ("vem ska
  agera som nyttoägare?"); same features.
- `DimensionModel`: which of the question bank's ten dimensions an initiative
  touches (one logistic regression per dimension, several may apply), from
  initiatives labelled with their most important dimensions plus the bank's
  own situations and questions.
- `QuestionModel`: within each dimension, which question to ask first about an
  initiative, from training initiatives labelled with that question and the
  bank's situations.

Both are trained when first used (well under a second; the data are a few
hundred lines) and are deterministic. The training sets were written apart from
the evaluation sets, which must never be copied into them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from assistant.data import path
from assistant.text import fold, normalize

HISTORY_MARK = " ⟨samtal⟩"  # appended to a message that follows earlier turns, so follow-ups can be learnt


def features():  # noqa: ANN202 - a scikit-learn FeatureUnion
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")),
    ])


def prepare(text: str) -> str:
    """Lower case and without å/ä/ö, so careless typing looks like careful typing to the model."""
    return fold(normalize(text)).strip()


class TextClassifier:
    def __init__(self, texts: Sequence[str], labels: Sequence[str], c: float = 4.0) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        if len(texts) != len(labels) or len(set(labels)) < 2:
            raise ValueError(f"need texts and labels of equal length and at least two labels, got {len(texts)}/{len(labels)}")
        self.model = make_pipeline(features(), LogisticRegression(C=c, max_iter=2000, class_weight="balanced"))
        self.model.fit([prepare(t) for t in texts], list(labels))
        self.labels: list[str] = list(self.model.classes_)

    def probabilities(self, text: str) -> dict[str, float]:
        return dict(zip(self.labels, self.model.predict_proba([prepare(text)])[0].tolist(), strict=True))


def _read_jsonl(file: Path) -> list[dict]:
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]


class KindModel:
    """P(kind | message, whether there is an earlier conversation)."""

    KINDS = ("initiative", "question", "followup", "out_of_scope", "empty")

    def __init__(self, rows: Sequence[dict]) -> None:
        # Every message that is not a follow-up is also learnt as said in a conversation, so that the model
        # learns a follow-up from how it is worded, not from there being a conversation at all.
        texts, labels = [], []
        for r in rows:
            texts.append(r["text"] + (HISTORY_MARK if r.get("history") else ""))
            labels.append(r["kind"])
            if r["kind"] != "followup":
                texts.append(r["text"] + HISTORY_MARK)
                labels.append(r["kind"])
        self._clf = TextClassifier(texts, labels)

    @classmethod
    def bundled(cls) -> KindModel:
        return _kind_model()

    def probabilities(self, text: str, has_history: bool) -> dict[str, float]:
        probs = self._clf.probabilities(text + (HISTORY_MARK if has_history else ""))
        if not has_history:  # a follow-up needs something to follow
            probs.pop("followup", None)
            total = sum(probs.values()) or 1.0
            probs = {k: v / total for k, v in probs.items()}
        return {k: probs.get(k, 0.0) for k in self.KINDS}


class InstructionModel:
    """P(the sentence instructs the assistant itself)."""

    def __init__(self, rows: Sequence[dict]) -> None:
        self._clf = TextClassifier([r["text"] for r in rows], ["ja" if r["instruction"] else "nej" for r in rows])

    @classmethod
    def bundled(cls) -> InstructionModel:
        return _instruction_model()

    def probability(self, sentence: str) -> float:
        return self._clf.probabilities(sentence)["ja"]


class DimensionModel:
    """P(the initiative touches each dimension), each dimension on its own."""

    def __init__(self, texts: Sequence[str], labels: Sequence[set[str]], dimensions: Sequence[str], c: float = 4.0,
                 encoded: Encoded | None = None) -> None:
        from sklearn.linear_model import LogisticRegression

        self._features, x = encoded or encode(texts)
        self._models = {d: LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(x, [d in y for y in labels])
                        for d in dimensions}

    def probabilities(self, text: str) -> dict[str, float]:
        x = self._features.transform([prepare(text)])
        return {d: float(m.predict_proba(x)[0, 1]) for d, m in self._models.items()}


class QuestionModel:
    """P(question | its dimension, the initiative): within each dimension, which of its questions an advisor asks
    first about this initiative. One complement naive Bayes model per dimension, over the same n-gram features: it
    trains in about a second, where a logistic regression over these 81 classes took half a minute at every
    start, with comparable dev figures side by side. Trained on the training initiatives labelled with the
    question chosen for each of their dimensions, plus the bank's own situations and question texts. A dimension
    with a single question gives it 1.0."""

    def __init__(self, texts: Sequence[str], labels: Sequence[dict[str, str]], questions: dict[str, list[str]],
                 alpha: float = 0.3, encoded: Encoded | None = None) -> None:
        from sklearn.naive_bayes import ComplementNB

        self._features, x = encoded or encode(texts)
        self._single: dict[str, str] = {}
        self._models = {}
        for dim, ids in questions.items():
            rows = [i for i, lab in enumerate(labels) if lab.get(dim) in ids]
            seen = {labels[i][dim] for i in rows}
            if len(seen) < 2:
                self._single[dim] = next(iter(seen), ids[0])
                continue
            self._models[dim] = ComplementNB(alpha=alpha).fit(x[rows], [labels[i][dim] for i in rows])

    def probabilities(self, text: str) -> dict[str, float]:
        """Question id → P(it is the one to ask | its dimension); sums to 1 within each dimension."""
        x = self._features.transform([prepare(text)])
        out = {q: 1.0 for q in self._single.values()}
        for model in self._models.values():
            out.update(zip(model.classes_.tolist(), model.predict_proba(x)[0].tolist(), strict=True))
        return out


Encoded = tuple  # (a fitted `features()` union, the sparse matrix of the texts it was fitted on)


def encode(texts: Sequence[str]) -> Encoded:
    union = features().fit([prepare(t) for t in texts])
    return union, union.transform([prepare(t) for t in texts])


def models_for_bank(bank) -> tuple[DimensionModel, QuestionModel]:  # noqa: ANN001 - a QuestionBank
    """Both initiative models, from one read of training/dimensions.jsonl and one set of n-gram features: the
    labelled training initiatives plus the bank's own situations and question texts."""
    rows = _read_jsonl(path("training/dimensions.jsonl"))
    texts = [r["text"] for r in rows]
    dimensions = [set(r["dimensions"]) for r in rows]
    first = [dict(r.get("questions") or {}) for r in rows]
    by_dim: dict[str, list[str]] = {}
    for q in bank.questions:
        texts += [*q.situations, q.text]
        dimensions += [{q.dimension}] * (len(q.situations) + 1)
        first += [{q.dimension: q.id}] * (len(q.situations) + 1)
        by_dim.setdefault(q.dimension, []).append(q.id)
    encoded = encode(texts)
    return (DimensionModel(texts, dimensions, [d.id for d in bank.dimensions], encoded=encoded),
            QuestionModel(texts, first, by_dim, encoded=encoded))


@lru_cache(maxsize=1)
def _kind_model() -> KindModel:
    return KindModel(_read_jsonl(path("training/messages.jsonl")))


@lru_cache(maxsize=1)
def _instruction_model() -> InstructionModel:
    return InstructionModel(_read_jsonl(path("training/instructions.jsonl")))
