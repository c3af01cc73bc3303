"""Baselines printed beside every coverage figure, so that a figure says how much better than chance it is.

- *Random*: for each initiative, a random pick from the question bank of as many
  questions as the assistant asked (six if it asked none), scored the same way;
  the mean over `DRAWS` draws with a fixed seed.
- *Constant*: the same six questions for every initiative, namely the six the
  assistant asked most often over all initiatives of the run (ties by id). It
  shows what a fixed checklist would score.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

from assistant.answer import CoachingQuestion
from evals import metrics
from evals.gold import GoldCase

DRAWS = 200
SEED = 20261127
CONSTANT_SIZE = 6
KEYS = ("coverage.dimension_recall", "coverage.key_point_recall", "coverage.expected_question")


def _as_asked(questions: Sequence[Any]) -> list[CoachingQuestion]:
    return [CoachingQuestion(q.id, q.dimension, q.text, q.why) for q in questions]


def case_scores(case: GoldCase, asked: Sequence[CoachingQuestion]) -> dict[str, float | None]:
    return {
        "coverage.dimension_recall": metrics.dimension_recall(asked, case.expected_dimensions),
        "coverage.key_point_recall": metrics.key_point_recall_on(metrics.questions_surface(asked), case.key_points),
        "coverage.expected_question": metrics.expected_question_asked(asked, case.expected_questions),
    }


def random_scores(case: GoldCase, bank: Sequence[Any], n_asked: int, rng: random.Random) -> dict[str, float | None]:
    """Mean scores of `DRAWS` random picks of `n_asked` bank questions."""
    n = min(n_asked or CONSTANT_SIZE, len(bank))
    sums: dict[str, float] = {}
    for _ in range(DRAWS):
        for key, value in case_scores(case, _as_asked(rng.sample(list(bank), n))).items():
            if value is not None:
                sums[key] = sums.get(key, 0.0) + value
    return {key: (sums[key] / DRAWS if key in sums else None) for key in KEYS}


def constant_questions(records: Sequence[dict], bank: Sequence[Any]) -> list[Any]:
    """The six questions the assistant asked most often over the run's initiatives."""
    counts = Counter(qid for r in records if r["kind"] == "initiative" for qid in r["answer"]["question_ids"])
    by_id = {q.id: q for q in bank}
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    chosen = [by_id[qid] for qid, _ in top if qid in by_id][:CONSTANT_SIZE]
    for q in bank:  # a run with few initiatives: fill up in bank order
        if len(chosen) == CONSTANT_SIZE:
            break
        if q not in chosen:
            chosen.append(q)
    return chosen


def add_baselines(records: list[dict], cases: Sequence[GoldCase], bank: Sequence[Any]) -> list[str]:
    """Write `baseline.random.*` and `baseline.constant.*` into each initiative record's metrics.

    Returns the ids of the constant six, for the report.
    """
    rng = random.Random(SEED)
    constant = _as_asked(constant_questions(records, bank))
    by_id = {c.id: c for c in cases}
    for record in records:
        case = by_id[record["id"]]
        if case.kind != "initiative":
            continue
        for key, value in random_scores(case, bank, len(record["answer"]["question_ids"]), rng).items():
            record["metrics"][f"baseline.random.{key.split('.', 1)[1]}"] = value
        for key, value in case_scores(case, constant).items():
            record["metrics"][f"baseline.constant.{key.split('.', 1)[1]}"] = value
    return [q.id for q in constant]
