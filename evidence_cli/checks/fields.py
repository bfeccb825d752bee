"""Field checks: cited title, authors, year, container, volume, issue, pages against the record."""

from __future__ import annotations

import functools
import re
from typing import Any

from rapidfuzz import fuzz

from evidence_cli.checks.normalize import (
    main_title,
    normalize_dashes,
    plain,
    simple_token,
    title_key,
)
from evidence_cli.codes import CODES
from evidence_cli.models import CitedFields, Finding
from evidence_cli.records import (
    family_names,
    first_text,
    full_title,
    registered_years,
)

TITLE_SIMILARITY = 90.0
UNRELATED_TITLE = 0.5  # token-set similarity below which two titles name different works
NAME_SIMILARITY = 88.0
CONTAINER_SIMILARITY = 90.0
# Words NLM and ISO 4 abbreviations leave out of a title ("... Genetics Part B ...").
_SKIPPABLE = {"part", "section", "series", "ser", "sect"}
_STOP_WORDS = {"of", "and", "the", "for", "in", "on", "a", "an", "to", "de", "des", "la", "le",
               "der", "die", "und", "y", "et"}


def _finding(code: str, field: str | None, cited: Any, registered: Any, message: str,
             suggestion: str | None = None) -> Finding:
    return Finding(code=code, severity=CODES[code].severity, message=message, field=field,
                   cited=cited, registered=registered, suggestion=suggestion)


# -- title ----------------------------------------------------------------------------------

def titles_agree(cited: str, record: dict[str, Any]) -> bool:
    """Same title, ignoring case, punctuation, tags, a "RETRACTED:" prefix and a subtitle."""
    cited_key = title_key(cited)
    if not cited_key:
        return True
    candidates: set[str] = set()
    for key in ("title", "original-title", "short-title"):
        text = first_text(record.get(key))
        if text:
            candidates.add(title_key(text))
            candidates.add(title_key(main_title(text)))
    full = full_title(record)
    if full:
        candidates.add(title_key(full))
    candidates.discard("")
    if not candidates:
        return True
    cited_main = title_key(main_title(cited))
    for registered in candidates:
        if cited_key == registered or cited_main == registered:
            return True
        # One is the other plus a subtitle.
        if registered.startswith(cited_key + " ") or cited_key.startswith(registered + " "):
            return True
        if fuzz.ratio(cited_key, registered) >= TITLE_SIMILARITY:
            return True
    return False


def title_similarity(cited: str, record: dict[str, Any]) -> float:
    registered = full_title(record) or ""
    return fuzz.token_set_ratio(title_key(cited), title_key(registered)) / 100


# -- authors --------------------------------------------------------------------------------

def name_key(name: str) -> str:
    return plain(name)


def names_agree(cited: str, registered: str) -> bool:
    """Family names match despite accents, particles ("van der") and transliteration."""
    a, b = name_key(cited), name_key(registered)
    if not a or not b:
        return False
    if a == b:
        return True
    a_parts, b_parts = a.split(), b.split()
    # "van der Berg" cited as "Berg", or a double-barrelled name cited by one part.
    if a_parts[-1] == b_parts[-1] or set(a_parts) <= set(b_parts) or set(b_parts) <= set(a_parts):
        return True
    return fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")) >= NAME_SIMILARITY


def authors_problem(cited: list[str], registered: list[str]) -> str | None:
    """Why the cited authors disagree with the registered ones, or None when they agree.

    The first author must match the first registered author; every other cited author must be
    somewhere in the registered list. A shorter cited list ("et al.") is fine.
    """
    if not cited or not registered:
        return None
    if not names_agree(cited[0], registered[0]):
        return f"the first author is cited as {cited[0]!r} but registered as {registered[0]!r}"
    missing = [name for name in cited[1:] if not any(names_agree(name, r) for r in registered)]
    if missing:
        return f"cited author(s) {', '.join(missing)} are not among the registered authors"
    return None


# -- container ------------------------------------------------------------------------------

def _abbreviates(short: str, word: str) -> bool:
    """ISO 4 style: same first letter, the rest in order ("ther" Therapy, "jpn" Japan)."""
    if not short or short[0] != word[0]:
        return False
    position = 0
    for letter in short:
        position = word.find(letter, position)
        if position < 0:
            return False
        position += 1
    return True


def is_abbreviation(short: str, full: str) -> bool:
    """True when the words of `short` abbreviate the significant words of `full`, in order
    ("J Marital Fam Ther" for "Journal of Marital and Family Therapy"); NLM abbreviations may
    drop a filler word such as "Part" ("Am J Med Genet B Neuropsychiatr Genet")."""
    short_words = plain(short).split()
    full_words = [w for w in plain(full).split() if w not in _STOP_WORDS]
    if not short_words or len(short_words) > len(full_words):
        return False

    @functools.cache
    def aligned(i: int, j: int) -> bool:
        if i == len(short_words):
            return all(w in _SKIPPABLE for w in full_words[j:])
        if j == len(full_words):
            return False
        if _abbreviates(short_words[i], full_words[j]) and aligned(i + 1, j + 1):
            return True
        return full_words[j] in _SKIPPABLE and aligned(i, j + 1)

    return aligned(0, 0)


def containers_agree(cited: str, record: dict[str, Any]) -> bool:
    names = [*(record.get("container-title") or []), *(record.get("short-container-title") or [])]
    names = [n for n in names if isinstance(n, str) and n.strip()]
    if not names:
        return True
    cited_key = plain(cited)
    cited_compact = cited_key.replace(" ", "")
    for name in names:
        key = plain(name)
        if cited_key == key or cited_compact == key.replace(" ", ""):
            return True
        if is_abbreviation(cited, name) or is_abbreviation(name, cited):
            return True
        without_stops = " ".join(w for w in key.split() if w not in _STOP_WORDS)
        cited_without = " ".join(w for w in cited_key.split() if w not in _STOP_WORDS)
        if without_stops == cited_without:
            return True
        if fuzz.ratio(cited_key, key) >= CONTAINER_SIMILARITY:
            return True
    return False


# -- pages ----------------------------------------------------------------------------------

_RANGE = re.compile(r"^([a-z]*)(\d+)([a-z]*)(?:-([a-z]*)(\d+)([a-z]*))?$")


def page_range(text: str) -> tuple[str, str | None] | None:
    """(first, last) page with abbreviated ends expanded ("831-42" -> 831, 842)."""
    value = normalize_dashes(text).lower().replace(" ", "")
    value = re.sub(r"^(?:pp?\.?)", "", value)
    match = _RANGE.match(value)
    if not match:
        return None
    pre, first, post, pre2, last, post2 = match.groups()
    if last is None:
        return f"{pre}{first}{post}", None
    if len(last) < len(first) and not pre2:
        last = first[: len(first) - len(last)] + last
    return f"{pre}{first}{post}", f"{pre2 or pre}{last}{post2}"


def pages_agree(cited: str, registered: list[str]) -> bool:
    cited_range = page_range(cited)
    for value in registered:
        if normalize_dashes(cited).lower() == normalize_dashes(value).lower():
            return True
        reg_range = page_range(value)
        if cited_range is None or reg_range is None:
            continue
        if cited_range[0].lstrip("0") != reg_range[0].lstrip("0"):
            continue
        # A cited first page alone, or a registered first page alone, agrees on what it says.
        if cited_range[1] is None or reg_range[1] is None or cited_range[1] == reg_range[1]:
            return True
    return False


# -- all field checks -----------------------------------------------------------------------

def check_fields(cited: CitedFields, record: dict[str, Any]) -> list[Finding]:
    """Field findings; one doi-mismatch instead of the pile when title and authors both disagree."""
    findings: list[Finding] = []
    registered_title = full_title(record)
    registered_authors = family_names(record)

    title_bad = bool(cited.title and registered_title and not titles_agree(cited.title, record))
    author_problem = authors_problem(cited.authors, registered_authors)
    first_author_bad = bool(
        cited.authors and registered_authors
        and not names_agree(cited.authors[0], registered_authors[0])
    )
    # Without cited authors to compare, a title that shares almost nothing with the registered
    # one is evidence enough that the DOI names another work.
    unrelated_title = title_bad and not cited.authors and bool(cited.title) and \
        title_similarity(cited.title or "", record) < UNRELATED_TITLE
    if title_bad and (first_author_bad or unrelated_title):
        return [_finding(
            "doi-mismatch", "doi", cited.title, registered_title,
            f"The DOI names a different work: {registered_title!r} by "
            f"{', '.join(registered_authors[:3])}{' et al.' if len(registered_authors) > 3 else ''}"
            f", not the cited {cited.title!r}.",
        )]
    if title_bad:
        findings.append(_finding(
            "title-mismatch", "title", cited.title, registered_title,
            f"The cited title differs from the registered title {registered_title!r}.",
            registered_title,
        ))
    if author_problem:
        findings.append(_finding(
            "author-mismatch", "authors", cited.authors, registered_authors,
            f"Authors disagree: {author_problem}.",
            ", ".join(registered_authors),
        ))
    years = registered_years(record)
    if cited.year is not None and years and cited.year not in years:
        shown = ", ".join(str(y) for y in sorted(years))
        findings.append(_finding(
            "year-mismatch", "year", cited.year, min(years),
            f"The cited year {cited.year} matches no registered publication date ({shown}).",
            str(min(years)),
        ))
    if cited.container and not containers_agree(cited.container, record):
        registered = first_text(record.get("container-title"))
        findings.append(_finding(
            "container-mismatch", "container", cited.container, registered,
            f"The cited journal or book {cited.container!r} differs from the registered "
            f"{registered!r}.",
            registered,
        ))
    for field, key in (("volume", "volume"), ("issue", "issue")):
        cited_value = getattr(cited, field)
        registered_value = first_text(record.get(key))
        if cited_value and registered_value and \
                simple_token(cited_value) != simple_token(registered_value):
            findings.append(_finding(
                f"{field}-mismatch", field, cited_value, registered_value,
                f"The cited {field} {cited_value} differs from the registered {field} "
                f"{registered_value}.",
                registered_value,
            ))
    registered_pages = [v for v in (first_text(record.get("page")),
                                    first_text(record.get("article-number"))) if v]
    if cited.pages and registered_pages and not pages_agree(cited.pages, registered_pages):
        findings.append(_finding(
            "pages-mismatch", "pages", cited.pages, registered_pages[0],
            f"The cited pages {cited.pages} differ from the registered pages "
            f"{registered_pages[0]}.",
            registered_pages[0],
        ))
    return findings
