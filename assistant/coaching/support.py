"""Does a passage support a sentence? The one check the LLM verifier and the evaluation share.

A sentence is supported only if EVERY passage it cites supports it on its own:

- `number`: every number, year, date and SFS reference (2018:218, 2024/1689, "fem", "hälften") and every
  month name in the sentence occurs in the passage; a number written in words matches its digits.
- `name`: it introduces no law, organisation or document name the passage lacks. A name is read from
  the text, not looked up in a list: a capitalised word that does not begin the sentence
  (Vinnova, Skolverket), a word with two or more capitals (DIGG, GDPR, LOU, AI-förordningen), or a
  word that ends like the name of a law, an authority or a body (dataskyddslagen,
  Integritetsskyddsmyndigheten, innovationsrådet). It passes when its stem stands in the passage.
- `absolute`: a universal or absolute word (alltid, aldrig, alla, varje, endast, måste …) that the
  passage does not use: the sentence claims more than the passage says.
- `negation`: the passage clause closest to the claim and the claim disagree on negation
  (inte, ej, aldrig, ingen …): "X är inte Y" cited for "X är Y", or the other way round.
- `coverage`: the share of the sentence's content words covered by the passage is below the
  threshold. A word is covered when its Snowball stem is a stem or a compound part of a passage word,
  or when all its own compound parts (hunspell-sv, `ingestion.decompound`) are
  (förvaltningslagen ← "förvaltningslag" …; "nyttoplanen" ← "nytto" + "plan").

The threshold is fit on a labelled dev set and reported on a test set (evals/support/, `python -m
evals.support`); the fitted value and its figures are in assistant/data/support.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.data import path
from assistant.text import STOPWORDS, content_tokens, normalize, split_sentences, stem, tokenize

MODEL_FILE = "support.json"
DEFAULT_THRESHOLD = 0.75  # used only until support.json has been fit
_MARKER_RE = re.compile(r"\s*\[\d+\]")
_CLAUSE_RE = re.compile(r"[,;:]\s+|\s+(?:och|men|eller|samt)\s+")  # negation is read per clause
_WORD_RE = re.compile(r"[^\W_]+(?:[-:][^\W_]+)*", re.UNICODE)
NUMBER_WORDS = {
    "två": "2", "tre": "3", "fyra": "4", "fem": "5", "sex": "6", "sju": "7", "åtta": "8", "nio": "9", "tio": "10",
    "elva": "11", "tolv": "12", "tjugo": "20", "trettio": "30", "fyrtio": "40", "femtio": "50", "hundra": "100",
    "tusen": "1000", "miljon": "miljon", "miljoner": "miljon", "miljard": "miljard", "miljarder": "miljard",
    "hälften": "1/2", "halva": "1/2", "tredjedel": "1/3", "tredjedelar": "2/3", "fjärdedel": "1/4",
    "dubbelt": "x2", "dubbla": "x2", "tredubbelt": "x3",
}
MONTHS = frozenset({"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
                    "oktober", "november", "december"})
ABSOLUTES = frozenset({"alltid", "aldrig", "alla", "allt", "samtliga", "varje", "endast", "enbart", "bara", "måste",
                       "skyldig", "skyldiga", "skyldighet", "förbjudet", "förbjuden", "garanterat", "helt"})
NEGATIONS = frozenset({"inte", "ej", "icke", "aldrig", "ingen", "inget", "inga", "varken"})
# Endings of the names of laws, authorities and bodies; a word with one of them names something.
NAME_ENDINGS = ("lagen", "lagens", "förordningen", "förordningens", "myndigheten", "myndighetens", "verket",
                "verkets", "inspektionen", "inspektionens", "nämnden", "nämndens", "direktivet", "direktivets",
                "balken", "balkens", "rådet", "rådets", "styrelsen", "styrelsens", "kommissionen", "ombudsmannen",
                "revisionen", "revisionens", "kollegiet", "delegationen", "akademien", "institutet", "förbundet")
MIN_NAME_STEM = 3


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reasons: list[str] = field(default_factory=list)  # short codes: number, name, absolute, negation, coverage, no_source
    coverage: float = 0.0  # the lowest coverage over the cited passages


@dataclass(frozen=True)
class _Passage:
    lower: str
    tokens: frozenset[str]
    stems: frozenset[str]  # stems and compound-part stems of the passage's words
    numbers: frozenset[str]
    sentences: tuple[frozenset[str], ...]  # stems of each clause
    negated: tuple[bool, ...]


def strip_markers(sentence: str) -> str:
    return _MARKER_RE.sub("", sentence).strip()


@lru_cache(maxsize=1)
def threshold() -> float:
    """The fitted coverage threshold (assistant/data/support.json), or the default before the first fit."""
    file = path(MODEL_FILE)
    if not file.exists():
        return DEFAULT_THRESHOLD
    return float(json.loads(file.read_text(encoding="utf-8"))["threshold"])


def _decompounder():  # noqa: ANN202 - imported lazily: reading the dictionary takes a second
    from assistant.ingestion.decompound import Decompounder

    return Decompounder.from_hunspell()


@lru_cache(maxsize=100_000)
def _word_stems(token: str) -> tuple[str, ...]:
    """The token's stem, then the stems of its compound parts (none for a non-compound)."""
    parts = [p for p in _decompounder().split(token) if p not in STOPWORDS]
    return (stem(token), *(stem(p) for p in parts))


def _numbers(tokens: Sequence[str]) -> set[str]:
    found = set()
    for t in tokens:
        if any(ch.isdigit() for ch in t):
            found.add(t)
            found.update(p for p in re.split(r"[-–:/]", t) if p)  # "2022–2024" also says 2022 and 2024
        elif t in NUMBER_WORDS:
            found.add(NUMBER_WORDS[t])
        elif t in MONTHS:
            found.add(t)
    return found


def _number_claims(tokens: Sequence[str]) -> set[str]:
    """The numbers a sentence states: whole tokens (2018:218 must match as a whole), number words as values."""
    return {t if any(ch.isdigit() for ch in t) else NUMBER_WORDS.get(t, t)
            for t in tokens if any(ch.isdigit() for ch in t) or t in NUMBER_WORDS or t in MONTHS}


@lru_cache(maxsize=4096)
def _passage(text: str) -> _Passage:
    tokens = tokenize(text)
    stems: set[str] = set()
    for t in tokens:
        stems.update(_word_stems(t))
    joined_numbers = _numbers(tokens)
    # "30 000" and "1 094" are one number written with a space.
    joined_numbers.update(m.replace(" ", "").replace("\u00a0", "") for m in re.findall(r"\d{1,3}(?:[ \u00a0]\d{3})+", text))
    sentences, negated = [], []
    for s in (c for sent in split_sentences(text) for c in _CLAUSE_RE.split(sent) if c.strip()):
        words = tokenize(s)
        sentences.append(frozenset(stem(w) for w in words if w not in STOPWORDS))
        negated.append(any(w in NEGATIONS for w in words))
    return _Passage(normalize(text), frozenset(tokens), frozenset(stems), frozenset(joined_numbers),
                    tuple(sentences), tuple(negated))


def names(sentence: str) -> list[str]:
    """The law, organisation and document names a sentence mentions, read from how they are written."""
    found = []
    for i, m in enumerate(_WORD_RE.finditer(sentence)):
        word = m.group(0)
        lower = normalize(word)
        capitals = sum(ch.isupper() for ch in word)
        if any(ch.isdigit() for ch in word):
            continue  # numbers are checked exactly
        initial = i == 0 or sentence[:m.start()].rstrip().endswith((":", "”", "\"", "(", "–"))
        if capitals >= 2 or (word[0].isupper() and not initial) or \
                any(lower.endswith(e) and len(lower) >= len(e) + 3 for e in NAME_ENDINGS):
            found.append(word)
    return found


def _name_known(word: str, p: _Passage) -> bool:
    lower = re.sub(r":(?:s|n|en|ets)$", "", normalize(word))  # DIGG:s, SKR:s
    key = stem(lower)
    if len(key) < MIN_NAME_STEM:
        key = lower
    return lower in p.tokens or bool(re.search(r"(?<![^\W_])" + re.escape(key), p.lower))


def coverage(sentence: str, passage: str) -> float:
    """The share of the sentence's content words (numbers left out) that the passage covers."""
    p = _passage(passage)
    words = [t for t in content_tokens(strip_markers(sentence))
             if not any(ch.isdigit() for ch in t) and t not in NUMBER_WORDS and t not in MONTHS]
    if not words:
        return 1.0
    covered = 0
    for w in words:
        whole, *parts = _word_stems(w)
        if whole in p.stems or (parts and all(s in p.stems for s in parts)):
            covered += 1
    return covered / len(words)


def _closest_negated(claim_stems: set[str], p: _Passage) -> bool | None:
    best, best_overlap = None, 0
    for stems, negated in zip(p.sentences, p.negated):
        overlap = len(claim_stems & stems)
        if overlap > best_overlap:
            best, best_overlap = negated, overlap
    return best


def check_one(sentence: str, passage: str, min_coverage: float | None = None) -> Verdict:
    """Whether one passage supports the sentence, and if not, why."""
    limit = threshold() if min_coverage is None else min_coverage
    claim = strip_markers(sentence)
    p = _passage(passage)
    tokens = tokenize(claim)
    reasons = []
    if not _number_claims(tokens) <= p.numbers:
        reasons.append("number")
    if any(not _name_known(n, p) for n in names(claim)):
        reasons.append("name")
    if any(t in ABSOLUTES and t not in p.tokens for t in tokens):
        reasons.append("absolute")
    for clause in (c for c in _CLAUSE_RE.split(claim) if c.strip()):
        words = tokenize(clause)
        closest = _closest_negated({stem(t) for t in words if t not in STOPWORDS}, p)
        if closest is not None and closest != any(t in NEGATIONS for t in words):
            reasons.append("negation")
            break
    share = coverage(claim, passage)
    if share < limit:
        reasons.append("coverage")
    return Verdict(not reasons, reasons, share)


def check(sentence: str, passages: Sequence[str], min_coverage: float | None = None) -> Verdict:
    """Supported only if every cited passage supports the sentence; no passage, no support."""
    passages = [p for p in passages if p and p.strip()]
    if not passages:
        return Verdict(False, ["no_source"], 0.0)
    verdicts = [check_one(sentence, p, min_coverage) for p in passages]
    reasons = list(dict.fromkeys(r for v in verdicts for r in v.reasons))
    return Verdict(not reasons, reasons, min(v.coverage for v in verdicts))
