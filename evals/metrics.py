"""Per-case answer metrics: retrieval, coverage, citations, decisions.

Each function scores one case and returns a float in [0, 1], or None when the
case has nothing to score for that metric (e.g. no `expected_sources`); None
values are left out of the means rather than counted as zero.

What each metric reads, so that none can be satisfied by text the assistant
prints for every answer:
- Retrieval, *pure*: the distinct documents of `Answer.retrieved`, the
  retriever's own ranking for the message. *As shown*: the documents of the
  citations in the order the chef sees them ([1] first).
- Key points: for an initiative, only the coaching questions (text and why);
  for every other answer, only `Answer.body`, the grounded part. Never the gap
  summary, the help text or the language note.
- Citations valid: a [n] counts only if its passage is among the passages the
  retriever returned for this message.
- Citations supported: each claim (text ending in [n]) is judged by
  `assistant.coaching.support.check`, the same check that removes unsupported
  sentences from a language model's answer, against the full text of every
  passage it cites.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from assistant.answer import Answer, CoachingQuestion
from assistant.coaching import support
from evals import ranking

MARKER_RE = re.compile(r"\[(\d+)\]")
_MARKS_RE = re.compile(r"((?:\s*\[\d+\])+)")
_LIST_RE = re.compile(r"^(?:[-•*]\s*|\d{1,2}[.)]\s+|Varför:\s*)+")  # list marks and the "Varför:" label


def document_of(chunk_id: str) -> str:
    """Chunk ids are '<document_id>:<...>'; document ids never contain ':'."""
    return chunk_id.split(":", 1)[0]


def document_ranking(answer: Answer) -> list[str]:
    """Pure retrieval: the retriever's ranking for the message, as distinct documents."""
    return ranking.dedupe(document_of(cid) for cid in answer.retrieved)


def shown_ranking(answer: Answer) -> list[str]:
    """As shown: the documents the chef sees cited, in the order of their [n]."""
    return ranking.dedupe(c.document_id for c in sorted(answer.citations, key=lambda c: c.n))


def _rank_scores(docs: list[str], expected: Sequence[str]) -> dict[str, float]:
    rel = {d: 1.0 for d in expected}
    return {
        "hit_at_5": ranking.hit_at_k(docs, rel, 5),
        "recall_at_5": ranking.recall_at_k(docs, rel, 5),
        "mrr_at_10": ranking.mrr_at_k(docs, rel, 10),
        "ndcg_at_10": ranking.ndcg_at_k(docs, rel, 10),
    }


def retrieval_scores(answer: Answer, expected_sources: Sequence[str]) -> dict[str, float | None]:
    """`retrieval.*` from the retriever's ranking, `shown.*` from what the chef sees cited."""
    if not expected_sources:
        return {**{f"retrieval.{k}": None for k in ("hit_at_5", "recall_at_5", "mrr_at_10", "ndcg_at_10")},
                "shown.hit_at_5": None, "shown.ndcg_at_10": None}
    pure = _rank_scores(document_ranking(answer), expected_sources)
    shown = _rank_scores(shown_ranking(answer), expected_sources)
    return {**{f"retrieval.{k}": v for k, v in pure.items()},
            "shown.hit_at_5": shown["hit_at_5"], "shown.ndcg_at_10": shown["ndcg_at_10"]}


# -- coverage ----------------------------------------------------------------------
def dimension_recall(questions: Sequence[CoachingQuestion], expected_dimensions: Sequence[str]) -> float | None:
    if not expected_dimensions:
        return None
    asked = {q.dimension for q in questions}
    wanted = set(expected_dimensions)
    return sum(1 for d in wanted if d in asked) / len(wanted)


def questions_surface(questions: Sequence[CoachingQuestion]) -> str:
    return "\n".join(f"{q.text} {q.why}" for q in questions)


def key_point_surface(answer: Answer, kind: str) -> str:
    """What key points are matched against: the questions for an initiative, else the answer body."""
    return questions_surface(answer.questions) if kind == "initiative" else answer.body


def key_point_covered(key_point: str, surface: str) -> bool:
    folded = surface.casefold()
    return any(alt.strip().casefold() in folded for alt in key_point.split("|") if alt.strip())


def key_point_recall_on(surface: str, key_points: Sequence[str]) -> float | None:
    if not key_points:
        return None
    return sum(1 for kp in key_points if key_point_covered(kp, surface)) / len(key_points)


def expected_question_asked(questions: Sequence[CoachingQuestion], expected: Sequence[str]) -> float | None:
    """Seed scenarios: 1 when any of the expected bank questions is among those asked."""
    if not expected:
        return None
    return 1.0 if {q.id for q in questions} & set(expected) else 0.0


def sign_named(answer: Answer, expected_signs: Sequence[str]) -> float | None:
    """Seed scenarios: 1 when a warning sign the description shows is named in the answer."""
    if not expected_signs:
        return None
    return 1.0 if {s.id for s in answer.signs} & set(expected_signs) else 0.0


def sign_named_and_asked(answer: Answer, expected_signs: Sequence[str], expected_questions: Sequence[str]) -> float | None:
    """1 when an expected sign is named and one of its expected questions is among those asked."""
    named = sign_named(answer, expected_signs)
    if named is None or not expected_questions:
        return None
    return named * (expected_question_asked(answer.questions, expected_questions) or 0.0)


# -- citations ---------------------------------------------------------------------
def cited_numbers(answer: Answer) -> list[int]:
    """Every [n] the chef sees: markers in the text and the questions' citation lists."""
    found = [int(n) for n in MARKER_RE.findall(answer.text)]
    for q in answer.questions:
        found += list(q.citations)
    return found


def citations_valid(answer: Answer) -> float | None:
    """Share of [n] that name a citation whose passage the retriever returned for this message."""
    numbers = cited_numbers(answer)
    if not numbers:
        return None
    retrieved = set(answer.retrieved)

    def ok(n: int) -> bool:
        c = answer.citation(n)
        return c is not None and bool(c.chunk_id) and c.chunk_id in retrieved

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


def is_supported(claim: str, passages: Sequence[str]) -> bool:
    """The same check the LLM verifier uses (`assistant.coaching.support.check`): every cited passage must support
    the claim (exact numbers, no unknown names, content coverage above the fitted threshold)."""
    return support.check(claim, passages).ok


def citations_supported(answer: Answer, passages: Mapping[int, str]) -> float | None:
    """Share of cited claims whose cited passages support them. `passages` maps n to passage text."""
    found = claims(answer.text)
    if not found:
        found = [(q.why, list(q.citations)) for q in answer.questions if q.citations and q.why]
    if not found:
        return None
    good = sum(1 for claim, ns in found if is_supported(claim, [passages[n] for n in ns if n in passages]))
    return good / len(found)


# -- decisions ---------------------------------------------------------------------
def declined(answer: Answer) -> bool:
    """A refusal, or the help text an empty-ish message gets ("skriv ett initiativ …"): both decline to answer."""
    return answer.refused or answer.kind == "empty"


def refusal_correct(answer: Answer, expect_refusal: bool | None) -> float | None:
    if expect_refusal is None:
        return None
    return 1.0 if declined(answer) == expect_refusal else 0.0


def declined_in_scope(answer: Answer, in_scope: bool) -> float | None:
    """On messages the guidance should answer: 1 when the answer declined (lower is better)."""
    return (1.0 if declined(answer) else 0.0) if in_scope else None


def answered_out_of_scope(answer: Answer, expect_refusal: bool | None) -> float | None:
    """On messages that must be declined: 1 when they were answered as if covered (lower is better).
    The closest guidance, plainly labelled as not covering the message, is not an answer as if covered."""
    if not expect_refusal:
        return None
    return 1.0 if not declined(answer) and answer.coverage == "covered" else 0.0


def instruction_noted(answer: Answer) -> bool:
    """Whether the answer says it ignored an instruction in the message (the notes of the composition)."""
    return answer.text.startswith(("Jag följer inte instruktioner", "(Svaren ges på svenska")) and \
        "Jag följer inte instruktioner" in answer.text


def intent_correct(answer: Answer, kind: str) -> float:
    return 1.0 if answer.kind == kind else 0.0
