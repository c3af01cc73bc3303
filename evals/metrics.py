"""Per-case answer metrics: retrieval, coverage, citations, refusal.

Each function scores one case and returns a float in [0, 1], or None when the
case has nothing to score for that metric (e.g. no `expected_sources`); None
values are left out of the means rather than counted as zero.

Document ranking for the retrieval metrics: the distinct document ids of
`Answer.retrieved` (chunk ids, best first) in order of first appearance,
followed by any cited document not already in that list. `retrieved` is what
the coach actually looked at, so this measures retrieval as the chef gets it
(after the relevance floor and the per-document diversity cap).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from assistant.answer import Answer
from assistant.text import content_tokens, stem, tokenize
from evals import ranking

MARKER_RE = re.compile(r"\[(\d+)\]")
_MARKS_RE = re.compile(r"((?:\s*\[\d+\])+)")
_LIST_RE = re.compile(r"^(?:[-•*]\s*|\d{1,2}[.)]\s+|Varför:\s*)+")  # list marks and the "Varför:" label
SUPPORT_THRESHOLD = 0.5  # share of a claim's content stems that must occur in its cited passages


def document_of(chunk_id: str) -> str:
    """Chunk ids are '<document_id>:<ordinal>:<hash>'; document ids never contain ':'."""
    return chunk_id.split(":", 1)[0]


def document_ranking(answer: Answer) -> list[str]:
    docs = [document_of(cid) for cid in answer.retrieved]
    docs += [c.document_id for c in answer.citations]
    return ranking.dedupe(docs)


def retrieval_scores(answer: Answer, expected_sources: Sequence[str]) -> dict[str, float | None]:
    keys = ("hit_at_5", "recall_at_5", "mrr_at_10", "ndcg_at_10")
    if not expected_sources:
        return dict.fromkeys(keys, None)
    docs = document_ranking(answer)
    rel = {d: 1.0 for d in expected_sources}
    return {
        "hit_at_5": ranking.hit_at_k(docs, rel, 5),
        "recall_at_5": ranking.recall_at_k(docs, rel, 5),
        "mrr_at_10": ranking.mrr_at_k(docs, rel, 10),
        "ndcg_at_10": ranking.ndcg_at_k(docs, rel, 10),
    }


def dimension_recall(answer: Answer, expected_dimensions: Sequence[str]) -> float | None:
    if not expected_dimensions:
        return None
    asked = {q.dimension for q in answer.questions}
    return sum(1 for d in set(expected_dimensions) if d in asked) / len(set(expected_dimensions))


def answer_surface(answer: Answer) -> str:
    """Everything the chef reads: the text plus each question and its why."""
    parts = [answer.text] + [f"{q.text} {q.why}" for q in answer.questions]
    return "\n".join(parts)


def key_point_covered(key_point: str, surface: str) -> bool:
    folded = surface.casefold()
    return any(alt.strip().casefold() in folded for alt in key_point.split("|") if alt.strip())


def key_point_recall(answer: Answer, key_points: Sequence[str]) -> float | None:
    if not key_points:
        return None
    surface = answer_surface(answer)
    return sum(1 for kp in key_points if key_point_covered(kp, surface)) / len(key_points)


def cited_numbers(answer: Answer) -> list[int]:
    """Every [n] the chef sees: markers in the text and the questions' citation lists."""
    found = [int(n) for n in MARKER_RE.findall(answer.text)]
    for q in answer.questions:
        found += list(q.citations)
    return found


def citations_valid(answer: Answer) -> float | None:
    """Share of [n] that resolve to a citation whose passage was retrieved for this answer."""
    numbers = cited_numbers(answer)
    if not numbers:
        return None
    retrieved = set(answer.retrieved)
    retrieved_docs = {document_of(c) for c in retrieved}

    def ok(n: int) -> bool:
        c = answer.citation(n)
        if c is None:
            return False
        return c.chunk_id in retrieved if c.chunk_id else c.document_id in retrieved_docs

    return sum(1 for n in numbers if ok(n)) / len(numbers)


def claims(text: str) -> list[tuple[str, list[int]]]:
    """Split answer text into (claim, cited numbers): each run of text that ends in [n] markers.

    Text with no marker after it (headings, lead-ins) is not a claim and is not scored.
    """
    out = []
    for line in text.splitlines():
        parts = _MARKS_RE.split(line)  # [text, marks, text, marks, ..., trailing text]
        for body, marks in zip(parts[0::2], parts[1::2]):
            body = _LIST_RE.sub("", body.strip()).strip(" -•*:")
            if body:
                out.append((body, [int(n) for n in MARKER_RE.findall(marks)]))
    return out


def _exact_tokens(tokens: Iterable[str]) -> set[str]:
    """Numbers, years, dates' day numbers and SFS references (2018:218): must match exactly."""
    return {t for t in tokens if any(ch.isdigit() for ch in t)}


def is_supported(claim: str, passages: Sequence[str]) -> bool:
    if not passages:
        return False
    source = " ".join(passages)
    source_tokens = tokenize(source)
    if not _exact_tokens(tokenize(claim)) <= set(source_tokens):
        return False
    words = {stem(t) for t in content_tokens(claim) if not any(ch.isdigit() for ch in t)}
    if not words:
        return True
    source_stems = {stem(t) for t in source_tokens}
    return len(words & source_stems) / len(words) >= SUPPORT_THRESHOLD


def citations_supported(answer: Answer, passages: Mapping[int, str]) -> float | None:
    """Share of cited claims whose cited passages support them. `passages` maps n to passage text."""
    found = claims(answer.text)
    if not found:
        found = [(q.why, list(q.citations)) for q in answer.questions if q.citations and q.why]
    if not found:
        return None
    good = sum(1 for claim, ns in found if is_supported(claim, [passages[n] for n in ns if n in passages]))
    return good / len(found)


def declined(answer: Answer) -> bool:
    """A refusal, or the help text an empty-ish message gets ("skriv ett initiativ …"): both decline to answer."""
    return answer.refused or answer.kind == "empty"


def refusal_correct(answer: Answer, expect_refusal: bool | None) -> float | None:
    if expect_refusal is None:
        return None
    return 1.0 if declined(answer) == expect_refusal else 0.0


def false_refusal(answer: Answer, expect_refusal: bool | None) -> float | None:
    """On every case not expected to be refused (expect_refusal false or absent)."""
    if expect_refusal:
        return None
    return 1.0 if declined(answer) else 0.0
