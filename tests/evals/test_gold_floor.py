"""CI floor: every gold set, run once through the real pipeline, must not fall below today's figures.

The floors guard against regressions; they are not targets. They sit a little
below the figures measured when they were set (the second number), on the dev
split (which we tune on) and on the test split (which we only report, so a
floor there is never a reason to tune). Raise them when the assistant gets
better; never lower one to let a regression pass without saying why in the commit.
"""

from __future__ import annotations

import pytest

from assistant.settings import PROJECT_ROOT
from evals.gold import load_gold
from evals.runner import LOWER_IS_BETTER, run_cases, summarize_run

# split → metric → (floor, measured with the offline pipeline and the bundled corpus, 2026-11-28,
# after the warning-sign detector and the learned first question per dimension were trained on the labelled
# training initiatives (235 more of them written for the warning signs), the words of a query get the
# corpus's spelling before retrieval, a question's channel weights are fit on dev, and the message-kind model
# learns from 496 more questions; the floors themselves are those set on 2026-11-27, after the corpus fixes
# against the re-read fact sheet and the selection's centrality feature).
# Test shown.hit_at_5 fell from 0.787 to 0.735 with that selection change (the questions asked now cite other
# documents than the expected ones more often), while test dimension recall rose 0.761 → 0.833 and paraphrase
# consistency 0.750 → 0.821; its floor was lowered with that trade-off, not to hide it.
# For lower-is-better metrics (LOWER_IS_BETTER) the first number is a ceiling.
FLOORS = {
    "dev": {
        "retrieval.hit_at_5": (0.84, 0.908),
        "shown.hit_at_5": (0.82, 0.869),
        "coverage.dimension_recall": (0.80, 0.879),
        "coverage.key_point_recall": (0.47, 0.535),
        "signs.named_and_asked": (0.85, 0.889),
        "citations.valid": (1.0, 1.000),  # every [n] is a passage retrieval returned, always
        # Measured with the support check the LLM verifier uses (assistant/coaching/support.py): stricter than
        # the evaluation's own check before (0.884), which took a paraphrased "why" as supported; see README.
        "citations.supported": (0.50, 0.597),
        "refusal.false_refusal_rate": (0.03, 0.003),
        "refusal.false_answer_rate": (0.04, 0.019),
        "intent.accuracy": (0.79, 0.866),
    },
    "test": {
        "retrieval.hit_at_5": (0.88, 0.926),
        "shown.hit_at_5": (0.69, 0.824),
        "coverage.dimension_recall": (0.78, 0.833),
        "coverage.key_point_recall": (0.44, 0.526),
        "signs.named_and_asked": (0.58, 0.667),
        "citations.valid": (1.0, 1.000),
        "citations.supported": (0.48, 0.570),  # 0.862 with the earlier, looser check
        "refusal.false_refusal_rate": (0.08, 0.027),
        "refusal.false_answer_rate": (0.04, 0.010),
        "intent.accuracy": (0.76, 0.789),
    },
}


@pytest.fixture(scope="module")
def results(corpus_settings, corpus_index):  # noqa: ANN001, ANN201
    from assistant.pipeline import Pipeline

    pipeline = Pipeline.from_settings(corpus_settings, index=corpus_index)
    pipeline.warm_up()
    cases = load_gold(PROJECT_ROOT / "evals" / "gold")
    return summarize_run(run_cases(pipeline, cases, progress=False))


@pytest.mark.slow
@pytest.mark.parametrize(("split", "key"), [(s, k) for s, floors in FLOORS.items() for k in sorted(floors)])
def test_metric_holds_its_floor(results, split: str, key: str) -> None:  # noqa: ANN001
    limit, measured = FLOORS[split][key]
    value = results["splits"][split][key]["mean"]
    if key in LOWER_IS_BETTER:
        assert value <= limit, f"{split} {key} = {value:.3f} rose above the ceiling {limit} (was {measured} when set)"
    else:
        assert value >= limit, f"{split} {key} = {value:.3f} fell below the floor {limit} (was {measured} when set)"
