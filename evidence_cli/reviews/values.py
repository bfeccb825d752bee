"""Option values as review fields hold them: parsers that raise ValueError, and `parsed`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from evidence_cli import doi as doi_rules
from evidence_cli.errors import UsageError
from evidence_cli.reviews.schema import DESIGNS, ID_PATTERN, RISK_OF_BIAS_LEVELS

T = TypeVar("T")
S = TypeVar("S")


def parsed(option: str, parse: Callable[[S], T], text: S) -> T:
    """Run an option's parser; a bad value becomes a usage error naming the option."""
    try:
        return parse(text)
    except ValueError as error:
        raise UsageError(f"{option}: {error}") from None


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


def parse_id(text: str) -> str:
    if not ID_PATTERN.match(text):
        raise ValueError(f"invalid id {text!r}: letters, digits and . _ : -, no spaces")
    return text


def parse_authors(text: str) -> list[str]:
    """Authors separated by ';' ("Wallin EEK; Mattsson S")."""
    return [name.strip() for name in text.split(";") if name.strip()]


def stripped(value: str) -> str:
    return value.strip()
