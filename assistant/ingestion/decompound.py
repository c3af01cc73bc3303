"""Swedish compound splitting from a real dictionary: nyttoägare → nytto + ägare.

The dictionary is hunspell-sv (LGPL), installed from PyPI as data files under
the environment's `share/hunspell/`. Hunspell marks which words may begin (X)
or continue (U) a compound and which may end one (Y); those marks, plus plain
dictionary words of five letters or more, decide which parts are allowed. Of
all ways to split a word, the one with the fewest and longest parts wins, so
`verksamhetssystem` becomes `verksamhet + system`, never `verk + sam + …`.
Linking letters (`förvaltnings|skuld`, `skol|a`) are allowed between parts.

A `Decompounder` is immutable after it is built and safe to share between
threads: queries never add words to it.
"""

from __future__ import annotations

import importlib.metadata
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.errors import ConfigurationError
from assistant.text import stem, stem_many

log = logging.getLogger(__name__)

DISTRIBUTION = "hunspell-sv"
DICTIONARY = "share/hunspell/sv_SE.dic"
LINKS = ("", "s", "e", "a", "u", "o")
MIN_WORD = 7  # shorter words are rarely compounds worth splitting
MAX_WORD = 40  # longer "words" are noise (URLs, run-together text); never split them (no quadratic work)
MIN_PART = 3
MIN_PLAIN_PART = 5  # a part that hunspell does not mark for compounding must be at least this long


def dictionary_path() -> Path:
    """Where pip put hunspell-sv's sv_SE.dic, or a ConfigurationError that says how to install it."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
        for file in dist.files or ():
            if str(file).replace("\\", "/").endswith(DICTIONARY):
                path = Path(dist.locate_file(file)).resolve()
                if path.is_file():
                    return path
    except importlib.metadata.PackageNotFoundError:
        pass
    raise ConfigurationError(
        f"Den svenska ordlistan ({DISTRIBUTION}) saknas; den behövs för att dela upp sammansatta ord. "
        "Installera beroendena med `make setup`."
    )


@dataclass(frozen=True)
class Lexicon:
    words: frozenset[str]
    begin: frozenset[str]  # may begin or continue a compound (hunspell X, U)
    end_stems: frozenset[str]  # stems of words that may end a compound (hunspell Y)
    word_stems: frozenset[str]  # stems (of at least MIN_PLAIN_PART letters) of all words

    @classmethod
    def read(cls, path: Path) -> Lexicon:
        words, begin, end = set(), set(), set()
        lines = path.read_text(encoding="utf-8").splitlines()
        for line in lines[1:]:  # the first line is the entry count
            word, _, flags = line.partition("/")
            word = word.strip().lower()
            if len(word) < 2 or not word.isalpha():
                continue
            words.add(word)
            if "X" in flags or "U" in flags:
                begin.add(word)
            if "Y" in flags:
                end.add(word)
        word_stems = {s for s in stem_many(sorted(words)) if len(s) >= MIN_PLAIN_PART}
        return cls(frozenset(words), frozenset(begin), frozenset(stem_many(sorted(end))), frozenset(word_stems))

    def knows(self, word: str) -> bool:
        """The word, or a word with its stem, is in the dictionary."""
        return word in self.words or stem(word) in self.word_stems

    def head(self, part: str) -> bool:
        return (len(part) >= MIN_PART and part in self.begin) or (len(part) >= MIN_PLAIN_PART and part in self.words)

    def tail(self, part: str) -> bool:
        if len(part) >= MIN_PART and stem(part) in self.end_stems:
            return True
        return len(part) >= MIN_PLAIN_PART and (part in self.words or stem(part) in self.word_stems)


class Decompounder:
    """Splits compounds into dictionary parts. `split(word)` is cached and thread-safe."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.split = lru_cache(maxsize=200_000)(self._split)

    @classmethod
    def from_hunspell(cls) -> Decompounder:
        """The process's one decompounder over hunspell-sv, read on first use (about 1.5 s)."""
        return _shared()

    def _split(self, word: str) -> tuple[str, ...]:
        """The parts of a compound, or () when the word is not one (or is too short or too long to try)."""
        if not MIN_WORD <= len(word) <= MAX_WORD or not word.isalpha():
            return ()
        memo: dict[tuple[str, bool], tuple[int, tuple[str, ...]]] = {}
        _, parts = self._best(word, True, False, memo)
        return parts if len(parts) > 1 else ()

    def _best(self, word: str, final: bool, whole: bool, memo: dict) -> tuple[int, tuple[str, ...]]:
        """(score, parts) of the best split; the score (sum of squared part lengths) favours few, long parts."""
        key = (word, final, whole)
        if key in memo:
            return memo[key]
        known = self.lexicon.tail if final else self.lexicon.head
        best: tuple[int, tuple[str, ...]] = (len(word) ** 2, (word,)) if whole and known(word) else (0, ())
        for i in range(MIN_PART, len(word) - MIN_PART + 1):
            tail = word[i:]
            if not known(tail):
                continue
            raw_head = word[:i]
            for link in LINKS:
                if link and not raw_head.endswith(link):
                    continue
                head = raw_head[: len(raw_head) - len(link)]
                if len(head) < MIN_PART:
                    continue
                score, parts = self._best(head, False, True, memo)
                if parts and score + len(tail) ** 2 > best[0]:
                    best = (score + len(tail) ** 2, parts + (tail,))
        memo[key] = best
        return best


@lru_cache(maxsize=1)
def _shared() -> Decompounder:
    path = dictionary_path()
    lexicon = Lexicon.read(path)
    log.info("read %d words from %s", len(lexicon.words), path.name)
    return Decompounder(lexicon)
