"""Read references from Markdown (newsletters, articles, READMEs) with markdown-it-py.

What counts as a reference:

- Inside a reference section — a heading such as "References", "Bibliography", "Sources", "Works
  cited" or "Further reading" (any level, also a paragraph that is only bold text), up to the next
  heading of the same or a higher level or a thematic break (---) — every list item is one
  reference, and so is every other paragraph that carries a year, a DOI or a link (an
  introductory sentence is not one); a paragraph whose lines each carry a year or a DOI (a list
  typed without blank lines) is one reference per line. Fields are parsed from the text (APA,
  Vancouver, Harvard, Chicago); link targets count as the reference's DOI or URL.
- Elsewhere, every link and bare URL or DOI is a reference of its own, id PATH:LINE, with only its
  DOI (checked against Crossref) or URL (checked as a link): the running text around it is not a
  citation whose fields could be checked.

Lines are those of the file, 1-based: the first line of the item or paragraph, or the line the link
is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from evidence_cli.errors import InputError
from evidence_cli.models import Reference
from evidence_cli.sources import decode_text
from evidence_cli.sources.text import (
    is_reference_heading,
    link_reference,
    number_links_on_a_line,
    parsing_together,
    reference_from_text,
    targets_in_text,
)

_YEAR_OR_DOI = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)\b|\b10\.\d{4,9}/")


@dataclass(slots=True)
class _Inline:
    """An inline token flattened: its text, its link targets and where each line starts."""

    text: str
    hrefs: list[str] = field(default_factory=list)
    # (line offset within the block, href) for each link, to place out-of-section links.
    placed_links: list[tuple[int, str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _flatten(token: Any) -> _Inline:
    parts: list[str] = []
    lines: list[str] = [""]
    flat = _Inline(text="")
    offset = 0
    href: str | None = None
    link_text: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind in ("softbreak", "hardbreak"):
            parts.append(" ")
            lines.append("")
            offset += 1
            continue
        if kind == "link_open":
            href = str(child.attrGet("href") or "")
            link_text = []
            continue
        if kind == "link_close":
            if href:
                flat.hrefs.append(href)
                flat.placed_links.append((offset, href, " ".join(link_text)))
            href = None
            continue
        if kind == "image":
            continue
        content = child.content if kind == "text" else ""
        # Raw tags are not reference text, and inline code (`https://example.org/api`) is a
        # literal, not a link to check.
        if content:
            parts.append(content)
            lines[-1] += content
            if href is not None:
                link_text.append(content)
    flat.text = " ".join("".join(parts).split())
    flat.lines = lines
    return flat


def _source_lines(source: list[str], token_map: list[int] | None) -> str:
    if not token_map:
        return ""
    return " ".join(line.strip() for line in source[token_map[0]: token_map[1]] if line.strip())


# markdown-it stops parsing, without a word, where blocks nest deeper than its limit (20 in the
# CommonMark preset). A higher limit reads real documents whole; one that reaches it is refused
# (naming the line) rather than read in part.
MAX_NESTING = 50


def _refuse_truncated(tokens: list[Any], path: str) -> None:
    for token in tokens:
        if token.level >= MAX_NESTING - 1:
            line = token.map[0] + 1 if token.map else None
            raise InputError(path, "nests block quotes or lists too deeply to be read whole "
                             f"(over {MAX_NESTING - 2} open blocks); it is not read", line)


def read(data: bytes, path: str) -> list[Reference]:
    # The entries' texts are parsed together when the read is done (#12).
    with parsing_together():
        return _read(data, path)


def _read(data: bytes, path: str) -> list[Reference]:
    from markdown_it import MarkdownIt

    text = decode_text(data, path)
    source = text.splitlines()
    tokens = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).parse(text)
    _refuse_truncated(tokens, path)
    references: list[Reference] = []
    section_level: int | None = None  # heading level of the open reference section
    item_depth = 0
    item_start: int | None = None
    item_texts: list[str] = []
    item_hrefs: list[str] = []
    item_map: list[int] | None = None
    heading_level: int | None = None

    def close_item() -> None:
        nonlocal item_start
        if item_start is not None and " ".join(item_texts).strip():
            raw = _source_lines(source, item_map)
            references.append(reference_from_text(" ".join(item_texts), path, item_start + 1,
                                                  list(item_hrefs), raw))
        item_start = None

    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            heading_level = int(token.tag[1])
            continue
        if token.type == "heading_close":
            heading_level = None
            continue
        if token.type == "inline" and heading_level is not None:
            flat = _flatten(token)
            if section_level is not None and heading_level <= section_level:
                section_level = None
            if is_reference_heading(flat.text):
                section_level = heading_level
            continue
        if token.type == "hr" and item_depth == 0:
            section_level = None  # a rule closes the list: what follows is a footer
            continue
        if token.type == "list_item_open":
            item_depth += 1
            if section_level is not None and item_depth == 1:
                item_start = token.map[0] if token.map else 0
                item_map = token.map
                item_texts, item_hrefs = [], []
            continue
        if token.type == "list_item_close":
            item_depth -= 1
            if item_depth == 0:
                close_item()
            continue
        if token.type != "inline":
            continue
        flat = _flatten(token)
        block_line = token.map[0] if token.map else 0
        if _is_bold_heading(tokens, index, flat.text):
            section_level = 7 if is_reference_heading(flat.text) else None
            continue
        if section_level is not None and item_start is not None:
            item_texts.append(flat.text)
            item_hrefs.extend(flat.hrefs)
            continue
        if section_level is not None:
            references.extend(_paragraph_references(flat, source, token.map, path))
            continue
        references.extend(_links_outside(flat, block_line, path))
    return references


def _is_bold_heading(tokens: list[Any], index: int, text: str) -> bool:
    """A paragraph that is only bold text ("**References**") acts as a heading."""
    token = tokens[index]
    children = [c for c in token.children or [] if c.type != "text" or c.content.strip()]
    return (
        bool(children)
        and children[0].type == "strong_open"
        and children[-1].type == "strong_close"
        and len(text) < 60
        and index > 0
        and tokens[index - 1].type == "paragraph_open"
    )


def _paragraph_references(
    flat: _Inline, source: list[str], token_map: list[int] | None, path: str
) -> list[Reference]:
    start = token_map[0] if token_map else 0
    lines = [line for line in flat.lines if line.strip()]
    if len(lines) > 1 and all(_YEAR_OR_DOI.search(line) for line in lines):
        # References typed one per line without blank lines between them.
        out: list[Reference] = []
        for offset, line in enumerate(flat.lines):
            if line.strip():
                hrefs = [h for o, h, _ in flat.placed_links if o == offset]
                raw = source[start + offset].strip() if start + offset < len(source) else line
                out.append(reference_from_text(line, path, start + offset + 1, hrefs, raw))
        return out
    if not (_YEAR_OR_DOI.search(flat.text) or flat.hrefs or "://" in flat.text):
        return []  # "Sources are listed in order of citation." introduces, it does not cite
    raw = _source_lines(source, token_map)
    return [reference_from_text(flat.text, path, start + 1, flat.hrefs, raw)]


def _links_outside(flat: _Inline, block_line: int, path: str) -> list[Reference]:
    """Each link and bare DOI/URL in running text, outside the reference section."""
    out: list[Reference] = []
    seen: set[tuple[int, str]] = set()
    for offset, href, _label in flat.placed_links:
        ref = link_reference(href, path, block_line + offset + 1)
        if ref is not None and (offset, href) not in seen:
            seen.add((offset, href))
            out.append(ref)
    for offset, line in enumerate(flat.lines):
        for target in targets_in_text(line):
            if any(target in href for o, href, _ in flat.placed_links if o == offset):
                continue
            ref = link_reference(target, path, block_line + offset + 1)
            if ref is not None and (offset, target) not in seen:
                seen.add((offset, target))
                out.append(ref)
    out.sort(key=lambda r: r.source.line)
    number_links_on_a_line(out)
    return out
