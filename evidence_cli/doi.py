"""Find, normalise and validate DOIs, following Crossref's published regex advice.

https://www.crossref.org/blog/dois-and-matching-regular-expressions/ : the main pattern matches
74.4M of 74.9M DOIs; the 10.1002 and SICI patterns cover most of the rest.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_MODERN = re.compile(r"^10\.\d{4,9}/[-._;()/:A-Z0-9]+$", re.IGNORECASE)
_WILEY_OLD = re.compile(r"^10\.1002/\S+$", re.IGNORECASE)
# Crossref prints this one as `\d+-\d+X?(\d+)\d+<...`; the parentheses are literal characters of
# a SICI ("1520-0477(1998)079<1543:TPOAIN>2.0.CO;2"), not a regex group.
_SICI = re.compile(
    r"^10\.\d{4}/\d+-\d+X?\(\d+\)\d+<[\d\w]+:[\d\w]*>\d+\.\d+\.\w+;\d$", re.IGNORECASE
)
_ACS_OLD = re.compile(r"^10\.1021/\w\w\d+$", re.IGNORECASE)
_LEA_OLD = re.compile(r"^10\.1207/[\w\d]+&\d+_\d+$", re.IGNORECASE)
_VALID = (_MODERN, _WILEY_OLD, _SICI, _ACS_OLD, _LEA_OLD)

_PREFIXES = re.compile(
    r"^(?:doi\s*:\s*|(?:https?://)?(?:dx\.)?doi\.org/|info:doi/|urn:doi:)", re.IGNORECASE
)
# A DOI in running text: the prefix, then everything up to white space, a quote or a bracket;
# a `<...>` group without spaces stays (SICI DOIs have one), and the slash may be percent-encoded
# in a link (doi.org/10.1000%2Fxyz).
_IN_TEXT = re.compile(
    r"(?:doi\s*:\s*|https?://(?:dx\.)?doi\.org/|\b)"
    r"(10\.\d{1,9}(?:/|%2F)(?:[^\s\"'<>{}\[\]|\\^`]|<[^\s\"'<>]*>)+)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?*'\""


def strip_trailing_punctuation(candidate: str) -> str:
    """Drop sentence punctuation after a DOI, and a closing bracket it does not open."""
    # Counted once, not per character: a line ending in a million ')' or '.' must take
    # linear time, not hours (1 MB single-line input, tests/test_hostile_input.py).
    opened = candidate.count("(")
    closed = candidate.count(")")
    end = len(candidate)
    while end:
        last = candidate[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last == ")" and opened < closed:
            end -= 1
            closed -= 1
        else:
            break
    return candidate[:end]


def normalize(text: str) -> str:
    """The comparable form of a DOI: no resolver prefix, percent-decoded, trimmed, lower-case.

    DOIs are case-insensitive (https://www.doi.org/doi-handbook/HTML/case-sensitivity.html) and
    Crossref returns them lower-cased, so lower case is the canonical form here.
    """
    value = text.strip()
    value = _PREFIXES.sub("", value).strip()
    value = unquote(value)
    value = strip_trailing_punctuation(value)
    return value.lower()


def is_valid(doi: str) -> bool:
    """True when a normalised DOI matches one of Crossref's recommended patterns."""
    return any(pattern.match(doi) for pattern in _VALID)


def find_all(text: str) -> list[str]:
    """Every DOI-looking string in a text, normalised, in order, without duplicates.

    A candidate that fails validation is still returned (so it can be reported as malformed):
    callers check `is_valid`.
    """
    found: list[str] = []
    for match in _IN_TEXT.finditer(text):
        doi = normalize(match.group(1))
        if doi and doi not in found:
            found.append(doi)
    return found


def looks_like_doi_attempt(text: str) -> bool:
    """True for text that tries to be a DOI (a doi: label, a resolver URL, a "10." start)."""
    value = text.strip()
    return bool(_PREFIXES.match(value) or value.startswith("10."))


def url_of(doi: str) -> str:
    return f"https://doi.org/{doi}"


def is_doi_url(url: str) -> bool:
    """True for a doi.org / dx.doi.org link, which is a DOI to check, not a page to fetch."""
    return bool(re.match(r"^https?://(?:dx\.)?doi\.org/10\.", url.strip(), re.IGNORECASE))
