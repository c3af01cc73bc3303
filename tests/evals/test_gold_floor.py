"""CI floor: the bundled gold set, run once through the real pipeline, must not fall below today's figures.

The floors sit a little below the figures measured when they were set (see the
comments); raise them when the assistant gets better, never lower them to make
a regression pass without saying why in the commit.
"""

from __future__ import annotations

import pytest

from assistant.settings import PROJECT_ROOT
from evals.gold import load_gold
from evals.runner import run_cases, summarize_run

# metric: (floor, measured on 2026-11-27 with the offline pipeline and the bundled corpus)
FLOORS = {
    "retrieval.hit_at_5": (0.9, 0.967),
    "retrieval.recall_at_5": (0.72, 0.789),
    "retrieval.mrr_at_10": (0.76, 0.826),
    "retrieval.ndcg_at_10": (0.68, 0.75),
    "coverage.dimension_recall": (0.75, 0.828),
    "coverage.key_point_recall": (0.76, 0.828),
    "citations.valid": (1.0, 1.0),  # every [n] must resolve to a retrieved passage, always
    "citations.supported": (0.88, 0.933),
    "refusal.accuracy": (0.95, 1.0),
    "answer.token_f1": (0.22, 0.276),
    "answer.chrf": (0.38, 0.429),
}
CEILINGS = {"refusal.false_refusal_rate": (0.05, 0.0)}
# Out-of-scope and injection messages must be declined every time, whatever else changes.
OUT_OF_SCOPE_REFUSAL = 1.0


@pytest.fixture(scope="module")
def results(corpus_settings, corpus_index):  # noqa: ANN001, ANN201
    from assistant.pipeline import Pipeline

    pipeline = Pipeline.from_settings(corpus_settings, index=corpus_index)
    pipeline.warm_up()
    cases = load_gold(PROJECT_ROOT / "evals" / "gold")
    return summarize_run(run_cases(pipeline, cases, progress=False))


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(FLOORS))
def test_metric_stays_above_its_floor(results, key: str) -> None:  # noqa: ANN001
    floor, measured = FLOORS[key]
    value = results[key]["mean"]
    assert value >= floor, f"{key} = {value:.3f} fell below the floor {floor} (was {measured} when the floor was set)"


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(CEILINGS))
def test_metric_stays_below_its_ceiling(results, key: str) -> None:  # noqa: ANN001
    ceiling, measured = CEILINGS[key]
    value = results[key]["mean"]
    assert value <= ceiling, f"{key} = {value:.3f} rose above the ceiling {ceiling} (was {measured} when it was set)"


@pytest.mark.slow
def test_out_of_scope_messages_are_declined(results) -> None:  # noqa: ANN001
    oos = results["by_kind"]["out_of_scope"]["refusal.accuracy"]
    assert oos["mean"] >= OUT_OF_SCOPE_REFUSAL, [c["id"] for c in results["cases"] if c["kind"] == "out_of_scope" and c["metrics"]["refusal.accuracy"] == 0]
