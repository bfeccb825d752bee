"""Find, normalise and validate PubMed ids (PMID), PubMed Central ids (PMCID) and arXiv ids.

One place for every reader: labels in running text ("PMID: 33675048", "PMCID: PMC7613024",
"arXiv:2101.00001v2"), links (pubmed.ncbi.nlm.nih.gov/N, ncbi.nlm.nih.gov/pmc/articles/PMCN,
arxiv.org/abs/ID) and fields (BibTeX pmid/pmcid/eprint+archivePrefix, RIS AN/C2, CSL-JSON PMID).
A value that tries to be an id but is not well formed is kept as written, so the audit reports it
(`pmid-malformed`, `arxiv-malformed`) before any network call.

arXiv identifier schemes: https://info.arxiv.org/help/arxiv_identifier.html ; arXiv DOIs
(10.48550/arXiv.ID, registered with DataCite): https://info.arxiv.org/help/doi.html
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from evidence_cli.models import CitedFields

ARXIV_DOI_PREFIX = "10.48550/arxiv."

_PMID_VALID = re.compile(r"^[1-9][0-9]{0,8}$")
_PMCID_VALID = re.compile(r"^PMC[0-9]{1,9}$")
# New scheme (April 2007 on): YYMM.NNNN (to 2014) or YYMM.NNNNN, optional version.
_ARXIV_NEW = re.compile(r"^(\d{2}(?:0[1-9]|1[0-2])\.\d{4,5})(v\d+)?$", re.ASCII)
# Old scheme: archive(.SUBJECT-CLASS)/YYMMNNN, optional version ("hep-th/9901001",
# "math.GT/0309136").
_ARXIV_OLD = re.compile(
    r"^([a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]{2})?/\d{2}(?:0[1-9]|1[0-2])\d{3})(v\d+)?$", re.ASCII
)

_END = r"(?=$|[\s,;)\]}>\"']|\.(?:$|\s))"
# A label then a value: the value is whatever non-space follows, so that "PMID: 12a45" is seen
# (and reported as malformed) rather than ignored.
# ("PMIDs were ..." is not an id: without a colon the value must start with a digit or PMC.)
_PMID_LABEL = re.compile(r"\bPMID\b(?:\s*[:=]\s*([^\s,;)\]}]+)|\s+(\d[^\s,;)\]}]*))",
                         re.IGNORECASE)
_PMCID_LABEL = re.compile(r"\bPMCID\b(?:\s*[:=]\s*([^\s,;)\]}]+)|\s+(PMC[^\s,;)\]}]*))",
                          re.IGNORECASE)
_PMCID_BARE = re.compile(r"\b(PMC\d{4,9})" + _END)
_PUBMED_LINK = re.compile(
    r"https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/(\d+)",
    re.IGNORECASE,
)
_PMC_LINK = re.compile(
    r"https?://(?:www\.)?(?:ncbi\.nlm\.nih\.gov/pmc/articles|pmc\.ncbi\.nlm\.nih\.gov/articles|"
    r"europepmc\.org/articles?)/(PMC\d+)",
    re.IGNORECASE,
)
_ARXIV_LABEL = re.compile(r"\barXiv\s*:\s*([^\s,;)\]}]+)", re.IGNORECASE)
_ARXIV_LINK = re.compile(
    r"https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/([^\s?#\"'<>]+?)(?:\.pdf)?"
    r"(?=$|[\s?#\"'<>,;)\]])",
    re.IGNORECASE,
)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_TRAILING = ".,;:"


@dataclass(frozen=True, slots=True)
class Found:
    """The ids found in one reference (each as written when malformed, normalised otherwise)."""

    pmid: str | None = None
    pmcid: str | None = None
    arxiv: str | None = None


# -- normalising and validating ------------------------------------------------------------------

def normalize_pmid(text: str) -> str:
    value = text.strip().rstrip(_TRAILING)
    value = re.sub(r"^(?:PMID\s*[:=]?\s*)", "", value, flags=re.IGNORECASE).strip()
    link = _PUBMED_LINK.match(value)
    if link:
        return link.group(1)
    return value


def is_valid_pmid(pmid: str) -> bool:
    return bool(_PMID_VALID.match(pmid))


def normalize_pmcid(text: str) -> str:
    value = text.strip().rstrip(_TRAILING)
    value = re.sub(r"^(?:PMCID\s*[:=]?\s*)", "", value, flags=re.IGNORECASE).strip()
    link = _PMC_LINK.match(value)
    if link:
        value = link.group(1)
    if value.isdigit():  # some managers store the number alone
        value = f"PMC{value}"
    return value.upper() if value.lower().startswith("pmc") else value


def is_valid_pmcid(pmcid: str) -> bool:
    return bool(_PMCID_VALID.match(pmcid))


def normalize_arxiv(text: str) -> str:
    value = text.strip().rstrip(_TRAILING)
    value = re.sub(r"^(?:arxiv\s*:\s*)", "", value, flags=re.IGNORECASE).strip()
    link = _ARXIV_LINK.match(value)
    if link:
        value = link.group(1)
    doi = _ARXIV_DOI.match(value)
    if doi:
        value = doi.group(1)
    return value


def is_valid_arxiv(arxiv_id: str) -> bool:
    return bool(_ARXIV_NEW.match(arxiv_id) or _ARXIV_OLD.match(arxiv_id))


def arxiv_doi(arxiv_id: str) -> str | None:
    """The DataCite DOI arXiv registers for an id (versionless, lower-case as DOIs are compared
    here), or None for an id that is not well formed."""
    match = _ARXIV_NEW.match(arxiv_id) or _ARXIV_OLD.match(arxiv_id)
    return f"{ARXIV_DOI_PREFIX}{match.group(1).lower()}" if match else None


def arxiv_of_doi(doi: str) -> str | None:
    match = _ARXIV_DOI.match(doi)
    return match.group(1) if match else None


# -- finding -------------------------------------------------------------------------------------

def _first(values: Iterable[str]) -> str | None:
    return next((value for value in values if value), None)


def find_in_text(text: str, links: Iterable[str] = ()) -> Found:
    """Ids in a reference's text and its hyperlink targets. A labelled value wins over a link; a
    well-formed one wins over a malformed one (which is kept only when it is all there is)."""
    targets = [target for target in (text, *links) if target]
    if not targets:
        return Found()  # most structured entries: no note, no URL (seven scans saved)
    # Every pattern below needs "pm" (PMID, PMC), "pubmed" or "arx" (arXiv) in some case: a
    # text without any of them has none (seven scans saved again: most free-text references,
    # #12). Not "arxiv": IGNORECASE lets "ı" stand for "i", and "ı".lower() is no "i"; no other
    # letter of these has such a stand-in (tests/test_identifiers.py checks every code point).
    lower = " ".join(targets).lower()
    if "pm" not in lower and "pubmed" not in lower and "arx" not in lower:
        return Found()
    pmids = [normalize_pmid(m.group(1) or m.group(2)) for t in targets
             for m in _PMID_LABEL.finditer(t)]
    pmids += [m.group(1) for t in targets for m in _PUBMED_LINK.finditer(t)]
    pmcids = [normalize_pmcid(m.group(1) or m.group(2)) for t in targets
              for m in _PMCID_LABEL.finditer(t)]
    pmcids += [m.group(1).upper() for t in targets for m in _PMC_LINK.finditer(t)]
    pmcids += [m.group(1) for t in targets for m in _PMCID_BARE.finditer(t)]
    arxivs = [normalize_arxiv(m.group(1)) for t in targets for m in _ARXIV_LABEL.finditer(t)]
    arxivs += [normalize_arxiv(m.group(1)) for t in targets for m in _ARXIV_LINK.finditer(t)]
    return Found(
        pmid=_first(p for p in pmids if is_valid_pmid(p)) or _first(pmids),
        pmcid=_first(p for p in pmcids if is_valid_pmcid(p)) or _first(pmcids),
        arxiv=_first(a for a in arxivs if is_valid_arxiv(a)) or _first(arxivs),
    )


def from_fields(
    *,
    pmid: str | None = None,
    pmcid: str | None = None,
    eprint: str | None = None,
    archive_prefix: str | None = None,
    urls: Iterable[str] = (),
    notes: Iterable[str] = (),
) -> Found:
    """Ids from a structured entry: its id fields first, then its URLs and notes.

    `eprint` counts as an arXiv id only with archivePrefix/eprinttype arXiv, or when it says
    "arXiv:" itself: an eprint field may hold any repository's id.
    """
    in_text = find_in_text(" ".join(n for n in notes if n), [u for u in urls if u])
    arxiv = None
    if eprint and eprint.strip():
        prefix = (archive_prefix or "").strip().lower()
        if prefix == "arxiv" or eprint.strip().lower().startswith("arxiv:"):
            arxiv = normalize_arxiv(eprint)
    return Found(
        pmid=normalize_pmid(pmid) if pmid and pmid.strip() else in_text.pmid,
        pmcid=normalize_pmcid(pmcid) if pmcid and pmcid.strip() else in_text.pmcid,
        arxiv=arxiv or in_text.arxiv,
    )


def apply(cited: CitedFields, found: Found) -> None:
    """Put found ids on a reference's fields (an id the reader already set is kept)."""
    cited.pmid = cited.pmid or found.pmid
    cited.pmcid = cited.pmcid or found.pmcid
    cited.arxiv = cited.arxiv or found.arxiv
    if cited.arxiv is None and cited.doi:
        # A cited arXiv DOI is an arXiv id too (for the "published version" check).
        from_doi = arxiv_of_doi(cited.doi)
        if from_doi and is_valid_arxiv(from_doi):
            cited.arxiv = from_doi


def pmid_from_ris(accession: str | None, custom2: str | None) -> str | None:
    """RIS has no PMID tag: PubMed's own export and EndNote put it in AN, Zotero in C2 (sometimes
    "PMID: N"); only a value that looks like a PubMed id is taken (AN holds other accession
    numbers too, e.g. WOS:000...)."""
    for value in (custom2, accession):
        if not value:
            continue
        text = value.strip()
        if re.match(r"^(?:PMID\s*[:=]?\s*)?\d+\.?$", text, re.IGNORECASE):
            return normalize_pmid(text)
    return None


def pmcid_from_ris(*values: str | None) -> str | None:
    for value in values:
        if value and re.match(r"^\s*(?:PMCID\s*[:=]?\s*)?PMC\d+\s*$", value, re.IGNORECASE):
            return normalize_pmcid(value)
    return None
