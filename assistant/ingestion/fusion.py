"""How the channels are fused into one ranking of every passage, and what a ranking can answer.

Each channel's scores for a query are divided by that channel's best score, so
every channel contributes on the same scale, then weighted and added. A
`Ranking` keeps the fused and raw scores of every passage of one lexical
snapshot, so later steps can ask for the best passage within a section without
searching again: it is the same ranking for the same message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from assistant.ingestion.lexical import LexicalIndex, top_rows


def fuse(raw: dict[str, np.ndarray], weights: dict[str, float], size: int) -> np.ndarray:
    fused = np.zeros(size, dtype=np.float32)
    for channel, weight in weights.items():
        scores = raw.get(channel)
        if weight and scores is not None and scores.max(initial=0.0) > 0:
            fused += weight * scores / scores.max()
    return fused


@dataclass(frozen=True)
class Ranking:
    """The fused and raw channel scores of every passage of one lexical snapshot for one query."""

    snapshot: LexicalIndex
    fused: np.ndarray
    raw: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)

    def top(self, k: int) -> list[int]:
        return top_rows(self.fused, k)

    def best(self, rows: Iterable[int]) -> int | None:
        """The best-ranked of the given rows with a positive score, or None."""
        candidates = [r for r in rows if self.fused[r] > 0]
        return max(candidates, key=lambda r: (self.fused[r], -r)) if candidates else None

    def channels(self, row: int) -> dict[str, float]:
        return {c: float(s[row]) for c, s in self.raw.items()}

    def lexical_part(self, row: int) -> float:
        """The lexical channels' share of the fused score."""
        return float(sum(w * self.raw[c][row] / self.raw[c].max() for c, w in self.weights.items()
                         if c != "dense" and c in self.raw and self.raw[c].max() > 0))
