"""Regenerate the bundled PDF and Word documents from their Markdown sources.

`python -m assistant.ingestion.corpus_formats` reads `corpus/_kallor/*.md` and writes
`corpus/<id>.pdf` or `corpus/<id>.docx` (see FORMATS), so the bundled corpus
exercises every loader. PDF headings become bookmarks, which the PDF loader
reads back as section names.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from assistant.ingestion.loaders import FRONT_MATTER_MARK, split_front_matter
from assistant.settings import PROJECT_ROOT

FORMATS = {"lardomar-fran-stora-it-projekt": "pdf", "forvaltningsstyrning-och-digitalt-arv": "docx"}
FIXED_DATE = datetime(2026, 11, 27, tzinfo=timezone.utc)


def parse_blocks(body: str) -> list[tuple[str, str]]:
    """(kind, text) blocks: h1/h2/h3, p (paragraph) or li (bullet)."""
    blocks: list[tuple[str, str]] = []
    for raw in re.split(r"\n\s*\n", body.strip()):
        lines = [ln.strip() for ln in raw.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        m = re.match(r"^(#{1,3})\s+(.*)$", lines[0])
        if m:
            blocks.append((f"h{len(m.group(1))}", m.group(2).strip()))
            lines = lines[1:]
            if not lines:
                continue
        if all(ln.startswith(("- ", "* ")) for ln in lines):
            blocks.extend(("li", ln[2:].strip()) for ln in lines)
        else:
            blocks.append(("p", " ".join(lines)))
    return blocks


def embedded_front_matter(meta: dict) -> str:
    """The Markdown front matter travels inside the file (PDF subject, Word comments)."""
    import yaml

    return FRONT_MATTER_MARK + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)


def font_path() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def write_pdf(meta: dict, blocks: list[tuple[str, str]], target: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(str(meta.get("titel", "")))
    pdf.set_author(str(meta.get("utgivare", "")))
    pdf.set_subject(embedded_front_matter(meta))
    pdf.set_keywords(", ".join(map(str, meta.get("ämnen", []))))
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.set_margins(22, 22, 22)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    sizes = {"h1": 17, "h2": 13.5, "h3": 12}
    for kind, text in blocks:
        if kind in sizes:
            pdf.set_font("DejaVu", size=sizes[kind])
            if kind != "h1":
                if pdf.get_y() > pdf.h - 60:  # keep a heading with its text
                    pdf.add_page()
                pdf.ln(3)
                pdf.start_section(text, level=int(kind[1]) - 2)
            pdf.multi_cell(0, 8, text, align="L")
            pdf.ln(1)
        else:
            pdf.set_font("DejaVu", size=10.5)
            pdf.multi_cell(0, 5.6, ("• " if kind == "li" else "") + text, align="L")
            pdf.ln(2)
    pdf.output(str(target))


def write_docx(meta: dict, blocks: list[tuple[str, str]], target: Path) -> None:
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title = str(meta.get("titel", ""))
    props.author = str(meta.get("utgivare", ""))
    # Word's "comments" property is limited to 255 characters by python-docx, not by the format.
    props._element._get_or_add("description").text = embedded_front_matter(meta)
    props.keywords = ", ".join(map(str, meta.get("ämnen", [])))
    props.created = props.modified = FIXED_DATE.replace(tzinfo=None)
    for kind, text in blocks:
        if kind == "h1":
            document.add_heading(text, level=0)
        elif kind in ("h2", "h3"):
            document.add_heading(text, level=int(kind[1]) - 1)
        elif kind == "li":
            document.add_paragraph(text, style="List Bullet")
        else:
            document.add_paragraph(text)
    document.save(str(target))


def build(source_dir: Path, corpus_dir: Path) -> list[Path]:
    written = []
    for doc_id, fmt in FORMATS.items():
        text = (source_dir / f"{doc_id}.md").read_text(encoding="utf-8")
        meta, start = split_front_matter(text)
        blocks = parse_blocks(text[start:])
        target = corpus_dir / f"{doc_id}.{fmt}"
        (write_pdf if fmt == "pdf" else write_docx)(meta, blocks, target)
        written.append(target)
    return written


def main() -> int:
    for path in build(PROJECT_ROOT / "corpus" / "_kallor", PROJECT_ROOT / "corpus"):
        print(f"skrev {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
