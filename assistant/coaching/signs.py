"""The seed article's warning signs, as data, and a detector that reads them in a description.

Each sign in corpus/varningssignaler.yaml has example situations that show it
and similar ones that do not, a one-sentence warning for the chef, the section
of the seed article that supports it, and the bank questions that address it.
The detector learns each sign from those examples: one logistic regression per
sign over character and word n-grams (the same features as the message-kind
model), with the sign's own situations as positives and everything else as
negatives (its counter-examples, the other signs' situations, and the question
bank's situations of questions that do not address it). The labelled training
initiatives (assistant/data/training/dimensions.jsonl, field `signs`) add
ordinary descriptions, most of them showing no sign: positives for the signs
they are labelled with, negatives for the rest. A description shows a
sign when its probability reaches a threshold fit on the dev split's seed
scenarios (assistant/data/signs.json, `python -m evals.fit signs`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from assistant.coaching.classifiers import _read_jsonl, features, prepare
from assistant.coaching.questionbank import QuestionBank
from assistant.data import path
from assistant.errors import ConfigurationError

MODEL_FILE = "signs.json"


@dataclass(frozen=True)
class WarningSignSpec:
    id: str
    name: str
    warning: str
    document: str
    heading: str
    questions: tuple[str, ...]
    situations: tuple[str, ...]
    not_situations: tuple[str, ...] = ()


def load_signs(file: Path) -> list[WarningSignSpec]:
    """The signs in a YAML file; every error names the sign and the field, in Swedish."""
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Varningssignalerna i {file} kunde inte läsas: {exc}") from exc
    signs = []
    for i, item in enumerate(raw.get("signs") or []):
        what = f"Varningssignal nummer {i + 1} i {file.name}"
        if not isinstance(item, dict):
            raise ConfigurationError(f"{what} ska vara en post med id, name, warning, source, questions och situations.")
        for key in ("id", "name", "warning"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise ConfigurationError(f"{what} saknar fältet '{key}' (en text).")
        source = item.get("source") or {}
        if not isinstance(source, dict) or not source.get("document") or not source.get("heading"):
            raise ConfigurationError(f"{what} ('{item['id']}') behöver source med document och heading.")
        situations = item.get("situations")
        if not isinstance(situations, list) or len(situations) < 2 or not all(isinstance(s, str) for s in situations):
            raise ConfigurationError(f"{what} ('{item['id']}') behöver minst två situations (en lista med texter).")
        signs.append(WarningSignSpec(
            item["id"], item["name"].strip(), item["warning"].strip(), str(source["document"]), str(source["heading"]),
            tuple(item.get("questions") or ()), tuple(s.strip() for s in situations),
            tuple(s.strip() for s in item.get("not_situations") or ()),
        ))
    if not signs:
        raise ConfigurationError(f"{file} innehåller inga varningssignaler under 'signs'.")
    return signs


@dataclass(frozen=True)
class SignThreshold:
    threshold: float = 0.5
    fit: dict = field(default_factory=dict)

    @classmethod
    def load(cls, file: Path | None = None) -> SignThreshold:
        file = file or path(MODEL_FILE)
        if not file.exists():
            raise ConfigurationError(f"Tröskeln för varningssignalerna saknas ({file}). Anpassa den med `python -m evals.fit signs`.")
        raw = json.loads(file.read_text(encoding="utf-8"))
        return cls(float(raw["threshold"]), raw.get("fit", {}))

    def save(self, file: Path | None = None) -> None:
        (file or path(MODEL_FILE)).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


class SignDetector:
    def __init__(self, signs: list[WarningSignSpec], bank: QuestionBank, threshold: SignThreshold, most: int = 2,
                 examples: Sequence[tuple[str, frozenset[str]]] = ()) -> None:
        from sklearn.linear_model import LogisticRegression

        self.signs = {s.id: s for s in signs}
        self.threshold = threshold
        self.most = most
        texts: list[str] = []
        owners: list[str | None] = []  # the sign a text shows, or None
        for s in signs:
            texts += list(s.situations) + list(s.not_situations)
            owners += [s.id] * len(s.situations) + [None] * len(s.not_situations)
        labelled = len(texts)
        texts += [text for text, _ in examples]  # labelled training initiatives, each with the signs it shows
        questions = [(q, situation) for q in bank.questions for situation in q.situations]
        texts += [situation for _, situation in questions]
        self._features = features().fit([prepare(t) for t in texts])
        x = self._features.transform([prepare(t) for t in texts])
        self._models = {}
        for s in signs:
            # A bank situation of a question that addresses this sign may well show it: neither positive nor negative.
            keep = [i for i in range(len(texts)) if i < len(texts) - len(questions)
                    or questions[i - (len(texts) - len(questions))][0].id not in s.questions]
            labels = [_label(i, s.id, owners, examples, labelled) for i in keep]
            self._models[s.id] = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced").fit(x[keep], labels)

    @classmethod
    def bundled(cls, signs: list[WarningSignSpec], bank: QuestionBank, threshold: SignThreshold) -> SignDetector:
        """The detector with the labelled training initiatives that carry a `signs` field."""
        return cls(signs, bank, threshold, examples=training_examples())

    def probabilities(self, text: str) -> dict[str, float]:
        x = self._features.transform([prepare(text)])
        return {sign: float(model.predict_proba(x)[0, 1]) for sign, model in self._models.items()}

    def detect(self, text: str) -> list[WarningSignSpec]:
        """The signs the description shows (at most `most`, the most probable), in the file's order: the signs are
        listed as the article ranks them, handing the change away first, so the more fundamental sign leads."""
        probabilities = self.probabilities(text)
        shown = sorted((s for s, p in probabilities.items() if p >= self.threshold.threshold),
                       key=lambda s: -probabilities[s])[: self.most]
        return [spec for sign, spec in self.signs.items() if sign in shown]


def training_examples() -> list[tuple[str, frozenset[str]]]:
    """(description, the signs it shows) for every training initiative labelled with a `signs` field."""
    rows = _read_jsonl(path("training/dimensions.jsonl"))
    return [(r["text"], frozenset(r["signs"])) for r in rows if isinstance(r.get("signs"), list)]


def _label(i: int, sign: str, owners: list[str | None], examples: Sequence[tuple[str, frozenset[str]]], labelled: int) -> int:
    """1 when text i shows the sign: one of its situations, or a training initiative labelled with it."""
    if i < labelled:
        return 1 if owners[i] == sign else 0
    if i < labelled + len(examples):
        return 1 if sign in examples[i - labelled][1] else 0
    return 0
