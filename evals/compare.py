"""Compare two runs and hold floors: `--compare OLD_DIR` and `--min [SPLIT[/SET]:]KEY=VALUE`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.runner import LOWER_IS_BETTER, METRIC_KEYS

TOLERANCE = 0.005  # differences smaller than this are reported as unchanged


def load_results(directory: Path) -> dict[str, Any]:
    path = Path(directory) / "results.json"
    if not path.exists():
        raise FileNotFoundError(f"Hittar inga tidigare resultat i {path}.")
    return json.loads(path.read_text(encoding="utf-8"))


def _mean(summary: dict | None, key: str) -> float | None:
    return ((summary or {}).get(key) or {}).get("mean")


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One Swedish line per split and metric: bättre, sämre or oförändrat, with both means."""
    lines = []
    for split, now in new.get("splits", {}).items():
        before = old.get("splits", {}).get(split)
        for key in METRIC_KEYS:
            a, b = _mean(before, key), _mean(now, key)
            if a is None and b is None:
                continue
            if a is None or b is None:
                lines.append(f"{split} {key}: saknas i {'den gamla' if a is None else 'den nya'} körningen")
                continue
            delta = b - a
            if abs(delta) < TOLERANCE:
                verdict = "oförändrat"
            elif (delta > 0) != (key in LOWER_IS_BETTER):
                verdict = "bättre"
            else:
                verdict = "sämre"
            lines.append(f"{split} {key}: {verdict} {a:.3f} → {b:.3f} ({delta:+.3f})")
    return lines


@dataclass(frozen=True)
class Floor:
    key: str
    value: float
    split: str | None = None  # None: every split
    set: str | None = None  # None: the whole split

    def __str__(self) -> str:
        where = f"{self.split}{'/' + self.set if self.set else ''}:" if self.split else ""
        return f"{where}{self.key}={self.value}"


def parse_floor(text: str) -> Floor:
    scope, _, rest = text.rpartition(":") if ":" in text.split("=", 1)[0] else ("", "", text)
    key, sep, value = rest.partition("=")
    if not sep:
        raise ValueError(f"--min ska skrivas [DEL[/MÄNGD]:]MÅTT=VÄRDE, fick {text!r}")
    key = key.strip()
    if key != "n" and key not in METRIC_KEYS:
        raise ValueError(f"okänt mått {key!r}; välj bland: n, {', '.join(METRIC_KEYS)}")
    split, _, set_name = scope.partition("/")
    try:
        return Floor(key, float(value), split or None, set_name or None)
    except ValueError:
        raise ValueError(f"--min {key}: värdet måste vara ett tal, fick {value!r}") from None


def check_floors(results: dict[str, Any], floors: list[Floor]) -> list[str]:
    """Failures, in Swedish. For lower-is-better metrics the value is a ceiling."""
    failures = []
    for floor in floors:
        splits = [floor.split] if floor.split else list(results.get("splits", {}))
        for split in splits:
            summary = results.get("splits", {}).get(split)
            if summary is not None and floor.set:
                summary = summary["by_set"].get(floor.set)
            entry = (summary or {}).get(floor.key)
            value = entry if isinstance(entry, (int, float)) else (entry or {}).get("mean")
            where = f"{split}{'/' + floor.set if floor.set else ''}"
            if value is None:
                failures.append(f"{where} {floor.key}: inget värde att pröva mot {floor.value}")
            elif floor.key in LOWER_IS_BETTER and value > floor.value:
                failures.append(f"{where} {floor.key} = {value:.3f} är över taket {floor.value}")
            elif floor.key not in LOWER_IS_BETTER and value < floor.value:
                failures.append(f"{where} {floor.key} = {value:.3f} är under golvet {floor.value}")
    return failures
