"""`python -m evals --gold PATH [--out DIR] [--compare OLD_DIR] [--min KEY=VALUE ...]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.errors import AssistantError
from evals.compare import check_floors, compare, load_results, parse_floor
from evals.gold import GoldError, load_gold
from evals.report import write_report
from evals.runner import METRIC_KEYS, run_cases, summarize_run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description="Utvärdera svaren mot en guldmängd.")
    parser.add_argument("--gold", required=True, type=Path, help="En .jsonl-fil eller en mapp med sådana.")
    parser.add_argument("--out", type=Path, default=Path("evals/out/latest"), help="Mapp för results.json, report.md och diagram.")
    parser.add_argument("--compare", type=Path, metavar="OLD_DIR", help="Jämför med en tidigare körnings mapp.")
    parser.add_argument("--min", action="append", default=[], metavar="KEY=VALUE",
                        help="Golv för ett mått (tak för refusal.false_refusal_rate); kan upprepas.")
    parser.add_argument("--no-progress", action="store_true", help="Ingen förloppsindikator.")
    return parser


def main(argv: list[str] | None = None, pipeline=None) -> int:  # noqa: ANN001 - tests may pass a built Pipeline
    args = build_parser().parse_args(argv)
    try:
        floors = [parse_floor(f) for f in args.min]
        cases = load_gold(args.gold)
        old = load_results(args.compare) if args.compare else None
    except (GoldError, ValueError, FileNotFoundError) as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    try:
        if pipeline is None:
            from assistant.pipeline import Pipeline
            from assistant.settings import Settings

            pipeline = Pipeline.from_settings(Settings())
            if pipeline.index.is_empty():
                print("Fel: indexet är tomt. Kör först `make index` (eller `python ingest.py`).", file=sys.stderr)
                return 2
        pipeline.warm_up()
        records = run_cases(pipeline, cases, progress=not args.no_progress)
    except AssistantError as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    results = summarize_run(records)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    write_report(results, args.out, str(args.gold))
    print(f"{results['n']} fall utvärderade; rapport i {args.out / 'report.md'}")
    for key in METRIC_KEYS:
        if results.get(key):
            print(f"  {key}: {results[key]['mean']:.3f} (n={results[key]['n']})")
    if old is not None:
        print(f"Jämfört med {args.compare}:")
        for line in compare(old, results):
            print(f"  {line}")
    failures = check_floors(results, floors)
    for failure in failures:
        print(f"Under golvet: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
