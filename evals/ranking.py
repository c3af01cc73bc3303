"""Rank metrics shared by the gold-set evaluation and the BEIR benchmark.

A ranking is a list of item ids, best first; relevance is a mapping of item id
to graded relevance (> 0 means relevant). Definitions follow trec_eval so the
figures agree with pytrec_eval (checked in tests/test_beir.py):

- hit@k: 1 when any relevant item is among the first k.
- recall@k: relevant items among the first k ÷ all relevant items.
- MRR@k: 1 / rank of the first relevant item within the first k, else 0.
- nDCG@k: DCG with gain = relevance and discount log2(rank + 1), divided by
  the DCG of the ideal ordering of all judged relevant items (cut at k).

Duplicate ids in a ranking count once, at their first position.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def dedupe(ranking: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in ranking:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _relevant(relevance: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in relevance.items() if v > 0}


def _check_k(k: int) -> None:
    if k <= 0:
        raise ValueError(f"k must be > 0, got {k}")


def hit_at_k(ranking: Sequence[str], relevance: Mapping[str, float], k: int) -> float:
    _check_k(k)
    rel = _relevant(relevance)
    return 1.0 if any(item in rel for item in dedupe(ranking)[:k]) else 0.0


def recall_at_k(ranking: Sequence[str], relevance: Mapping[str, float], k: int) -> float:
    _check_k(k)
    rel = _relevant(relevance)
    if not rel:
        return 0.0
    return sum(1 for item in dedupe(ranking)[:k] if item in rel) / len(rel)


def mrr_at_k(ranking: Sequence[str], relevance: Mapping[str, float], k: int) -> float:
    _check_k(k)
    rel = _relevant(relevance)
    for rank, item in enumerate(dedupe(ranking)[:k], start=1):
        if item in rel:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranking: Sequence[str], relevance: Mapping[str, float], k: int) -> float:
    _check_k(k)
    rel = _relevant(relevance)
    if not rel:
        return 0.0
    dcg = sum(rel.get(item, 0.0) / math.log2(rank + 1) for rank, item in enumerate(dedupe(ranking)[:k], start=1))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(ideal, start=1))
    return dcg / idcg


def score_run(
    run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, float]], k: int = 10
) -> dict[str, float]:
    """Mean nDCG@k, Recall@k and MRR@k over the queries that have judgements (as trec_eval does)."""
    keys = (f"ndcg_at_{k}", f"recall_at_{k}", f"mrr_at_{k}")
    queries = [q for q, rel in qrels.items() if _relevant(rel)]
    if not queries:
        return {key: 0.0 for key in keys}
    totals = dict.fromkeys(keys, 0.0)
    for q in queries:
        ranking = run.get(q, [])
        totals[keys[0]] += ndcg_at_k(ranking, qrels[q], k)
        totals[keys[1]] += recall_at_k(ranking, qrels[q], k)
        totals[keys[2]] += mrr_at_k(ranking, qrels[q], k)
    return {key: value / len(queries) for key, value in totals.items()}
