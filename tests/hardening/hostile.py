"""Hostile files built on the fly: zip bombs, alias bombs, heading floods, mutations of real PDFs and Word files.

Every builder returns (file name, bytes). Nothing is read from disk: real PDFs come from fpdf2 and real
Word files from python-docx (tests.builders), and the hostile ones are made from those.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable

from tests import builders

DOCX_PARAGRAPH = b"<w:p><w:r><w:t>nytta</w:t></w:r></w:p>"
W_NS = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def real_docx(paragraphs: int = 3) -> bytes:
    blocks = [("title", "Styrning av nytta"), ("h1", "Ansvar")]
    blocks += [("p", f"Stycke {i}: Ledningsgruppen utser en nyttoägare för varje initiativ.") for i in range(paragraphs)]
    return builders.docx_bytes(blocks)


def real_pdf(pages: int = 2) -> bytes:
    return builders.pdf_bytes([f"Sida {i + 1}. Ledningsgruppen följer upp nyttan varje kvartal." for i in range(pages)],
                              bookmarks=[f"Avsnitt {i + 1}" for i in range(pages)])


def _replace_member(docx: bytes, member: str, write: Callable[[io.BufferedIOBase], None]) -> bytes:
    """A copy of the zip with one member's content written by `write` (streamed, deflated)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == member:
                target = zipfile.ZipInfo(member)
                target.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(target, "w", force_zip64=True) as f:
                    write(f)
            else:
                dst.writestr(info, src.read(info.filename))
    return out.getvalue()


def docx_bomb(expanded_mb: float) -> bytes:
    """A real Word file whose word/document.xml expands to about `expanded_mb` MB of paragraphs."""
    repeats = int(expanded_mb * 1_000_000 / len(DOCX_PARAGRAPH))
    block = DOCX_PARAGRAPH * 10_000

    def write(f: io.BufferedIOBase) -> None:
        f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ' + W_NS + b"><w:body>")
        for _ in range(repeats // 10_000):
            f.write(block)
        f.write(b"</w:body></w:document>")

    return _replace_member(real_docx(), "word/document.xml", write)


def docx_one_huge_paragraph(expanded_mb: float) -> bytes:
    """One paragraph whose single text run expands to `expanded_mb` MB (no element boundaries to stop at)."""
    def write(f: io.BufferedIOBase) -> None:
        f.write(b'<?xml version="1.0"?><w:document ' + W_NS + b"><w:body><w:p><w:r><w:t>")
        chunk = b"nytta " * 100_000
        for _ in range(int(expanded_mb * 1_000_000 / len(chunk))):
            f.write(chunk)
        f.write(b"</w:t></w:r></w:p></w:body></w:document>")

    return _replace_member(real_docx(), "word/document.xml", write)


def docx_with_xml(xml: bytes, member: str = "word/document.xml") -> bytes:
    return _replace_member(real_docx(), member, lambda f: f.write(xml))


def docx_lying_header(expanded_mb: float = 20) -> bytes:
    """A zip bomb whose headers claim word/document.xml is 1 kB (the local and central file sizes are patched)."""
    data = bytearray(docx_bomb(expanded_mb))
    name = b"word/document.xml"
    at = 0
    while (at := data.find(name, at)) >= 0:
        if data[at - 30:at - 26] == b"PK\x03\x04":  # local header: uncompressed size at offset 22
            data[at - 30 + 22:at - 30 + 26] = struct.pack("<I", 1000)
        elif data[at - 46:at - 42] == b"PK\x01\x02":  # central directory: uncompressed size at offset 24
            data[at - 46 + 24:at - 46 + 28] = struct.pack("<I", 1000)
        at += len(name)
    return bytes(data)


def yaml_alias_bomb() -> bytes:
    """The 'billion laughs' of YAML, about 400 bytes, as front matter."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, (prev, cur) in enumerate(zip("abcdefgh", "bcdefghi")):
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    return ("---\n" + "\n".join(lines) + "\n---\n# Rubrik\n\nText om nytta.\n").encode()


def heading_flood(kb: int = 600) -> bytes:
    out, i = [], 0
    size = 0
    while size < kb * 1000:
        line = f"## Rubrik {i}\n\nKort text {i}.\n\n"
        out.append(line)
        size += len(line)
        i += 1
    return "".join(out).encode()


def no_punctuation_line(mb: float = 1) -> bytes:
    words = ["nytta", "ledning", "styrning", "ansvar", "initiativ", "uppföljning", "mätetal"]
    rng = random.Random(1)
    out, size = [], 0
    while size < mb * 1_000_000:
        w = rng.choice(words)
        out.append(w)
        size += len(w) + 1
    return " ".join(out).encode()


def giant_word(mb: float = 2) -> bytes:
    return b"x" * int(mb * 1_000_000)


def random_bytes(n: int, seed: int, nul: bool = False) -> bytes:
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(n))
    return data if nul else data.replace(b"\x00", b"\x01")


def utf16_text(bom: bool = True) -> bytes:
    text = "# Nyttoägare\n\nLedningsgruppen utser en nyttoägare för varje initiativ. Åtgärder följs upp.\n"
    return text.encode("utf-16") if bom else text.encode("utf-16-le")


def encrypted_pdf(user_password: str, owner_password: str = "agare", algorithm: str | None = "AES-256") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(real_pdf(1))))
    if algorithm:
        writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm=algorithm)
    else:
        writer.encrypt(user_password=user_password, owner_password=owner_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def mutate(data: bytes, rng: random.Random) -> bytes:
    """A random truncation, bit flips, a zeroed block, or a duplicated block of a real file."""
    kind = rng.choice(["truncate", "flip", "flip", "zero", "duplicate", "insert"])
    b = bytearray(data)
    if kind == "truncate":
        return bytes(b[: rng.randrange(1, len(b))])
    if kind == "flip":
        for _ in range(rng.randint(1, 20)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    i = rng.randrange(len(b))
    n = rng.randint(1, 512)
    if kind == "zero":
        b[i:i + n] = bytes(len(b[i:i + n]))
        return bytes(b)
    if kind == "duplicate":
        return bytes(b[:i] + b[i:i + n] * rng.randint(2, 50) + b[i:])
    return bytes(b[:i] + bytes(rng.randrange(256) for _ in range(n)) + b[i:])


def deflate_bomb_zip() -> bytes:
    """A zip that is not a Word file but holds a large deflated member (must be refused without expanding it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        member = zipfile.ZipInfo("data.bin")
        member.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(member, "w", force_zip64=True) as f:
            zero = bytes(1_000_000)
            for _ in range(200):
                f.write(zero)
    return out.getvalue()


def deep_xml_docx(depth: int = 100_000) -> bytes:
    xml = b'<?xml version="1.0"?><w:document ' + W_NS + b"><w:body>" + b"<w:p>" * depth + b"</w:p>" * depth
    return docx_with_xml(xml + b"</w:body></w:document>")


def xxe_docx() -> bytes:
    xml = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa">'
           b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
           b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><w:document ' + W_NS +
           b"><w:body><w:p><w:r><w:t>&e;&d;&d;&d;&d;</w:t></w:r></w:p></w:body></w:document>")
    return docx_with_xml(xml)


def crc(data: bytes) -> int:
    return zlib.crc32(data)
