"""`python -m evals.support [--dry-run]`: fit the support check's coverage threshold on the dev set and report it.

Each line of evals/support/{dev,test}.jsonl is a sentence, the passage text it cites (from a bundled
corpus document) and whether the passage supports it. The threshold that gives the highest accuracy
on dev (ties: the higher, stricter one) is stored with its dev and test figures in
assistant/data/support.json. Precision and recall are for the class "supported": precision is the
share of sentences the check lets through that really are supported.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from assistant.coaching import support
from assistant.data import path

HERE = Path(__file__).resolve().parent
GRID = [round(i / 100, 2) for i in range(30, 100)]


def load(name: str) -> list[dict]:
    file = HERE / f"{name}.jsonl"
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]


def figures(items: list[dict], min_coverage: float) -> dict:
    tp = fp = fn = tn = 0
    missed: Counter = Counter()
    for item in items:
        ok = support.check(item["sentence"], [item["passage"]], min_coverage).ok
        if ok and item["supported"]:
            tp += 1
        elif ok:
            fp += 1
            missed[item.get("type", "?")] += 1
        elif item["supported"]:
            fn += 1
        else:
            tn += 1
    n = len(items)
    return {"n": n, "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None, "accuracy": round((tp + tn) / n, 3) if n else None,
            "unsupported_passed": fp, "supported_removed": fn, "passed_by_type": dict(missed)}


def fit(dev: list[dict]) -> float:
    best = max(GRID, key=lambda t: (figures(dev, t)["accuracy"], t))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.support",
                                     description="Anpassa tröskeln för stödkontrollen på dev och rapportera på test.")
    parser.add_argument("--dry-run", action="store_true", help="Skriv inte assistant/data/support.json.")
    args = parser.parse_args(argv)
    try:
        dev, test = load("dev"), load("test")
    except (OSError, json.JSONDecodeError) as exc:
        print(f"Fel: kunde inte läsa den märkta mängden i {HERE}: {exc}", file=sys.stderr)
        return 2
    chosen = fit(dev)
    result = {"threshold": chosen, "dev": figures(dev, chosen), "test": figures(test, chosen),
              "fit": "högsta träffsäkerhet på evals/support/dev.jsonl; vid lika den högre tröskeln"}
    for split in ("dev", "test"):
        f = result[split]
        print(f"{split}: n={f['n']} precision={f['precision']} recall={f['recall']} accuracy={f['accuracy']} "
              f"(osakliga som släpptes igenom: {f['unsupported_passed']} {f['passed_by_type']}, "
              f"stödda som togs bort: {f['supported_removed']})")
    print(f"tröskel (andel täckta innehållsord): {chosen}")
    if not args.dry_run:
        path(support.MODEL_FILE).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        support.threshold.cache_clear()
        print(f"Sparad i {path(support.MODEL_FILE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
