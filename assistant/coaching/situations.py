"""How well a message matches short example texts: the situations of questions and warning signs.

Each item (a question, a warning sign) has a few texts. They get a small lexical
index of their own over the same Swedish channels as the guidance, and dense
vectors from the same model (cached on disk, so they are computed once per
model). For a message the matcher returns, per item, the best of its texts:

- `relative`: the channels fused as in `Index.rank` (each divided by its best
  score for the message, weighted), for ranking items against each other;
- `dense` and `coverage`: absolute numbers (cosine; idf-weighted share of the
  message's terms found in the text), for deciding whether an item applies at all;
- `said`: the idf-weighted share of the text's own terms that the message
  contains, i.e. how much of it the message already says.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.ingestion.analysis import Analyzer
from assistant.ingestion.embedding import Embedder
from assistant.ingestion.fusion import fuse
from assistant.ingestion.lexical import LexicalIndex
from assistant.text import content_tokens

_SEP = "\x1f"


@dataclass(frozen=True)
class Match:
    relative: dict[str, float]
    dense: dict[str, float]
    coverage: dict[str, float]
    said: dict[str, float]


class SituationMatcher:
    def __init__(self, items: dict[str, Sequence[str]], analyzer: Analyzer, embedder: Embedder,
                 weights: dict[str, float], cache: Path | None = None) -> None:
        self.items = {k: list(v) for k, v in items.items() if v}
        self.weights = weights
        self._embedder = embedder
        ids = [f"{item}{_SEP}{i}" for item, texts in self.items.items() for i in range(len(texts))]
        texts = [t for texts in self.items.values() for t in texts]
        self._owner = [i.split(_SEP, 1)[0] for i in ids]
        self.index = LexicalIndex.build(zip(ids, (content_tokens(t) for t in texts)), analyzer)
        self.vectors = np.asarray(embed_cached(embedder, texts, cache), dtype=np.float32).reshape(len(texts), -1)
        part = self.index.channels["part"]
        scores = part.bm25.scores
        # Each text's total idf over its own terms, the denominator of `said`.
        idf = np.asarray(_idf(part.df, len(ids)), dtype=np.float32)
        per_pair = np.repeat(idf, np.diff(scores["indptr"]))
        self._text_idf = np.bincount(scores["indices"], weights=per_pair, minlength=len(ids)).astype(np.float32)

    def match(self, query: str, tokens: Sequence[str]) -> Match:
        n = len(self._owner)
        raw = self.index.channel_scores(tokens) if tokens else {}
        if query.strip() and n:
            raw["dense"] = np.maximum(self.vectors @ np.asarray(self._embedder.embed_query(query), dtype=np.float32), 0.0)
        fused = fuse(raw, self.weights, n)
        terms = self.index.query_terms(query) if tokens else {}
        total = sum(idf for idf, _ in terms.values()) or 1.0
        coverage = np.zeros(n, dtype=np.float32)
        found = np.zeros(n, dtype=np.float32)
        for idf, rows in terms.values():
            if rows.size:
                coverage[rows] += idf / total
                found[rows] += idf
        said_rows = np.divide(found, self._text_idf, out=np.zeros(n, dtype=np.float32), where=self._text_idf > 0)
        relative: dict[str, float] = {}
        dense: dict[str, float] = {}
        covered: dict[str, float] = {}
        said: dict[str, float] = {}
        for row, item in enumerate(self._owner):
            relative[item] = max(relative.get(item, 0.0), float(fused[row]))
            dense[item] = max(dense.get(item, 0.0), float(raw["dense"][row]) if "dense" in raw else 0.0)
            covered[item] = max(covered.get(item, 0.0), float(coverage[row]))
            said[item] = max(said.get(item, 0.0), float(said_rows[row]))
        best = max(relative.values(), default=0.0) or 1.0
        return Match({k: v / best for k, v in relative.items()}, dense, covered, said)


def _idf(df: np.ndarray, n: int) -> list[float]:
    """The same (Lucene) idf as the lexical index's coverage terms."""
    from bm25s.scoring import _select_idf_scorer

    scorer = _select_idf_scorer("lucene")
    return [float(scorer(int(d), n)) for d in df]


_lock = threading.Lock()


def embed_cached(embedder: Embedder, texts: list[str], cache: Path | None) -> list[list[float]]:
    """Passage vectors for short texts, kept in `cache` (a JSON file per model) so each is computed once."""
    if not texts:
        return []
    key = lambda t: hashlib.sha256(f"{embedder.model_name}\n{t}".encode()).hexdigest()[:24]  # noqa: E731
    with _lock:
        stored: dict[str, list[float]] = {}
        if cache is not None and cache.exists():
            try:
                stored = json.loads(cache.read_text(encoding="utf-8"))
            except ValueError:
                stored = {}
        missing = [t for t in dict.fromkeys(texts) if key(t) not in stored]
        if missing:
            for text, vector in zip(missing, embedder.embed_passages(missing), strict=True):
                stored[key(text)] = [round(x, 6) for x in vector]
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(".tmp")
                tmp.write_text(json.dumps(stored), encoding="utf-8")
                tmp.replace(cache)
        return [stored[key(t)] for t in texts]
