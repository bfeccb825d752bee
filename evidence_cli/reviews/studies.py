"""Study data: author-year ids, citations, parsing option values, `--set FIELD=VALUE` edits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli.models import CitedFields
from evidence_cli.reviews.effect import parse_effect
from evidence_cli.reviews.schema import DESIGNS, ID_PATTERN, RISK_OF_BIAS_LEVELS

# "Mahmoudpour A", "Wallin EEK", "Morency L-P": a family name followed by initials.
_INITIALS = re.compile(r"^(?:[A-Z]\.?){1,4}(?:-[A-Z]\.?)?$")


def family_name(author: str) -> str:
    """The family name in an author string written "Family, Given", "Family GI" or "Family"."""
    text = " ".join(author.split())
    if "," in text:
        return text.split(",", 1)[0].strip()
    words = text.split(" ")
    if len(words) > 1 and _INITIALS.match(words[-1]):
        return " ".join(words[:-1])
    return text


def first_author_label(authors: Iterable[str]) -> str | None:
    """"Smith", "Smith & Jones" or "Smith et al." as a table shows a study."""
    names = [family_name(a) for a in authors if isinstance(a, str) and a.strip()]
    if not names:
        return None
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} & {names[1]}"
    return f"{names[0]} et al."


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "", folded.lower())


def generate_id(citation: Mapping[str, Any], taken: Iterable[str]) -> str:
    """An author-year citation key (`wallin2016`), with a, b, c... added when it is taken."""
    authors = citation.get("authors") or []
    base = _ascii_slug(family_name(authors[0])) if authors else ""
    if not base:
        base = _ascii_slug(str(citation.get("title") or ""))[:20]
    if not base and citation.get("doi"):
        # No author or title (an unverified DOI): the DOI's suffix is the most telling name.
        suffix = str(citation["doi"]).split("/", 1)[-1]
        base = re.sub(r"[^a-z0-9]+", "-", suffix.lower()).strip("-")[:30]
    base = base or "study"
    year = citation.get("year")
    base = f"{base[:40]}{year}" if year else f"{base[:40]}-nd"
    used = set(taken)
    if base not in used:
        return base
    for suffix in "abcdefghijklmnopqrstuvwxyz":
        if f"{base}{suffix}" not in used:
            return f"{base}{suffix}"
    number = 2
    while f"{base}-{number}" in used:
        number += 1
    return f"{base}-{number}"


def citation_from_fields(fields: CitedFields) -> dict[str, Any]:
    """A study citation from Crossref's registered fields; empty fields are left out."""
    data = fields.to_dict()
    return {key: value for key, value in data.items() if value not in (None, "", [])}


def parse_outcome(text: str) -> dict[str, str]:
    """`NAME[; INSTRUMENT[; TIMEPOINT]]`, e.g. "loneliness; UCLA Loneliness Scale; post-test"."""
    parts = [part.strip() for part in text.split(";")]
    if not parts[0]:
        raise ValueError("an outcome needs a name (NAME; INSTRUMENT; TIMEPOINT)")
    if len(parts) > 3:
        raise ValueError("an outcome is NAME; INSTRUMENT; TIMEPOINT (at most two ';')")
    keys = ("name", "instrument", "timepoint")
    return {key: part for key, part in zip(keys, parts, strict=False) if part}


def parse_n(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"expected a positive whole number (got {text!r})") from None
    if value < 1:
        raise ValueError(f"expected a positive whole number (got {text!r})")
    return value


def parse_year(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"expected a four-digit year (got {text!r})") from None
    if not 1000 <= value <= 2999:
        raise ValueError(f"expected a four-digit year (got {text!r})")
    return value


def parse_design(text: str) -> str:
    value = text.strip().lower()
    if value not in DESIGNS:
        raise ValueError(f"expected one of: {', '.join(DESIGNS)} (got {text!r})")
    return value


def parse_risk_of_bias(text: str) -> dict[str, str]:
    """`LEVEL[: NOTE]`, e.g. "some concerns: no allocation concealment"."""
    level, _, note = text.partition(":")
    level = " ".join(level.strip().lower().replace("-", " ").split())
    if level not in RISK_OF_BIAS_LEVELS:
        raise ValueError(f"expected one of: {', '.join(RISK_OF_BIAS_LEVELS)}, optionally "
                         f"followed by ': note' (got {text!r})")
    return {"level": level, "note": note.strip()} if note.strip() else {"level": level}


def parse_doi(text: str) -> str:
    value = doi_rules.normalize(text)
    if not doi_rules.is_valid(value):
        raise ValueError(f"not a well-formed DOI (got {text!r}); a DOI looks like 10.1234/abc")
    return value


def parse_pmid(text: str) -> str:
    from evidence_cli import identifiers

    value = identifiers.normalize_pmid(text)
    if not identifiers.is_valid_pmid(value):
        raise ValueError(f"not a well-formed PMID (got {text!r}); a PMID is a number, "
                         "e.g. 33675048")
    return value


def retraction_in(findings: Iterable[Any]) -> Any | None:
    """The `retracted` finding among a record's findings (Crossref's updates or PubMed's
    notices), or None: a retracted work is not added to a review as evidence unless asked."""
    return next((f for f in findings if getattr(f, "code", None) == "retracted"), None)


def parse_id(text: str) -> str:
    if not ID_PATTERN.match(text):
        raise ValueError(f"invalid id {text!r}: letters, digits and . _ : -, no spaces")
    return text


def parse_authors(text: str) -> list[str]:
    """Authors separated by ';' ("Wallin EEK; Mattsson S")."""
    return [name.strip() for name in text.split(";") if name.strip()]


def _text(value: str) -> str:
    return value.strip()


# `study edit --set FIELD=VALUE`: the editable fields, where each lives, and how its text is read.
# A `+=` appends to list fields; an empty value removes the field.
SETTABLE: dict[str, tuple[tuple[str, ...], Any]] = {
    "id": (("id",), parse_id),
    "design": (("design",), parse_design),
    "setting": (("setting",), _text),
    "country": (("country",), _text),
    "population": (("population", "description"), _text),
    "population.description": (("population", "description"), _text),
    "n": (("population", "n"), parse_n),
    "population.n": (("population", "n"), parse_n),
    "population.age": (("population", "age"), _text),
    "population.sex": (("population", "sex"), _text),
    "intervention": (("intervention",), _text),
    "comparator": (("comparator",), _text),
    "outcome": (("outcomes",), parse_outcome),
    "outcomes": (("outcomes",), parse_outcome),
    "effect": (("effect",), parse_effect),
    "follow_up": (("follow_up",), _text),
    "follow-up": (("follow_up",), _text),
    "risk_of_bias": (("risk_of_bias",), parse_risk_of_bias),
    "risk-of-bias": (("risk_of_bias",), parse_risk_of_bias),
    "caveat": (("caveats",), _text),
    "caveats": (("caveats",), _text),
    "note": (("notes",), _text),
    "notes": (("notes",), _text),
    "doi": (("citation", "doi"), parse_doi),
    "citation.doi": (("citation", "doi"), parse_doi),
    "citation.title": (("citation", "title"), _text),
    "title": (("citation", "title"), _text),
    "citation.authors": (("citation", "authors"), parse_authors),
    "authors": (("citation", "authors"), parse_authors),
    "citation.year": (("citation", "year"), parse_year),
    "year": (("citation", "year"), parse_year),
    "citation.container": (("citation", "container"), _text),
    "container": (("citation", "container"), _text),
    "citation.volume": (("citation", "volume"), _text),
    "citation.issue": (("citation", "issue"), _text),
    "citation.pages": (("citation", "pages"), _text),
    "citation.url": (("citation", "url"), _text),
    "url": (("citation", "url"), _text),
}
# Fields that hold lists: `=` replaces the list with one item, `+=` appends.
LIST_FIELDS = frozenset({"outcomes", "caveats"})
# Fields that may hold one item or a list (an effect).
ONE_OR_MANY = frozenset({"effect"})


def parse_assignment(text: str) -> tuple[str, str, str]:
    """`FIELD=VALUE` or `FIELD+=VALUE` -> (field, operator, value)."""
    match = re.match(r"^\s*([A-Za-z_.-]+)\s*(\+=|=)(.*)$", text, re.DOTALL)
    if match is None:
        raise ValueError(f"expected FIELD=VALUE or FIELD+=VALUE (got {text!r})")
    field, operator, value = match.groups()
    if field not in SETTABLE:
        raise ValueError(f"unknown field {field!r} (fields: {', '.join(sorted(SETTABLE))})")
    return field, operator, value.strip()


def apply_assignment(study: Any, field: str, operator: str, value: str) -> None:
    """Change one field of a study (a mapping) in place; an empty value removes the field."""
    path, parse = SETTABLE[field]
    *parents, leaf = path
    node = study
    for key in parents:
        child = node.get(key)
        if child is None:
            if not value:
                return
            node[key] = {}
            child = node[key]
        node = child
    if not value:
        if operator == "+=":
            raise ValueError(f"{field}+= needs a value")
        node.pop(leaf, None)
        if parents and not node:
            study.pop(parents[0], None)
        return
    parsed = parse(value)
    if leaf in LIST_FIELDS or leaf in ONE_OR_MANY:
        current = node.get(leaf)
        if operator == "+=" and current is not None:
            if isinstance(current, list):
                current.append(parsed)  # in place, so comments on the list survive
            else:
                node[leaf] = [current, parsed]
        elif leaf in LIST_FIELDS:
            node[leaf] = [parsed]
        else:
            node[leaf] = parsed
    elif operator == "+=":
        raise ValueError(f"{field} holds one value; use {field}=VALUE")
    else:
        node[leaf] = parsed


def find_study(studies: Any, study_id: str) -> int | None:
    """Index of the study with this id in the review's studies list, or None."""
    for index, study in enumerate(studies or []):
        if isinstance(study, Mapping) and study.get("id") == study_id:
            return index
    return None
