"""`python -m evals.fusion [FOLDER]`: fit the channel weights on SweFAQ dev and show what each channel adds.

The corpus is ingested with our own `Index` into a throwaway folder, exactly as
`python -m evals.beir` does. For every query the raw score of every passage in
every channel (stem, part, fold, gram, and the dense cosine) is computed once;
then each weighting on a grid is scored the way `Index.search` fuses (each
channel divided by its best score for the query, weighted, added; a document
ranks by its best passage). Printed:

- the ablation table: each channel alone, the fitted fusion, and the fusion
  without each channel (its weight set to 0, the others kept);
- the fitted weights, to copy into `assistant/settings.py` (CHANNEL_WEIGHTS,
  DENSE_WEIGHT) when they beat the current ones;
- a 5-fold cross-validated figure: weights fit on four fifths of the queries,
  scored on the fifth, so the fitted figure's optimism shows.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from evals.beir import load_beir, write_corpus
from evals.ranking import ndcg_at_k

CHANNELS = ("stem", "part", "fold", "gram", "dense")
GRID = (0.0, 0.25, 0.5, 1.0, 2.0)
FOLDS = 5
DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "swefaq" / "dev-beir"


def channel_matrices(folder: Path, embedder=None) -> tuple[dict[str, np.ndarray], list[str], list[str], dict]:  # noqa: ANN001
    """({channel: queries × passages raw scores}, passage document ids, query ids, qrels)."""
    from assistant.ingestion.index import Index
    from assistant.settings import Settings
    from assistant.text import content_tokens

    corpus, queries, qrels = load_beir(folder)
    queries = {q: t for q, t in queries.items() if q in qrels}
    with tempfile.TemporaryDirectory(prefix="fusion-") as tmp:
        ids = write_corpus(corpus, Path(tmp) / "docs")
        index = Index(Settings(data_dir=Path(tmp) / "data"), embedder=embedder)
        try:
            report = index.ingest([Path(tmp) / "docs"])
            if report.failed:
                raise RuntimeError(f"{len(report.failed)} dokument kunde inte läsas in: {report.failed[:3]}")
            index.warm_up()
            lexical = index.lexical
            docs = [ids.get(cid.split(":", 1)[0], cid.split(":", 1)[0]) for cid in lexical.ids]
            out = {c: np.zeros((len(queries), len(lexical)), dtype=np.float32) for c in CHANNELS}
            for qi, text in enumerate(queries.values()):
                for channel, scores in lexical.channel_scores(content_tokens(text)).items():
                    out[channel][qi] = scores
                for cid, cosine in index.store.query(index.embedder.embed_query(text), len(lexical)):
                    row = lexical.row(cid)
                    if row is not None:
                        out["dense"][qi, row] = max(cosine, 0.0)
        finally:
            index.close()
    return out, docs, list(queries), qrels


def _normalised(raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for channel, matrix in raw.items():
        best = matrix.max(axis=1, keepdims=True)
        best[best == 0] = 1.0
        out[channel] = matrix / best
    return out


def ndcg(fused: np.ndarray, docs: list[str], qids: list[str], qrels: dict, rows: list[int] | None = None) -> float:
    """Mean nDCG@10 with a document ranked by its best passage (ties: the document whose first passage comes first)."""
    rows = list(rows) if rows is not None else list(range(len(qids)))
    if not rows:
        return 0.0
    order, columns, starts = _documents(tuple(docs))
    best = np.maximum.reduceat(fused[rows][:, columns], starts, axis=1)  # queries × documents
    ranked = np.argsort(-best, axis=1, kind="stable")[:, :10]
    values = []
    for i, qi in enumerate(rows):
        ranking = [order[d] for d in ranked[i] if best[i, d] > 0]
        values.append(ndcg_at_k(ranking, qrels[qids[qi]], 10))
    return float(np.mean(values))


@functools.lru_cache(maxsize=4)
def _documents(docs: tuple[str, ...]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Documents in order of their first passage, the passage columns grouped by document, and where each group starts."""
    order = list(dict.fromkeys(docs))
    at = {d: i for i, d in enumerate(order)}
    members: list[list[int]] = [[] for _ in order]
    for p, d in enumerate(docs):
        members[at[d]].append(p)
    starts = np.cumsum([0] + [len(m) for m in members[:-1]])
    return order, np.asarray([p for m in members for p in m], dtype=np.int64), starts


def fuse(norm: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    return sum(w * norm[c] for c, w in weights.items() if w)


def fit(norm: dict[str, np.ndarray], docs: list[str], qids: list[str], qrels: dict,
        rows: list[int] | None = None) -> tuple[float, dict[str, float]]:
    """The best weighting on the grid (ties: the smaller total weight, then grid order)."""
    best = (-1.0, 0.0, {})
    for combo in itertools.product(GRID, repeat=len(CHANNELS)):
        if not any(combo):
            continue
        weights = dict(zip(CHANNELS, combo))
        score = ndcg(fuse(norm, weights), docs, qids, qrels, rows)
        if score > best[0] + 1e-9 or (abs(score - best[0]) <= 1e-9 and sum(combo) < best[1]):
            best = (score, sum(combo), weights)
    return best[0], best[2]


def cross_validated(norm: dict[str, np.ndarray], docs: list[str], qids: list[str], qrels: dict) -> float:
    rng = np.random.default_rng(20261127)
    order = rng.permutation(len(qids))
    folds = [sorted(order[i::FOLDS].tolist()) for i in range(FOLDS)]
    scores = []
    for i, held in enumerate(folds):
        train = sorted(r for j, f in enumerate(folds) if j != i for r in f)
        _, weights = fit(norm, docs, qids, qrels, train)
        scores += [ndcg(fuse(norm, weights), docs, qids, qrels, [r]) for r in held]
    return float(np.mean(scores))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fusion", description="Anpassa kanalvikterna på SweFAQ dev.")
    parser.add_argument("folder", type=Path, nargs="?", default=DEFAULT, help="Mapp i BEIR-format (standard: SweFAQ dev).")
    parser.add_argument("--json", action="store_true", help="Skriv resultatet som JSON på sista raden.")
    args = parser.parse_args(argv)
    try:
        raw, docs, qids, qrels = channel_matrices(args.folder)
    except FileNotFoundError as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 2
    from assistant.settings import Settings

    settings = Settings()
    current = {**settings.channel_weights, "dense": settings.dense_weight}
    norm = _normalised(raw)
    best, weights = fit(norm, docs, qids, qrels)
    rows = [("bara " + c, ndcg(norm[c], docs, qids, qrels)) for c in CHANNELS]
    rows.append(("nuvarande vikter " + _fmt(current), ndcg(fuse(norm, current), docs, qids, qrels)))
    rows.append(("anpassade vikter " + _fmt(weights), best))
    for c in CHANNELS:
        if weights.get(c):
            rows.append((f"anpassade vikter utan {c}", ndcg(fuse(norm, {**weights, c: 0.0}), docs, qids, qrels)))
    cv = cross_validated(norm, docs, qids, qrels)
    print(f"{args.folder}: {len(qids)} frågor, {len(docs)} avsnitt\n")
    print("| Kanaler | nDCG@10 |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value:.3f} |")
    print(f"\nKorsvaliderat (5 delar, vikter anpassade på 4/5, mätta på 1/5): {cv:.3f}")
    if args.json:
        print(json.dumps({"rows": dict(rows), "weights": weights, "cross_validated": cv}, ensure_ascii=False))
    return 0


def _fmt(weights: dict[str, float]) -> str:
    return "(" + ", ".join(f"{c} {w:g}" for c, w in weights.items() if w) + ")"


if __name__ == "__main__":
    sys.exit(main())
