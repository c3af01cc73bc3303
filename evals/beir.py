"""`python -m evals.beir DIR [--json]`: our retrieval on a BEIR-format folder.

The folder holds corpus.jsonl, queries.jsonl and qrels/test.tsv. It is read in
place; the corpus is ingested with our own `Index.ingest` into a throwaway data
directory (one .txt file per corpus document, the title as front matter), and
each query is searched in the dense, lexical and hybrid modes. A document's
rank is the rank of its best chunk. Scores: nDCG@10, Recall@10, MRR@10
(evals.ranking, checked against pytrec_eval in tests/test_beir.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

from evals.ranking import dedupe, score_run

MODES = ("stem", "part", "fold", "gram", "dense", "lexical", "hybrid")
DEPTH = 10
CHUNK_DEPTH = 50  # chunks fetched per query so that ten distinct documents remain after merging


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, float]]:
    qrels: dict[str, dict[str, float]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split("\t")
        if len(parts) < 3 or (lineno == 1 and not parts[2].strip().lstrip("-").isdigit()):
            continue  # header or blank line
        qrels.setdefault(parts[0], {})[parts[1]] = float(parts[2])
    return qrels


def load_beir(folder: Path) -> tuple[list[dict], dict[str, str], dict[str, dict[str, float]]]:
    folder = Path(folder)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        if not (folder / name).exists():
            raise FileNotFoundError(f"{folder} saknar {name}; mappen måste vara i BEIR-format.")
    corpus = read_jsonl(folder / "corpus.jsonl")
    queries = {str(q["_id"]): q["text"] for q in read_jsonl(folder / "queries.jsonl")}
    return corpus, queries, read_qrels(folder / "qrels" / "test.tsv")


def write_corpus(corpus: list[dict], target: Path) -> dict[str, str]:
    """One .txt file per document; returns our document id → the BEIR id."""
    from assistant.ingestion.loaders import document_id_for

    target.mkdir(parents=True, exist_ok=True)
    ids: dict[str, str] = {}
    for i, doc in enumerate(corpus):
        beir_id = str(doc["_id"])
        stem = beir_id if document_id_for(Path(f"{beir_id}.txt")) not in ids else f"{beir_id}-{i}"
        path = target / f"{stem}.txt"
        title = (doc.get("title") or "").strip()
        head = "---\n" + yaml.safe_dump({"titel": title}, allow_unicode=True) + "---\n" if title else ""
        path.write_text(head + doc.get("text", ""), encoding="utf-8")
        ids[document_id_for(path)] = beir_id
    return ids


def run_mode(search: Callable[..., list], queries: dict[str, str], ids: dict[str, str], mode: str) -> dict[str, list[str]]:
    run = {}
    for qid, text in queries.items():
        hits = search(text, k=CHUNK_DEPTH, mode=mode)
        run[qid] = dedupe(ids.get(h.chunk.document_id, h.chunk.document_id) for h in hits)[:DEPTH]
    return run


def build_runs(folder: Path, embedder=None, progress: bool = True):  # noqa: ANN001, ANN201
    """Ingest the corpus into a throwaway index and search every judged query in each mode.

    Returns ({mode: {query id: [BEIR doc ids, best first]}}, qrels).
    """
    from assistant.ingestion.index import Index
    from assistant.settings import Settings

    corpus, queries, qrels = load_beir(folder)
    queries = {q: t for q, t in queries.items() if q in qrels}
    with tempfile.TemporaryDirectory(prefix="beir-") as tmp:
        ids = write_corpus(corpus, Path(tmp) / "docs")
        settings = Settings(data_dir=Path(tmp) / "data", corpus_dir=Path(tmp) / "docs")
        index = Index(settings, embedder=embedder)
        try:
            report = index.ingest([Path(tmp) / "docs"], progress=progress)
            if report.failed:
                raise RuntimeError(f"{len(report.failed)} dokument kunde inte läsas in: {report.failed[:3]}")
            index.warm_up()
            return {mode: run_mode(index.search, queries, ids, mode) for mode in MODES}, qrels
        finally:
            index.close()


def evaluate(folder: Path, embedder=None, progress: bool = True) -> dict[str, dict[str, float]]:  # noqa: ANN001
    runs, qrels = build_runs(folder, embedder, progress)
    return {mode: score_run(runs[mode], qrels, DEPTH) for mode in MODES}


def format_table(scores: dict[str, dict[str, float]]) -> str:
    rows = ["| Läge | nDCG@10 | Recall@10 | MRR@10 |", "|---|---|---|---|"]
    for mode in MODES:
        s = scores[mode]
        rows.append(f"| {mode} | {s['ndcg_at_10']:.3f} | {s['recall_at_10']:.3f} | {s['mrr_at_10']:.3f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.beir", description="Sökkvalitet på en mapp i BEIR-format.")
    parser.add_argument("folder", type=Path, help="Mapp med corpus.jsonl, queries.jsonl och qrels/test.tsv.")
    parser.add_argument("--json", action="store_true", help="Skriv resultatet som JSON på sista raden.")
    args = parser.parse_args(argv)
    try:
        scores = evaluate(args.folder, progress=not args.json)
    except FileNotFoundError as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    print(f"{args.folder}\n")
    print(format_table(scores))
    if args.json:
        print(json.dumps(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
