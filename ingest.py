"""Read guidance files into the index: `python ingest.py [PATH ...]`.

Defaults to the bundled corpus. Unchanged files are skipped, changed files
replace their chunks, and a file that cannot be read is reported in Swedish and
leaves its document in the index exactly as it was.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.boundary import guarded
from assistant.errors import AssistantError
from assistant.ingestion.index import Index
from assistant.logging_setup import configure
from assistant.settings import Settings

OUTCOME_SV = {"added": "tillagd", "updated": "uppdaterad", "unchanged": "oförändrad", "failed": "misslyckades"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Läs in vägledningsdokument i indexet.")
    parser.add_argument("paths", nargs="*", type=Path, help="Filer eller mappar (standard: corpus/).")
    parser.add_argument("--prune", action="store_true", help="Ta bort dokument vars filer inte längre finns.")
    parser.add_argument("--remove", action="append", default=[], metavar="ID", help="Ta bort ett dokument (kan upprepas).")
    parser.add_argument("--rebuild", action="store_true",
                        help="Bygg ett nytt index vid sidan av och byt till det när det är klart.")
    parser.add_argument("--replace", action="store_true",
                        help="Låt en fil ersätta ett dokument med samma id från en annan fil.")
    parser.add_argument("--check", action="store_true",
                        help="Jämför liggaren, vektorerna och det lexikala indexet och reparera det som skiljer.")
    parser.add_argument("--json", action="store_true", help="Skriv sammanfattningen som JSON på sista raden.")
    parser.add_argument("--quiet", action="store_true", help="Skriv bara sammanfattningen.")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure()
    return guarded(lambda: run(args), "ingest.py")


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    index = Index(settings)
    index.write_lock.on_wait = lambda message: print(message, file=sys.stderr, flush=True)
    if args.check:
        try:
            report = index.check()
        finally:
            index.close()
        for line in report.lines_sv():
            print(line)
        if args.json:
            print(json.dumps(report.counts(), ensure_ascii=False))
        return 0 if report.consistent else 1
    try:
        removed = []
        for doc_id in args.remove:
            if index.remove(doc_id):
                removed.append(doc_id)
            else:
                print(f"Inget dokument med id '{doc_id}' finns i indexet.", file=sys.stderr)
        paths = args.paths or ([] if args.remove and not args.rebuild else [settings.corpus_dir])

        def on_file(path: Path, outcome: str, reason: str | None) -> None:
            if args.quiet:
                return
            line = f"{OUTCOME_SV[outcome]:>13}  {path}"
            print(line + (f"\n               {reason}" if reason else ""), file=sys.stderr if reason else sys.stdout)

        progress = not args.quiet and sys.stderr.isatty()
        if args.rebuild:
            report = index.rebuild(paths, on_file=on_file, progress=progress)
        else:
            report = index.ingest(paths, prune=args.prune, on_file=on_file, progress=progress, replace=args.replace)
        report.removed.extend(removed)
    except AssistantError as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    finally:
        index.close()

    summary = report.summary()
    if report.chunks == 0 and not report.failed and not report.removed:
        print("Inget nytt att läsa in: indexet är redan aktuellt (0 avsnitt beräknades).")
    print(
        f"Klart på {summary['seconds']:.1f} s: {summary['added']} tillagda, {summary['updated']} uppdaterade, "
        f"{summary['unchanged']} oförändrade, {summary['removed']} borttagna, {len(report.failed)} misslyckade; "
        f"{summary['chunks']} nya avsnitt beräknade."
    )
    for failure in report.failed:
        print(f"Misslyckades: {failure['path']}: {failure['reason']}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
