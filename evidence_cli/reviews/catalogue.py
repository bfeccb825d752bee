"""Whole reviews: create one, list and validate them, and the lines that describe one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence_cli.errors import EvidenceError, UsageError
from evidence_cli.formats import count
from evidence_cli.reviews.schema import dangling_references
from evidence_cli.reviews.shapes import Problem
from evidence_cli.reviews.store import LoadedReview, ReviewStore, check_slug, today
from evidence_cli.reviews.studies import first_author_label, is_retracted
from evidence_cli.reviews.yamlio import to_plain

START_COMMENT = (
    "Evidence review kept by evidence-cli. Edit by hand or with `evidence study add`;\n"
    "`evidence review validate` checks the file, `evidence table` renders it."
)


@dataclass(frozen=True, slots=True)
class Question:
    """A review's question: a sentence, and its PICO parts; blank parts are left out."""

    text: str | None = None
    population: str | None = None
    intervention: str | None = None
    comparator: str | None = None
    outcome: str | None = None

    def as_mapping(self) -> dict[str, str]:
        parts = {"text": self.text, "population": self.population,
                 "intervention": self.intervention, "comparator": self.comparator,
                 "outcome": self.outcome}
        return {key: value.strip() for key, value in parts.items() if value and value.strip()}


def create_review(store: ReviewStore, slug: str, title: str, question: Question) -> Path:
    """Write an empty review file (refused when the slug is taken); returns its path."""
    from ruamel.yaml.comments import CommentedMap

    check_slug(slug)
    if not title.strip():
        raise UsageError("--title cannot be empty")
    doc = CommentedMap()
    doc["slug"] = slug
    doc["title"] = title.strip()
    parts = question.as_mapping()
    if parts:
        doc["question"] = parts
    day = today()
    doc["created"] = day
    doc["updated"] = day
    doc["studies"] = []
    doc["claims"] = []
    doc.yaml_set_start_comment(START_COMMENT)
    return store.create(slug, doc)


def list_reviews(store: ReviewStore) -> list[dict[str, Any]]:
    """One entry per review file (the JSON `review list --json` prints): slug, validity, title,
    counts and path; an unreadable file gives its slug, `valid: false` and the problem."""
    entries: list[dict[str, Any]] = []
    for slug in store.slugs():
        try:
            review = store.read(slug)
        except EvidenceError as error:
            entries.append({"slug": slug, "valid": False, "problem": error.message})
            continue
        doc = review.doc if isinstance(review.doc, dict) else {}
        entries.append({
            "slug": slug, "valid": not review.problems, "title": str(doc.get("title", "")),
            "studies": len(doc.get("studies") or []), "claims": len(doc.get("claims") or []),
            "path": str(review.path),
        })
    return entries


def entry_line(entry: Mapping[str, Any]) -> str:
    """A `list_reviews` entry as `review list` prints it."""
    if "problem" in entry:
        return f"{entry['slug']}  UNREADABLE  {entry['problem']}"
    flag = "" if entry["valid"] else "  (INVALID: run `evidence review validate`)"
    return (f"{entry['slug']}  {count(entry['studies'], 'study', 'studies')}  "
            f"{count(entry['claims'], 'claim')}  {entry['title']}{flag}")


@dataclass(frozen=True, slots=True)
class Validation:
    """One review file checked: its path, and its problems (or the reason it is unreadable)."""

    path: Path | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_reviews(store: ReviewStore, slug: str | None) -> list[Validation]:
    """Check one review (an error when it does not exist) or all of them against the schema,
    and claims citing studies that are not there."""
    slugs = [slug] if slug is not None else store.slugs()
    checked = []
    for name in slugs:
        try:
            review = store.read(name)
        except EvidenceError as error:
            if slug is not None and not store.exists(name):
                raise  # an explicitly named review that is not there: exit 3
            checked.append(Validation(None, [f"evidence: invalid: {error.message}"]))
            continue
        problems: list[Problem] = review.problems + dangling_references(review.doc)
        checked.append(Validation(review.path,
                                  [problem.render(review.display_path) for problem in problems]))
    return checked


def audit_text(audit: Any) -> str:
    """A stored audit in a few words: "ok (2026-01-05)", "error: retracted (...)"."""
    if not audit:
        return "not audited"
    codes = ", ".join(audit.get("findings") or audit.get("problems") or [])
    text = f"{audit.get('status')}: {codes}" if codes else str(audit.get("status"))
    return f"{text} ({audit.get('date')})"


def study_line(study: Any) -> str:
    """A study on one line: id, label and year, DOI, design, n and its last audit."""
    citation = study.get("citation") or {}
    label = (first_author_label(citation.get("authors") or []) or citation.get("title")
             or "(no author)")
    year = citation.get("year") or "n.d."
    where = f"doi:{citation['doi']}" if citation.get("doi") else (citation.get("url") or "no DOI")
    n = (study.get("population") or {}).get("n")
    alarm = "RETRACTED  " if is_retracted(study) else ""
    parts = [str(study.get("id")), f"{alarm}{label} {year}", where,
             str(study.get("design") or "design?"), f"n={n}" if n else "n=?",
             f"audit: {audit_text(study.get('audit'))}"]
    return "  ".join(parts)


def claim_line(claim: Any) -> str:
    """A claim on one line: id, statement, the studies behind it and its last audit."""
    studies = ", ".join(claim.get("studies") or [])
    return (f"{claim.get('id')}  \"{claim.get('statement')}\"  [{studies}]  "
            f"audit: {audit_text(claim.get('audit'))}")


def describe(review: LoadedReview) -> list[str]:
    """`review show`: the title, file, question, dates, caveats, studies and claims."""
    doc = review.doc
    lines = [f"{doc['slug']}: {doc['title']}", f"file: {review.path}"]
    question = doc.get("question")
    if isinstance(question, str):
        lines.append(f"question: {question}")
    elif question:
        lines.extend(f"{key}: {value}" for key, value in question.items())
    lines.append(f"created {to_plain(doc.get('created'))}, updated {to_plain(doc.get('updated'))}")
    lines.extend(f"caveat: {caveat}" for caveat in doc.get("caveats") or [])
    studies = doc.get("studies") or []
    lines.append(f"studies ({len(studies)}):")
    lines.extend("  " + study_line(study) for study in studies)
    claims = doc.get("claims") or []
    lines.append(f"claims ({len(claims)}):")
    lines.extend("  " + claim_line(claim) for claim in claims)
    return lines
