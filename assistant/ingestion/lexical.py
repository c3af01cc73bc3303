"""BM25 over Swedish stems, with compound parts as extra terms.

The stored tokens (in the ledger) are the persisted form; the in-memory
postings are rebuilt from them when the index opens or changes, because the
compound splitter depends on the vocabulary of the whole corpus.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

from assistant.text import Decompounder, STOPWORDS, content_tokens, stem


class BM25Index:
    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"k1 must be >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1 = k1
        self.b = b
        self.ids: list[str] = []
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._lengths: list[int] = []
        self._avg_length = 0.0
        self.decompounder = Decompounder()

    def __len__(self) -> int:
        return len(self.ids)

    def _terms(self, tokens: Iterable[str]) -> list[str]:
        terms: list[str] = []
        for tok in tokens:
            terms.append(stem(tok))
            terms.extend(stem(p) for p in self.decompounder.split(tok) if p not in STOPWORDS)
        return terms

    def build(self, documents: Iterable[tuple[str, list[str]]]) -> None:
        """Build from (chunk id, content tokens) pairs."""
        docs = list(documents)
        self.decompounder = Decompounder(tok for _, tokens in docs for tok in tokens)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.ids = []
        self._lengths = []
        for i, (chunk_id, tokens) in enumerate(docs):
            terms = Counter(self._terms(tokens))
            self.ids.append(chunk_id)
            self._lengths.append(sum(terms.values()))
            for term, tf in terms.items():
                postings[term].append((i, tf))
        self._postings = dict(postings)
        self._avg_length = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        tokens = content_tokens(query)
        if not tokens or not self.ids:
            return []
        self.decompounder.add(tokens)
        n = len(self.ids)
        scores: dict[int, float] = defaultdict(float)
        for term in set(self._terms(tokens)):
            plist = self._postings.get(term)
            if not plist:
                continue
            idf = math.log(1 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
            for i, tf in plist:
                norm = self.k1 * (1 - self.b + self.b * self._lengths[i] / self._avg_length)
                scores[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [(self.ids[i], score) for i, score in ranked]

    def query_terms(self, query: str) -> dict[str, tuple[float, frozenset[str]]]:
        """Each query term (stems and compound parts) with its idf and the chunk ids that contain it.

        Terms the corpus does not know get the highest idf, so a query whose
        salient words are absent from the corpus scores low coverage.
        """
        tokens = content_tokens(query)
        if not tokens:
            return {}
        self.decompounder.add(tokens)
        n = len(self.ids)
        out: dict[str, tuple[float, frozenset[str]]] = {}
        for term in set(self._terms(tokens)):
            plist = self._postings.get(term, [])
            idf = math.log(1 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
            out[term] = (idf, frozenset(self.ids[i] for i, _ in plist))
        return out
