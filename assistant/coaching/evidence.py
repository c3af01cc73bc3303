"""Evidence for answers: numbered citations, quotable sentences, source sections and the glossary.

Every quote is a sentence taken verbatim from a chunk in the index. What the
retriever returned is recorded apart from what is cited, so a check can tell
whether each cited passage was in fact retrieved for the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.answer import Citation
from assistant.ingestion.index import Index
from assistant.text import STOPWORDS, content_tokens, split_sentences, stem
from assistant.types import Chunk

GLOSSARY_DOCUMENT = "ordlista"
_BULLET_RE = re.compile(r"^[•\-–*]\s*")
_HEADWORD_RE = re.compile(r"^([A-ZÅÄÖ0-9][^:.?!]{0,60}):\s+(.+)$", re.DOTALL)
MAX_QUOTE = 420


@dataclass
class Citations:
    """Collects citations in the order they are first used; the same quote gets the same [n]."""

    items: list[Citation] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)

    def note_retrieved(self, chunk_ids: list[str]) -> None:
        for cid in chunk_ids:
            if cid not in self.retrieved:
                self.retrieved.append(cid)

    def cite(self, chunk: Chunk, quote: str) -> int:
        quote = quote.strip()
        for c in self.items:
            if c.chunk_id == chunk.id and c.quote == quote:
                return c.n
        n = len(self.items) + 1
        self.items.append(Citation(n, chunk.document_id, chunk.title, chunk.page, chunk.section, quote, chunk.id))
        return n


def sentences(chunk: Chunk) -> list[str]:
    """Sentences of a chunk fit to quote: list markers removed, fragments and headings left out."""
    out = []
    for raw in split_sentences(chunk.text):
        s = _BULLET_RE.sub("", raw.strip())
        if 30 <= len(s) <= MAX_QUOTE and s[-1] in ".!?:" and not s.endswith(":"):
            out.append(s)
    return out


class Scorer:
    """Scores text against a query by the idf of shared stems, compound parts included."""

    def __init__(self, index: Index, query: str) -> None:
        self._lexical = index.lexical
        from assistant.coaching.compose import GUIDANCE
        from assistant.coaching.retriever import META_WORDS

        whole = {stem(t) for t in content_tokens(query)}
        self.whole: set[str] = set()
        self.weights = {}
        for t, (idf, _) in self._lexical.query_terms(query).items():
            if t in STOPWORDS or t in META_WORDS:
                continue
            # A compound's parts are weaker evidence than the word itself ("förändringsledning"
            # is not about "förändring" in general); the guidance's own subject words are stronger.
            weight = idf if t in whole else 0.4 * idf
            if t in whole:
                self.whole.add(t)
            if any(t.startswith(g) for g in GUIDANCE):
                weight *= 1.5
            self.weights[t] = weight

    def terms(self, text: str) -> set[str]:
        split = self._lexical.decompounder.split
        out: set[str] = set()
        for tok in content_tokens(text):
            out.add(stem(tok))
            out.update(stem(p) for p in split(tok))
        return out

    def has_whole(self, text: str) -> bool:
        """Whether the text contains a query word itself, not only a part of a query compound."""
        return bool(self.whole & self.terms(text))

    def score(self, text: str) -> float:
        terms = self.terms(text)
        return sum(w for t, w in self.weights.items() if t in terms)


def section_matches(section: str | None, heading: str) -> bool:
    """A heading names a chunk's section when it is one of the elements of its heading path."""
    if not section:
        return False
    wanted = heading.strip().casefold()
    return any(part.strip().casefold() == wanted for part in section.split(" > "))


class Sources:
    """Chunks by document and heading, read once from the index ledger."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._by_doc: dict[str, list[Chunk]] = {}

    def chunks(self, document_id: str, heading: str | None = None) -> list[Chunk]:
        if document_id not in self._by_doc:
            self._by_doc[document_id] = self.index.chunks_of(document_id)
        chunks = self._by_doc[document_id]
        return [c for c in chunks if section_matches(c.section, heading)] if heading else chunks

    def best_quote(self, document_id: str, heading: str, scorer: Scorer, max_sentences: int = 2) -> tuple[Chunk, str] | None:
        """The sentence(s) of a source section that best fit the scorer's query, with their chunk."""
        best: tuple[float, int, Chunk, int] | None = None
        for chunk in self.chunks(document_id, heading):
            for i, s in enumerate(sentences(chunk)):
                key = (scorer.score(s), -chunk.ordinal * 100 - i)
                if best is None or key > (best[0], best[1]):
                    best = (key[0], key[1], chunk, i)
        if best is None:
            return None
        _, _, chunk, i = best
        parts = sentences(chunk)
        quote = parts[i]
        if max_sentences > 1 and i + 1 < len(parts) and len(quote) + len(parts[i + 1]) < MAX_QUOTE:
            quote = f"{quote} {parts[i + 1]}"
        return chunk, quote

    def glossary(self) -> list[tuple[str, Chunk, list[str]]]:
        """(term, chunk, definition sentences) from the glossary document, in order."""
        entries: list[tuple[str, Chunk, list[str]]] = []
        for chunk in self.chunks(GLOSSARY_DOCUMENT):
            for raw in split_sentences(chunk.text):
                m = _HEADWORD_RE.match(raw.strip())
                if m and len(m.group(1).split()) <= 5:
                    entries.append((m.group(1).strip(), chunk, [raw.strip()]))
                elif entries and entries[-1][1].id == chunk.id:
                    entries[-1][2].append(raw.strip())
        return [e for e in entries if not e[0].lower().startswith("om ordlistan")]

    def define(self, term: str) -> tuple[str, Chunk, list[str]] | None:
        """The glossary entry for a term: exact headword first, then shared stems."""
        wanted = [stem(t) for t in content_tokens(term)]
        if not wanted:
            return None
        entries = self.glossary()
        for entry in entries:
            if [stem(t) for t in content_tokens(entry[0])] == wanted:
                return entry
        for entry in entries:
            head = {stem(t) for t in content_tokens(entry[0])}
            if set(wanted) <= head or head <= set(wanted) and head:
                return entry
        return None


_REF_RE = re.compile(r"\[(\d+)\]")


def citation_problems(answer) -> list[str]:  # noqa: ANN001 - an Answer; imported lazily by callers
    """What is wrong with an answer's citations, in Swedish; empty when every [n] holds.

    Each [n] in the text and in the questions must name a citation, and every
    citation must point to a chunk that was retrieved for this answer.
    """
    problems = []
    known = {c.n for c in answer.citations}
    used = {int(n) for n in _REF_RE.findall(answer.text)}
    for q in answer.questions:
        used.update(q.citations)
    problems += [f"[{n}] saknar källa" for n in sorted(used - known)]
    retrieved = set(answer.retrieved)
    problems += [f"[{c.n}] pekar på ett avsnitt som inte hämtades" for c in answer.citations if c.chunk_id not in retrieved]
    problems += [f"[{c.n}] har inget citat" for c in answer.citations if not c.quote.strip()]
    return problems
