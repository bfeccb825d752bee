"""Every finding code the tool can report, with its default severity and what it means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evidence_cli.models import Finding, Severity


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """One row of the code table (the README's table of codes agrees: test_quickstart.py)."""

    code: str
    severity: Severity
    summary: str
    help: str


def _c(code: str, severity: Severity, summary: str, help_text: str) -> CodeInfo:
    return CodeInfo(code, severity, summary, help_text)


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

CODES: dict[str, CodeInfo] = {
    info.code: info
    for info in (
        _c("doi-malformed", _E, "The DOI is not well formed.",
           "The cited DOI does not match Crossref's recommended DOI patterns; check for typos, "
           "spaces or a missing '10.' prefix."),
        _c("doi-short", _W, "The DOI is a shortDOI.",
           "A shortDOI (10/abcde) is a valid alias of a full DOI, but Crossref cannot look it up, "
           "so the citation is unverifiable; cite the full DOI (doi.org resolves the short one). "
           "When Crossref's search finds the work, the full DOI is suggested."),
        _c("doi-not-found", _E, "No registration agency knows the DOI.",
           "Neither Crossref nor any other DOI registration agency holds this DOI: it is wrong or "
           "was never registered."),
        _c("doi-other-agency", _I, "The DOI is registered with another agency.",
           "The DOI exists but is held by a registration agency with no open metadata API "
           "(mEDRA, JaLC, KISTI, CNKI, ...), so its metadata cannot be checked. DataCite DOIs are "
           "checked against DataCite."),
        _c("pmid-malformed", _E, "The PubMed or PubMed Central id is not well formed.",
           "A PMID is a number (PMID: 33675048), a PMCID is PMC and a number (PMC7613024); the "
           "cited one is neither, so it was not looked up."),
        _c("pmid-not-found", _E, "PubMed holds no record for the PMID.",
           "NCBI E-utilities return no PubMed record for the cited PMID: it is mistyped or was "
           "never assigned."),
        _c("pmid-mismatch", _E, "The PMID names a different work.",
           "Both the title and the authors of the PubMed record disagree with the citation: the "
           "PMID most likely belongs to another paper."),
        _c("arxiv-malformed", _E, "The arXiv id is not well formed.",
           "An arXiv id looks like 2101.00001 (v2) or hep-th/9901001; the cited one does not, so "
           "it was not looked up."),
        _c("id-conflict", _E, "The cited identifiers name different works.",
           "The cited DOI and the cited PMID (or PMCID) belong to different records; the finding "
           "says which is which."),
        _c("published-version-available", _W, "A published version of the cited preprint exists.",
           "The cited preprint's record links a published (journal) version; cite that one "
           "(`evidence fix --prefer-published` replaces the DOI)."),
        _c("doi-mismatch", _E, "The DOI names a different work.",
           "Both the title and the authors of the registered work disagree with the citation: the "
           "DOI most likely belongs to another paper."),
        _c("title-mismatch", _W, "The cited title differs from the registered one.",
           "The cited title does not match the title registered for this DOI."),
        _c("author-mismatch", _W, "The cited authors differ from the registered ones.",
           "The first author or the author list does not match the registered authors."),
        _c("year-mismatch", _W, "The cited year matches no registered date.",
           "The cited year is not the year of any registered publication date (issued, print or "
           "online)."),
        _c("container-mismatch", _W, "The cited journal or book differs from the registered one.",
           "The cited container (journal, book, proceedings) matches neither the registered full "
           "nor short title."),
        _c("volume-mismatch", _W, "The cited volume differs from the registered one.",
           "The cited volume does not match the registered volume."),
        _c("issue-mismatch", _W, "The cited issue differs from the registered one.",
           "The cited issue does not match the registered issue."),
        _c("pages-mismatch", _W, "The cited pages differ from the registered ones.",
           "The cited page range or article number does not match the registered one."),
        _c("retracted", _E, "The work was retracted.",
           "Crossref (from the publisher or Retraction Watch) records a retraction, withdrawal or "
           "removal of this work. Do not cite it as evidence."),
        _c("expression-of-concern", _W, "An expression of concern was published.",
           "The publisher has issued an expression of concern about this work."),
        _c("corrected", _I, "A correction was published.",
           "A correction, erratum or corrigendum was published for this work; cite the corrected "
           "version."),
        _c("update-notice", _I, "The DOI is a retraction, correction or concern notice.",
           "The cited DOI is a notice that updates another work (Crossref `update-to`); the "
           "original work is usually what should be cited."),
        _c("service-unavailable", _W, "The reference could not be checked.",
           "Crossref did not answer usefully after retries (or the answer was not in the cache in "
           "offline mode); the reference is unverifiable, not ok."),
        _c("check-failed", _W, "A check of evidence-cli failed on this reference.",
           "Comparing the reference with its registered work (or choosing among search results) "
           "raised an internal error, so the reference is unverifiable, not ok; the rest of the "
           "run is checked. Please report it with the reference as written."),
        _c("doi-suggested", _I, "A DOI was found for a reference that had none.",
           "The reference carries no DOI; Crossref holds a record that matches its fields."),
        _c("match-ambiguous", _W, "Several registered works match the reference.",
           "More than one Crossref record fits the reference about equally well; add the DOI."),
        _c("no-match", _W, "No registered work matches the reference.",
           "No Crossref record fits the reference convincingly; it is unverifiable."),
        _c("url-broken", _E, "The link is broken.",
           "The link answers 404 or 410, or loops through redirects."),
        _c("url-unreachable", _E, "The link's server cannot be reached.",
           "The host does not resolve or refuses connections, after retries."),
        _c("url-timeout", _W, "The link did not answer in time.",
           "No answer within the URL timeout, after retries."),
        _c("url-blocked", _W, "The link's server refuses automated checks.",
           "The server answered 401, 403, 429 or 999: it blocks robots, which says nothing about "
           "the link itself."),
        _c("url-server-error", _W, "The link's server failed.",
           "The server answered with a 5xx error after retries."),
        _c("url-redirected", _I, "The link redirects permanently.",
           "The link moved permanently; cite the final URL."),
        _c("input-error", _E, "An entry or file could not be read.",
           "The entry is not valid in its format (an unbalanced brace, a record without its end, "
           "an item that is not an object), or the file cannot be read at all; the message names "
           "the file, the line and what is wrong. The rest of the input is still checked."),
        _c("duplicate-key", _W, "The citation key is used twice.",
           "Another entry of the file has the same key; both are checked, but BibTeX and biber "
           "cite only the first."),
        _c("no-references", _W, "No reference was found in the input.",
           "The file (or standard input) was read but holds no reference: an empty bibliography, "
           "or a reference section whose heading is not recognised. Name the section "
           "\"References\" or \"Bibliography\", or check the file is the one meant."),
        _c("url-refused", _W, "The link points at a private or local address.",
           "The link resolves to a loopback, private, link-local or cloud-metadata address and was "
           "not fetched (use --allow-private to check it)."),
    )
}


def finding(code: str, message: str, *, field: str | None = None, cited: Any = None,
            registered: Any = None, suggestion: str | None = None) -> Finding:
    """A finding with its code's severity from the table: the one way the checks make one (a
    code missing from the table is a KeyError, never a finding of unknown severity)."""
    return Finding(code=code, severity=CODES[code].severity, message=message, field=field,
                   cited=cited, registered=registered, suggestion=suggestion)
