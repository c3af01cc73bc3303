"""Run gold cases through exactly `Pipeline.ask`, score each answer, and summarise per split and set."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from assistant.answer import Answer, Turn
from assistant.coaching import support
from assistant.text import split_sentences
from evals import baselines, consistency, metrics, textsim
from evals.gold import KINDS, GoldCase
from evals.stats import aggregate

METRIC_KEYS = (
    "retrieval.hit_at_5",
    "retrieval.recall_at_5",
    "retrieval.mrr_at_10",
    "retrieval.ndcg_at_10",
    "shown.hit_at_5",
    "shown.ndcg_at_10",
    "coverage.dimension_recall",
    "coverage.key_point_recall",
    "coverage.expected_question",
    "signs.named",
    "signs.named_and_asked",
    "citations.valid",
    "citations.supported",
    "refusal.accuracy",
    "refusal.false_refusal_rate",
    "refusal.false_answer_rate",
    "intent.accuracy",
    "answer.token_f1",
    "answer.chrf",
)
BASELINE_KEYS = tuple(f"baseline.{b}.{k.split('.', 1)[1]}" for b in ("random", "constant") for k in baselines.KEYS)
LOWER_IS_BETTER = frozenset({"refusal.false_refusal_rate", "refusal.false_answer_rate"})
NO_SPLIT = "övrigt"


def passages_for(answer: Answer, chunk_text: Callable[[list[str]], dict[str, str]] | None) -> dict[int, str]:
    """n → the full text of the cited chunk (the quote is only an excerpt); the quote when unknown."""
    texts = chunk_text([c.chunk_id for c in answer.citations if c.chunk_id]) if chunk_text else {}
    return {c.n: texts.get(c.chunk_id) or c.quote for c in answer.citations}


def score_case(case: GoldCase, answer: Answer, passages: dict[int, str]) -> dict[str, float | None]:
    scores: dict[str, float | None] = dict(metrics.retrieval_scores(answer, case.expected_sources))
    scores["coverage.dimension_recall"] = (metrics.dimension_recall(answer.questions, case.expected_dimensions)
                                           if case.kind == "initiative" else None)
    scores["coverage.key_point_recall"] = metrics.key_point_recall_on(metrics.key_point_surface(answer, case.kind),
                                                                      case.key_points)
    scores["coverage.expected_question"] = metrics.expected_question_asked(answer.questions, case.expected_questions)
    scores["signs.named"] = metrics.sign_named(answer, case.expected_signs)
    scores["signs.named_and_asked"] = metrics.sign_named_and_asked(answer, case.expected_signs, case.expected_questions)
    scores["citations.valid"] = metrics.citations_valid(answer)
    scores["citations.supported"] = metrics.citations_supported(answer, passages)
    expect_refusal = case.expect_refusal if case.expect_refusal is not None else (False if case.in_scope else None)
    scores["refusal.accuracy"] = metrics.refusal_correct(answer, expect_refusal)
    scores["refusal.false_refusal_rate"] = metrics.declined_in_scope(answer, case.in_scope)
    scores["refusal.false_answer_rate"] = metrics.answered_out_of_scope(answer, case.expect_refusal)
    scores["intent.accuracy"] = metrics.intent_correct(answer, case.kind)
    if case.reference:
        scores["answer.token_f1"] = textsim.token_f1(answer.body or answer.text, case.reference)
        scores["answer.chrf"] = textsim.chrf(answer.body or answer.text, case.reference)
    else:
        scores["answer.token_f1"] = scores["answer.chrf"] = None
    return scores


def case_record(case: GoldCase, answer: Answer, scores: dict, seconds: float) -> dict[str, Any]:
    surface = metrics.key_point_surface(answer, case.kind)
    asked_dims = {q.dimension for q in answer.questions}
    return {
        "id": case.id,
        "kind": case.kind,
        "split": case.split or NO_SPLIT,
        "set": case.set,
        "variant_of": case.variant_of,
        "variant": case.variant,
        "message": case.message,
        "expected_dimensions": list(case.expected_dimensions),
        "metrics": scores,
        "seconds": round(seconds, 4),
        "answer": {
            "text": answer.text,
            "refused": answer.refused,
            "declined": metrics.declined(answer),
            "kind": answer.kind,
            "question_ids": [q.id for q in answer.questions],
            "dimensions": [q.dimension for q in answer.questions],
            "documents": metrics.document_ranking(answer),
            "coverage": answer.coverage,
            "instruction_noted": metrics.instruction_noted(answer),
            "signs": [s.id for s in answer.signs],
        },
        "missed_key_points": [kp for kp in case.key_points if not metrics.key_point_covered(kp, surface)],
        "missed_dimensions": [d for d in case.expected_dimensions if d not in asked_dims] if case.kind == "initiative" else [],
        "missed_sources": [d for d in case.expected_sources if d not in metrics.document_ranking(answer)[:5]],
    }


_ACTIVE_RE = re.compile(r"https?://|www\.|\]\(|<[a-zA-Z/!]|&lt;|&#", re.IGNORECASE)
_NUMBER_RE = re.compile(r"\d+(?:[:/.,]\d+)*")


def llm_figures(answer: Answer, bank_why: Callable[[str], str | None]) -> dict[str, Any]:
    """What the model wrote and what the chef was shown of it, checked twice.

    Shown model sentences: the verified text (`Answer.body` in mode "llm") and every question whose why is not
    the bank's own. `unsupported_shown` checks each with the shared `support.check` against the passages it cites
    (the quotes the model saw); `cross_check` is independent of it: a number that occurs in none of the cited
    quotes, or a URL, link or HTML tag anywhere in the sentence."""
    shown: list[tuple[str, list[int]]] = []
    if answer.mode == "llm":
        shown += [(s, [int(n) for n in metrics.MARKER_RE.findall(s)]) for s in split_sentences(answer.body) if s.strip()]
        shown += [(q.why, list(q.citations)) for q in answer.questions if q.why != bank_why(q.id)]
    unsupported = flagged = 0
    for sentence, ns in shown:
        quotes = [c.quote for n in ns if (c := answer.citation(n)) is not None]
        if not support.check(sentence, quotes).ok:
            unsupported += 1
        cited = " ".join(quotes)
        numbers = _NUMBER_RE.findall(metrics.MARKER_RE.sub("", sentence))
        if not quotes or _ACTIVE_RE.search(sentence) or any(n not in cited for n in numbers):
            flagged += 1
    return {"mode": answer.mode, "model_sentences": answer.model_sentences, "removed_sentences": answer.removed_sentences,
            "shown": len(shown), "unsupported_shown": unsupported, "cross_check": flagged}


def summarize_llm(records: Sequence[dict]) -> dict[str, Any] | None:
    """The LLM figures of a run (None when no LLM was configured: no answer went to a model)."""
    used = [r for r in records if r.get("llm", {}).get("mode") in ("llm", "fallback")]
    if not used:
        return None
    written = sum(r["llm"]["model_sentences"] for r in used)
    removed = sum(r["llm"]["removed_sentences"] for r in used)
    seconds = sorted(r["seconds"] for r in used)
    return {
        "cases": len(used),
        "llm": sum(r["llm"]["mode"] == "llm" for r in used),
        "fallback_rate": sum(r["llm"]["mode"] == "fallback" for r in used) / len(used),
        "model_sentences": written,
        "removed_sentences": removed,
        "kept_share": (written - removed) / written if written else None,
        "shown_sentences": sum(r["llm"]["shown"] for r in used),
        "unsupported_shown": sum(r["llm"]["unsupported_shown"] for r in used),
        "cross_check": sum(r["llm"]["cross_check"] for r in used),
        "latency": {"p50": seconds[len(seconds) // 2], "p95": seconds[int(0.95 * (len(seconds) - 1))]},
    }


def case_score(record: dict) -> float | None:
    """One number per case for ranking the weakest: the mean of its quality metrics (baselines left out)."""
    values = [v for k, v in record["metrics"].items()
              if v is not None and k in METRIC_KEYS and k not in LOWER_IS_BETTER]
    values += [1.0 - v for k, v in record["metrics"].items() if v is not None and k in LOWER_IS_BETTER]
    return sum(values) / len(values) if values else None


def ask_case(pipeline: Any, case: GoldCase) -> Answer:
    """Earlier messages of the conversation first, then the case's own message with that history."""
    turns: list[Turn] = []
    for earlier in case.history:
        turns.append(Turn(earlier, pipeline.ask(earlier, list(turns))))
    return pipeline.ask(case.message, turns)


def run_cases(pipeline: Any, cases: Sequence[GoldCase], progress: bool = True) -> list[dict[str, Any]]:
    from tqdm import tqdm

    ledger = getattr(getattr(pipeline, "index", None), "ledger", None)

    def chunk_text(ids: list[str]) -> dict[str, str]:
        return {cid: chunk.text for cid, chunk in ledger.chunks(ids).items()} if ledger and ids else {}

    bank = getattr(getattr(pipeline, "coaching", None), "bank", None) if getattr(pipeline, "composer", None) else None

    def bank_why(qid: str) -> str | None:
        q = bank.question(qid) if bank is not None else None
        return q.why if q is not None else None

    records = []
    for case in tqdm(cases, desc="Utvärderar", unit="fall", disable=not progress):
        started = time.perf_counter()
        answer = ask_case(pipeline, case)
        seconds = time.perf_counter() - started
        scores = score_case(case, answer, passages_for(answer, chunk_text if ledger else None))
        record = case_record(case, answer, scores, seconds)
        if answer.mode != "offline":
            record["llm"] = llm_figures(answer, bank_why)
        records.append(record)
    return records


def _summary(records: Sequence[dict]) -> dict[str, Any]:
    return {"n": len(records), **aggregate(records, METRIC_KEYS + BASELINE_KEYS)}


def summarize_split(records: Sequence[dict]) -> dict[str, Any]:
    by_set = {}
    for name in dict.fromkeys(r["set"] for r in records):
        by_set[name] = _summary([r for r in records if r["set"] == name])
    by_kind = {k: _summary([r for r in records if r["kind"] == k]) for k in KINDS if any(r["kind"] == k for r in records)}
    return {
        **_summary(records),
        "by_set": by_set,
        "by_kind": by_kind,
        "by_dimension": dimension_recall_by_dimension(records),
        "consistency": consistency.consistency(records),
        "confusion": consistency.confusion(records),
    }


def summarize_run(records: list[dict], cases: Sequence[GoldCase] | None = None, bank: Sequence[Any] = ()) -> dict[str, Any]:
    """The results.json body: per split (dev, test, …), per set and kind, baselines, consistency, cases."""
    constant: list[str] = []
    if cases is not None and bank:
        constant = baselines.add_baselines(records, cases, bank)
    splits = {}
    for split in dict.fromkeys(r["split"] for r in records):
        splits[split] = summarize_split([r for r in records if r["split"] == split])
    seconds = sorted(r["seconds"] for r in records)
    return {
        "n": len(records),
        "splits": splits,
        "constant_questions": constant,
        "latency": {"p50": seconds[len(seconds) // 2] if seconds else None,
                    "p95": seconds[int(0.95 * (len(seconds) - 1))] if seconds else None},
        **({"llm": llm} if (llm := summarize_llm(records)) else {}),
        "cases": list(records),
    }


def dimension_recall_by_dimension(records: Sequence[dict]) -> dict[str, dict]:
    """For each expected dimension: how often the answer asked a question from it."""
    found: dict[str, list[float]] = {}
    for r in records:
        if r["kind"] != "initiative":
            continue
        missed = set(r["missed_dimensions"])
        for d in r.get("expected_dimensions", []):
            found.setdefault(d, []).append(0.0 if d in missed else 1.0)
    return {d: {"mean": sum(v) / len(v), "n": len(v)} for d, v in sorted(found.items())}
