"""Swedish text handling: sentences, tokens, stems and compounds."""

from __future__ import annotations

from assistant.ingestion.lexical import BM25Index
from assistant.text import Decompounder, content_tokens, lexical_terms, split_sentences, stem, tokenize


def test_sentence_split_keeps_abbreviations_intact() -> None:
    text = "Ledningsgruppen bör t.ex. följa upp nyttan varje kvartal. Det gäller bl.a. stora projekt. Börja nu!"
    assert split_sentences(text) == [
        "Ledningsgruppen bör t.ex. följa upp nyttan varje kvartal.",
        "Det gäller bl.a. stora projekt.",
        "Börja nu!",
    ]


def test_sentence_split_at_words_ending_like_abbreviations() -> None:
    # "ledarskap." ends in "kap." and "bäst." in "st.": both are ordinary sentence ends.
    text = "Det kräver ett tydligt ledarskap. Vi vet vad som fungerar bäst. Nästa steg är en plan."
    assert split_sentences(text) == [
        "Det kräver ett tydligt ledarskap.",
        "Vi vet vad som fungerar bäst.",
        "Nästa steg är en plan.",
    ]


def test_sentence_split_needs_a_capital_after_the_stop() -> None:
    assert split_sentences("Se avsnitt 3. och 4. i rapporten.") == ["Se avsnitt 3. och 4. i rapporten."]


def test_tokens_keep_sfs_references_and_drop_stopwords() -> None:
    assert "2018:218" in tokenize("Enligt lag (2018:218) om kompletterande bestämmelser")
    assert content_tokens("Vad är det som ledningsgruppen ska besluta om?") == ["ledningsgruppen", "besluta"]


def test_stems_join_inflections() -> None:
    assert stem("verksamheten") == stem("verksamheter") == stem("verksamhet")


def test_decompounder_splits_known_parts_with_linking_s() -> None:
    splitter = Decompounder({"verksamhet", "system"})
    assert splitter.split("verksamhetssystem") == ("verksamhet", "system")
    assert splitter.split("verksamhetsystem") == ("verksamhet", "system")


def test_decompounder_leaves_unknown_and_short_words_alone() -> None:
    splitter = Decompounder({"verksamhet", "system"})
    assert splitter.split("ledningsgrupp") == ()
    assert splitter.split("system") == ()


def test_lexical_terms_include_compound_parts() -> None:
    terms = lexical_terms("verksamhetssystem", Decompounder({"verksamhet", "system"}))
    assert stem("verksamhetssystem") in terms
    assert stem("system") in terms and stem("verksamhet") in terms


def test_bm25_finds_a_compound_by_its_last_part() -> None:
    index = BM25Index()
    index.build(
        [
            ("kompositum", content_tokens("Förvaltningen byter verksamhetssystem nästa år.")),
            ("delar", content_tokens("Varje system stödjer en verksamhet.")),
            ("annat", content_tokens("Ledningsgruppen följer upp nyttan.")),
        ]
    )
    found = [cid for cid, _ in index.search("system", k=5)]
    assert "kompositum" in found and "annat" not in found


def test_bm25_rejects_a_bad_k() -> None:
    import pytest

    with pytest.raises(ValueError, match="-1"):
        BM25Index().search("system", k=-1)
