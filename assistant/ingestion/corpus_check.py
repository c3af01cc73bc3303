"""`python -m assistant.ingestion.corpus_check`: numbers in the corpus without a source.

Every number in the text of a corpus document (years, percentages, amounts,
counts, SFS and report references) must appear in the fact sheet the corpus is
written from (../shared/facts/vagledning-fakta.md) or in one of the sources
named in the document's own front matter (publisher, title, year, note). The
same holds for the claims in the question bank (text and why) and the warning signs, against
the sources of the documents they cite. The script lists every number that does neither, with
its document and sentence;
the list must be empty (a test holds it so). Markdown sources of the PDF and
Word documents (corpus/_kallor/) are read instead of the generated files.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from assistant.ingestion.loaders import split_front_matter
from assistant.settings import PROJECT_ROOT
from assistant.text import split_sentences

FACT_SHEET = PROJECT_ROOT.parent / "shared" / "facts" / "vagledning-fakta.md"
NUMBER_RE = re.compile(r"(?<![\w:])\d+(?:[ \u00a0]\d{3})*(?:[.,:]\d+)*(?![\w])")


@dataclass(frozen=True)
class Unsourced:
    document: str
    number: str
    sentence: str

    def __str__(self) -> str:
        return f"{self.document}: {self.number} – ”{self.sentence[:160]}”"


def numbers(text: str) -> set[str]:
    """Number tokens, written the same way whatever the spacing: '5 400' and '5400' are one number."""
    return {re.sub(r"[ \u00a0]", "", m.group(0)).rstrip(".,") for m in NUMBER_RE.finditer(text)}


def english_numbers(text: str) -> set[str]:
    """Numbers in English text, also as Swedish writes them: '18.2' is '18,2', '1,094' is '1094'."""
    found = numbers(text)
    variants = set(found)
    for number in found:
        variants.add(number.replace(".", ","))
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+", number):
            variants.add(number.replace(",", ""))
    return variants


def documents(corpus: Path) -> list[Path]:
    generated = {p.stem for p in (corpus / "_kallor").glob("*.md")}
    files = [p for p in corpus.glob("*") if p.suffix in (".md", ".txt") and p.stem not in generated]
    return sorted(files + list((corpus / "_kallor").glob("*.md")))


def _source_text(value: object) -> str:
    if isinstance(value, dict):
        return " ".join(_source_text(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_source_text(v) for v in value)
    return str(value)


def _claims(corpus: Path) -> list[tuple[str, str, list[str]]]:
    """(label, text, cited document ids) for the claims in the bank and the warning signs.

    A question's text and why, and a sign's warning, are statements to the chef, so their numbers
    need a source too: the fact sheet or a source of a document they cite. Situations are examples
    of what a chef might say, not claims, and are not checked.
    """
    import yaml

    found: list[tuple[str, str, list[str]]] = []
    bank = corpus / "fragebank.yaml"
    if bank.exists():
        for q in (yaml.safe_load(bank.read_text(encoding="utf-8")) or {}).get("questions") or []:
            cited = [str(s.get("document")) for s in q.get("sources") or []]
            found.append((f"fragebank/{q.get('id')}", f"{q.get('text', '')} {q.get('why', '')}", cited))
    signs = corpus / "varningssignaler.yaml"
    if signs.exists():
        for sign in (yaml.safe_load(signs.read_text(encoding="utf-8")) or {}).get("signs") or []:
            cited = [str((sign.get("source") or {}).get("document"))]
            found.append((f"varningssignaler/{sign.get('id')}", str(sign.get("warning", "")), cited))
    return found


def unsourced(corpus: Path, fact_sheet: Path) -> list[Unsourced]:
    known_everywhere = english_numbers(fact_sheet.read_text(encoding="utf-8"))
    found: list[Unsourced] = []
    sources_of: dict[str, set[str]] = {}
    for path in documents(corpus):
        text = path.read_text(encoding="utf-8")
        meta, body_start = split_front_matter(text)
        sources_of[path.stem] = numbers(_source_text(meta.get("källor", [])))
        known = known_everywhere | sources_of[path.stem]
        seen: set[str] = set()
        for sentence in split_sentences(text[body_start:]):
            for number in sorted(numbers(sentence) - known - seen):
                seen.add(number)
                found.append(Unsourced(path.stem, number, " ".join(sentence.split())))
    for label, text, cited in _claims(corpus):
        known = known_everywhere.union(*(sources_of.get(doc, set()) for doc in cited))
        for number in sorted(numbers(text) - known):
            found.append(Unsourced(label, number, " ".join(text.split())))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.ingestion.corpus_check", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT / "corpus")
    parser.add_argument("--facts", type=Path, default=FACT_SHEET)
    args = parser.parse_args(argv)
    if not args.facts.exists():
        print(f"Faktabladet saknas: {args.facts}", file=sys.stderr)
        return 2
    missing = unsourced(args.corpus, args.facts)
    for item in missing:
        print(item)
    print(f"{len(missing)} tal utan källa.")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
