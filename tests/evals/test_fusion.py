"""The grid search's scoring in evals.fusion: a document ranks by its best passage, as in `Index.search`."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evals.fusion import CHANNELS, fit, ndcg

DOCS = ["a", "b", "a", "c"]  # passage → document; "a" has two passages
QIDS = ["q1", "q2"]
QRELS = {"q1": {"a": 1}, "q2": {"c": 1}}


def test_a_document_ranks_by_its_best_passage() -> None:
    fused = np.array([[0.1, 0.5, 0.9, 0.0],    # q1: a's second passage is best → a first
                      [0.8, 0.7, 0.0, 0.6]], dtype=np.float32)  # q2: a, b, then c third
    assert ndcg(fused, DOCS, QIDS, QRELS, [0]) == pytest.approx(1.0)
    assert ndcg(fused, DOCS, QIDS, QRELS, [1]) == pytest.approx(1 / math.log2(4))
    assert ndcg(fused, DOCS, QIDS, QRELS) == pytest.approx((1 + 1 / math.log2(4)) / 2)


def test_unscored_documents_are_not_ranked() -> None:
    fused = np.array([[0.0, 0.3, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    assert ndcg(fused, DOCS, QIDS, QRELS) == 0.0


def test_the_fit_prefers_the_channel_that_ranks_the_relevant_documents_first() -> None:
    good = np.array([[0.0, 0.2, 1.0, 0.1], [0.1, 0.2, 0.0, 1.0]], dtype=np.float32)
    bad = good[:, ::-1].copy()
    norm = {c: bad for c in CHANNELS} | {"stem": good}
    score, weights = fit(norm, DOCS, QIDS, QRELS)
    assert score == pytest.approx(1.0) and weights == {c: 0.25 if c == "stem" else 0.0 for c in CHANNELS}
