"""Run gold cases through exactly `Pipeline.ask` and score each answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from assistant.answer import Answer
from evals import metrics, textsim
from evals.gold import KINDS, GoldCase
from evals.stats import aggregate

METRIC_KEYS = (
    "retrieval.hit_at_5",
    "retrieval.recall_at_5",
    "retrieval.mrr_at_10",
    "retrieval.ndcg_at_10",
    "coverage.dimension_recall",
    "coverage.key_point_recall",
    "citations.valid",
    "citations.supported",
    "refusal.accuracy",
    "refusal.false_refusal_rate",
    "answer.token_f1",
    "answer.chrf",
)
LOWER_IS_BETTER = frozenset({"refusal.false_refusal_rate"})


def passages_for(answer: Answer, chunk_text: Callable[[list[str]], dict[str, str]] | None) -> dict[int, str]:
    """n → the full text of the cited chunk (the quote is only an excerpt); the quote when unknown."""
    texts = chunk_text([c.chunk_id for c in answer.citations if c.chunk_id]) if chunk_text else {}
    return {c.n: texts.get(c.chunk_id) or c.quote for c in answer.citations}


def score_case(case: GoldCase, answer: Answer, passages: dict[int, str]) -> dict[str, float | None]:
    scores: dict[str, float | None] = {
        f"retrieval.{k}": v for k, v in metrics.retrieval_scores(answer, case.expected_sources).items()
    }
    scores["coverage.dimension_recall"] = metrics.dimension_recall(answer, case.expected_dimensions)
    scores["coverage.key_point_recall"] = metrics.key_point_recall(answer, case.key_points)
    scores["citations.valid"] = metrics.citations_valid(answer)
    scores["citations.supported"] = metrics.citations_supported(answer, passages)
    scores["refusal.accuracy"] = metrics.refusal_correct(answer, case.expect_refusal)
    scores["refusal.false_refusal_rate"] = metrics.false_refusal(answer, case.expect_refusal)
    if case.reference:
        scores["answer.token_f1"] = textsim.token_f1(answer.text, case.reference)
        scores["answer.chrf"] = textsim.chrf(answer.text, case.reference)
    else:
        scores["answer.token_f1"] = scores["answer.chrf"] = None
    return scores


def case_record(case: GoldCase, answer: Answer, scores: dict, seconds: float) -> dict[str, Any]:
    surface = metrics.answer_surface(answer)
    return {
        "id": case.id,
        "kind": case.kind,
        "message": case.message,
        "expected_dimensions": list(case.expected_dimensions),
        "metrics": scores,
        "seconds": round(seconds, 3),
        "answer": {
            "text": answer.text,
            "refused": answer.refused,
            "kind": answer.kind,
            "dimensions": [q.dimension for q in answer.questions],
            "documents": metrics.document_ranking(answer),
        },
        "missed_key_points": [kp for kp in case.key_points if not metrics.key_point_covered(kp, surface)],
        "missed_dimensions": [d for d in case.expected_dimensions if d not in {q.dimension for q in answer.questions}],
        "missed_sources": [d for d in case.expected_sources if d not in metrics.document_ranking(answer)[:5]],
    }


def case_score(record: dict) -> float | None:
    """One number per case for ranking the weakest: the mean of its higher-is-better metrics."""
    values = [v for k, v in record["metrics"].items() if v is not None and k not in LOWER_IS_BETTER]
    values += [1.0 - v for k, v in record["metrics"].items() if v is not None and k in LOWER_IS_BETTER]
    return sum(values) / len(values) if values else None


def run_cases(pipeline: Any, cases: Sequence[GoldCase], progress: bool = True) -> list[dict[str, Any]]:
    from tqdm import tqdm

    ledger = getattr(getattr(pipeline, "index", None), "ledger", None)

    def chunk_text(ids: list[str]) -> dict[str, str]:
        return {cid: chunk.text for cid, chunk in ledger.chunks(ids).items()} if ledger and ids else {}

    records = []
    for case in tqdm(cases, desc="Utvärderar", unit="fall", disable=not progress):
        started = time.perf_counter()
        answer = pipeline.ask(case.message)
        seconds = time.perf_counter() - started
        scores = score_case(case, answer, passages_for(answer, chunk_text if ledger else None))
        records.append(case_record(case, answer, scores, seconds))
    return records


def summarize_run(records: Sequence[dict]) -> dict[str, Any]:
    """The results.json body: overall figures, per kind, per dimension, per case."""
    by_kind = {}
    for kind in KINDS:
        subset = [r for r in records if r["kind"] == kind]
        if subset:
            by_kind[kind] = {"n": len(subset), **aggregate(subset, METRIC_KEYS)}
    per_dimension = dimension_recall_by_dimension(records)
    return {
        "n": len(records),
        **aggregate(records, METRIC_KEYS),
        "by_kind": by_kind,
        "by_dimension": per_dimension,
        "cases": list(records),
    }


def dimension_recall_by_dimension(records: Sequence[dict]) -> dict[str, dict]:
    """For each expected dimension: how often the answer asked a question from it."""
    found: dict[str, list[float]] = {}
    for r in records:
        missed = set(r["missed_dimensions"])
        for d in r.get("expected_dimensions", []):
            found.setdefault(d, []).append(0.0 if d in missed else 1.0)
    return {d: {"mean": sum(v) / len(v), "n": len(v)} for d, v in sorted(found.items())}
