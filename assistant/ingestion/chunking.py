"""Split loaded documents into chunks that fit the embedding model.

all-MiniLM-L6-v2 truncates at 256 word pieces and Swedish costs about two
word pieces a word, so chunks are bounded by counted word pieces, not words.
Chunks never cross a heading or a page, and are cut between sentences.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator

from assistant.text import split_sentences
from assistant.types import Chunk, LoadedDocument, Section

TokenCounter = Callable[[str], int]


def index_text(chunk: Chunk) -> str:
    """What is embedded and lexically indexed: the passage with its title and heading."""
    where = f"{chunk.title} – {chunk.section}" if chunk.section else chunk.title
    return f"{where}\n{chunk.text}"


def _pieces(section: Section) -> Iterator[tuple[str, int]]:
    """Sentences of a section with their offsets."""
    cursor = 0
    for sentence in split_sentences(section.text):
        at = section.text.find(sentence, cursor)
        at = cursor if at < 0 else at
        cursor = at + len(sentence)
        # PDF text breaks lines mid-sentence; passages are quoted with plain spacing.
        yield re.sub(r"\s+", " ", sentence), section.start + at


MAX_WORD_CHARS = 200  # a giant "word" is cut into slices (the encoder reads each as one unknown token)
CHARS_PER_TOKEN = 8  # a piece longer than budget × this is split even when the tokenizer counts few tokens


def _words(sentence: str) -> list[str]:
    """Words of a sentence; a word over MAX_WORD_CHARS is cut into slices so no chunk is one giant word."""
    words: list[str] = []
    for word in sentence.split(" "):
        if len(word) <= MAX_WORD_CHARS:
            words.append(word)
        else:
            words.extend(word[i:i + MAX_WORD_CHARS] for i in range(0, len(word), MAX_WORD_CHARS))
    return words


def _split_long(sentence: str, start: int, budget: int, count: TokenCounter) -> Iterator[tuple[str, int, int]]:
    """A sentence over budget is cut between words (or inside a giant word).

    Linear: each part is a window of words sized from the characters per token seen so far, counted once and
    shrunk in proportion only when it is over budget. A 1 MB line without punctuation is one "sentence"; the
    old word-by-word recount of the growing part was quadratic in it.
    """
    words = _words(sentence)
    max_chars = budget * CHARS_PER_TOKEN
    ratio = 4.0  # characters per token, learnt from each counted part
    i, offset = 0, start
    while i < len(words):
        target = min(max_chars, int(budget * ratio))
        j, chars = i + 1, len(words[i])
        while j < len(words) and chars + 1 + len(words[j]) <= target:
            chars += 1 + len(words[j])
            j += 1
        text = " ".join(words[i:j])
        tokens = count(text)
        while tokens > budget and j - i > 1:
            j = i + max(1, min(j - i - 1, int((j - i) * budget / tokens * 0.95)))
            text = " ".join(words[i:j])
            tokens = count(text)
        ratio = max(1.0, len(text) / max(tokens, 1))
        yield text, offset, tokens
        offset += len(text) + 1
        i = j


def chunk_document(doc: LoadedDocument, max_tokens: int, count: TokenCounter) -> list[Chunk]:
    groups: list[tuple[tuple[int | None, tuple[str, ...]], list[tuple[str, int]]]] = []
    for section in doc.sections:
        key = (section.page, section.heading_path)
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].extend(_pieces(section))

    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for (page, heading_path), sentences in groups:
        section_name = " > ".join(heading_path) or None
        header = count(f"{doc.title} – {section_name or ''}\n")
        budget = max(16, max_tokens - header)
        current: list[tuple[str, int]] = []
        current_tokens = current_chars = 0

        def emit() -> None:
            if not current:
                return
            start = current[0][1]
            last_text, last_start = current[-1]
            end = last_start + len(last_text)
            text = " ".join(t for t, _ in current)
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            # The id is the document and a hash of everything that is embedded (title, heading, text), not the
            # position: editing one paragraph re-embeds only the chunks it changes, and a renamed heading or title
            # gets a new vector instead of silently keeping the old one. A repeat of the same text under the same
            # heading gets a counter.
            embedded = hashlib.sha256(f"{doc.title}\n{section_name or ''}\n{text}".encode("utf-8")).hexdigest()[:16]
            seen[embedded] = seen.get(embedded, 0) + 1
            ordinal = len(chunks)
            chunks.append(
                Chunk(
                    id=f"{doc.document_id}:{embedded}" + (f"-{seen[embedded]}" if seen[embedded] > 1 else ""),
                    document_id=doc.document_id,
                    ordinal=ordinal,
                    text=text,
                    title=doc.title,
                    start=start,
                    end=end,
                    content_hash=digest,
                    page=page,
                    section=section_name,
                )
            )

        for sentence, start in sentences:
            n = count(sentence) if len(sentence) <= budget * CHARS_PER_TOKEN else budget + 1
            parts = [(sentence, start, n)] if n <= budget else list(_split_long(sentence, start, budget, count))
            for text, at, n in parts:
                # Bounded in characters too: a tokenizer counts a giant "word" as one unknown token.
                if current and (current_tokens + n > budget or current_chars + len(text) > budget * CHARS_PER_TOKEN):
                    emit()
                    current, current_tokens, current_chars = [], 0, 0
                current.append((text, at))
                current_tokens += n
                current_chars += len(text) + 1
        emit()
    return chunks
