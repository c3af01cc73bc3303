"""Hybrid retrieval over the bundled corpus: relevant, varied across documents, and able to say 'not covered'."""

from __future__ import annotations

import pytest

from assistant.ingestion.index import Index
from assistant.coaching.retriever import Retriever
from assistant.settings import Settings

pytestmark = pytest.mark.slow

IN_SCOPE = [
    ("Vad är en nyttoägare?", "ordlista"),
    ("Behöver vi göra en konsekvensbedömning?", "juridik-och-sakerhet"),
    ("Vad är förvaltningsskuld?", "forvaltningsstyrning-och-digitalt-arv"),
    ("Vilka lärdomar finns från stora IT-projekt?", "lardomar-fran-stora-it-projekt"),
    ("Får vi lagra personuppgifter i en molntjänst?", "juridik-och-sakerhet"),
    ("Hur leder man förändring enligt Kotter?", "forandringsledning"),
]
OUT_OF_SCOPE = [
    "Vad blir det för väder i Göteborg i morgon?",
    "Hur gör man en god kladdkaka?",
    "Ge mig ett recept på köttbullar",
    "Vem vann fotbolls-VM 2018?",
    "Hur lång är Eiffeltornet?",
    "Vad säger vägledningen om blockkedjor?",
]


@pytest.fixture(scope="module")
def retriever(corpus_index: Index, corpus_settings: Settings) -> Retriever:
    return Retriever(corpus_index, corpus_settings)


@pytest.mark.parametrize(("query", "document"), IN_SCOPE)
def test_in_scope_queries_find_the_right_document(retriever: Retriever, query: str, document: str) -> None:
    result = retriever.retrieve(query)
    assert result.covered
    assert document in [p.chunk.document_id for p in result.passages[:3]]


@pytest.mark.parametrize("query", OUT_OF_SCOPE)
def test_out_of_scope_queries_fall_below_the_floor(retriever: Retriever, query: str) -> None:
    assert not retriever.retrieve(query).covered


def test_passages_are_varied_across_documents(retriever: Retriever, corpus_settings: Settings) -> None:
    result = retriever.retrieve("Hur ska ledningsgruppen följa upp nyttan av digitaliseringen?", k=6)
    docs = [p.chunk.document_id for p in result.passages]
    assert len(docs) == 6
    assert max(docs.count(d) for d in docs) <= corpus_settings.retrieval_per_document
    assert len(set(docs)) >= 3


def test_every_passage_carries_its_evidence(retriever: Retriever) -> None:
    for p in retriever.retrieve("Vad säger AI-förordningen om AI-kunnighet?").passages:
        assert p.matched or (p.hit.dense_score or 0) >= 0.72
        assert 0 <= p.coverage <= 1


def test_blank_query_retrieves_nothing_and_bad_k_is_refused(retriever: Retriever) -> None:
    assert not retriever.retrieve("   ").covered
    with pytest.raises(ValueError, match="k and per_document must be > 0"):
        retriever.retrieve("nytta", k=-1)
