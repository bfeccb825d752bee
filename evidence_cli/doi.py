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

# Resolvers that put a DOI after their host: doi.org and its old names, and publishers' own
# (ACM's doi.acm.org, IEEE's, Wiley's); hdl.handle.net resolves DOIs as the handles they are.
_RESOLVER = (r"(?:https?://)?(?:(?:dx\.|www\.)?doi\.org|doi\.acm\.org|doi\.ieeecomputersociety\.org"
             r"|(?:dx\.)?doi\.wiley\.com|dx\.crossref\.org|hdl\.handle\.net)/")
_PREFIXES = re.compile(
    r"^(?:doi\s*[:：]\s*|doi\s+(?=10[./])|" + _RESOLVER + r"|info:doi/|urn:doi:)", re.IGNORECASE
)
# A query parameter after a DOI in a link (Scopus writes `...&doi=10.1016%2fj.x.2019.02.698
# &partnerID=40&md5=...`): `&name=` or `?name=` is never part of a DOI.
_QUERY = re.compile(r"[?&][A-Za-z_][\w.\-]*=")
# A shortDOI (http://shortdoi.org): `10/` and a few letters and digits, an alias of a full DOI.
_SHORT = re.compile(r"^10/[a-z0-9]{2,16}$", re.IGNORECASE)
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
    query = _QUERY.search(value)
    if query:
        value = value[: query.start()]
    value = strip_trailing_punctuation(value)
    return value.lower()


def is_short(doi: str) -> bool:
    """True for a shortDOI (`10/fqd6hj`): well formed, but an alias Crossref cannot look up."""
    return bool(_SHORT.match(doi))


def is_valid(doi: str) -> bool:
    """True when a normalised DOI matches one of Crossref's recommended patterns."""
    return any(pattern.match(doi) for pattern in _VALID)


def find_all(text: str) -> list[str]:
    """Every DOI-looking string in a text, normalised, in order, without duplicates.

    A candidate that fails validation is still returned (so it can be reported as malformed):
    callers check `is_valid`.
    """
    found: list[str] = []
    # Every DOI starts "10.": the scan starts at the first one (a prefix before it, "doi:" or a
    # resolver's address, ends in a non-word character, so the DOI matches without it), and a
    # text without one needs none (#12).
    first = text.find("10.")
    if first < 0:
        return found
    for match in _IN_TEXT.finditer(text, first):
        doi = normalize(match.group(1))
        if doi and doi not in found:
            found.append(doi)
    return found


def looks_like_doi_attempt(text: str) -> bool:
    """True for text that tries to be a DOI (a doi: label, a resolver URL, a "10." start)."""
    value = text.strip()
    return bool(_PREFIXES.match(value) or value.startswith(("10.", "10/")))


def url_of(doi: str) -> str:
    return f"https://doi.org/{doi}"


def is_doi_url(url: str) -> bool:
    """True for a DOI resolver's link (doi.org, dx.doi.org, doi.acm.org, ...), which is a DOI to
    check, not a page to fetch; a shortDOI link (doi.org/10/abc) counts."""
    return bool(_DOI_URL.match(url.strip()))


_DOI_URL = re.compile(r"^https?://" + _RESOLVER.removeprefix(r"(?:https?://)?") + r"10[./]",
                      re.IGNORECASE)
