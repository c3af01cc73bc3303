"""The lexical index: one bm25s BM25 matrix per channel, built once as an immutable snapshot.

bm25s stores the BM25 score of every (passage, term) pair in a sparse column
matrix, so a query only adds up the columns of its terms (numpy, no Python loop
over passages). Its own `index()` keeps every token of the corpus as a Python
object (5.8 GB for 100,000 passages of character n-grams), so the matrices are
built here without that: a passage × word-type count matrix times a word-type ×
term matrix per channel (scipy), weighted with bm25s's own Lucene idf and
term-frequency functions, and handed to a `bm25s.BM25` for querying.

A snapshot never changes after `build`. The `Index` builds a new one after each
write and swaps the reference, so any number of threads can query while that
happens, and a query never mutates anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import scipy.sparse as sp
from bm25s.scoring import _select_idf_scorer, _select_tfc_scorer

from assistant.ingestion.analysis import CHANNELS, Analyzer
from assistant.ingestion.decompound import Decompounder
from assistant.text import content_tokens

METHOD = "lucene"  # Lucene's idf, log(1 + (N - df + 0.5) / (df + 0.5)), is never negative
COVERAGE_CHANNEL = "fold"  # stems and compound parts without å/ä/ö: what coverage counts, however it was typed


@dataclass(frozen=True)
class Channel:
    """One channel's bm25s index, with its document frequencies for evidence."""

    bm25: bm25s.BM25
    df: np.ndarray  # documents containing each term, by term id

    @property
    def vocab(self) -> dict[str, int]:
        return self.bm25.vocab_dict

    def column(self, term_id: int) -> np.ndarray:
        """Rows (passages) that contain the term."""
        s = self.bm25.scores
        return s["indices"][s["indptr"][term_id]:s["indptr"][term_id + 1]]

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        ids = [self.vocab[t] for t in terms if t in self.vocab]
        if not ids:
            return np.zeros(self.bm25.scores["num_docs"], dtype=np.float32)
        return self.bm25.get_scores_from_ids(ids)


class LexicalIndex:
    """BM25 over the four Swedish channels of `assistant.ingestion.analysis`."""

    def __init__(self, ids: list[str], channels: dict[str, Channel], analyzer: Analyzer,
                 spelling: Spelling | None = None) -> None:
        self.ids = ids
        self.channels = channels
        self.analyzer = analyzer
        self.spelling = spelling or Spelling((), np.zeros(0, dtype=np.int64))
        self._rows = {cid: i for i, cid in enumerate(ids)}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def decompounder(self) -> Decompounder:
        return self.analyzer.decompounder

    def row(self, chunk_id: str) -> int | None:
        return self._rows.get(chunk_id)

    # -- building --------------------------------------------------------
    @classmethod
    def build(cls, entries: Iterable[tuple[str, list[str]]], analyzer: Analyzer | None = None,
              k1: float = 0.9, b: float = 0.9) -> LexicalIndex:
        """Build from (chunk id, content tokens) pairs. k1 and b were fit on SweFAQ dev (README)."""
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"k1 must be >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        analyzer = analyzer or Analyzer(Decompounder.from_hunspell())
        ids: list[str] = []
        types: dict[str, int] = {}
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        for row, (chunk_id, tokens) in enumerate(entries):
            ids.append(chunk_id)
            found = np.fromiter((types.setdefault(t, len(types)) for t in tokens), dtype=np.int32, count=len(tokens))
            rows.append(np.full(len(found), row, dtype=np.int32))
            cols.append(found)
        n_docs, n_types = len(ids), len(types)
        counts = sp.csr_matrix(
            (np.ones(sum(len(c) for c in cols), dtype=np.float32),
             (np.concatenate(rows) if rows else np.zeros(0, np.int32), np.concatenate(cols) if cols else np.zeros(0, np.int32))),
            shape=(n_docs, n_types),
        )  # duplicates are summed: token counts per passage
        del rows, cols
        by_type = list(types)
        channels = {}
        for name in CHANNELS:
            channels[name] = _channel(counts, by_type, analyzer, name, k1, b)
        spelling = Spelling.build(by_type, np.asarray(counts.sum(axis=0)).ravel(), analyzer, channels["fold"].vocab)
        return cls(ids, channels, analyzer, spelling)

    # -- querying --------------------------------------------------------
    def corrections(self, tokens: Sequence[str]) -> dict[str, str]:
        """Query words the corpus does not know as typed → the corpus's own spelling of them.

        A word of four letters or more typed without å/ä/ö gets the corpus form it folds to
        (nyttoagare → nyttoägare), so every channel, the dense one too, sees the word as the guidance
        writes it. A longer word that is neither in the corpus nor in the Swedish dictionary, and one
        edit (a letter missing, extra, wrong or two swapped) from a corpus word, gets that word: the most
        frequent one when several are. A real Swedish word the guidance never uses is left as it is.
        """
        stem_vocab, fold_vocab = self.channels["stem"].vocab, self.channels["fold"].vocab
        lexicon = self.decompounder.lexicon
        out: dict[str, str] = {}
        for token in dict.fromkeys(tokens):
            if len(token) < MIN_RESTORED or not token.isalpha():
                continue
            terms = self.analyzer.terms(token)
            if terms["stem"][0] in stem_vocab:
                continue
            key = terms["fold"][0]
            if key in fold_vocab:
                surface = self.spelling.surface(fold_vocab[key])
            elif len(key) >= MIN_CORRECTED and not lexicon.knows(token):
                found = [(f, e) for e in _edits(key) if e in fold_vocab and (f := self.spelling.frequency(fold_vocab[e]))]
                surface = self.spelling.surface(fold_vocab[max(found)[1]]) if found else None
            else:
                surface = None
            if surface and surface != token:
                out[token] = surface
        return out

    def corrected(self, query: str) -> str:
        """The query with `corrections` applied to its words, everything else as typed."""
        fixes = self.corrections(content_tokens(query))
        if not fixes:
            return query
        return WORD_RE.sub(lambda m: fixes.get(m.group(0).lower(), m.group(0)), query)

    def channel_scores(self, tokens: Sequence[str]) -> dict[str, np.ndarray]:
        """Channel → BM25 score of every passage (row order of `ids`) for the query's content tokens."""
        terms = self.analyzer.analyze(tokens)
        return {name: channel.scores(terms[name]) for name, channel in self.channels.items()}

    def search(self, query: str, k: int, channel: str = "stem") -> list[tuple[str, float]]:
        """Top k (chunk id, score) on one channel."""
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        if channel not in self.channels:
            raise ValueError(f"channel must be one of {', '.join(self.channels)}, got {channel!r}")
        tokens = content_tokens(query)
        if not tokens or not self.ids:
            return []
        scores = self.channel_scores(tokens)[channel]
        return [(self.ids[i], float(scores[i])) for i in top_rows(scores, k)]

    def query_terms(self, query: str) -> dict[str, tuple[float, np.ndarray]]:
        """Each query term of the fold channel (stems and compound parts, folded) with its idf and the rows that contain it.

        Terms the corpus does not know get the highest idf, so a query whose salient
        words are absent from the corpus covers little of any passage.
        """
        tokens = content_tokens(query)
        n = len(self.ids)
        out: dict[str, tuple[float, np.ndarray]] = {}
        terms = self.analyzer.analyze(tokens)
        channel = self.channels[COVERAGE_CHANNEL]
        for term in dict.fromkeys(terms[COVERAGE_CHANNEL]):
            tid = channel.vocab.get(term)
            df = int(channel.df[tid]) if tid is not None else 0
            rows = channel.column(tid) if tid is not None else np.zeros(0, dtype=np.int32)
            out[term] = (float(_select_idf_scorer(METHOD)(df, n)), rows)
        return out


@dataclass(frozen=True)
class Spelling:
    """For each whole-word term of the fold channel, the corpus word it most often comes from, and how often."""

    words: tuple[str | None, ...]  # by fold term id; None for terms that are only compound parts
    counts: np.ndarray

    @classmethod
    def build(cls, by_type: list[str], type_counts: np.ndarray, analyzer: Analyzer, vocab: dict[str, int]) -> Spelling:
        words: list[str | None] = [None] * len(vocab)
        counts = np.zeros(len(vocab), dtype=np.int64)
        for token, count in zip(by_type, type_counts.tolist(), strict=True):
            if not token.isalpha():
                continue
            term = vocab[analyzer.terms(token)["fold"][0]]
            if count > counts[term]:
                words[term], counts[term] = token, int(count)
        return cls(tuple(words), counts)

    def surface(self, term_id: int) -> str | None:
        return self.words[term_id] if term_id < len(self.words) else None

    def frequency(self, term_id: int) -> int:
        return int(self.counts[term_id]) if term_id < len(self.counts) and self.words[term_id] else 0


MIN_RESTORED = 4  # "ar" could be "är" or "år": too short to restore from the corpus alone
MIN_CORRECTED = 6  # shorter words are too often one edit from an unrelated corpus word
LETTERS = "abcdefghijklmnopqrstuvwxyz"
WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


def _edits(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion (of a folded letter) from the word."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in LETTERS}
            | {a + c + b for a, b in splits for c in LETTERS}) - {word}


def top_rows(scores: np.ndarray, k: int) -> list[int]:
    """Indices of the k highest positive scores, best first (ties by row)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
    return sorted(positive.tolist(), key=lambda i: (-scores[i], i))


SLICE = 4_000_000  # passage-term pairs weighted at a time, so temporaries stay small at 100,000 passages


def _channel(counts: sp.csr_matrix, by_type: list[str], analyzer: Analyzer, name: str, k1: float, b: float) -> Channel:
    """One channel's bm25s index from the passage × word-type counts."""
    vocab: dict[str, int] = {}
    t_rows, t_cols = [], []
    for type_id, token in enumerate(by_type):
        for term in analyzer.terms(token)[name]:
            t_rows.append(type_id)
            t_cols.append(vocab.setdefault(term, len(vocab)))
    expand = sp.csr_matrix((np.ones(len(t_rows), dtype=np.float32), (t_cols, t_rows)),
                           shape=(max(len(vocab), 1), len(by_type)))  # term × word type
    terms_per_type = np.bincount(np.asarray(t_rows, dtype=np.int64), minlength=len(by_type)).astype(np.float32)
    del t_rows, t_cols
    n_docs = counts.shape[0]
    # A passage's length in this channel: its word counts times each word's number of terms (no nnz-sized temporaries).
    lengths = np.asarray(counts @ terms_per_type, dtype=np.float32).ravel()
    # term × passage frequencies in CSR are passage × term in CSC, the layout bm25s queries: no conversion copy.
    matrix = (expand @ counts.T.tocsr()).tocsr()
    matrix.sort_indices()  # passages in order within each term, for membership tests by bisection
    del expand
    avg = float(lengths.mean()) if n_docs and lengths.mean() > 0 else 1.0
    df = np.diff(matrix.indptr).astype(np.int64)
    idf = np.vectorize(_select_idf_scorer(METHOD), otypes=[np.float32])(df, n_docs) if len(df) else df.astype(np.float32)
    tfc = _select_tfc_scorer(METHOD)
    for start in range(0, matrix.nnz, SLICE):  # weights in place: data becomes idf × Lucene's tf component
        end = min(start + SLICE, matrix.nnz)
        terms = np.searchsorted(matrix.indptr, np.arange(start, end), side="right") - 1
        docs = matrix.indices[start:end]
        matrix.data[start:end] = idf[terms] * tfc(matrix.data[start:end], lengths[docs], avg, k1, b, None)
    bm25 = bm25s.BM25(k1=k1, b=b, method=METHOD)
    bm25.scores = {"data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr, "num_docs": n_docs}
    bm25.vocab_dict = vocab
    bm25.nonoccurrence_array = None  # Lucene's variant has no score for absent terms
    return Channel(bm25, df)
