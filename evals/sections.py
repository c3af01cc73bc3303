"""`python -m evals.sections [--skeleton FILE]`: one question per corpus section, kept in step with the corpus.

Every `##` section of every corpus document should have at least one section
question in `evals/gold/{dev,test}/sections.jsonl`: a question a chef could
ask that this section answers, written by hand (not the heading reworded).
This script lists the sections from the documents as the index reads them
(Markdown, Word and PDF alike), reports those without a question and those
questions whose section no longer exists, and can write a skeleton with one
empty line per missing section. Each section's split is fixed by a hash of
its document and heading, so a section never moves between dev and test.

Exit status 1 when a section lacks a question or a question points nowhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from evals.gold import load_gold

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOLD = PROJECT_ROOT / "evals" / "gold"
SKIP = {"ordlista"}  # the glossary has entries, not sections; definitions are asked in questions.jsonl


def corpus_sections(corpus_dir: Path) -> list[tuple[str, str]]:
    """(document id, top-level heading) of every section, in corpus order."""
    from assistant.ingestion.index import collect_files
    from assistant.ingestion.loaders import load_file

    found: list[tuple[str, str]] = []
    for path in collect_files([corpus_dir]):
        doc = load_file(path, 10**9)
        if doc.document_id in SKIP:
            continue
        for section in doc.sections:
            if section.heading_path and (doc.document_id, section.heading_path[0]) not in found:
                found.append((doc.document_id, section.heading_path[0]))
    return found


def split_for(document_id: str, heading: str) -> str:
    """About a third of the sections go to test, fixed by a hash so the assignment never drifts."""
    digest = hashlib.sha256(f"{document_id}\n{heading}".encode()).digest()
    return "test" if digest[0] % 3 == 0 else "dev"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.sections", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT / "corpus")
    parser.add_argument("--skeleton", type=Path, help="Skriv en rad per avsnitt utan fråga till den här filen.")
    args = parser.parse_args(argv)
    sections = corpus_sections(args.corpus)
    cases = [c for c in load_gold(GOLD) if c.set == "sections"]
    asked: dict[tuple[str, str], list[str]] = {}
    for case in cases:
        for doc in case.expected_sources:
            asked.setdefault((doc, case.expected_section or ""), []).append(case.id)
    missing = [s for s in sections if s not in asked]
    stale = [(key, ids) for key, ids in asked.items() if key not in sections]
    wrong_split = [c.id for c in cases for d in c.expected_sources
                   if (d, c.expected_section or "") in sections and c.split != split_for(d, c.expected_section or "")]
    print(f"{len(sections)} avsnitt i korpusen, {len(cases)} avsnittsfrågor, {len(sections) - len(missing)} avsnitt har minst en fråga.")
    for doc, heading in missing:
        print(f"  saknar fråga: {doc} / {heading} ({split_for(doc, heading)})")
    for (doc, heading), ids in stale:
        print(f"  avsnittet finns inte längre: {doc} / {heading} ({', '.join(ids)})")
    for case_id in wrong_split:
        print(f"  ligger i fel del (dev/test): {case_id}")
    if args.skeleton and missing:
        lines = [json.dumps({"id": f"sec-{doc}-?", "kind": "question", "message": "", "expected_sources": [doc],
                             "expected_section": heading, "split": split_for(doc, heading)}, ensure_ascii=False)
                 for doc, heading in missing]
        args.skeleton.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"Skelett med {len(lines)} rader i {args.skeleton}: skriv frågorna, ta bort 'split' och flytta raderna "
              "till evals/gold/<split>/sections.jsonl.")
    return 1 if missing or stale or wrong_split else 0


if __name__ == "__main__":
    sys.exit(main())
