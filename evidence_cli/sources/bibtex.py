"""Read BibTeX and BibLaTeX files with bibtexparser v2 into references."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli import identifiers
from evidence_cli.errors import InputError
from evidence_cli.models import CitedFields, Reference, SourceLocation
from evidence_cli.sources import decode_text

_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")
_NOT_AUTHORS = {"others", "et al", "et al."}


def _field(fields: dict[str, Any], *names: str, latex: bool = True) -> str | None:
    """The first non-empty field of those named; LaTeX decoded unless it is a DOI or URL."""
    for name in names:
        field = fields.get(name)
        if field is None:
            continue
        value = field.value
        if isinstance(value, str):
            text = " ".join((latex_to_text(value) if latex else value).split())
            if text:
                return text
    return None


@functools.lru_cache(maxsize=65536)
def family_name(person: str) -> str | None:
    """The von and last parts of one BibTeX name ("van der Berg, Jan" -> "van der Berg").

    bibtexparser's own name grammar does the work; authors recur across a bibliography, so
    each distinct name is parsed once (profiled: name parsing was 4 of 10 s for 50,000 entries).
    """
    from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts

    try:
        parts = parse_single_name_into_parts(person, strict=False)
    except InvalidNameError:
        return " ".join(latex_to_text(person).split()).strip("{} ") or None
    last = " ".join([*parts.von, *parts.last]).strip() or " ".join(parts.first).strip()
    last = " ".join(latex_to_text(last).split()).strip("{} ")
    return last if last and last.lower() not in _NOT_AUTHORS else None


def _family_names(fields: dict[str, Any]) -> list[str]:
    from bibtexparser.middlewares.names import split_multiple_persons_names

    field = fields.get("author") or fields.get("editor")
    if field is None or not isinstance(field.value, str):
        return []
    names = (family_name(person) for person in split_multiple_persons_names(field.value))
    return [name for name in names if name]


def _year(fields: dict[str, Any]) -> int | None:
    text = _field(fields, "year", "date")
    if text is None:
        return None
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


_LATEX_MARKS = re.compile(r"[\\{}$~]")


@functools.lru_cache(maxsize=1)
def _latex_decoder() -> Any:
    """pylatexenc's LaTeX-to-text, set up as bibtexparser's LatexDecodingMiddleware sets it up."""
    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    context = get_default_latex_context_db()
    context.add_context_category(
        "evidence-cli", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")]
    )
    return LatexNodes2Text(latex_context=context, keep_braced_groups=False,
                           math_mode="verbatim")


@functools.lru_cache(maxsize=65536)
def latex_to_text(value: str) -> str:
    """Decode LaTeX only where there is some: pylatexenc costs about 1.3 ms a value (2.6 s for
    2,000 entries, measured), and most values are plain text."""
    if not _LATEX_MARKS.search(value):
        return value
    try:
        decoded: str = _latex_decoder().latex_to_text(value)
    except Exception:  # pylatexenc raises assorted errors on broken LaTeX: keep the text
        return value
    return decoded


def read(data: bytes, path: str) -> list[Reference]:
    import bibtexparser
    from bibtexparser.model import DuplicateBlockKeyBlock, ParsingFailedBlock

    text = decode_text(data, path)
    # bibtexparser logs each broken entry as a warning; the failure is reported below as one
    # clear line naming the file and line, so its log lines would only be noise on stderr.
    parser_log = logging.getLogger("bibtexparser")
    previous_level = parser_log.level
    parser_log.setLevel(logging.CRITICAL)
    try:
        library = bibtexparser.parse_string(text)
    finally:
        parser_log.setLevel(previous_level)
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            raise InputError(path, f"duplicate citation key '{block.key}'", line)
        if isinstance(block, ParsingFailedBlock):
            raise InputError(path, f"cannot parse this BibTeX entry: {_first_line(block)}", line)
    references: list[Reference] = []
    for entry in library.entries:
        fields = {key.lower(): value for key, value in entry.fields_dict.items()}
        doi_text = _field(fields, "doi", latex=False)
        cited = CitedFields(
            doi=doi_rules.normalize(doi_text) if doi_text else None,
            title=_field(fields, "title"),
            authors=_family_names(fields),
            year=_year(fields),
            container=_field(fields, "journal", "journaltitle", "booktitle", "publisher"),
            volume=_field(fields, "volume"),
            issue=_field(fields, "number", "issue"),
            pages=_field(fields, "pages"),
            url=_field(fields, "url", latex=False),
        )
        if cited.doi is None and cited.url and doi_rules.is_doi_url(cited.url):
            cited.doi = doi_rules.normalize(cited.url)  # a doi.org link is a DOI to check
        identifiers.apply(cited, identifiers.from_fields(
            pmid=_field(fields, "pmid", latex=False), pmcid=_field(fields, "pmcid", latex=False),
            eprint=_field(fields, "eprint", latex=False),
            archive_prefix=_field(fields, "archiveprefix", "eprinttype", latex=False),
            urls=[cited.url or ""], notes=[_field(fields, "note") or ""]))
        links = [cited.url] if cited.url and not doi_rules.is_doi_url(cited.url) else []
        references.append(
            Reference(
                id=entry.key,
                source=SourceLocation(path, (entry.start_line or 0) + 1),
                raw=(entry.raw or "").strip(),
                cited=cited,
                links=links,
            )
        )
    return references


def _first_line(block: Any) -> str:
    raw = str(getattr(block, "raw", "")).strip().splitlines()
    return raw[0][:80] if raw else "(empty)"
