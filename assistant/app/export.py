"""A conversation as a beslutsunderlag for the ledningsgrupp: Markdown and Word."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from assistant.answer import Answer, Citation, CoachingQuestion, Turn

TITLE = "Beslutsunderlag: rätt frågor för ledningsgruppen"
DOC_TITLE = "Beslutsunderlag – Rätt frågor"  # the Word file's title property
APP_NAME = "Rätt frågor"
LANGUAGE = "sv-SE"
DimensionName = Callable[[str], str]


def declined(answer: Answer) -> bool:
    """An answer that declined the message (refused, outside the guidance, or empty): left out of an export by
    default."""
    return answer.refused or answer.kind in ("out_of_scope", "empty")


def default_selection(turns: Sequence[Turn]) -> list[int]:
    """The turns an export holds unless the user chooses otherwise: every answered turn."""
    return [i for i, t in enumerate(turns) if not declined(t.answer)]


def turn_label(i: int, turn: Turn) -> str:
    """How a turn is named when choosing what to export (1-based, the message on one line)."""
    return f"{i + 1}. {_one_line(turn.message, 60)}" + (" (avböjd)" if declined(turn.answer) else "")


def runs(questions: Sequence[CoachingQuestion]) -> list[tuple[str, list[tuple[int, CoachingQuestion]]]]:
    """Consecutive questions of the same dimension, each with its number (its 1-based position in the answer).

    The app and both exports show questions this way, so "fråga N" means the same question everywhere (a
    follow-up resolves N to `Answer.questions[N - 1]`). A dimension that comes back later gets a second heading
    rather than pulling its question out of order."""
    out: list[tuple[str, list[tuple[int, CoachingQuestion]]]] = []
    for n, q in enumerate(questions, start=1):
        if not out or out[-1][0] != q.dimension:
            out.append((q.dimension, []))
        out[-1][1].append((n, q))
    return out


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
        for dim, numbered in runs(answer.questions):
            lines += [f"### {dimension_name(dim)}", ""]
            for n, q in numbered:
                lines.append(f"{n}. **{q.text}**{_markers(q.citations)}  ")
                lines.append(f"   Varför: {q.why}")
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


def to_docx(turns: Sequence[Turn], dimension_name: DimensionName, today: date | None = None, *,
            author: str | None = None, now: datetime | None = None) -> bytes:
    import docx

    document = docx.Document()
    _properties(document, author=author, now=now)
    document.add_heading(TITLE, level=0)
    document.add_paragraph(f"Datum: {(today or date.today()).isoformat()}")
    for i, turn in enumerate(turns, start=1):
        answer = turn.answer
        document.add_heading(f"{i}. {_one_line(turn.message)}", level=1)
        document.add_paragraph(turn.message, style="Quote")
        text = intro(answer)
        if text:
            document.add_paragraph(text)
        for dim, numbered in runs(answer.questions):
            document.add_heading(dimension_name(dim), level=2)
            for n, q in numbered:
                para = document.add_paragraph()  # numbered by hand: the numbers must be the app's, across headings
                para.add_run(f"{n}. {q.text}").bold = True
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


def _properties(document, *, author: str | None, now: datetime | None) -> None:  # noqa: ANN001
    """Swedish (sv-SE) throughout, and properties of this export instead of the python-docx template's."""
    from docx.oxml.ns import qn

    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0, tzinfo=None)
    who = (author or "").strip() or APP_NAME
    core = document.core_properties
    core.title, core.author, core.last_modified_by = DOC_TITLE, who, who
    core.created = core.modified = stamp
    core.language, core.comments, core.subject = LANGUAGE, f"Skapat med {APP_NAME}", "Beslutsunderlag"
    core.revision = 1
    styles = document.styles.element
    for rpr in [styles.find(qn("w:docDefaults") + "/" + qn("w:rPrDefault") + "/" + qn("w:rPr")),
                document.styles["Normal"].element.get_or_add_rPr()]:
        if rpr is None:
            continue
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = rpr.makeelement(qn("w:lang"), {})
            rpr.append(lang)
        lang.set(qn("w:val"), LANGUAGE)
        lang.set(qn("w:eastAsia"), LANGUAGE)
    font_lang = document.settings.element.find(qn("w:themeFontLang"))
    if font_lang is not None:
        font_lang.set(qn("w:val"), LANGUAGE)
    for part in document.part.package.iter_parts():  # the template's stylesWithEffects.xml is a plain part
        if str(part.partname) == "/docProps/app.xml" and hasattr(part, "_blob"):
            part._blob = _app_properties(part.blob)
        if str(part.partname).endswith("stylesWithEffects.xml") and hasattr(part, "_blob"):
            part._blob = re.sub(rb'(<w:lang\b[^>]*?w:val=")[^"]*(")', rb"\g<1>sv-SE\g<2>", part.blob)
            part._blob = re.sub(rb'(<w:lang\b[^>]*?w:eastAsia=")[^"]*(")', rb"\g<1>sv-SE\g<2>", part._blob)


def _app_properties(blob: bytes) -> bytes:
    """The template's docProps/app.xml names "Microsoft Macintosh Word" 14.0 and its template: name this app
    instead and drop what describes the template's own file."""
    out = re.sub(rb"<Application>[^<]*</Application>", f"<Application>{APP_NAME}</Application>".encode(), blob)
    out = re.sub(rb"\s*<AppVersion>[^<]*</AppVersion>", b"", out)
    out = re.sub(rb"\s*<Template>[^<]*</Template>", b"", out)
    return out


def _one_line(text: str, limit: int = 90) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
