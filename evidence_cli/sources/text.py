"""Read plain-text reference lists: one reference per paragraph, or per line when no blank lines."""

from __future__ import annotations

import re

from evidence_cli import doi as doi_rules
from evidence_cli.models import CitedFields, Reference, SourceLocation
from evidence_cli.sources import decode_text

_URL = re.compile(r"https?://[^\s<>\"'\]\[{}|\\^`]+", re.IGNORECASE)
_LIST_MARKER = re.compile(r"^\s*(?:\[\d+\]|\d+[.)]|[-*•])\s+")


def split_entries(text: str) -> list[tuple[int, str]]:
    """(first line number, entry text) for each paragraph, or each line if all are single lines."""
    lines = text.splitlines()
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    if len(blocks) == 1 and len(blocks[0][1]) > 1:
        # A list without blank lines: one reference per line.
        first_line = blocks[0][0]
        return [(first_line + i, line) for i, line in enumerate(blocks[0][1])]
    return [(start, " ".join(block)) for start, block in blocks]


def find_urls(text: str) -> list[str]:
    urls: list[str] = []
    for match in _URL.finditer(text):
        url = doi_rules.strip_trailing_punctuation(match.group(0))
        if url not in urls:
            urls.append(url)
    return urls


def reference_from_text(entry: str, path: str, line: int) -> Reference:
    """A reference from one entry of free text: its DOI and URLs, the rest kept as raw text."""
    raw = entry.strip()
    body = _LIST_MARKER.sub("", raw)
    dois = doi_rules.find_all(body)
    urls = [u for u in find_urls(body) if not doi_rules.is_doi_url(u)]
    cited = CitedFields(doi=dois[0] if dois else None, url=urls[0] if urls else None)
    return Reference(
        id=f"{path}:{line}", source=SourceLocation(path, line), raw=raw, cited=cited, links=urls
    )


def read(data: bytes, path: str) -> list[Reference]:
    text = decode_text(data, path)
    return [reference_from_text(entry, path, line) for line, entry in split_entries(text)]
