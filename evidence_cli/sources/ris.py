"""Read RIS exports (EndNote, Zotero, Mendeley, PubMed) with rispy, keeping each record's line."""

from __future__ import annotations

import re
from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli import identifiers
from evidence_cli.errors import InputError
from evidence_cli.gc_pause import gc_paused
from evidence_cli.models import CitedFields, Reference, SourceLocation, first_text
from evidence_cli.sources import decode_text, entry_problem

# A tag line: two characters, one or two spaces (Zotero and Ovid accept one), a hyphen.
_TAG = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: ?(.*))?$")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")
# Where each exporter puts the journal or book: full names before abbreviations.
_CONTAINER_KEYS = ("secondary_title", "alternate_title3", "journal_name", "alternate_title1",
                   "alternate_title2", "tertiary_title")


def _chunks(text: str) -> list[tuple[int, str, str, str | None]]:
    """(line of the TY tag, the record's text from TY to ER with each tag line rewritten in the
    standard `XX  - value` form, the text as written, what is wrong with it or None) for each
    record, in order.

    Lines outside records are skipped, as rispy and Zotero skip them: the numbers (`1.`),
    `Record #1 of 2` headers and provider lines that EndNote, Ovid and databases write between
    records. Tagged lines outside a record (no TY before them) are a broken record.
    """
    chunks: list[tuple[int, str, str, str | None]] = []
    start: int | None = None
    headless = False
    lines: list[str] = []
    source = text.splitlines()

    def add(end: int, problem: str | None) -> None:
        assert start is not None
        written = "\n".join(source[start - 1: end]).lstrip("\ufeff")
        chunks.append((start, "\n".join(lines) + "\n", written, problem))

    for number, line in enumerate(source, start=1):
        stripped = line.rstrip().lstrip("\ufeff")
        tag = _TAG.match(stripped)
        if tag and tag.group(1) == "TY":
            if start is not None:
                add(number - 1, "the record has no end (ER tag) before the next TY"
                    if not headless else "the record has no TY tag")
            start, lines, headless = number, [], False
        elif tag and start is None and tag.group(1) != "ER":
            start, lines, headless = number, [], True
        if start is None:
            continue
        lines.append(f"{tag.group(1)}  - {tag.group(2) or ''}".rstrip() + " " if tag
                     else stripped)
        if tag and tag.group(1) == "ER":
            add(number, "the record has no TY tag" if headless else None)
            start = None
    if start is not None:
        add(len(source), "the record has no TY tag" if headless else
            "the record has no end (ER tag)")
    return chunks


def _text(record: dict[str, Any], *keys: str) -> str | None:
    """The text of the first of the named tags that has some (a repeated tag is a list)."""
    return next((text for key in keys if (text := first_text(record.get(key)))), None)


def _families(record: dict[str, Any]) -> list[str]:
    names = record.get("authors") or record.get("first_authors") or []
    families: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            continue
        # RIS asks for "Family, Given"; some exporters write "Given Family".
        family = name.split(",")[0] if "," in name else name.split()[-1]
        families.append(family.strip())
    return families


def _pages(record: dict[str, Any]) -> str | None:
    start = _text(record, "start_page")
    end = _text(record, "end_page")
    if start and end and end != start:
        return f"{start}-{end}"
    return start


def read(data: bytes, path: str) -> list[Reference]:
    with gc_paused():
        return _read(data, path)


def _read(data: bytes, path: str) -> list[Reference]:
    import rispy

    text = decode_text(data, path)
    chunks = _chunks(text)
    if not chunks and text.strip():
        raise InputError(path, "no RIS record found (records start with 'TY  - ')", 1)
    references: list[Reference] = []
    for line, chunk, written, broken in chunks:
        if broken is not None:
            references.append(entry_problem(path, line, f"cannot read this RIS record: {broken}"
                                            "; it is not checked", raw=written.strip()))
            continue
        try:
            records = rispy.loads(chunk)
        except Exception as error:  # rispy raises plain IOError/ValueError on bad records
            references.append(entry_problem(path, line, f"cannot read this RIS record: {error}",
                                            raw=written.strip()))
            continue
        if len(records) != 1:
            references.append(entry_problem(path, line, "cannot read this RIS record",
                                            raw=written.strip()))
            continue
        record = records[0]
        doi_text = _text(record, "doi")
        urls = [u for u in record.get("urls") or [] if isinstance(u, str) and u.strip()]
        page_urls = [u for u in urls if not doi_rules.is_doi_url(u)]
        if not doi_text:
            doi_text = next((u for u in urls if doi_rules.is_doi_url(u)), None)
        year_text = _text(record, "year", "publication_year", "date")
        year = _YEAR.search(year_text) if year_text else None
        cited = CitedFields(
            doi=doi_rules.normalize(doi_text) if doi_text else None,
            title=_text(record, "title", "primary_title", "translated_title"),
            authors=_families(record),
            year=int(year.group(1)) if year else None,
            container=_text(record, *_CONTAINER_KEYS),
            volume=_text(record, "volume"),
            issue=_text(record, "number"),
            pages=_pages(record),
            url=page_urls[0] if page_urls else None,
        )
        identifiers.apply(cited, identifiers.from_fields(
            pmid=identifiers.pmid_from_ris(_text(record, "accession_number"),
                                           _text(record, "custom2")),
            pmcid=identifiers.pmcid_from_ris(_text(record, "custom1"), _text(record, "custom2")),
            urls=urls, notes=[_text(record, "notes", "note") or ""]))
        references.append(Reference(
            id=_text(record, "id") or f"{path}:{line}",
            source=SourceLocation(path, line),
            raw=written.strip(),
            cited=cited,
            links=page_urls,
        ))
    return references
