"""Parse one free-text reference, in whatever style it was written, into its cited fields.

The fields come from the trained reference parser (evidence_cli/sources/refparser): a CRF labels
every token and each field carries the model's confidence. A field whose confidence is under its
threshold (chosen on validation data) is left empty, never guessed: a wrongly parsed field would
later be reported as a citation error that is not there. DOIs and URLs are read by their own
rules (evidence_cli/doi.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from evidence_cli.models import CitedFields
from evidence_cli.sources.refparser.parser import (
    MAX_REFERENCE_CHARS,
    ParsedReference,
    parse_labelled,
    parse_many,
)

__all__ = ["MAX_REFERENCE_CHARS", "ParsedReference", "parse_all_for_checks_and_search",
           "parse_for_checks_and_search", "parse_labelled", "parse_reference"]


def parse_reference(text: str) -> CitedFields:
    """The cited fields of one reference written in free text; unsure fields stay None."""
    body = " ".join(text[:MAX_REFERENCE_CHARS].split())
    if not body:
        return CitedFields()
    return to_cited(parse_labelled(body))


def parse_for_checks_and_search(text: str) -> tuple[CitedFields, CitedFields]:
    """(the confident fields, the parser's best reading of every field) of one reference. The
    second only builds search queries: a search is validated against the text before anything
    is suggested, so a title the parser is not quite sure of still finds the work."""
    body = " ".join(text[:MAX_REFERENCE_CHARS].split())
    if not body:
        return CitedFields(), CitedFields()
    parsed = parse_labelled(body)
    return to_cited(parsed), to_cited(parsed, confident_only=False)


def parse_all_for_checks_and_search(
        texts: Sequence[str]) -> list[tuple[CitedFields, CitedFields]]:
    """parse_for_checks_and_search of each text, the texts parsed together (#12)."""
    return [(cited, query) for cited, query, _ in parse_all_with_parses(texts)]


def parse_all_with_parses(
        texts: Sequence[str]) -> list[tuple[CitedFields, CitedFields, ParsedReference | None]]:
    """parse_all_for_checks_and_search, and each text's parse (None for an empty text): the
    text reader reads the DOIs the parse found rather than looking for them again (#12)."""
    bodies = [" ".join(text[:MAX_REFERENCE_CHARS].split()) for text in texts]
    parses = iter(parse_many([body for body in bodies if body]))
    out: list[tuple[CitedFields, CitedFields, ParsedReference | None]] = []
    for body in bodies:
        if not body:
            out.append((CitedFields(), CitedFields(), None))
            continue
        parsed = next(parses)
        out.append((to_cited(parsed), to_cited(parsed, confident_only=False), parsed))
    return out


def to_cited(parsed: ParsedReference, confident_only: bool = True) -> CitedFields:
    """The confident fields of a parse (or, with confident_only=False, every field it found),
    as CitedFields."""
    # The fields it found (the confident ones), read once: to_cited runs twice for every
    # reference of a section, and a method call per field was a tenth of it (#12).
    picked = {name: found.value for name, found in parsed.by_name.items()
              if not confident_only or found.confidence >= parsed.threshold(name)}
    get = picked.get
    # The fields made in one call rather than set one by one after a default one (#12).
    year = get("year")
    authors = list(parsed.authors) if "authors" in picked else (
        # Sure of the first author, not of where the list ends: the first author alone.
        [parsed.authors[0]] if "first_author" in picked and parsed.authors else [])
    title, container, doi = get("title"), get("container"), get("doi")
    if title and not (authors or container):
        # A title-like sentence with neither an author nor a container is prose (a note, a
        # heading, "Expression of concern, doi: ..."), not a reference's title: compared with a
        # record or searched for, it would raise a false alarm.
        title = None
    number = int(year) if year is not None and year.isdecimal() and year.isascii() else None
    volume, issue, pages = get("volume"), get("issue"), get("pages")
    if not (title or authors or container or number or doi):
        # Numbers alone ("qwxz plo ut; 77 zzz") say nothing of which work is cited: a lone
        # "page" in prose is no pages field to compare.
        volume = issue = pages = None
    return CitedFields(doi=doi, title=title, authors=authors, year=number, container=container,
                       volume=volume, issue=issue, pages=pages, url=get("url"))
