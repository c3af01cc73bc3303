"""Load guidance files (PDF, Word, Markdown, text) into sections with locations.

The file type is decided by content, not by the name: a renamed image is
refused even when it is called `.pdf`. Every refusal is an `IngestError` with
a Swedish reason.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import IngestError
from assistant.types import LoadedDocument, Section

SUPPORTED_SUFFIXES = {".pdf": "pdf", ".docx": "docx", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}
SUPPORTED_TEXT = "PDF, Word (.docx), Markdown (.md) och text (.txt)"
_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
FRONT_MATTER_MARK = "ratt-fragor-front-matter\n"
_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(\S.*)$")
# Byte order marks, longest first (UTF-32 LE starts with the UTF-16 LE mark).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"),
)
TEXT_SHARE = 0.85  # text with a smaller share of ordinary characters is refused as not text
_ANSI_RE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
# C0/C1 controls except tab and newline, and the invisible bidi overrides that can reorder what a reader sees.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Limits:
    """What one file may cost before any work is done on it (from settings; see `from_settings`)."""

    docx_expanded_bytes: int = 50_000_000
    pdf_pages: int = 1000
    document_chars: int = 2_000_000
    front_matter_bytes: int = 64_000

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(
            docx_expanded_bytes=int(settings.max_docx_expanded_mb * 1_000_000),
            pdf_pages=settings.max_pdf_pages,
            document_chars=settings.max_document_chars,
            front_matter_bytes=int(settings.max_front_matter_kb * 1000),
        )


def document_id_for(path: Path) -> str:
    """A stable, URL-safe id from the file stem: 'Min rapport (2024)' → 'min-rapport-2024'."""
    stem = unicodedata.normalize("NFKD", path.stem.lower())
    stem = "".join(c for c in stem if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")
    return slug or "dokument"


MAX_NAME_CHARS = 200


def check_upload_name(name: str) -> str:
    """The name of an uploaded file, or an IngestError saying (in Swedish) why it cannot be used as a file name."""
    shown = clean_label(name)[:60] or "(tomt namn)"
    if "\x00" in name:
        raise IngestError(f"Filnamnet {shown!r} innehåller ett NUL-tecken och kan inte användas. Byt namn på filen.")
    if "/" in name or "\\" in name:
        raise IngestError(f"Filnamnet {shown!r} innehåller en sökväg (/ eller \\). Ladda upp filen med bara filnamnet.")
    if len(name) > MAX_NAME_CHARS or len(name.encode("utf-8", errors="replace")) > 255:
        raise IngestError(f"Filnamnet är för långt ({len(name)} tecken); högst {MAX_NAME_CHARS} tecken är tillåtet. "
                          "Byt till ett kortare namn.")
    if name.strip() in ("", ".", "..") or clean_text(name) != name or name.startswith("."):
        raise IngestError(f"Filnamnet {shown!r} kan inte användas (tomt, dolt, bara punkter eller med "
                          "styrtecken). Byt namn på filen.")
    if not Path(name).stem.strip(" ."):
        raise IngestError(f"Filnamnet {shown!r} saknar ett namn före filändelsen. Byt namn på filen.")
    return name


def clean_text(text: str) -> str:
    """Text without terminal escape sequences and control characters (tabs and newlines stay)."""
    if not text:
        return text
    return _CONTROL_RE.sub("", _ANSI_RE.sub("", text))


def clean_label(text: str) -> str:
    """A title or metadata value on one line, without escape sequences or control characters."""
    return re.sub(r"\s+", " ", clean_text(text)).strip()


def _clean_meta(value: Any) -> Any:
    if isinstance(value, str):
        return clean_label(value)
    if isinstance(value, dict):
        return {clean_label(str(k)): _clean_meta(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_meta(v) for v in value]
    return value


def detect_kind(data: bytes, suffix: str) -> str:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if "word/document.xml" in zf.namelist():
                    return "docx"
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise IngestError("Filen ser ut som ett zip-arkiv men är skadad.") from exc
        raise IngestError(f"Filtypen stöds inte (ett zip-arkiv som inte är ett Word-dokument). Tillåtna format: {SUPPORTED_TEXT}.")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError("Det äldre Word-formatet (.doc) stöds inte. Spara filen som .docx och försök igen.")
    bom = any(data.startswith(mark) for mark, _ in _BOMS)
    if not bom and b"\x00" in data[:8192]:
        raise IngestError(f"Filtypen stöds inte (binärfil). Tillåtna format: {SUPPORTED_TEXT}.")
    kind = SUPPORTED_SUFFIXES.get(suffix.lower())
    if kind in ("markdown", "text"):
        return kind
    if suffix.lower() in (".pdf", ".docx"):
        raise IngestError(f"Filen heter {suffix} men innehållet är inte en giltig {suffix[1:].upper()}-fil.")
    return "text" if suffix == "" else _refuse_suffix(suffix)


def _refuse_suffix(suffix: str) -> str:
    raise IngestError(f"Filtypen {suffix} stöds inte. Tillåtna format: {SUPPORTED_TEXT}.")


def decode_text(data: bytes, name: str = "Filen") -> str:
    """Text from UTF-8 (with or without BOM), BOM-marked UTF-16/UTF-32, else Windows-1252.

    Text that is mostly not ordinary characters (random bytes, a binary file without NUL) is refused.
    """
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            text = data[len(mark):].decode(encoding, errors="replace")
            break
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if _text_share(text) < TEXT_SHARE:
        raise IngestError(
            f"{name} innehåller mest tecken som inte är text (en binärfil eller en okänd teckenkodning) och läses "
            f"inte in. Spara den som text i UTF-8. Tillåtna format: {SUPPORTED_TEXT}."
        )
    text = clean_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", text)


def _text_share(text: str) -> float:
    """Share of ordinary characters (letters, digits, ASCII punctuation, whitespace) in a sample of the text."""
    sample = text if len(text) <= 200_000 else text[:100_000] + text[-100_000:]
    if not sample:
        return 1.0
    ordinary = sum(
        1 for c in sample
        if c in "\t\n\r " or (c.isprintable() and c != "\ufffd" and (c < "\x7f" or c.isalpha() or c > "\u00ff"))
    )
    return ordinary / len(sample)


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases (a few hundred bytes of aliases can expand to gigabytes)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise _YamlAlias
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise _YamlAlias
        return super().compose_node(parent, index)


class _YamlAlias(Exception):
    pass


def _safe_yaml(block: str, name: str, limits: Limits | None, lenient: bool = False) -> Any:
    """Parse front matter YAML with a size limit and no aliases; every refusal in Swedish, never PyYAML's text."""
    limits = limits or Limits()
    size = len(block.encode("utf-8", errors="replace"))
    if size > limits.front_matter_bytes:
        raise IngestError(
            f"{name}: dokumentets inledande metadata (front matter) är {size / 1000:.0f} kB; högst "
            f"{limits.front_matter_bytes / 1000:g} kB är tillåtet (inställningen ASSISTANT_MAX_FRONT_MATTER_KB)."
        )
    try:
        return yaml.load(block, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except _YamlAlias as exc:
        raise IngestError(
            f"{name}: dokumentets inledande metadata (front matter) använder YAML-ankare eller alias (& eller *), "
            "som inte är tillåtna. Skriv ut värdena direkt."
        ) from exc
    except (yaml.YAMLError, RecursionError) as exc:
        if lenient:  # embedded metadata that does not parse is ignored, as before; bombs are still refused
            return None
        if isinstance(exc, RecursionError):
            raise IngestError(f"{name}: dokumentets inledande metadata (front matter) är för djupt nästlad.") from exc
        mark = getattr(exc, "problem_mark", None)
        where = f" (rad {mark.line + 1} i metadatan)" if mark is not None else ""
        raise IngestError(
            f"{name}: dokumentets inledande metadata (front matter) är inte giltig YAML{where}. "
            "Kontrollera att varje rad har formen nyckel: värde."
        ) from exc


def split_front_matter(text: str, limits: Limits | None = None, name: str = "Filen") -> tuple[dict[str, Any], int]:
    """Return (front matter, offset where the body starts)."""
    if not text.startswith("---"):
        return {}, 0
    m = _FRONT_MATTER_RE.match(text)
    if not m:
        return {}, 0
    meta = _safe_yaml(m.group(1), name, limits) or {}
    if not isinstance(meta, dict):
        raise IngestError(f"{name}: dokumentets inledande metadata (front matter) måste vara nyckel: värde-par.")
    return {str(k): _plain(v) for k, v in meta.items()}, m.end()


def _plain(value: Any) -> Any:
    """YAML dates and the like become strings so metadata is JSON-safe."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _paragraph_sections(text: str, base: int, heading_path: tuple[str, ...], page: int | None = None) -> list[Section]:
    sections = []
    # A paragraph ends at a blank line or at the end of the text, trailing whitespace allowed
    # (files end with a newline; without `\s*\Z` their last paragraph was dropped).
    for m in re.finditer(r"\S(?:.*?\S)?(?=[ \t]*\n\s*\n|\s*\Z)", text, re.DOTALL):
        sections.append(Section(text=m.group(0), start=base + m.start(), page=page, heading_path=heading_path))
    return sections


def load_markdown(text: str, limits: Limits | None = None, name: str = "Filen") -> tuple[str | None, list[Section], dict[str, Any]]:
    meta, body_start = split_front_matter(text, limits, name)
    title: str | None = None
    path: list[tuple[int, str]] = []
    sections: list[Section] = []
    pos = body_start
    block_start = body_start
    lines = text[body_start:].split("\n")

    def flush(end: int) -> None:
        chunk = text[block_start:end]
        sections.extend(_paragraph_sections(chunk, block_start, tuple(h for _, h in path)))

    for line in lines:
        m = _HEADING_RE.match(line) if line.startswith("#") else None
        if m:
            flush(pos)
            level, heading = len(m.group(1)), _heading_text(m.group(2))
            if level == 1 and title is None:
                title = heading
            else:
                path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, heading)]
            block_start = pos + len(line) + 1
        pos += len(line) + 1
    flush(len(text))
    return title, sections, meta


def _heading_text(raw: str) -> str:
    """A Markdown heading without its optional closing #s (string operations: no regex backtracking)."""
    text = raw.rstrip()
    return text.rstrip("#").rstrip() or text


def load_text(text: str, limits: Limits | None = None, name: str = "Filen") -> tuple[str | None, list[Section], dict[str, Any]]:
    meta, body_start = split_front_matter(text, limits, name)
    return None, _paragraph_sections(text[body_start:], body_start, ()), meta


def load_pdf(data: bytes, limits: Limits | None = None, name: str = "PDF-filen") -> tuple[str | None, list[Section], dict[str, Any]]:
    from pypdf import PdfReader

    limits = limits or Limits()
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception:  # noqa: BLE001 - pypdf raises several kinds here (DependencyError, NotImplementedError …)
                opened = 0
            if not opened:
                raise IngestError(
                    f"PDF-filen är krypterad med ett lösenord och kan inte läsas utan det ({name}). "
                    "Spara en version utan lösenord och läs in den."
                )
        count = len(reader.pages)
        if count > limits.pdf_pages:
            raise IngestError(
                f"PDF-filen {name} har {count} sidor; högst {limits.pdf_pages} sidor är tillåtet "
                "(inställningen ASSISTANT_MAX_PDF_PAGES)."
            )
        pages: list[str] = []
        chars = 0
        for page in reader.pages:
            text = clean_text(page.extract_text() or "")
            chars += len(text) + 2
            if chars > limits.document_chars:
                raise IngestError(_too_many_chars(name, limits))
            pages.append(text)
        outline = _pdf_outline(reader)
        info = reader.metadata
        info_title = (info.title if info else None) or None
        meta = embedded_metadata(info.subject if info else None, info.author if info else None, limits, name)
    except IngestError:
        raise
    except RecursionError as exc:
        raise IngestError(f"PDF-filen är skadad och kan inte läsas ({name}: för djupt nästlad struktur).") from exc
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on broken files; none may reach a person
        raise IngestError(f"PDF-filen är skadad och kan inte läsas ({name}).") from exc
    if not pages:
        raise IngestError(f"PDF-filen {name} har inga sidor.")
    sections: list[Section] = []
    base = 0
    current: tuple[str, ...] = ()
    for number, page_text in enumerate(pages, start=1):
        page_text = unicodedata.normalize("NFC", page_text)
        cuts: list[tuple[int, tuple[str, ...]]] = []
        search_from = 0
        for heading_path in outline.get(number, []):
            idx = page_text.find(heading_path[-1], search_from)
            at = idx if idx >= 0 else search_from
            cuts.append((at, heading_path))
            search_from = at + (len(heading_path[-1]) if idx >= 0 else 0)
        boundaries = [(0, current)] + cuts
        for i, (start, path) in enumerate(boundaries):
            end = boundaries[i + 1][0] if i + 1 < len(boundaries) else len(page_text)
            segment = page_text[start:end]
            if path and segment.startswith(path[-1]):
                segment_start = start + len(path[-1])
            else:
                segment_start = start
            sections.extend(_paragraph_sections(page_text[segment_start:end], base + segment_start, path, page=number))
            current = path
        base += len(page_text) + 2
    return info_title, sections, meta


def _too_many_chars(name: str, limits: Limits) -> str:
    return (
        f"{name} innehåller mer än {limits.document_chars:,} tecken text; så stora dokument läses inte in "
        "(inställningen ASSISTANT_MAX_DOCUMENT_CHARS). Dela upp dokumentet."
    ).replace(",", " ")


def _pdf_outline(reader: Any) -> dict[int, list[tuple[str, ...]]]:
    """Map page number → heading paths of bookmarks starting on that page."""
    result: dict[int, list[tuple[str, ...]]] = {}

    def walk(items: list[Any], parents: tuple[str, ...]) -> None:
        last: tuple[str, ...] | None = None
        for item in items:
            if isinstance(item, list):
                if last is not None:
                    walk(item, last)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1
            except Exception:  # noqa: BLE001 - a broken bookmark only loses its heading
                continue
            last = parents + (clean_label(str(item.title)),)
            result.setdefault(page, []).append(last)

    try:
        walk(reader.outline, ())
    except Exception:  # noqa: BLE001 - outlines are optional
        return {}
    return result


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DOCX_TEXT_TAGS = (_W + "t", _W + "tab", _W + "ptab", _W + "br", _W + "cr", _W + "noBreakHyphen")


class _ExpandedTooLarge(Exception):
    pass


class _LimitedPart:
    """A zip member read as a stream that stops once the expanded bytes of every part read pass the budget.

    The zip header's `file_size` is checked first, but it can lie; the bytes are counted while reading too.
    """

    def __init__(self, raw: Any, budget: list[int]) -> None:
        self.raw = raw
        self.budget = budget  # [bytes left], shared by all parts of one file

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n if n and n > 0 else 65536)
        self.budget[0] -= len(data)
        if self.budget[0] < 0:
            raise _ExpandedTooLarge
        return data


def _docx_part(zf: zipfile.ZipFile, name: str, budget: list[int]) -> _LimitedPart | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > budget[0]:
        raise _ExpandedTooLarge
    return _LimitedPart(zf.open(info), budget)


def _docx_styles(zf: zipfile.ZipFile, budget: list[int]) -> dict[str, str]:
    from lxml import etree

    part = _docx_part(zf, "word/styles.xml", budget)
    if part is None:
        return {}
    names: dict[str, str] = {}
    for _, el in etree.iterparse(part, events=("end",), tag=_W + "style", resolve_entities=False, no_network=True):
        name = el.find(_W + "name")
        if el.get(_W + "styleId") and name is not None:
            names[el.get(_W + "styleId")] = name.get(_W + "val") or ""
        el.clear()
    return names


def _docx_core(zf: zipfile.ZipFile, budget: list[int]) -> dict[str, str]:
    from lxml import etree

    part = _docx_part(zf, "docProps/core.xml", budget)
    if part is None:
        return {}
    found: dict[str, str] = {}
    for _, el in etree.iterparse(part, events=("end",), resolve_entities=False, no_network=True):
        local = etree.QName(el).localname
        if local in ("title", "creator", "description") and el.text and local not in found:
            found[local] = el.text
    return found


def _docx_paragraph_text(p: Any) -> str:
    parts = []
    for el in p.iter(*_DOCX_TEXT_TAGS):
        tag = el.tag
        if tag == _W + "t":
            parts.append(el.text or "")
        elif tag in (_W + "tab", _W + "ptab"):
            parts.append("\t")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        elif tag == _W + "cr" or el.get(_W + "type") in (None, "textWrapping"):
            parts.append("\n")
    return "".join(parts)


def load_docx(data: bytes, limits: Limits | None = None, name: str = "Word-filen") -> tuple[str | None, list[Section], dict[str, Any]]:
    """Stream `word/document.xml`: memory stays bounded and reading stops at the expanded-size limit."""
    from lxml import etree

    limits = limits or Limits()
    budget = [limits.docx_expanded_bytes]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            styles = _docx_styles(zf, budget)
            core = _docx_core(zf, budget)
            part = _docx_part(zf, "word/document.xml", budget)
            if part is None:
                raise IngestError(f"{name}: Word-filen är skadad och kan inte läsas (word/document.xml saknas).")
            paragraphs: list[tuple[str, str]] = []  # (style name, text)
            rows: list[str] = []
            chars = 0
            body = _W + "body"
            for _, el in etree.iterparse(part, events=("end",), tag=(_W + "p", _W + "tr"), resolve_entities=False,
                                         no_network=True, huge_tree=False):
                parent = el.getparent()
                if el.tag == _W + "p":
                    if parent is None or parent.tag != body:
                        continue  # a table cell's paragraph: read with its row
                    style_el = el.find(f"{_W}pPr/{_W}pStyle")
                    style = styles.get(style_el.get(_W + "val"), "") if style_el is not None else ""
                    text = _docx_paragraph_text(el)
                    paragraphs.append((style, text))
                else:
                    table = parent.getparent() if parent is not None else None
                    if table is None or table.tag != body:
                        continue  # a nested table's row: the outer cell's paragraphs carry the text
                    cells = ["\n".join(_docx_paragraph_text(p) for p in tc.iterchildren(_W + "p"))
                             for tc in el.iterchildren(_W + "tc")]
                    text = " | ".join(c.strip() for c in cells if c.strip())
                    rows.append(text)
                chars += len(text) + 2
                if chars > limits.document_chars:
                    raise IngestError(_too_many_chars(name, limits))
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]
    except IngestError:
        raise
    except _ExpandedTooLarge as exc:
        raise IngestError(
            f"{name}: Word-filen packas upp till mer än {limits.docx_expanded_bytes / 1e6:g} MB och läses inte in "
            "(gränsen är inställningen ASSISTANT_MAX_DOCX_EXPANDED_MB)."
        ) from exc
    except (etree.XMLSyntaxError, etree.LxmlError) as exc:
        raise IngestError(f"{name}: Word-filen är skadad och kan inte läsas (ogiltig XML i dokumentet).") from exc
    except RecursionError as exc:
        raise IngestError(f"{name}: Word-filen är för djupt nästlad för att läsas.") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, KeyError,
            NotImplementedError, RuntimeError, LookupError) as exc:
        # NotImplementedError: an unknown compression method; RuntimeError: an encrypted member
        raise IngestError(f"{name}: Word-filen är skadad och kan inte läsas (zip-arkivet är trasigt).") from exc
    title = core.get("title") or None
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    pos = 0
    for style, raw in paragraphs:
        text = unicodedata.normalize("NFC", clean_text(raw).strip())
        if not text:
            continue
        level = _docx_heading_level(style)
        if style.lower() == "title":
            title = title or text
        elif level:
            path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, text)]
        else:
            sections.append(Section(text=text, start=pos, heading_path=tuple(h for _, h in path)))
        pos += len(text) + 2
    for text in rows:
        if text:
            sections.append(Section(text=unicodedata.normalize("NFC", clean_text(text)), start=pos, heading_path=tuple(h for _, h in path)))
            pos += len(text) + 2
    return title, sections, embedded_metadata(core.get("description"), core.get("creator"), limits, name)


def embedded_metadata(carrier: str | None, author: str | None, limits: Limits | None = None,
                      name: str = "Filen") -> dict[str, Any]:
    """Front matter embedded by assistant.ingestion.corpus_formats, else just the author as utgivare."""
    if carrier and isinstance(carrier, str) and carrier.startswith(FRONT_MATTER_MARK):
        meta = _safe_yaml(carrier[len(FRONT_MATTER_MARK):], name, limits, lenient=True)
        if isinstance(meta, dict):
            return {str(k): _plain(v) for k, v in meta.items()}
    return {"utgivare": str(author)} if author else {}


def _docx_heading_level(style: str) -> int:
    m = re.match(r"^(?:heading|rubrik)\s*(\d)$", style.strip(), re.IGNORECASE)
    return int(m.group(1)) if m else 0


def load_file(path: Path, max_bytes: int, data: bytes | None = None, name: str | None = None,
              limits: Limits | None = None) -> LoadedDocument:
    """Load one file. Raises IngestError with a Swedish reason when it cannot be used."""
    name = name or path.name
    limits = limits or Limits()
    if data is None:
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise IngestError(_too_large(size, max_bytes))
            data = path.read_bytes()
        except OSError as exc:
            raise IngestError(f"Filen {name} kunde inte läsas: {os_error_sv(exc)}.") from exc
    if len(data) > max_bytes:
        raise IngestError(_too_large(len(data), max_bytes))
    if not data.strip():
        raise IngestError("Filen är tom.")
    suffix = Path(name).suffix
    kind = detect_kind(data, suffix)
    if kind == "pdf":
        title, sections, meta = load_pdf(data, limits, name)
    elif kind == "docx":
        title, sections, meta = load_docx(data, limits, name)
    else:
        text = decode_text(data, name)
        if len(text) > limits.document_chars:
            raise IngestError(_too_many_chars(name, limits))
        title, sections, meta = (load_markdown if kind == "markdown" else load_text)(text, limits, name)
    if not any(s.text.strip() for s in sections):
        if kind == "pdf":
            raise IngestError("PDF-filen innehåller ingen läsbar text. Den kan vara en skannad bild utan textlager; kör textigenkänning (OCR) först.")
        raise IngestError("Filen innehåller ingen text.")
    doc_id = document_id_for(Path(name))
    meta = _clean_meta(meta)
    title = clean_label(str(meta.get("titel") or (title and clean_label(str(title))) or Path(name).stem)) or "Dokument"
    return LoadedDocument(
        document_id=doc_id,
        source=str(path.resolve()),  # absolute, so --prune works from any working directory
        title=title,
        kind=kind,
        content_hash=hashlib.sha256(data).hexdigest(),
        sections=tuple(sections),
        metadata=meta,
    )


def os_error_sv(exc: OSError) -> str:
    """A Swedish text for an OSError (never the operating system's English strerror), without the file name."""
    from assistant.boundary import os_error_what

    return os_error_what(exc)


def _too_large(size: int, max_bytes: int) -> str:
    return f"Filen är för stor ({size / 1e6:.3g} MB). Största tillåtna storlek är {max_bytes / 1e6:.3g} MB."
