"""Retrieve passages for a reading, and the evidence that later steps decide on.

One `Index.rank` call scores every passage for the message. The passages an
answer draws on are the best ones with at most `retrieval_per_document` from
one document. The `Evidence` are numbers about how well the guidance matches
the message (how much of it the best passages cover, how much of it the corpus
vocabulary knows at all, how many of its words are real Swedish words the
guidance never uses, the best dense similarity …): the scope model decides from
them whether the guidance covers the message.

A question's channels are weighted for the guidance (`RetrievalWeights`, fit on
the dev split's questions, section questions among them, by `python -m evals.fit
retrieval`), not with the settings' weights, which were fit on SweFAQ's FAQ
answers. An initiative keeps the settings' weights: weights fit on the dev
initiatives did better on them but not on held-out ones. The fit holds only for
the embedding model it was made with; with another model, or with channel
weights set by hand, the settings' weights apply.

Every passage an answer cites is recorded as retrieved only when retrieval
returned it for this message: the top passages, or, for a question or warning
sign of the answer, the passage of its source section (`in_section`) that best
supports what the answer says with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.coaching.reading import Reading
from assistant.data import path
from assistant.ingestion.fusion import Ranking
from assistant.ingestion.index import Index
from assistant.settings import Settings
from assistant.text import fold, stem
from assistant.types import Chunk, Hit

CANDIDATES = 50
MODEL_FILE = "retrieval.json"


@dataclass(frozen=True)
class RetrievalWeights:
    """Each channel's weight in the fusion for a question to the guidance, and the embedding model they were fit with."""

    weights: dict[str, float] = field(default_factory=dict)
    embedding_model: str = ""
    fit: dict = field(default_factory=dict)

    @classmethod
    def load(cls, file: Path | None = None) -> RetrievalWeights:
        """The fit weights, or none (the settings' weights apply) when the file is missing."""
        file = file or path(MODEL_FILE)
        if not file.exists():
            return cls()
        raw = json.loads(file.read_text(encoding="utf-8"))
        return cls({k: float(v) for k, v in raw["weights"].items()}, str(raw.get("embedding_model", "")), raw.get("fit", {}))

    def save(self, file: Path | None = None) -> None:
        (file or path(MODEL_FILE)).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    def for_settings(self, settings: Settings) -> dict[str, float] | None:
        """These weights when they hold for the settings: same embedding model, and no weights set by hand."""
        defaults = Settings.model_fields
        by_hand = (settings.channel_weights != defaults["channel_weights"].default_factory()
                   or settings.dense_weight != defaults["dense_weight"].default)
        if not self.weights or by_hand or settings.embedding_model != self.embedding_model:
            return None
        return dict(self.weights)


@dataclass(frozen=True)
class Passage:
    hit: Hit
    coverage: float  # idf-weighted share of the query's terms (stems and compound parts) in the passage
    matched: frozenset[str]

    @property
    def chunk(self) -> Chunk:
        return self.hit.chunk


@dataclass(frozen=True)
class Retrieval:
    query: str  # what was searched: the message's query with the corpus's spelling of its words
    passages: list[Passage] = field(default_factory=list)  # best first, at most k, diverse across documents
    evidence: dict[str, float] = field(default_factory=dict)
    ranking: Ranking | None = None
    terms: dict[str, float] = field(default_factory=dict)  # query term → idf (stems and compound parts, folded)

    @property
    def chunk_ids(self) -> list[str]:
        return [p.chunk.id for p in self.passages]


class Retriever:
    def __init__(self, index: Index, settings: Settings, weights: RetrievalWeights | None = None) -> None:
        self.index = index
        self.settings = settings
        self.weights = (weights or RetrievalWeights()).for_settings(settings)  # None: the settings' weights
        self._sections: tuple[object, dict[tuple[str, str], list[int]]] | None = None

    def retrieve(self, reading: Reading) -> Retrieval:
        if not reading.tokens:
            return Retrieval(reading.query, evidence=empty_evidence(reading))
        query = self.index.lexical.corrected(reading.query)  # typos and missing å/ä/ö, against the corpus's words
        ranking = self.index.rank(query, weights=self.weights if reading.kind != "initiative" else None)
        snapshot = ranking.snapshot
        terms = snapshot.query_terms(query)
        idf = {t: v[0] for t, v in terms.items()}
        total = sum(idf.values()) or 1.0
        candidates = self.index.hits(ranking, ranking.top(CANDIDATES))
        judged = []
        for hit in candidates:
            row = snapshot.row(hit.chunk.id)
            matched = frozenset(t for t, (_, rows) in terms.items() if row is not None and _contains(rows, row))
            judged.append(Passage(hit, sum(idf[t] for t in matched) / total, matched))
        chosen: list[Passage] = []
        per_doc: dict[str, int] = {}
        for p in judged:
            doc = p.chunk.document_id
            if per_doc.get(doc, 0) < self.settings.retrieval_per_document:
                chosen.append(p)
                per_doc[doc] = per_doc.get(doc, 0) + 1
            if len(chosen) == self.settings.retrieval_k:
                break
        evidence = self._evidence(reading, ranking, terms, judged)
        return Retrieval(query, chosen, evidence, ranking, idf)

    # -- evidence --------------------------------------------------------------
    def _evidence(self, reading: Reading, ranking: Ranking, terms: dict, judged: list[Passage]) -> dict[str, float]:
        snapshot = ranking.snapshot
        total = sum(v[0] for v in terms.values()) or 1.0
        known = sum(v[0] for v in terms.values() if v[1].size) / total
        lexicon = snapshot.decompounder.lexicon
        words = [t for t in reading.tokens if t.isalpha() and len(t) > 2]
        fold_vocab = snapshot.channels["fold"].vocab
        dictionary_unknown = [t for t in words if lexicon.knows(t) and stem(fold(t)) not in fold_vocab]
        grams = snapshot.analyzer.analyze(reading.tokens)["gram"]
        gram_vocab = snapshot.channels["gram"].vocab
        raw = ranking.raw
        top = judged[0] if judged else None
        return {
            "coverage_top": top.coverage if top else 0.0,
            "coverage_best": max((p.coverage for p in judged[:10]), default=0.0),
            "known_terms": known,
            "known_grams": sum(g in gram_vocab for g in grams) / len(grams) if grams else 0.0,
            "unknown_words": len(dictionary_unknown) / len(words) if words else 0.0,
            "dense_best": float(raw["dense"].max()) if "dense" in raw and raw["dense"].size else 0.0,
            "gram_best": float(raw["gram"].max()) / len(grams) if "gram" in raw and grams else 0.0,
            "part_best": float(raw["part"].max()) / total if "part" in raw else 0.0,
            **_shared_evidence(reading),
        }

    # -- sections --------------------------------------------------------------
    def section_rows(self, ranking: Ranking, document: str, heading: str | None) -> list[int]:
        """Rows of the snapshot that lie in a document (and under a heading, when given)."""
        sections = self._section_map(ranking)
        if heading is None:
            return [r for (doc, _), rows in sections.items() if doc == document for r in rows]
        return sections.get((document, heading.casefold()), [])

    def in_section(self, retrieval: Retrieval, document: str, heading: str | None) -> list[Hit]:
        """The passages of a section (all of them; sections are short), in the message's ranking order."""
        if retrieval.ranking is None:
            return []
        rows = self.section_rows(retrieval.ranking, document, heading)
        rows = sorted(rows, key=lambda r: (-float(retrieval.ranking.fused[r]), r))
        return self.index.hits(retrieval.ranking, rows)

    def _section_map(self, ranking: Ranking) -> dict[tuple[str, str], list[int]]:
        snapshot = ranking.snapshot
        cached = self._sections
        if cached is not None and cached[0] is snapshot:  # the object itself: an id can be reused once it is freed
            return cached[1]
        sections: dict[tuple[str, str], list[int]] = {}
        chunks = self.index.ledger.chunks(list(snapshot.ids))
        for row, cid in enumerate(snapshot.ids):
            chunk = chunks.get(cid)
            if chunk is None:
                continue
            for heading in (chunk.section or "").split(" > "):
                sections.setdefault((chunk.document_id, heading.strip().casefold()), []).append(row)
        self._sections = (snapshot, sections)
        return sections


def _shared_evidence(reading: Reading) -> dict[str, float]:
    p = reading.probabilities
    return {
        "tokens": math.log1p(len(reading.tokens)),
        "p_initiative": p.get("initiative", 0.0),
        "p_question": p.get("question", 0.0),
        "p_followup": p.get("followup", 0.0),
        "p_out_of_scope": p.get("out_of_scope", 0.0),
        "english": 1.0 if reading.english else 0.0,
    }


def empty_evidence(reading: Reading) -> dict[str, float]:
    zero = dict.fromkeys(("coverage_top", "coverage_best", "known_terms", "known_grams", "unknown_words",
                          "dense_best", "gram_best", "part_best"), 0.0)
    return {**zero, **_shared_evidence(reading)}


def _contains(rows: np.ndarray, row: int) -> bool:
    at = int(rows.searchsorted(row))
    return at < len(rows) and int(rows[at]) == row

