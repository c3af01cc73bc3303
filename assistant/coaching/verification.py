"""Check an answer's citations before anyone reads it.

Every [n] in the text, the questions and the warning signs must name a citation;
every citation must point to a passage that retrieval returned for this message
(`Answer.retrieved`), and its quote must stand in that passage. A problem here
is a defect of the assistant, never of the chef's message: the pipeline logs it
and drops what does not hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.answer import Answer

_REF_RE = re.compile(r"\[(\d+)\]")
_SPACE_RE = re.compile(r"\s+")


def cited_numbers(answer: Answer) -> set[int]:
    used = {int(n) for n in _REF_RE.findall(answer.text)}
    for q in answer.questions:
        used.update(q.citations)
    for s in answer.signs:
        used.update(s.citations)
    return used


def citation_problems(answer: Answer, chunk_text: Callable[[str], str | None] | None = None) -> list[str]:
    """What is wrong with an answer's citations, in Swedish; empty when every [n] holds."""
    problems = []
    known = {c.n for c in answer.citations}
    problems += [f"[{n}] saknar källa" for n in sorted(cited_numbers(answer) - known)]
    retrieved = set(answer.retrieved)
    problems += [f"[{c.n}] pekar på ett avsnitt som inte hämtades" for c in answer.citations if c.chunk_id not in retrieved]
    problems += [f"[{c.n}] har inget citat" for c in answer.citations if not c.quote.strip()]
    if chunk_text is not None:
        for c in answer.citations:
            text = chunk_text(c.chunk_id)
            if text is not None and _flat(c.quote) not in _flat(text):
                problems.append(f"[{c.n}] citerar något som inte står i avsnittet")
    return problems


def _flat(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()
