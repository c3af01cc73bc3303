"""Boundary types shared by ingestion, retrieval, coaching, the app and evals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Section:
    """A run of text from a loaded file with its location."""

    text: str
    start: int  # character offset in the document's extracted text
    page: int | None = None  # 1-based, PDF only
    heading_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadedDocument:
    document_id: str
    source: str
    title: str
    kind: str  # pdf | markdown | text | docx
    content_hash: str
    sections: tuple[Section, ...]
    metadata: dict[str, Any] = field(default_factory=dict)  # front matter: titel, utgivare, datum, källor, ämnen


@dataclass(frozen=True)
class Chunk:
    id: str
    document_id: str
    ordinal: int
    text: str
    title: str
    start: int
    end: int
    content_hash: str
    page: int | None = None
    section: str | None = None  # heading path joined with " > "
    held_back: str | None = None  # why the passage is kept out of answers (it instructs the assistant), if it is

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "document_id": self.document_id,
            "ordinal": self.ordinal,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "content_hash": self.content_hash,
        }
        if self.page is not None:
            meta["page"] = self.page
        if self.section:
            meta["section"] = self.section
        return meta


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused score: weighted sum of each channel's score over its best score for the query
    dense_score: float | None = None  # cosine similarity, when the dense channel took part
    lexical_score: float | None = None  # the lexical channels' part of the fused score, when they took part
    channels: dict[str, float] = field(default_factory=dict)  # raw score per channel (BM25, or cosine for dense)


@dataclass(frozen=True)
class DocumentRecord:
    document_id: str
    source: str
    title: str
    kind: str
    content_hash: str
    chunk_count: int
    ingested_at: str
    ingested_by: str
    metadata: dict[str, Any] = field(default_factory=dict)
