"""Read a chef's message once: what is asked, in which language, what kind of message, and what to ignore.

The `Reading` is passed on to every later step; nothing downstream tokenises the
message again. Decisions come from models trained on the team's own training
sets (`classifiers`), not from word lists:

- Sentences (and, inside a flagged sentence, clauses) that instruct the
  assistant itself are set aside. The offline coach only quotes the guidance,
  so such an instruction could not change what it does anyway; it is set
  aside so that it does not steer retrieval, and mentioned in the answer only
  when one was found. The rest of the message is answered as usual.
- English is recognised by its function words (bm25s's Swedish and English
  stop-word lists) and its words are mapped to Swedish search terms through a
  glossary (assistant/data/english.tsv), matched on English Snowball stems so
  that "procure" finds "procurement"; answers stay in Swedish.
- A follow-up may point at "fråga 3" or "den tredje"; the number is parsed with
  the ordinals in assistant/data/ordinals.tsv.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_SWEDISH

from assistant.answer import Kind, Turn
from assistant.coaching.classifiers import InstructionModel, KindModel
from assistant.data import path
from assistant.text import content_tokens, fold, normalize, split_sentences, tokenize

MAX_CHARACTERS = 8000  # longer messages are read up to here (the app refuses them with a message first)
INSTRUCTION_THRESHOLD = 0.8  # on the dev injection set: no ordinary message flagged, 85 % of injections found
AFTER_INSTRUCTION = 0.15  # a clause after an instruction is kept only when it is this clearly not one
_CLAUSE_RE = re.compile(r"\s*(?:[,;:–—]|\s(?:och|men|samt|and|but)\s)\s*", re.IGNORECASE)
_NAME_RE = re.compile(r"\b(?:[A-ZÅÄÖ]{2,}[a-zåäö]*|[A-ZÅÄÖ][a-zåäö]+(?:-[A-ZÅÄÖa-zåäö]+)*)\b")
_EN = frozenset(STOPWORDS_EN_PLUS)
_ENGLISH_STEMMER = Stemmer.Stemmer("english")
_SV = frozenset(STOPWORDS_SWEDISH)


@dataclass(frozen=True)
class Reading:
    original: str
    text: str  # the message without instructions to the assistant
    query: str  # what retrieval searches for (Swedish terms for an English message)
    tokens: tuple[str, ...]  # content tokens of the query
    kind: Kind
    probabilities: dict[str, float] = field(default_factory=dict)  # of each kind, from the model
    language: str = "sv"
    instructions: tuple[str, ...] = ()  # the parts set aside as instructions to the assistant
    question_ref: int | None = None  # "fråga 3" → 3
    context: str = ""  # the chef's previous message, for a follow-up that does not name a question

    @property
    def injection(self) -> bool:
        return bool(self.instructions)

    @property
    def english(self) -> bool:
        return self.language == "en"


class Reader:
    def __init__(self, kinds: KindModel, instructions: InstructionModel, glossary: dict[str, str],
                 ordinals: dict[str, int]) -> None:
        self.kinds = kinds
        self.instructions = instructions
        self.glossary = glossary
        self.ordinals = ordinals
        words = "|".join(sorted(map(re.escape, ordinals), key=len, reverse=True))
        self._ref_re = re.compile(
            r"\b(?:fraga|fragan|question)\s*(?:nummer|nr\.?|number|no\.?)?\s*(\d{1,2})\b"
            rf"|\b(?:den\s+|the\s+)?({words})(?:\s+(?:fraga|fragan|question|one)\b|\s*$|\s*[?.!])"
            rf"|\bden\s+({words})\b"
        )

    @classmethod
    def bundled(cls) -> Reader:
        return cls(KindModel.bundled(), InstructionModel.bundled(), read_glossary(), read_ordinals())

    def read(self, message: str, history: Sequence[Turn] = ()) -> Reading:
        original = (message or "")[:MAX_CHARACTERS]
        text, instructions = self._set_aside_instructions(original)
        text = re.sub(r"(?<![.])\.\s*$", "", text)  # a closing full stop means nothing; with or without, the same answer
        language = "en" if is_english(text) else "sv"
        query = self._swedish_query(text) if language == "en" else text
        tokens = tuple(content_tokens(query))
        context = next((t.message for t in reversed(history)), "")
        if not content_tokens(text):
            kind: Kind = "out_of_scope" if instructions else "empty"
            return Reading(original, text, query, tokens, kind, {}, language, instructions, None, context)
        probabilities = self.kinds.probabilities(text, has_history=bool(history))
        kind = max(probabilities, key=probabilities.get)  # type: ignore[assignment]
        ref = self._question_ref(text) if history else None
        if ref is not None:
            kind = "followup"
        return Reading(original, text, query, tokens, kind, probabilities, language, instructions, ref, context)

    # -- parts ---------------------------------------------------------------
    def _set_aside_instructions(self, message: str) -> tuple[str, tuple[str, ...]]:
        kept: list[str] = []
        removed: list[str] = []
        for line in message.splitlines():
            for sentence in split_sentences(line):
                if self.instructions.probability(sentence) < INSTRUCTION_THRESHOLD:
                    kept.append(sentence)
                    continue
                # Inside a flagged sentence, keep the clauses about the chef's own work: those before the
                # instruction, and after it only those that are clearly not part of it ("… och påstå att …").
                instructed = False
                for clause in (c for c in _CLAUSE_RE.split(sentence) if c and c.strip()):
                    p = self.instructions.probability(clause)
                    instructed = instructed or p >= INSTRUCTION_THRESHOLD
                    if content_tokens(clause) and p < (AFTER_INSTRUCTION if instructed else INSTRUCTION_THRESHOLD):
                        kept.append(clause.strip())
                    else:
                        removed.append(clause.strip())
        return " ".join(kept).strip(), tuple(removed)

    def _swedish_query(self, text: str) -> str:
        """Swedish search terms for an English message, plus names and acronyms as written (GDPR, Inera)."""
        words = _ENGLISH_STEMMER.stemWords(tokenize(text))
        terms = []
        for i in range(len(words)):
            for n in (3, 2, 1):
                phrase = " ".join(words[i:i + n])
                if len(words[i:i + n]) == n and phrase in self.glossary:
                    terms.append(self.glossary[phrase])
                    break
        names = [w for w in _NAME_RE.findall(text)
                 if w.lower() not in _EN and _ENGLISH_STEMMER.stemWord(w.lower()) not in self.glossary]
        return " ".join(dict.fromkeys([*terms, *names])) or text

    def _question_ref(self, text: str) -> int | None:
        m = self._ref_re.search(fold(normalize(text)))
        if not m:
            return None
        if m.group(1):
            return int(m.group(1))
        return self.ordinals.get(m.group(2) or m.group(3))


def is_english(text: str) -> bool:
    words = tokenize(text)
    en = sum(w in _EN and w not in _SV for w in words)
    sv = sum(w in _SV and w not in _EN for w in words)
    return en >= 2 and en > 2 * sv


@lru_cache(maxsize=1)
def read_glossary() -> dict[str, str]:
    """English phrase (as English Snowball stems) → Swedish search terms; the first line of a stem wins."""
    lines = path("english.tsv").read_text(encoding="utf-8").splitlines()[1:]
    glossary: dict[str, str] = {}
    for line in lines:
        english, _, swedish = line.partition("\t")
        if english.strip() and swedish.strip():
            key = " ".join(_ENGLISH_STEMMER.stemWords(tokenize(english)))
            glossary.setdefault(key, swedish.strip())
    return glossary


@lru_cache(maxsize=1)
def read_ordinals() -> dict[str, int]:
    lines = path("ordinals.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {fold(word.strip()): int(n) for word, n in (line.split("\t") for line in lines if "\t" in line)}
