"""Swedish text handling as channels, and the lexical index built from them (real hunspell-sv, real bm25s)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from assistant.ingestion.analysis import Analyzer
from assistant.ingestion.decompound import Decompounder
from assistant.ingestion.lexical import LexicalIndex
from assistant.text import content_tokens, stem


@pytest.fixture(scope="module")
def decompounder() -> Decompounder:
    return Decompounder.from_hunspell()


@pytest.mark.parametrize(("word", "parts"), [
    ("verksamhetssystem", ("verksamhet", "system")),  # linking s, and never verk + sam + het
    ("förvaltningsskuld", ("förvaltnings", "skuld")),
    ("kommundirektör", ("kommun", "direktör")),
    ("läkemedelsrobotar", ("läkemedel", "robotar")),
])
def test_compounds_split_into_dictionary_parts(decompounder: Decompounder, word: str, parts: tuple[str, ...]) -> None:
    assert decompounder.split(word) == parts


@pytest.mark.parametrize("word", ["verksamheten", "upphandlingen", "skolan", "vaccinationen", "system", "x" * 5000])
def test_plain_words_and_noise_stay_whole(decompounder: Decompounder, word: str) -> None:
    assert decompounder.split(word) == ()


def test_channels_of_a_compound(decompounder: Decompounder) -> None:
    terms = Analyzer(decompounder).terms("nyttoägaren")
    assert terms["stem"] == (stem("nyttoägaren"),)
    assert stem("ägare") in terms["part"] and stem("nyttoägaren") in terms["part"]
    assert "agar" in " ".join(terms["fold"]) and all(ch not in "".join(terms["fold"]) for ch in "åäö")
    assert terms["gram"][0] == "_nyt" and terms["gram"][-1] == "ren_"


DOCS = {
    "sammansatt": "Förvaltningen byter verksamhetssystem nästa år och utser en nyttoägare.",
    "delar": "Varje system stödjer en verksamhet.",
    "annat": "Ledningsgruppen följer upp nyttan varje kvartal.",
}


@pytest.fixture(scope="module")
def index(decompounder: Decompounder) -> LexicalIndex:
    return LexicalIndex.build(((cid, content_tokens(text)) for cid, text in DOCS.items()), Analyzer(decompounder))


def test_a_compound_is_found_by_its_last_part(index: LexicalIndex) -> None:
    found = [cid for cid, _ in index.search("system", 5, channel="part")]
    assert "sammansatt" in found and "annat" not in found


def test_a_word_typed_without_swedish_letters_is_found(index: LexicalIndex) -> None:
    assert [cid for cid, _ in index.search("nyttoagare", 5, channel="fold")] == ["sammansatt"]
    assert index.search("nyttoagare", 5, channel="stem") == []


def test_a_typo_is_found_by_character_grams(index: LexicalIndex) -> None:
    assert index.search("förvaltnignen", 5, channel="gram")[0][0] == "sammansatt"


def test_a_query_gets_the_corpus_spelling_of_its_words(index: LexicalIndex) -> None:
    fixes = index.corrections(content_tokens("forvaltningen ledningsgrupen nyttoagare"))
    assert fixes == {"forvaltningen": "förvaltningen", "ledningsgrupen": "ledningsgruppen", "nyttoagare": "nyttoägare"}
    assert index.corrected("Vem i Ledningsgrupen blir nyttoagare?") == "Vem i ledningsgruppen blir nyttoägare?"


def test_known_words_real_words_and_short_words_are_left_as_typed(index: LexicalIndex) -> None:
    assert index.corrections(content_tokens("verksamhetssystem ledningsgrupperna")) == {}  # known as typed, or by stem
    assert index.corrections(["kvartil"]) == {}  # a dictionary word, though one letter from "kvartal"
    assert index.corrections(["nar"]) == {}  # too short to tell which corpus word it folds from
    assert index.corrections(["kvantdatorer"]) == {}  # no corpus word within one edit
    assert index.corrected("ingenting att rätta") == "ingenting att rätta"


def test_coverage_terms_carry_idf_and_rows(index: LexicalIndex) -> None:
    terms = index.query_terms("Vem äger verksamhetssystemen?")
    assert index.row("sammansatt") in terms[stem("system")][1]
    unknown = index.query_terms("kvantdator")[stem("kvantdator")]
    assert unknown[1].size == 0 and unknown[0] > terms[stem("system")][0]  # unknown words weigh most


def test_queries_change_nothing_and_run_from_many_threads(index: LexicalIndex) -> None:
    before = {name: (len(ch.vocab), ch.bm25.scores["data"].copy()) for name, ch in index.channels.items()}
    results, errors = [], []

    def ask(word: str) -> None:
        try:
            for _ in range(50):
                results.append((word, tuple(cid for cid, _ in index.search(word, 3, channel="gram"))))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(w,)) for w in ("system", "nyttan", "okäntordxyz", "kvartal") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({r for r in results if r[0] == "system"}) == 1  # the same answer every time
    for name, channel in index.channels.items():
        assert len(channel.vocab) == before[name][0]
        assert np.array_equal(channel.bm25.scores["data"], before[name][1])


def test_bad_arguments_are_refused(index: LexicalIndex) -> None:
    with pytest.raises(ValueError, match="-1"):
        index.search("system", k=-1)
    with pytest.raises(ValueError, match="kanal|channel"):
        index.search("system", k=1, channel="okänd")
    with pytest.raises(ValueError, match="b=2"):
        LexicalIndex.build([], b=2)
