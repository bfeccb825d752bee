"""Read plain-text reference lists (one reference per paragraph, or per line when no blank lines);
also the helpers the document readers (Markdown, HTML, .docx) share."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from evidence_cli import doi as doi_rules
from evidence_cli import identifiers
from evidence_cli.models import CitedFields, Reference, ReferenceForm, SourceLocation
from evidence_cli.sources import decode_text

if TYPE_CHECKING:
    from evidence_cli.sources.refparser.parser import ParsedReference

_URL = re.compile(r"https?://[^\s<>\"'\]\[{}|\\^`]+", re.IGNORECASE)
_LIST_MARKER = re.compile(r"^\s*(?:\[\d+\]|\(\d+\)|\d+[.)]|[-*•])\s+")
# Headings that open a reference section, in English; "5. References", "References:" also count.
_SECTION_NAMES = (
    "references", "reference list", "bibliography", "sources", "works cited", "further reading",
    "literature", "literature cited", "cited literature", "citations", "notes and references",
    "references and notes", "selected references", "key references", "sources and further reading",
)
_HEADING_NOISE = re.compile(r"^[\s\d.)\-–—#*_:]+|[\s.:*_#]+$")


def is_reference_heading(text: str) -> bool:
    """True for a heading that opens a reference section ("References", "5. Bibliography")."""
    name = _HEADING_NOISE.sub("", " ".join(text.split())).strip().lower()
    return name in _SECTION_NAMES


def split_entries(text: str) -> list[tuple[int, str]]:
    """(first line number, entry as written) for each paragraph, or each line if all are single
    lines; a paragraph keeps its line breaks (the report's `raw` is the text as written)."""
    lines = text.splitlines()
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    if len(blocks) == 1 and len(blocks[0][1]) > 1:
        # A list without blank lines: one reference per line.
        first_line = blocks[0][0]
        return [(first_line + i, line.strip()) for i, line in enumerate(blocks[0][1])]
    return [(start, "\n".join(block).strip()) for start, block in blocks]


def find_urls(text: str) -> list[str]:
    urls: list[str] = []
    if "http" not in text.lower():  # _URL's start (no other code point stands for h, t or p)
        return urls
    for match in _URL.finditer(text):
        url = doi_rules.strip_trailing_punctuation(match.group(0))
        if url not in urls:
            urls.append(url)
    return urls


def reference_from_text(
    entry: str,
    path: str,
    line: int,
    hrefs: list[str] | None = None,
    raw: str | None = None,
) -> Reference:
    """A reference from one entry of free text, its fields parsed by the learned parser (those
    it is confident of); `hrefs` are link targets the entry carries (Markdown/HTML/Word
    hyperlinks), `raw` the entry as written in the file when that differs from its text.
    Within parsing_together() its fields are filled in when the block ends."""
    waiting = _together.batch
    if waiting is None:
        return references_from_texts([(entry, path, line, hrefs, raw)])[0]
    text = " ".join(entry.split())
    reference = Reference(id=f"{path}:{line}", source=SourceLocation(path, line),
                          raw=(raw if raw is not None else text).strip(), cited=CitedFields(),
                          form=ReferenceForm.TEXT)
    waiting.append((reference, (entry, path, line, hrefs, raw)))
    return reference


_Entry = tuple[str, str, int, list[str] | None, str | None]  # entry, path, line, hrefs, raw


class _Together(threading.local):
    batch: list[tuple[Reference, _Entry]] | None = None


_together = _Together()


@contextmanager
def parsing_together() -> Iterator[None]:
    """Within it, reference_from_text hands its reference back at once and parses the entries'
    texts all together when the block ends, filling in each one's fields: the parser tags many
    references at once much faster than one at a time (#12). A reader uses it around its
    whole read; what it hands out is complete once the block is left."""
    if _together.batch is not None:  # already inside one: its end parses these too
        yield
        return
    waiting: list[tuple[Reference, _Entry]] = []
    _together.batch = waiting
    try:
        yield
    finally:
        _together.batch = None
    for reference, made in zip((r for r, _ in waiting),
                               references_from_texts([entry for _, entry in waiting]),
                               strict=True):
        # The id may have been numbered meanwhile (number_links_on_a_line): it stays.
        reference.cited, reference.links, reference.query = made.cited, made.links, made.query


def references_from_texts(entries: Sequence[_Entry]) -> list[Reference]:
    """reference_from_text of each (entry, path, line, hrefs, raw), the entries parsed together:
    the parser tags many references at once much faster than one at a time (#12)."""
    from evidence_cli.sources.freetext import parse_all_with_parses

    texts = [" ".join(entry.split()) for entry, _, _, _, _ in entries]
    bodies = [_LIST_MARKER.sub("", text) for text in texts]
    parsed = parse_all_with_parses(bodies)
    _read_in_the_lists_order([found for _, _, found in parsed],
                             [(cited, query) for cited, query, _ in parsed])
    return [_reference(text, body, path, line, hrefs, raw, cited, query,
                       found.found_dois if found is not None and found.text == body else None)
            for text, body, (_, path, line, hrefs, raw), (cited, query, found)
            in zip(texts, bodies, entries, parsed, strict=True)]


def _read_in_the_lists_order(parses: Sequence[ParsedReference | None],
                             fields: Sequence[tuple[CitedFields, CitedFields]]) -> None:
    """Two years side by side read as volume and year in the order the list's other references
    show, and a year before the pages as the field they print there (liststyle.py: Hindawi's
    volumes that are years, #11)."""
    from evidence_cli.sources import liststyle

    if len(parses) < 2:
        return
    order = liststyle.volume_year_order(parses)
    before_pages = liststyle.before_pages(parses)
    if order is None and before_pages is None:
        return
    for parse, both in zip(parses, fields, strict=True):
        if parse is None:
            continue
        reread: tuple[str | None, int | None] | None = None
        if order is not None:
            reread = liststyle.two_years_read(parse, order)
        if reread is None and before_pages is not None:
            reread = liststyle.year_before_pages_read(parse, before_pages)
        if reread is None:
            continue
        for cited in both:
            cited.volume, cited.year = reread


def _reference(text: str, body: str, path: str, line: int, hrefs: list[str] | None,
               raw: str | None, cited: CitedFields, query: CitedFields,
               found_dois: tuple[str, ...] | None = None) -> Reference:
    # The first DOI-looking string is kept even when malformed, so that it is reported as such.
    # `found_dois`: doi.find_all of the body, when its parse (of the same text) found them.
    dois = list(found_dois) if found_dois is not None else doi_rules.find_all(body)
    found_urls = find_urls(body)
    # A shortDOI link (doi.org/10/abc) has no "10.prefix" for find_all to see.
    dois += [doi for doi in (doi_rules.normalize(u) for u in found_urls
                             if doi_rules.is_doi_url(u)) if doi not in dois]
    urls = [u for u in found_urls if not doi_rules.is_doi_url(u)]
    for href in hrefs or []:
        if doi_rules.is_doi_url(href):
            if not dois:
                dois.append(doi_rules.normalize(href))
        elif href.lower().startswith(("http://", "https://")) and href not in urls:
            urls.append(href)
    cited.doi = dois[0] if dois else None
    cited.url = urls[0] if urls else None
    identifiers.apply(cited, identifiers.find_in_text(body, hrefs or []))
    return Reference(
        id=f"{path}:{line}",
        source=SourceLocation(path, line),
        raw=(raw if raw is not None else text).strip(),
        cited=cited,
        links=urls,
        form=ReferenceForm.TEXT,
        query=query,
    )


def link_reference(target: str, path: str, line: int) -> Reference | None:
    """A reference for a link or bare DOI found outside the reference section: a DOI to check
    against Crossref, or a URL to check as a link; no other field is guessed. Its raw text is the
    target alone: the sentence around a link is not a citation to search Crossref for."""
    target = target.strip()
    if doi_rules.is_doi_url(target) or doi_rules.looks_like_doi_attempt(target):
        doi = doi_rules.normalize(target)
        cited = CitedFields(doi=doi)
        links: list[str] = []
    elif target.lower().startswith(("http://", "https://")):
        cited = CitedFields(url=target)
        links = [target]
    else:
        return None
    return Reference(
        id=f"{path}:{line}", source=SourceLocation(path, line), raw=target, cited=cited,
        links=links,
    )


def number_links_on_a_line(references: list[Reference]) -> None:
    """Ids must be unique: the second link on one line is PATH:LINE#2, the third #3, ..."""
    seen: dict[str, int] = {}
    for ref in references:
        count = seen.get(ref.id, 0) + 1
        seen[ref.id] = count
        if count > 1:
            ref.id = f"{ref.id}#{count}"


def targets_in_text(text: str) -> list[str]:
    """Bare DOIs and URLs in running text, in order, each once (a doi.org URL counts as its DOI)."""
    found: list[str] = []
    for url in find_urls(text):
        target = doi_rules.normalize(url) if doi_rules.is_doi_url(url) else url
        if target not in found:
            found.append(target)
    for doi in doi_rules.find_all(text):
        if doi not in found:
            found.append(doi)
    return found


def read(data: bytes, path: str) -> list[Reference]:
    text = decode_text(data, path)
    return references_from_texts([(entry, path, line, None, entry)
                                  for line, entry in split_entries(text)])
