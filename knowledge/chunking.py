"""Split a cleaned document into heading-scoped chunks of ~150-220 words with overlap.

Each chunk keeps its heading path ("Title > Section > Subsection") as metadata and as the
first line of its text, so both the embedding and BM25 see which section it came from.
Headings inside code blocks are not headings.
"""

from __future__ import annotations

import hashlib
import re

from knowledge.loaders import toggles_code_block
from knowledge.models import Chunk, SourceDocument

MAX_WORDS = 220  # ~300 word pieces; the encoder reads the first 128 (heading + ~90 words), BM25 all
MIN_WORDS = 40  # smaller trailing pieces are merged into the previous chunk of the same section
OVERLAP_WORDS = 40
HEADING_SEPARATOR = " > "

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def sections(text: str, title: str | None) -> list[tuple[list[str], str]]:
    """(heading path, body) for each heading-delimited section, in document order."""
    root = [title] if title else []
    stack: list[tuple[int, str]] = []
    result: list[tuple[list[str], str]] = []
    body: list[str] = []
    in_code = False

    def flush() -> None:
        path = root + [name for _, name in stack]
        if path and len(path) > 1 and root and path[1].casefold() == root[0].casefold():
            path = path[1:]  # a top heading repeating the title
        content = "\n".join(body).strip()
        if content:
            result.append((path, content))
        body.clear()

    for line in text.splitlines():
        if toggles_code_block(line):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, match.group(2).strip().strip("`*_")))
        else:
            body.append(line)
    flush()
    return result


def _paragraphs(body: str) -> list[str]:
    """Blank-line separated blocks; a fenced code block stays one block."""
    blocks: list[str] = []
    current: list[str] = []
    in_code = False
    for line in body.splitlines():
        if toggles_code_block(line):
            in_code = not in_code
        if not line.strip() and not in_code:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _windows(body: str) -> list[str]:
    """Pack paragraphs into pieces of at most MAX_WORDS; long paragraphs are cut with overlap."""
    pieces: list[list[str]] = []
    current: list[str] = []
    for paragraph in _paragraphs(body):
        words = paragraph.split(" ")
        if len(words) > MAX_WORDS:
            if current:
                pieces.append(current)
                current = []
            step = MAX_WORDS - OVERLAP_WORDS
            for start in range(0, len(words), step):
                pieces.append([" ".join(words[start:start + MAX_WORDS])])
                if start + MAX_WORDS >= len(words):
                    break
            continue
        if current and sum(len(p.split()) for p in current) + len(words) > MAX_WORDS:
            pieces.append(current)
            tail = current[-1].split(" ")[-OVERLAP_WORDS:]
            current = [" ".join(tail)] if len(tail) < len(words) * 2 else []
        current.append(paragraph)
    if current:
        if pieces and sum(len(p.split()) for p in current) < MIN_WORDS and len(pieces[-1]) > 0:
            pieces[-1] = pieces[-1] + current
        else:
            pieces.append(current)
    return ["\n\n".join(piece) for piece in pieces]


def chunk_document(document: SourceDocument) -> list[Chunk]:
    """All chunks of one document, with ids stable for the same document key."""
    key_hash = hashlib.sha1(document.key.encode()).hexdigest()[:16]
    chunks: list[Chunk] = []
    for path, body in sections(document.text, document.title):
        heading_path = HEADING_SEPARATOR.join(path) or document.source
        for piece in _windows(body):
            text = f"{heading_path}\n\n{piece}"
            metadata = dict(document.metadata)
            metadata.update(source=document.source, heading_path=heading_path, doc_key=document.key)
            if document.title:
                metadata["title"] = document.title
            chunks.append(Chunk(chunk_id=f"{key_hash}-{len(chunks):04d}", text=text,
                                heading_path=heading_path, metadata=metadata))
    return chunks
