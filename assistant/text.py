"""Swedish text handling: tokens, stems, folding and sentence boundaries (compounds: ingestion.decompound)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import Stemmer

TOKEN_RE = re.compile(r"[^\W_]+(?:[-:][^\W_]+)*", re.UNICODE)
# A sentence ends at . ! ? followed by space and an upper-case letter, digit,
# quote or list marker. Abbreviations common in Swedish guidance are protected.
_ABBREVIATIONS = (
    "t.ex.", "bl.a.", "m.m.", "s.k.", "d.v.s.", "dvs.", "o.s.v.", "osv.", "jfr.", "ca.",
    "f.d.", "m.fl.", "p.g.a.", "pga.", "resp.", "kap.", "art.", "nr.", "prop.", "t.o.m.", "fr.o.m.",
    "e.g.", "i.e.", "etc.", "prof.", "st.",
)
# A sentence ends at . ! ? … before a capital; a lead-in ending in ":" ends before a list item ("I korthet: - …").
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])[\"”’)]?\s+(?=[\"”„(]?(?:[-–•]\s*)?[A-ZÅÄÖÉÜ0-9])|(?<=:)\s+(?=[-–•]\s+[A-ZÅÄÖÉÜ0-9])")

STOPWORDS = frozenset(
    line.strip() for line in (Path(__file__).resolve().parent / "data" / "stopwords.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)

_stemmer = Stemmer.Stemmer("swedish")


def normalize(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


_FOLD = str.maketrans("åäöéèüáàæøÅÄÖÉÈÜÁÀÆØ", "aaoeeuaaaoAAOEEUAAAO")


def fold(text: str) -> str:
    """Swedish letters without their diacritics, as typed on a keyboard without them: nyttoägare → nyttoagare."""
    return text.translate(_FOLD)


_MESSAGE_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_message(text: str) -> str:
    """A message as text the models can read: lone surrogates (from undecodable command-line bytes) become U+FFFD,
    control characters other than tab and newline are dropped. Linear in the length."""
    if not text:
        return ""
    return _MESSAGE_CONTROL_RE.sub(lambda m: "\ufffd" if "\ud800" <= m.group(0) <= "\udfff" else "", text)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; keeps SFS-like references such as 2018:218 whole."""
    return TOKEN_RE.findall(normalize(text))


def content_tokens(text: str) -> list[str]:
    return [t for t in tokenize(text) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    return _stemmer.stemWord(token)


def stem_many(tokens: list[str]) -> list[str]:
    """Stems of many tokens at once, without filling the per-token cache (for dictionaries and bulk builds)."""
    return _stemmer.stemWords(tokens)


def split_sentences(text: str) -> list[str]:
    """Split Swedish prose into sentences, keeping abbreviations intact."""
    protected = text
    for i, abbr in enumerate(_ABBREVIATIONS):
        # Only whole words: "st." must not swallow the end of "bäst." or "kap." of "ledarskap.".
        protected = re.sub(r"(?<![^\W_])" + re.escape(abbr), f"\u0000{i}\u0000", protected, flags=re.IGNORECASE)
    parts = [p for p in _SENTENCE_END_RE.split(protected) if p and p.strip()]

    def restore(s: str) -> str:
        return re.sub("\u0000(\\d+)\u0000", lambda m: _ABBREVIATIONS[int(m.group(1))], s)

    return [restore(p).strip() for p in parts]
