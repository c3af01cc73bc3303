"""How well the passage screening separates guidance prose from instructions hidden in documents.

    python -m evals.screening [--folds 5] [--out DIR]

Cross-validation on `training/passages.jsonl` (the chat-message instructions are
always in the training part; each fold of the passage set is held out once):
for each threshold, the share of hidden instructions found (recall) and the
share of ordinary sentences wrongly held back. Then the bundled corpus, which
the detector never trains on: how many of its chunks and sentences would be
held back at the chosen threshold (each one is a guidance passage lost).
The threshold in `assistant/ingestion/screening.py` is chosen from these
figures (see the comment there). Last, SweFAQ's agency answers, never used for
any choice: how much ordinary public-sector prose would be held back.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from assistant.coaching.classifiers import _read_jsonl
from assistant.data import path
from assistant.ingestion import screening
from assistant.ingestion.loaders import load_file

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SWEFAQ = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "swefaq" / "dev-beir" / "corpus.jsonl"


def cross_validate(folds: int = 5, seed: int = 13) -> dict:
    base = _read_jsonl(path("training/instructions.jsonl"))
    rows = _read_jsonl(path("training/passages.jsonl"))
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    scored: list[tuple[float, bool]] = []
    for f in range(folds):
        held = {i for k, i in enumerate(order) if k % folds == f}
        model = screening.PassageModel(base + [r for i, r in enumerate(rows) if i not in held])
        test = [rows[i] for i in sorted(held)]
        probs = model.probabilities([r["text"] for r in test])
        scored += [(p, bool(r["instruction"])) for p, r in zip(probs, test, strict=True)]
    positives = sum(y for _, y in scored) or 1
    negatives = sum(not y for _, y in scored) or 1
    return {
        "rows": len(rows), "instructions": positives, "ordinary": negatives,
        "by_threshold": {
            str(t): {
                "recall": round(sum(p >= t and y for p, y in scored) / positives, 3),
                "false_positive_rate": round(sum(p >= t and not y for p, y in scored) / negatives, 3),
            }
            for t in THRESHOLDS
        },
    }


def corpus_check(threshold: float = screening.THRESHOLD) -> dict:
    model = screening.PassageModel.bundled()
    sentences, flagged = 0, []
    files = sorted(p for p in CORPUS.iterdir() if p.suffix in {".md", ".txt", ".pdf", ".docx"})
    for file in files:
        doc = load_file(file, 50_000_000)
        for section in doc.sections:
            heading = " > ".join(section.heading_path) or None
            parts = list(screening.sentences_of(section.text, heading))
            sentences += len(parts)
            for sentence, p in zip(parts, model.probabilities(parts), strict=True):
                if p >= threshold:
                    flagged.append({"document": doc.document_id, "sentence": sentence, "p": round(p, 3)})
    return {"documents": len(files), "sentences": sentences, "held_back": len(flagged), "examples": flagged[:20]}


def swefaq_check(corpus_file: Path, threshold: float = screening.THRESHOLD) -> dict:
    """Public agencies' answers to citizens (SweFAQ, never used to choose anything): ordinary prose full of
    "du ska …" instructions to the reader, none of it addressed to an assistant."""
    model = screening.PassageModel.bundled()
    parts = [s for line in corpus_file.read_text(encoding="utf-8").splitlines() if line.strip()
             for s in screening.sentences_of(json.loads(line)["text"])]
    probs = model.probabilities(parts)
    flagged = [{"sentence": s, "p": round(p, 3)} for s, p in zip(parts, probs, strict=True) if p >= threshold]
    return {"sentences": len(parts), "held_back": len(flagged), "examples": flagged[:10]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--swefaq", type=Path, default=SWEFAQ, help="SweFAQ corpus.jsonl (BEIR layout)")
    args = parser.parse_args(argv)
    result = {"threshold": screening.THRESHOLD, "cross_validation": cross_validate(args.folds),
              "corpus": corpus_check()}
    if args.swefaq.exists():
        result["swefaq"] = swefaq_check(args.swefaq)
    cv = result["cross_validation"]
    print(f"Granskning av avsnitt: {cv['instructions']} dolda instruktioner och {cv['ordinary']} vanliga meningar, "
          f"{args.folds}-faldig korsvalidering")
    print("tröskel  hittade instruktioner  vanliga meningar som hålls tillbaka")
    for t, row in cv["by_threshold"].items():
        mark = "  ← vald" if float(t) == screening.THRESHOLD else ""
        print(f"{float(t):7.2f}  {row['recall']:21.1%}  {row['false_positive_rate']:10.1%}{mark}")
    c = result["corpus"]
    print(f"Medföljande vägledning: {c['held_back']} av {c['sentences']} meningar i {c['documents']} dokument "
          "skulle hållas tillbaka.")
    for ex in c["examples"]:
        print(f"  {ex['document']}: {ex['p']:.2f} {ex['sentence'][:120]}")
    if "swefaq" in result:
        f = result["swefaq"]
        print(f"SweFAQ (myndigheters svar, aldrig använt för valet): {f['held_back']} av {f['sentences']} meningar "
              "skulle hållas tillbaka.")
        for ex in f["examples"]:
            print(f"  {ex['p']:.2f} {ex['sentence'][:120]}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "screening.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
