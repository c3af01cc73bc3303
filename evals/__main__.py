"""`python -m evals --gold PATH [--out DIR] [--compare OLD_DIR] [--min [SPLIT[/SET]:]KEY=VALUE ...]`.

Evaluates every set under PATH (dev and test, test reported last), writes
results.json, summary.md (one screen in Swedish), report.md and plots to DIR.
The run that DIR held before is kept as previous.json and compared with, so the
summary can say what got worse since the last run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from assistant.errors import AssistantError
from evals.compare import check_floors, compare, load_results, parse_floor
from evals.gold import GoldError, load_gold
from evals.report import LABELS, SPLIT_LABELS, write_report
from evals.runner import METRIC_KEYS, run_cases, summarize_run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description="Utvärdera svaren mot guldmängderna.")
    parser.add_argument("--gold", required=True, type=Path, help="En .jsonl-fil eller en mapp (läses rekursivt).")
    parser.add_argument("--out", type=Path, default=Path("evals/out/latest"), help="Mapp för resultat, rapport och diagram.")
    parser.add_argument("--compare", type=Path, metavar="OLD_DIR", help="Jämför med en annan körnings mapp "
                        "(standard: den körning som --out-mappen höll förut).")
    parser.add_argument("--min", action="append", default=[], metavar="[DEL[/MÄNGD]:]MÅTT=VÄRDE",
                        help="Golv för ett mått (tak för andelar felaktiga beslut), t.ex. test:retrieval.hit_at_5=0.9; "
                        "kan upprepas.")
    parser.add_argument("--no-progress", action="store_true", help="Ingen förloppsindikator.")
    return parser


def _bank(pipeline) -> tuple:  # noqa: ANN001
    from assistant.coaching.questionbank import QuestionBank

    settings = getattr(pipeline, "settings", None)
    return QuestionBank.load(settings.question_bank).questions if settings is not None else ()


def main(argv: list[str] | None = None, pipeline=None) -> int:  # noqa: ANN001 - tests may pass a built Pipeline
    args = build_parser().parse_args(argv)
    try:
        floors = [parse_floor(f) for f in args.min]
        cases = load_gold(args.gold)
        previous_dir = args.compare or (args.out if (args.out / "results.json").exists() else None)
        previous = load_results(previous_dir) if previous_dir else None
    except (GoldError, ValueError, FileNotFoundError) as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        if pipeline is None:
            from assistant.pipeline import Pipeline
            from assistant.settings import Settings

            pipeline = Pipeline.from_settings(Settings())
            if pipeline.index.is_empty():
                print("Fel: indexet är tomt. Kör först `make index` (eller `python ingest.py`).", file=sys.stderr)
                return 2
        pipeline.warm_up()
        warm = time.perf_counter()
        records = run_cases(pipeline, cases, progress=not args.no_progress)
        bank = _bank(pipeline)
    except AssistantError as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    results = summarize_run(records, cases, bank)
    results["seconds"] = round(time.perf_counter() - warm, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    if previous is not None and args.compare is None:
        shutil.copyfile(args.out / "results.json", args.out / "previous.json")
    (args.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    write_report(results, args.out, str(args.gold), previous)
    print(f"{results['n']} fall utvärderade på {results['seconds']:.1f} s med varmt index "
          f"({time.perf_counter() - started:.1f} s i allt); rapport i {args.out / 'report.md'}")
    for split in sorted(results["splits"], key=lambda s: s == "test"):
        data = results["splits"][split]
        print(f"{SPLIT_LABELS.get(split, split)}: {data['n']} fall")
        for key in METRIC_KEYS:
            if data.get(key):
                print(f"  {key}: {data[key]['mean']:.3f} (n={data[key]['n']})  {LABELS[key]}")
        for key in sorted(k for k in data if k.startswith("baseline.") and data[k]):
            print(f"  {key}: {data[key]['mean']:.3f}")
        for style, cons in (data.get("consistency") or {}).items():
            print(f"  consistency.{style}: {cons['mean']:.3f} (n={cons['n']})")
    if results.get("llm"):
        from evals.report import render_llm

        print("\n".join(line for line in render_llm(results["llm"]) if line.startswith("-")))
    if previous is not None:
        print(f"Jämfört med {previous_dir}:")
        for line in compare(previous, results):
            print(f"  {line}")
    failures = check_floors(results, floors)
    for failure in failures:
        print(f"Under golvet: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
