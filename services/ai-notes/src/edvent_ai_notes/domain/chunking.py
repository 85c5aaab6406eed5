"""Cut a Markdown lesson into chunks along its structure.

markdown-it-py parses the body (CommonMark, plus tables); each top-level block
(paragraph, list, code block, table, quote) is kept whole where it fits, blocks are
packed into chunks of at most `max_chars` within one section (a heading and what follows
it, up to the next heading), and each chunk after the first of a section starts with
the last `overlap` characters of the one before it, cut at a word boundary. A block
longer than the limit is split at sentence ends, or at line ends for code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

from edvent_ai_notes.domain.notes import Chunk

_PARSER = MarkdownIt("commonmark").enable("table")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class _Block:
    heading_path: tuple[str, ...]
    text: str
    code: bool


def chunk_markdown(markdown: str, *, max_chars: int = 1200, overlap: int = 150) -> list[Chunk]:
    """The body's chunks in reading order; text outside any heading has an empty path."""
    if overlap >= max_chars // 2:
        raise ValueError("overlap must be less than half of max_chars")
    chunks: list[Chunk] = []
    section: list[_Block] = []
    for block in _blocks(markdown):
        if section and block.heading_path != section[0].heading_path:
            chunks.extend(_pack(section, max_chars, overlap, first=len(chunks)))
            section = []
        section.append(block)
    if section:
        chunks.extend(_pack(section, max_chars, overlap, first=len(chunks)))
    return chunks


def _blocks(markdown: str) -> list[_Block]:
    lines = markdown.splitlines()
    tokens = _PARSER.parse(markdown)
    headings: list[tuple[int, str]] = []  # (level, title), outermost first
    blocks: list[_Block] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            level = int(token.tag[1:])
            title = tokens[i + 1].content.strip()
            headings = [h for h in headings if h[0] < level] + [(level, title)]
            # A heading opens a section even when nothing follows it yet.
            i += 3
            continue
        if token.level == 0 and token.map is not None and token.nesting >= 0:
            start, end = token.map
            text = "\n".join(lines[start:end]).strip()
            if text and token.type != "hr":
                blocks.append(
                    _Block(
                        heading_path=tuple(title for _, title in headings),
                        text=text,
                        code=token.type in ("fence", "code_block"),
                    )
                )
        i += 1
    return blocks


def _pack(section: list[_Block], max_chars: int, overlap: int, *, first: int) -> list[Chunk]:
    path = section[0].heading_path
    pieces: list[str] = []
    for block in section:
        pieces.extend(_split(block, max_chars - overlap))
    texts: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 2 + len(piece) > max_chars:
            texts.append(current)
            current = _tail(current, overlap)
        current = f"{current}\n\n{piece}" if current else piece
    if current:
        texts.append(current)
    return [Chunk(position=first + n, heading_path=path, text=t) for n, t in enumerate(texts)]


def _split(block: _Block, limit: int) -> list[str]:
    if len(block.text) <= limit:
        return [block.text]
    units = block.text.split("\n") if block.code else _SENTENCE_END.split(block.text)
    joiner = "\n" if block.code else " "
    pieces: list[str] = []
    current = ""
    for unit in units:
        while len(unit) > limit:  # a sentence or line longer than a chunk: hard cut
            if current:
                pieces.append(current)
                current = ""
            cut = unit.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces.append(unit[:cut])
            unit = unit[cut:].lstrip()
        if current and len(current) + len(joiner) + len(unit) > limit:
            pieces.append(current)
            current = unit
        else:
            current = f"{current}{joiner}{unit}" if current else unit
    if current:
        pieces.append(current)
    return pieces


def _tail(text: str, overlap: int) -> str:
    """The last `overlap` characters of `text`, starting at a word."""
    if overlap <= 0:
        return ""
    tail = text[-overlap:]
    space = tail.find(" ")
    return tail[space + 1 :] if 0 <= space < len(tail) - 1 else tail
