"""Swedish text handling as channels: each word token gives terms for four lexical channels.

- `stem`: the Snowball stem (förvaltningen → förvaltning).
- `part`: the stem and the stems of its compound parts from the hunspell-sv
  dictionary (nyttoägaren → nyttoägar, nytto, ägar), so a passage about
  nyttoägare also answers "ägare", and "förvaltningsskuld" finds "skuld".
- `fold`: the same terms without å, ä, ö, é (nyttoägare → nyttoagar, nytto,
  agar), so a message typed without Swedish letters still matches.
- `gram`: character 4-grams of the folded word with boundary marks
  (_nyt, nytt, …, are_): they catch inflections, compounds the dictionary lacks,
  and typos.

Terms are cached per distinct token, so a corpus costs one analysis per word
type, not per occurrence. The analyzer holds no state that a query changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from assistant.ingestion.decompound import MAX_WORD, Decompounder
from assistant.text import STOPWORDS, fold, stem

CHANNELS = ("stem", "part", "fold", "gram")
GRAM = 4
Terms = dict[str, tuple[str, ...]]


class Analyzer:
    def __init__(self, decompounder: Decompounder) -> None:
        self.decompounder = decompounder
        self.terms = lru_cache(maxsize=500_000)(self._terms)

    def _terms(self, token: str) -> Terms:
        """The channel terms of one lower-cased token."""
        whole = stem(token)
        if len(token) > MAX_WORD:  # URLs, run-together text: the token as it is, nothing more
            return {"stem": (whole,), "part": (whole,), "fold": (stem(fold(token)),), "gram": ()}
        parts = [p for p in self.decompounder.split(token) if p not in STOPWORDS]
        folded = fold(token)
        marked = f"_{folded}_"
        grams = tuple(marked[i:i + GRAM] for i in range(max(1, len(marked) - GRAM + 1)))
        return {
            "stem": (whole,),
            "part": (whole, *(stem(p) for p in parts)),
            "fold": (stem(folded), *(stem(fold(p)) for p in parts)),
            "gram": grams,
        }

    def analyze(self, tokens: Iterable[str]) -> dict[str, list[str]]:
        """Channel → terms (with repeats) for a list of content tokens."""
        out: dict[str, list[str]] = {c: [] for c in CHANNELS}
        for token in tokens:
            for channel, terms in self.terms(token).items():
                out[channel].extend(terms)
        return out
