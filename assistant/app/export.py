"""A conversation as a beslutsunderlag for the ledningsgrupp: Markdown and Word."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from datetime import date

from assistant.answer import Answer, Citation, CoachingQuestion, Turn

TITLE = "Beslutsunderlag: rätt frågor för ledningsgruppen"
DimensionName = Callable[[str], str]


def grouped(questions: Sequence[CoachingQuestion]) -> list[tuple[str, list[CoachingQuestion]]]:
    """Questions grouped by dimension, in the order the dimensions first appear."""
    groups: dict[str, list[CoachingQuestion]] = {}
    for q in questions:
        groups.setdefault(q.dimension, []).append(q)
    return list(groups.items())


def intro(answer: Answer) -> str:
    """The answer's text before its numbered question list, which is shown grouped instead (notes, warning
    signs, an extract); the gap summary after the list is shown on its own."""
    if not answer.questions:
        return answer.text
    paragraphs = answer.text.split("\n\n")
    cut = next((i for i, p in enumerate(paragraphs) if "\n1. " in p or p.startswith("1. ")), len(paragraphs))
    lead = paragraphs[:cut]
    if lead and cut < len(paragraphs) and "\n1. " in paragraphs[cut]:
        lead.append(paragraphs[cut].split("\n1. ")[0])  # the list's own lead-in ("Här är sex frågor …")
    return "\n\n".join(x.strip() for x in lead if x.strip())


def where(c: Citation) -> str:
    parts = [f"sidan {c.page}" if c.page else "", f"avsnittet ”{c.section}”" if c.section else ""]
    return ", ".join(p for p in parts if p)


def _markers(ns: Sequence[int]) -> str:
    return "".join(f" [{n}]" for n in ns)


def to_markdown(turns: Sequence[Turn], dimension_name: DimensionName, today: date | None = None) -> str:
    lines = [f"# {TITLE}", "", f"Datum: {(today or date.today()).isoformat()}", ""]
    for i, turn in enumerate(turns, start=1):
        answer = turn.answer
        lines += [f"## {i}. {_one_line(turn.message)}", "", f"> {_one_line(turn.message)}", ""]
        text = intro(answer)
        if text:
            lines += [text, ""]
        for dim, questions in grouped(answer.questions):
            lines += [f"### {dimension_name(dim)}", ""]
            for q in questions:
                lines.append(f"- **{q.text}**{_markers(q.citations)}")
                lines.append(f"  Varför: {q.why}")
            lines.append("")
        if answer.gaps.missing:
            lines += ["**Det här säger beskrivningen ännu inget om:** "
                      + ", ".join(dimension_name(d) for d in answer.gaps.missing), ""]
        if answer.citations:
            lines += ["**Källor**", ""]
            for c in answer.citations:
                loc = where(c)
                lines.append(f"{c.n}. {c.title}" + (f", {loc}" if loc else "") + f": ”{c.quote}”")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_docx(turns: Sequence[Turn], dimension_name: DimensionName, today: date | None = None) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = TITLE
    document.add_heading(TITLE, level=0)
    document.add_paragraph(f"Datum: {(today or date.today()).isoformat()}")
    for i, turn in enumerate(turns, start=1):
        answer = turn.answer
        document.add_heading(f"{i}. {_one_line(turn.message)}", level=1)
        document.add_paragraph(turn.message, style="Quote")
        text = intro(answer)
        if text:
            document.add_paragraph(text)
        for dim, questions in grouped(answer.questions):
            document.add_heading(dimension_name(dim), level=2)
            for q in questions:
                para = document.add_paragraph(style="List Bullet")
                para.add_run(q.text).bold = True
                para.add_run(_markers(q.citations))
                document.add_paragraph(f"Varför: {q.why}")
        if answer.gaps.missing:
            para = document.add_paragraph()
            para.add_run("Det här säger beskrivningen ännu inget om: ").bold = True
            para.add_run(", ".join(dimension_name(d) for d in answer.gaps.missing))
        if answer.citations:
            document.add_heading("Källor", level=2)
            for c in answer.citations:
                loc = where(c)
                document.add_paragraph(f"[{c.n}] {c.title}" + (f", {loc}" if loc else "") + f": ”{c.quote}”")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _one_line(text: str, limit: int = 90) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
