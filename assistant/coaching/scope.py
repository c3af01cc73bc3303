"""Whether the guidance covers a message, decided from retrieval evidence by a small fitted model.

Three outcomes: *covered* (answer from the guidance), *related* (the guidance
does not cover it, but comes close: say so plainly and show the closest
passage, labelled as such) and *unrelated* (decline). A logistic regression over
the `Retrieval.evidence` numbers gives P(covered); two thresholds split it.

The coefficients and thresholds live in assistant/data/scope.json and are fit
by `python -m evals.fit scope` on the dev split only (in scope: dev
initiatives, questions, section questions and their variants; out of scope:
SweFAQ's dev half and the near-domain negatives). The thresholds are chosen on
cross-validated probabilities: the lower one so that almost no in-scope dev
message is declined, the upper one so that almost no out-of-scope dev message
is answered as covered.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from assistant.data import path
from assistant.errors import ConfigurationError

Scope = Literal["covered", "related", "unrelated"]
FEATURES = ("coverage_top", "coverage_best", "known_terms", "known_grams", "unknown_words", "dense_best", "gram_best",
            "part_best", "tokens", "p_initiative", "p_question", "p_followup", "p_out_of_scope", "english")
MODEL_FILE = "scope.json"


@dataclass(frozen=True)
class ScopeModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    related: float  # below this P(covered) the message is declined
    covered: float  # from this P(covered) the guidance answers
    fit: dict = field(default_factory=dict)  # when and on what it was fit, with its dev figures

    def probability(self, evidence: dict[str, float]) -> float:
        z = self.intercept + sum(c * (evidence.get(f, 0.0) - m) / s
                                 for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def decide(self, evidence: dict[str, float]) -> Scope:
        p = self.probability(evidence)
        if p >= self.covered:
            return "covered"
        return "related" if p >= self.related else "unrelated"

    @classmethod
    def load(cls, file: Path | None = None) -> ScopeModel:
        file = file or path(MODEL_FILE)
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigurationError(f"Omfångsmodellen saknas ({file}). Anpassa den med `python -m evals.fit scope`.") from exc
        model = cls(tuple(raw["features"]), tuple(raw["mean"]), tuple(raw["scale"]), tuple(raw["coef"]),
                    float(raw["intercept"]), float(raw["related"]), float(raw["covered"]), raw.get("fit", {}))
        if model.features != FEATURES:
            raise ConfigurationError(f"Omfångsmodellen i {file} är anpassad för andra mått än koden räknar ut; "
                                     "anpassa om den med `python -m evals.fit scope`.")
        return model

    def save(self, file: Path | None = None) -> None:
        (file or path(MODEL_FILE)).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def train(cls, rows: list[dict[str, float]], labels: list[int], c: float = 0.1) -> ScopeModel:
        """A model from evidence rows and labels (1 = in scope), thresholds at 0.5 until `with_thresholds`."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        x = np.array([[r.get(f, 0.0) for f in FEATURES] for r in rows], dtype=float)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit((x - mean) / scale, labels)
        return cls(FEATURES, tuple(mean.tolist()), tuple(scale.tolist()), tuple(clf.coef_[0].tolist()),
                   float(clf.intercept_[0]), 0.5, 0.5)
