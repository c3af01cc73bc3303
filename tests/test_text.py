"""Swedish text handling: sentences, tokens, stems and compounds."""

from __future__ import annotations

from assistant.text import content_tokens, fold, split_sentences, stem, tokenize


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


def test_folding_removes_swedish_diacritics_only() -> None:
    assert fold("nyttoägare för förvaltning, café") == "nyttoagare for forvaltning, cafe"
