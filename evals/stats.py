"""Means with bootstrap 95% intervals, overall and per case kind."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence

SEED = 20261127  # fixed so that two runs on the same answers give the same intervals
RESAMPLES = 1000


def bootstrap_ci(values: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (2.5th and 97.5th percentiles)."""
    if not values:
        raise ValueError("bootstrap_ci needs at least one value, got none")
    if len(set(values)) == 1:
        return (float(values[0]), float(values[0]))
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(resamples))
    lo = means[int(0.025 * (resamples - 1))]
    hi = means[int(round(0.975 * (resamples - 1)))]
    return (lo, hi)


def summarize(values: Iterable[float | None]) -> dict | None:
    """{"mean", "ci95", "n"} over the non-None values, or None when there are none."""
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return None
    lo, hi = bootstrap_ci(kept)
    return {"mean": sum(kept) / len(kept), "ci95": [lo, hi], "n": len(kept)}


def aggregate(cases: Sequence[Mapping], keys: Sequence[str]) -> dict[str, dict | None]:
    """Summaries of each metric key over per-case `metrics` dicts."""
    return {key: summarize(case["metrics"].get(key) for case in cases) for key in keys}
