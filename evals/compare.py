"""Compare two runs and hold floors: `--compare OLD_DIR` and `--min KEY=VALUE`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.runner import LOWER_IS_BETTER, METRIC_KEYS

TOLERANCE = 0.005  # differences smaller than this are reported as unchanged


def load_results(directory: Path) -> dict[str, Any]:
    path = Path(directory) / "results.json"
    if not path.exists():
        raise FileNotFoundError(f"Hittar inga tidigare resultat i {path}.")
    return json.loads(path.read_text(encoding="utf-8"))


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One Swedish line per metric: bättre, sämre or oförändrat, with both means."""
    lines = []
    for key in METRIC_KEYS:
        before, after = (old.get(key) or {}).get("mean"), (new.get(key) or {}).get("mean")
        if before is None or after is None:
            lines.append(f"{key}: saknas i {'den gamla' if before is None else 'den nya'} körningen")
            continue
        delta = after - before
        if abs(delta) < TOLERANCE:
            verdict = "oförändrat"
        elif (delta > 0) != (key in LOWER_IS_BETTER):
            verdict = "bättre"
        else:
            verdict = "sämre"
        lines.append(f"{key}: {verdict} {before:.3f} → {after:.3f} ({delta:+.3f})")
    return lines


def parse_floor(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"--min ska skrivas KEY=VALUE, fick {text!r}")
    key = key.strip()
    if key != "n" and key not in METRIC_KEYS:
        raise ValueError(f"okänt mått {key!r}; välj bland: n, {', '.join(METRIC_KEYS)}")
    try:
        return key, float(value)
    except ValueError:
        raise ValueError(f"--min {key}: värdet måste vara ett tal, fick {value!r}") from None


def check_floors(results: dict[str, Any], floors: list[tuple[str, float]]) -> list[str]:
    """Failures, in Swedish. For lower-is-better metrics the value is a ceiling."""
    failures = []
    for key, limit in floors:
        entry = results.get(key)
        value = entry if isinstance(entry, (int, float)) else (entry or {}).get("mean")
        if value is None:
            failures.append(f"{key}: inget värde att pröva mot {limit}")
        elif key in LOWER_IS_BETTER and value > limit:
            failures.append(f"{key} = {value:.3f} är över taket {limit}")
        elif key not in LOWER_IS_BETTER and value < limit:
            failures.append(f"{key} = {value:.3f} är under golvet {limit}")
    return failures
