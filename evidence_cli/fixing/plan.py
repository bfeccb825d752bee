"""Plan the corrections to a bibliography's entries that what the audit found justifies.

What is changed, per entry:

- a DOI is added when the entry had none and Crossref holds a record matching it above the
  threshold (`doi-suggested`);
- a wrong DOI (`doi-mismatch`, `doi-not-found`, `doi-malformed`) is replaced only when the audit
  found the cited work confidently (the finding's suggestion); the entry's other fields are then
  left alone, because they were compared with the wrong record;
- title, year, journal/book, volume, issue and pages that disagree with the registered record are
  set to the registered values. Authors are not rewritten (name forms vary too much to do it
  safely); they are listed as left for a person.

Entries whose match is ambiguous, below the threshold, or unverifiable are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli.models import WRONG_DOI_CODES, ReferenceResult, first_text

_MISMATCH_FIELD = {
    "title-mismatch": "title", "year-mismatch": "year", "container-mismatch": "container",
    "volume-mismatch": "volume", "issue-mismatch": "issue", "pages-mismatch": "pages",
}
# Findings that mean the entry's record is not known for sure: nothing is changed.
_HANDS_OFF = frozenset({"match-ambiguous", "no-match", "service-unavailable", "doi-other-agency"})


@dataclass(slots=True)
class EntryChanges:
    """What to change in one entry: field -> new value ("doi" included), and what was left."""

    result: ReferenceResult
    values: dict[str, str] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)  # human-readable notes on what was not fixed


def _text_value(value: Any) -> str | None:
    text = first_text(value)
    # Crossref titles may carry markup (<i>, <sub>): not something to write into a citation.
    return text if text and "<" not in text else None


def plan(results: list[ReferenceResult], *, prefer_published: bool = False
         ) -> list[EntryChanges]:
    """The changes the audit results justify, entry by entry (entries with none are left out).

    With `prefer_published`, a cited preprint whose record names one published version gets
    that version's DOI (`published-version-available`), and nothing else is changed.
    """
    planned: list[EntryChanges] = []
    for result in results:
        codes = {f.code for f in result.findings}
        changes = EntryChanges(result)
        published = next((f.suggestion for f in result.findings
                          if f.code == "published-version-available" and f.suggestion), None)
        if prefer_published and published and doi_rules.is_valid(published):
            changes.values["doi"] = published
            changes.left.append("other fields still describe the preprint: check them against "
                                "the published version (run fix again)")
            planned.append(changes)
            continue
        if codes & _HANDS_OFF:
            changes.left.append("no confident Crossref record; left as it is")
            planned.append(changes)
            continue
        wrong_doi = [f for f in result.findings if f.code in WRONG_DOI_CODES]
        if wrong_doi:
            suggestion = next((f.suggestion for f in wrong_doi if f.suggestion), None)
            if suggestion and doi_rules.is_valid(doi_rules.normalize(suggestion)):
                changes.values["doi"] = doi_rules.normalize(suggestion)
                changes.left.append("other fields not compared: they were checked against the "
                                    "record of the wrong DOI; run fix again")
            else:
                changes.left.append(f"{wrong_doi[0].code}: no confident replacement DOI")
            planned.append(changes)
            continue
        suggested = next((f for f in result.findings if f.code == "doi-suggested"), None)
        if suggested is not None and result.doi and result.reference.cited.doi is None:
            changes.values["doi"] = result.doi
        for finding in result.findings:
            name = _MISMATCH_FIELD.get(finding.code)
            if name is None:
                if finding.code == "author-mismatch":
                    changes.left.append(f"authors: {finding.message}")
                continue
            value = _text_value(finding.registered)
            if value is None:
                changes.left.append(f"{name}: registered value cannot be written as is")
                continue
            changes.values[name] = value
        if changes.values or changes.left:
            planned.append(changes)
    return planned
