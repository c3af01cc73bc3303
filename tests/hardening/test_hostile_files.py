"""Hostile files through the real upload path: each ends in a Swedish reason or a correct ingest.

The files are generated here (zip bombs, YAML alias bombs, heading floods, giant words and lines, random bytes,
UTF-16/32, hostile names, encrypted PDFs, truncated and bit-flipped mutations of real PDFs, Word files and
Markdown). Each goes through `library.ingest_upload` into a real index (real worker process, real embedding
model, real Chroma). `RF_SOAK=1` (`make soak`) runs at least 500 files; otherwise a short run for CI.
The summary line gives files tried, reasons given, correct ingests and the parse worker's peak memory.
"""

from __future__ import annotations

import os
import random
import re
import resource
from collections import Counter
from collections.abc import Callable

import pytest

from assistant.app import library
from assistant.ingestion import parsing
from assistant.ingestion.index import Index
from tests import builders
from tests.hardening import hostile

pytestmark = pytest.mark.slow
SOAK = os.environ.get("RF_SOAK") == "1"
FILES = 520 if SOAK else 60
GIB = 1024**3
SWEDISH = re.compile(r"[åäöÅÄÖ]|\b(?:filen|inte|kan|och|är|för|läsas|högst|tillåt)", re.IGNORECASE)
ENGLISH = re.compile(r"Traceback|Error\b|Exception|No such file|Permission denied|expected|found character|"
                     r"\bline \d|\bcannot\b|\binvalid\b|\bErrno\b|codec|Unicode", re.IGNORECASE)
Case = tuple[str, bytes, str]  # (file name, content, expected: "ok", "refused" or "either")


def _pdf(rng: random.Random) -> bytes:
    return hostile.real_pdf(rng.randint(1, 3))


def _docx(rng: random.Random) -> bytes:
    return hostile.real_docx(rng.randint(1, 4))


def _md(rng: random.Random) -> bytes:
    return (f"---\ntitel: Nytta {rng.randint(0, 999)}\nutgivare: Exempel\n---\n# Nytta\n\n## Ansvar\n\n"
            "Ledningsgruppen utser en nyttoägare. Uppföljningen sker varje kvartal.\n").encode()


GENERATORS: list[tuple[str, int, Callable[[random.Random], Case]]] = [
    # (category, weight, make)
    ("pdf-mutation", 14, lambda r: ("mut.pdf", hostile.mutate(_pdf(r), r), "either")),
    ("docx-mutation", 12, lambda r: ("mut.docx", hostile.mutate(_docx(r), r), "either")),
    ("md-mutation", 6, lambda r: ("mut.md", hostile.mutate(_md(r), r), "either")),
    ("docx-bomb", 3, lambda r: ("bomb.docx", hostile.docx_bomb(r.choice([60, 120, 250])), "refused")),
    ("docx-huge-paragraph", 2, lambda r: ("stycke.docx", hostile.docx_one_huge_paragraph(r.choice([60, 150])), "refused")),
    ("docx-lying-header", 2, lambda r: ("ljuger.docx", hostile.docx_lying_header(r.choice([5, 20])), "refused")),
    ("docx-deep-xml", 1, lambda r: ("djup.docx", hostile.deep_xml_docx(r.choice([10_000, 200_000])), "refused")),
    ("docx-entities", 1, lambda r: ("entitet.docx", hostile.xxe_docx(), "either")),
    ("docx-bad-xml", 2, lambda r: ("xml.docx", hostile.docx_with_xml(r.choice([b"<w:document>", b"\xff\xfe<", b"<a></b>"])),
                                   "refused")),
    ("zip-not-docx", 1, lambda r: ("arkiv.docx", hostile.deflate_bomb_zip(), "refused")),
    ("yaml-alias-bomb", 3, lambda r: ("alias.md", hostile.yaml_alias_bomb(), "refused")),
    ("yaml-anchor", 1, lambda r: ("ankare.md", b"---\na: &x nytta\nb: *x\n---\nText.\n", "refused")),
    ("yaml-broken", 2, lambda r: ("yaml.md", r.choice([b"---\na: [b\n---\nText.\n", b"---\n\t- x\n---\nText.\n",
                                                        b"---\n" + b"[" * 5000 + b"\n---\nText.\n"]), "refused")),
    ("yaml-large", 1, lambda r: ("stor.md", b"---\n" + b"k: " + b"v" * 100_000 + b"\n---\nText.\n", "refused")),
    ("heading-flood", 2, lambda r: ("rubriker.md", hostile.heading_flood(r.choice([100, 300, 600])), "refused")),
    ("no-punctuation", 2, lambda r: ("rad.txt", hostile.no_punctuation_line(r.choice([0.3, 1.0])), "refused")),
    ("giant-word", 2, lambda r: ("ord.txt", hostile.giant_word(r.choice([0.5, 2.0])), "refused")),
    ("random-bytes", 4, lambda r: ("slump.txt", hostile.random_bytes(r.randint(10, 50_000), r.randrange(10**6)), "refused")),
    ("random-bytes-nul", 2, lambda r: ("slump.md", hostile.random_bytes(r.randint(10, 5000), r.randrange(10**6), nul=True),
                                       "refused")),
    ("utf16", 2, lambda r: ("unicode.md", hostile.utf16_text(), "ok")),
    ("utf32", 1, lambda r: ("utf32.txt", "Ledningsgruppen äger nyttan.\n".encode("utf-32"), "ok")),
    ("ansi-title", 1, lambda r: ("ansi.md", b"---\ntitel: \"R\\e[2J\\e[31md\"\n---\nText om nytta.\n", "ok")),
    ("aes-empty-password", 2, lambda r: ("aes.pdf", hostile.encrypted_pdf("", algorithm=r.choice(["AES-128", "AES-256"])),
                                         "ok")),
    ("rc4-empty-password", 1, lambda r: ("rc4.pdf", hostile.encrypted_pdf("", algorithm=None), "ok")),
    ("pdf-password", 2, lambda r: ("las.pdf", hostile.encrypted_pdf("hemligt", algorithm=r.choice(["AES-256", None])),
                                   "refused")),
    ("pdf-too-many-pages", 1, lambda r: ("sidor.pdf", builders.pdf_bytes(["Sida."] * 60), "refused")),
    ("empty", 2, lambda r: (r.choice(["tom.md", "tom.pdf", "tom.docx", "tom.txt"]), r.choice([b"", b" \n\t\n"]), "refused")),
    ("bad-name", 3, lambda r: (r.choice(["..", ".", "a\x00b.md", "x" * 300 + ".md", "../ut.md", "a/b.md", ""]),
                               b"# Rubrik\n\nText.\n", "refused")),
    ("renamed-image", 1, lambda r: ("bild.pdf", builders.PNG_BYTES, "refused")),
    ("good-pdf", 2, lambda r: ("bra.pdf", _pdf(r), "ok")),
    ("good-docx", 2, lambda r: ("bra.docx", _docx(r), "ok")),
]
NAMELESS = {"bad-name"}  # their name is the test: no numbering prefix


def cases(count: int) -> list[tuple[str, Case]]:
    rng = random.Random(20261127)
    weights = [w for _, w, _ in GENERATORS]
    out = [(cat, make(rng)) for cat, _, make in GENERATORS]  # every category at least once
    while len(out) < count:
        cat, _, make = rng.choices(GENERATORS, weights)[0]
        out.append((cat, make(rng)))
    return out


@pytest.fixture
def index(make_settings, embedder):  # noqa: ANN001, ANN201
    # Small chunk and page limits keep accepted garbage cheap to embed and exercise those limits too.
    idx = Index(make_settings(max_document_chunks=200, max_pdf_pages=50), embedder=embedder)
    yield idx
    idx.close()


def test_every_hostile_file_ends_in_a_swedish_reason_or_a_correct_ingest(index) -> None:  # noqa: ANN001
    settings = index.settings
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    for i, (category, (name, data, expected)) in enumerate(cases(FILES)):
        upload = name if category in NAMELESS else f"{i:04d}-{name}"
        result = library.ingest_upload(index, upload, data, settings, "fuzz")
        where = f"#{i} {category} {upload[:40]!r}"
        if result.ok:
            outcomes["ingested"] += 1
            record = index.ledger.document(result.document_id)
            if record is None or record.chunk_count < 1 or not index.chunks_of(result.document_id):
                problems.append(f"{where}: reported ok but the index holds no passages")
            elif "\x1b" in record.title or any(ord(c) < 32 for c in record.title):
                problems.append(f"{where}: control characters in the title {record.title!r}")
        else:
            outcomes["refused"] += 1
            if not SWEDISH.search(result.message) or ENGLISH.search(result.message):
                problems.append(f"{where}: not a Swedish reason: {result.message!r}")
        if (expected == "ok") != result.ok and expected != "either":
            problems.append(f"{where}: expected {expected}, got {'ok' if result.ok else result.message!r}")
    worker_peak = max((w.peak_rss_bytes for w in parsing.workers()), default=0)
    parsing.shutdown()
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    tried = outcomes["ingested"] + outcomes["refused"]
    print(f"\nhostile files: {tried} tried, {outcomes['refused']} Swedish reasons, {outcomes['ingested']} correct "
          f"ingests, parse worker peak {worker_peak / 2**20:.0f} MB (limit {settings.parse_memory_mb} MB; "
          f"children ru_maxrss {children_peak / 2**20:.0f} MB), {len(problems)} problems")
    assert tried >= FILES
    assert not problems, "\n".join(problems[:30])
    assert 0 < worker_peak < GIB
