"""The data that flows through the pipeline: references, findings, results, reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from evidence_cli.errors import EXIT_FINDINGS, EXIT_OK, EXIT_UNVERIFIABLE

CITED_KEYS = ("doi", "title", "authors", "year", "container", "volume", "issue", "pages", "url")
# Identifiers besides the DOI: in a report only when present (reports without them read as before).
ID_KEYS = ("pmid", "pmcid", "arxiv")


class _Ranked(StrEnum):
    """Members declared from the best (or least severe) to the worst: `rank` is the place."""

    @property
    def rank(self) -> int:
        return _RANKS[type(self), self.name]


class Severity(_Ranked):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Status(_Ranked):
    """A reference's status. "unverifiable" ranks below "error" (a known problem is worth more
    than an unknown one) but above warning: it is never reported as fine."""

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    UNVERIFIABLE = "unverifiable"
    ERROR = "error"

    @classmethod
    def of(cls, value: object) -> Status | None:
        """The status a report or a review file names, or None for anything else."""
        return _STATUSES.get(value) if isinstance(value, str) else None


_RANKS: dict[tuple[type[_Ranked], str], int] = {
    (kind, member.name): rank for kind in (Severity, Status) for rank, member in enumerate(kind)}
_STATUSES: dict[str, Status] = {status.value: status for status in Status}
# The order a summary lists the statuses in (the JSON report's summary keys, the summary line,
# the HTML report's filters): the severities best first, then what could not be checked, apart.
SUMMARY_ORDER = (Status.OK, Status.INFO, Status.WARNING, Status.ERROR, Status.UNVERIFIABLE)


def worst_first(status: object) -> int:
    """A sort key for a report's statuses: error first, ok last, anything else after them."""
    known = Status.of(status)
    return Status.ERROR.rank - known.rank if known is not None else len(Status)


# Findings that mean "this could not be checked": they make the reference's status unverifiable
# rather than counting as a problem with the citation itself.
UNVERIFIABLE_CODES = frozenset(
    {"service-unavailable", "no-match", "url-blocked", "url-server-error", "url-refused",
     "doi-short", "check-failed"}
)

# Findings a reader makes about an input that holds no reference to check (a broken entry, an
# unreadable file, a file with nothing in it): such a "reference" is reported, never looked up.
INPUT_PROBLEM_CODES = frozenset({"input-error", "no-references"})

# The cited DOI is wrong: it names no work, another work, or is no DOI at all. `fix` replaces it
# with the DOI a confident search found.
WRONG_DOI_CODES = frozenset({"doi-mismatch", "doi-not-found", "doi-malformed"})
# A DOI Crossref's search is asked to correct: a wrong one, or a shortDOI (an alias Crossref
# cannot look up, whose full DOI is suggested but which `fix` leaves as cited).
DOI_TO_CORRECT_CODES = WRONG_DOI_CODES | {"doi-short"}


class FailOn(StrEnum):
    """`--fail-on`: the least severe finding that makes a run exit 1."""

    ERROR = "error"
    WARNING = "warning"
    NEVER = "never"

    @classmethod
    def parse(cls, value: str) -> FailOn:
        """A configured value (any case); ValueError naming the choices for anything else."""
        try:
            return cls(value.lower())
        except ValueError:
            raise ValueError(f"expected one of {', '.join(cls)}") from None

    def reached_by(self, severity: Severity) -> bool:
        return self is not FailOn.NEVER and severity.rank >= Severity(self.value).rank


def first_text(value: Any) -> str | None:
    """The text a field holds: a string or a number (a volume written 12), or the first such
    non-blank item of a list (Crossref and CSL-JSON wrap strings in lists: "title": ["..."]),
    with every run of whitespace made one space; None when it holds none."""
    if isinstance(value, list):
        return next((text for item in value if (text := _scalar_text(item))), None)
    return _scalar_text(value)


def _scalar_text(value: Any) -> str | None:
    if type(value) is str:  # nearly every value: one identity test instead of two isinstance
        return " ".join(value.split()) or None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return " ".join(str(value).split()) or None


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
        problems = self.problems
        return bool(problems) and any(problem.code in INPUT_PROBLEM_CODES for problem in problems)


@dataclass(frozen=True, slots=True)
class Finding:
    """One verdict about one reference, field by field when it concerns a field.

    Built from the code table with `codes.finding`; frozen, so one finding can be shared (two
    references citing one link) and a changed one is a copy (`dataclasses.replace`).
    """

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


# Each severity's status and each status's rank, looked up without Enum calls: status_of runs
# three times per reference (report line, summary, exit code).
_SEVERITY_STATUS: dict[str, Status] = {severity: Status(severity.value) for severity in Severity}
_STATUS_RANK: dict[Status, int] = {status: status.rank for status in Status}


def status_of(findings: Iterable[Finding]) -> Status:
    """The worst status the findings imply; ok only when there are none."""
    worst, worst_rank = Status.OK, 0
    for finding in findings:
        status = (Status.UNVERIFIABLE if finding.code in UNVERIFIABLE_CODES
                  else _SEVERITY_STATUS[finding.severity])
        rank = _STATUS_RANK[status]
        if rank > worst_rank:
            worst, worst_rank = status, rank
    return worst


@dataclass(slots=True)
class ReferenceResult:
    """A reference with what the checks found about it."""

    reference: Reference
    doi: str | None
    registered: CitedFields | None
    findings: list[Finding]

    @property
    def status(self) -> Status:
        return status_of(self.findings)

    def to_dict(self) -> dict[str, Any]:
        ref = self.reference
        return {
            "id": ref.id,
            "source": ref.source.to_dict(),
            "raw": ref.raw,
            "cited": ref.cited.to_dict(),
            "doi": self.doi,
            "status": self.status.value,
            "registered": self.registered.to_dict() if self.registered else None,
            "findings": [f.to_dict() for f in self.findings],
        }


def summarize(results: list[ReferenceResult]) -> dict[str, int]:
    summary = {"references": len(results)} | {status.value: 0 for status in SUMMARY_ORDER}
    for result in results:
        summary[result.status.value] += 1
    return summary


def exit_code(results: Iterable[ReferenceResult], fail_on: FailOn,
              also: Iterable[Status] = ()) -> int:
    """The exit code of `check` and `review audit`: 1 for a finding at or above `fail_on`,
    else 4 when something was unverifiable, else 0. Findings that make a reference unverifiable
    never fail a run. `also` are statuses from beyond the references (a review's claims): an
    error among them counts as an error finding, an unverifiable one as unverifiable."""
    results = list(results)
    also = list(also)
    severities = [finding.severity for result in results for finding in result.findings
                  if not finding.makes_unverifiable]
    severities += [Severity.ERROR for status in also if status is Status.ERROR]
    if any(fail_on.reached_by(severity) for severity in severities):
        return EXIT_FINDINGS
    statuses = [*(result.status for result in results), *also]
    return EXIT_UNVERIFIABLE if Status.UNVERIFIABLE in statuses else EXIT_OK


def worse_exit(one: int, other: int) -> int:
    """The exit code of two parts of a report together: findings, else unverifiable, else 0."""
    if EXIT_FINDINGS in (one, other):
        return EXIT_FINDINGS
    return EXIT_UNVERIFIABLE if EXIT_UNVERIFIABLE in (one, other) else EXIT_OK
