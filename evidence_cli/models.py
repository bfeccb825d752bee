"""The data that flows through the pipeline: references, findings, results, reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

CITED_KEYS = ("doi", "title", "authors", "year", "container", "volume", "issue", "pages", "url")
# Identifiers besides the DOI: in a report only when present (reports without them read as before).
ID_KEYS = ("pmid", "pmcid", "arxiv")


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self.value]


_SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}

# A reference's status, from best to worst. "unverifiable" ranks below "error" (a known problem is
# worth more than an unknown one) but above warning: it is never reported as fine.
STATUS_ORDER = ("ok", "info", "warning", "unverifiable", "error")

# Findings that mean "this could not be checked": they make the reference's status unverifiable
# rather than counting as a problem with the citation itself.
UNVERIFIABLE_CODES = frozenset(
    {"service-unavailable", "no-match", "url-blocked", "url-server-error", "url-refused",
     "doi-short"}
)

# Findings a reader makes about an input that holds no reference to check (a broken entry, an
# unreadable file, a file with nothing in it): such a "reference" is reported, never looked up.
INPUT_PROBLEM_CODES = frozenset({"input-error", "no-references"})


@dataclass(slots=True)
class SourceLocation:
    """Where a reference was read: a file path and a 1-based line (a paragraph number for .docx)."""

    path: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line}


@dataclass(slots=True)
class CitedFields:
    """Bibliographic fields, as cited in the input or as registered in Crossref."""

    doi: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    container: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    url: str | None = None
    # Other identifiers (evidence_cli/identifiers.py): as written when malformed, else normalised.
    pmid: str | None = None
    pmcid: str | None = None
    arxiv: str | None = None

    def to_dict(self) -> dict[str, Any]:
        values = {key: getattr(self, key) for key in CITED_KEYS}
        values.update({key: getattr(self, key) for key in ID_KEYS if getattr(self, key)})
        return values

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CitedFields:
        return cls(**{key: data[key] for key in (*CITED_KEYS, *ID_KEYS) if key in data})


class ReferenceForm(StrEnum):
    """How a reference gave its fields: named by the input (BibTeX, RIS, CSL-JSON, a review's
    citation) or parsed from free text, where the checks judge the text itself (issue #11)."""

    FIELDS = "fields"
    TEXT = "text"


@dataclass(slots=True)
class Reference:
    """One cited work as read from an input, before anything was looked up.

    `links` holds every other URL found with the reference (for the link checker); `cited.url`
    is the reference's own URL field. `problems` are what the reader found wrong with the input
    itself (a broken entry, a duplicate key, a file with no reference in it): they become the
    reference's first findings.
    """

    id: str
    source: SourceLocation
    raw: str
    cited: CitedFields
    links: list[str] = field(default_factory=list)
    form: ReferenceForm = ReferenceForm.FIELDS
    # For free text: the parser's best reading of every field, sure or not. It only builds
    # search queries (validated against the text before anything is suggested); it is never
    # reported or compared with a record.
    query: CitedFields | None = None
    problems: list[Finding] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        """The text the checks search for registered values: a free-text reference as written;
        None for a structured one, whose fields are compared as given."""
        return self.raw if self.form is ReferenceForm.TEXT else None

    @property
    def is_input_problem(self) -> bool:
        """True for an entry or file that could not be read as a reference: nothing to look up."""
        return any(problem.code in INPUT_PROBLEM_CODES for problem in self.problems)


@dataclass(slots=True)
class Finding:
    """One verdict about one reference, field by field when it concerns a field."""

    code: str
    severity: Severity
    message: str
    field: str | None = None
    cited: Any = None
    registered: Any = None
    suggestion: str | None = None

    @property
    def makes_unverifiable(self) -> bool:
        return self.code in UNVERIFIABLE_CODES

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "field": self.field,
            "cited": self.cited,
            "registered": self.registered,
            "message": self.message,
            "suggestion": self.suggestion,
        }


def status_of(findings: list[Finding]) -> str:
    """The worst status the findings imply; "ok" only when there are none."""
    worst = "ok"
    for finding in findings:
        status = "unverifiable" if finding.makes_unverifiable else finding.severity.value
        if STATUS_ORDER.index(status) > STATUS_ORDER.index(worst):
            worst = status
    return worst


@dataclass(slots=True)
class ReferenceResult:
    """A reference with what the checks found about it."""

    reference: Reference
    doi: str | None
    registered: CitedFields | None
    findings: list[Finding]

    @property
    def status(self) -> str:
        return status_of(self.findings)

    def to_dict(self) -> dict[str, Any]:
        ref = self.reference
        return {
            "id": ref.id,
            "source": ref.source.to_dict(),
            "raw": ref.raw,
            "cited": ref.cited.to_dict(),
            "doi": self.doi,
            "status": self.status,
            "registered": self.registered.to_dict() if self.registered else None,
            "findings": [f.to_dict() for f in self.findings],
        }


def summarize(results: list[ReferenceResult]) -> dict[str, int]:
    summary = {"references": len(results), "ok": 0, "info": 0, "warning": 0, "error": 0,
               "unverifiable": 0}
    for result in results:
        summary[result.status] += 1
    return summary
