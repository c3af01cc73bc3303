"""Hybrid retrieval with diversity across documents and a relevance floor.

The index fuses dense and lexical rankings (RRF). On Swedish text the
all-MiniLM cosine is weak evidence: in-scope and out-of-scope queries overlap
(about 0.45–0.70 for both), so the floor rests mainly on lexical coverage, the
idf-weighted share of the query's terms (stems and compound parts) that a
passage contains. A passage passes when its coverage reaches
`settings.retrieval_min_coverage`, or when its cosine is unusually high
(`settings.retrieval_min_dense`). When nothing passes, the guidance does not
cover the query and the caller says so instead of answering.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.ingestion.index import Index
from assistant.settings import Settings
from assistant.text import stem
from assistant.types import Hit

# Words about the conversation rather than its subject ("vad säger vägledningen om …") and
# evaluative words ("bättre", "viktigt") match almost every passage, so they must not
# count as evidence of coverage.
META_WORDS = frozenset(stem(w) for w in (
    "vägledning vägledningen vägledningarna säger säga står berätta förklara menar mer text texten dokument "
    "dokumenten handlar tycker tips råd ge bättre bra bäst god goda viktig viktigt tänka tänker"
).split())


@dataclass(frozen=True)
class Retrieved:
    """A hit with the evidence the floor was judged on."""

    hit: Hit
    coverage: float  # idf-weighted share of query terms found in the passage
    matched: frozenset[str]  # the query terms (stems) found in the passage

    @property
    def chunk(self):  # noqa: ANN201 - a Chunk
        return self.hit.chunk


@dataclass(frozen=True)
class Retrieval:
    query: str
    passages: list[Retrieved] = field(default_factory=list)  # above the floor, diverse, best first
    candidates: int = 0  # hits considered before the floor

    @property
    def covered(self) -> bool:
        return bool(self.passages)

    @property
    def chunk_ids(self) -> list[str]:
        return [p.chunk.id for p in self.passages]


class Retriever:
    def __init__(self, index: Index, settings: Settings) -> None:
        self.index = index
        self.settings = settings

    def retrieve(self, query: str, k: int | None = None, per_document: int | None = None) -> Retrieval:
        k = k or self.settings.retrieval_k
        per_document = per_document or self.settings.retrieval_per_document
        if k <= 0 or per_document <= 0:
            raise ValueError(f"k and per_document must be > 0, got k={k}, per_document={per_document}")
        if not query.strip():
            return Retrieval(query)
        hits = self.index.search(query, k=max(k * 5, 30), mode="hybrid")
        lexical = self.index.lexical
        terms = {t: v for t, v in lexical.query_terms(query).items() if t not in META_WORDS}
        total = sum(idf for idf, _ in terms.values()) or 1.0
        best = max((h.score for h in hits), default=0.0) or 1.0
        judged: list[Retrieved] = []
        for hit in hits:
            row = lexical.row(hit.chunk.id)
            matched = frozenset(t for t, (_, rows) in terms.items() if row is not None and _contains(rows, row))
            coverage = sum(terms[t][0] for t in matched) / total
            if coverage >= self.settings.retrieval_min_coverage or (hit.dense_score or 0.0) >= self.settings.retrieval_min_dense:
                judged.append(Retrieved(hit, coverage, matched))
        # Rank by coverage plus the fused score relative to the best hit, then cap passages per document so one
        # long document cannot crowd out the others (a simple, predictable diversity).
        judged.sort(key=lambda r: (-(r.hit.score / best + 2 * r.coverage), r.chunk.id))
        chosen: list[Retrieved] = []
        per_doc: dict[str, int] = {}
        for r in judged:
            doc = r.chunk.document_id
            if per_doc.get(doc, 0) < per_document:
                chosen.append(r)
                per_doc[doc] = per_doc.get(doc, 0) + 1
            if len(chosen) == k:
                break
        return Retrieval(query, chosen, len(hits))


def _contains(rows, row: int) -> bool:  # noqa: ANN001 - a sorted numpy array of passage rows
    at = int(rows.searchsorted(row))
    return at < len(rows) and int(rows[at]) == row
