"""The review file schema: what each field may hold, checked with file, line and field in errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli.models import Status
from evidence_cli.reviews import grading, outcome_data
from evidence_cli.reviews.effect import canonical_measure
from evidence_cli.reviews.shapes import (
    Problem,
    Shapes,
    item_line,
    join,
    key_line,
    kind,
    node_line,
)

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Study and claim ids are citation keys: letters, digits and a little punctuation, no spaces.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

DESIGNS = (
    "rct", "quasi-experimental", "cohort", "case-control", "cross-sectional", "survey",
    "qualitative", "systematic-review", "meta-analysis", "other",
)
RISK_OF_BIAS_LEVELS = ("low", "some concerns", "high")
CLAIM_STATUSES = ("ok", "flagged")

REVIEW_KEYS = ("slug", "title", "question", "created", "updated", "caveats", "notes", "studies",
               "claims", "grade")
QUESTION_KEYS = ("text", "population", "intervention", "comparator", "outcome")
STUDY_KEYS = ("id", "citation", "design", "setting", "country", "population", "intervention",
              "comparator", "outcomes", "effect", "data", "follow_up", "risk_of_bias", "caveats",
              "notes", "audit")
CITATION_KEYS = ("doi", "authors", "year", "title", "container", "volume", "issue", "pages", "url",
                 "pmid", "pmcid")
POPULATION_KEYS = ("description", "n", "age", "sex")
OUTCOME_KEYS = ("name", "instrument", "timepoint")
EFFECT_KEYS = ("label", "measure", "value", "ci_low", "ci_high", "p", "text")
RISK_KEYS = ("level", "note")
AUDIT_KEYS = ("date", "status", "findings")
CLAIM_KEYS = ("id", "statement", "studies", "quote", "page", "audit")
CLAIM_AUDIT_KEYS = ("date", "status", "problems")


@dataclass(frozen=True, slots=True)
class OutcomeEntries:
    """A list with one entry per outcome: what it is called, its keys, and the duplicate's
    message (`{name}` is the outcome)."""

    listing: str
    keys: Sequence[str]
    required: Sequence[str]
    second: str


DATA_ENTRIES = OutcomeEntries("outcome data", outcome_data.DATA_KEYS, ("outcome", "type"),
                              "a second entry for outcome '{name}' (one per outcome)")
GRADE_ENTRIES = OutcomeEntries("GRADE ratings", grading.GRADE_KEYS, ("outcome",),
                               "a second GRADE entry for outcome '{name}'")


class _Checker(Shapes):
    """The review's own parts, on the generic shapes."""

    # --- review parts ---------------------------------------------------------------------
    def review(self, doc: Any, slug: str | None) -> None:
        if not self.mapping(doc, "", 1, REVIEW_KEYS, required=("slug", "title")):
            return
        self.each(doc, "", 1, {
            "slug": self.slug, "title": self.text, "question": self.question,
            "created": self.date, "updated": self.date, "caveats": self.text_list,
            "notes": self.text,
        })
        if slug is not None and isinstance(doc.get("slug"), str) and doc["slug"] != slug:
            self.fail(key_line(doc, "slug", 1), "slug",
                      f"'{doc['slug']}' does not match the file name ('{slug}.yaml')")
        self.items(doc, "studies", self.study)
        self.items(doc, "claims", self.claim)
        if doc.get("grade") is not None:
            self.grade(doc["grade"], "grade", key_line(doc, "grade", 1))

    def items(self, doc: Mapping[str, Any], key: str,
              check: Callable[[Any, str, int | None, set[str]], None]) -> None:
        """A top-level list (`studies`, `claims`), each item checked with the ids seen so far."""
        value = doc.get(key)
        if value is None:
            return
        line = key_line(doc, key, 1)
        if not isinstance(value, list):
            self.fail(line, key, f"expected a list, got {kind(value)}")
            return
        seen: set[str] = set()
        for index, item in enumerate(value):
            check(item, f"{key}[{index}]", item_line(value, index, line), seen)

    def slug(self, value: Any, field: str, line: int | None) -> None:
        if not isinstance(value, str) or not SLUG_PATTERN.match(value):
            self.fail(line, field, "expected a slug: lower-case letters, digits and hyphens, "
                      "starting with a letter or digit, at most 64 characters")

    def question(self, value: Any, field: str, line: int | None) -> None:
        if isinstance(value, str):
            self.text(value, field, line)
            return
        if self.mapping(value, field, line, QUESTION_KEYS):
            self.each(value, field, line, dict.fromkeys(QUESTION_KEYS, self.text))

    def ident(self, value: Any, field: str, line: int | None, seen: set[str]) -> None:
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.fail(line, field, "expected an id: letters, digits and . _ : -, no spaces, at "
                      "most 64 characters")
        elif value in seen:
            self.fail(line, field, f"duplicate id '{value}'")
        else:
            seen.add(value)

    def study(self, node: Any, field: str, line: int | None, seen: set[str]) -> None:
        if not self.mapping(node, field, line, STUDY_KEYS, required=("id", "citation")):
            return
        if node.get("id") is not None:
            self.ident(node["id"], join(field, "id"), key_line(node, "id", line), seen)
        self.each(node, field, line, {
            "citation": self.citation, "design": self.choice(DESIGNS), "setting": self.text,
            "country": self.text, "population": self.population,
            "intervention": self.text, "comparator": self.text, "outcomes": self.outcomes,
            "effect": self.effect, "data": self.data, "follow_up": self.text,
            "risk_of_bias": self.risk_of_bias,
            "caveats": self.text_list, "notes": self.text, "audit": self.audit,
        })

    def citation(self, node: Any, field: str, line: int | None) -> None:
        if not self.mapping(node, field, line, CITATION_KEYS):
            return
        if not any(node.get(key) for key in ("doi", "title", "url")):
            self.fail(node_line(node) or line, field, "needs at least a doi, a title or a url")
        self.each(node, field, line, {
            "doi": self.doi, "authors": self.text_list, "year": self.year, "title": self.text,
            "container": self.text, "volume": self.text_or_number, "issue": self.text_or_number,
            "pages": self.text_or_number, "url": self.url, "pmid": self.text_or_number,
            "pmcid": self.text,
        })

    def doi(self, value: Any, field: str, line: int | None) -> None:
        if not isinstance(value, str) or not doi_rules.is_valid(doi_rules.normalize(value)):
            self.fail(line, field, f"not a well-formed DOI (got {value!r})")

    def url(self, value: Any, field: str, line: int | None) -> None:
        if not isinstance(value, str) or not re.match(r"^https?://\S+$", value.strip()):
            self.fail(line, field, f"expected an http:// or https:// URL (got {value!r})")

    def year(self, value: Any, field: str, line: int | None) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1000 <= value <= 2999:
            self.fail(line, field, f"expected a four-digit year (got {value!r})")

    def population(self, node: Any, field: str, line: int | None) -> None:
        if not self.mapping(node, field, line, POPULATION_KEYS):
            return
        self.each(node, field, line, {
            "description": self.text, "n": self.count, "age": self.text_or_number,
            "sex": self.text,
        })

    def count(self, value: Any, field: str, line: int | None) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(line, field, f"expected a positive whole number (got {value!r})")

    def outcomes(self, value: Any, field: str, line: int | None) -> None:
        if not isinstance(value, list):
            self.fail(line, field, f"expected a list of outcomes, got {kind(value)}")
            return
        for index, item in enumerate(value):
            item_field, at = f"{field}[{index}]", item_line(value, index, line)
            if self.mapping(item, item_field, at, OUTCOME_KEYS, required=("name",)):
                self.each(item, item_field, at, dict.fromkeys(OUTCOME_KEYS, self.text))

    def effect(self, value: Any, field: str, line: int | None) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.one_effect(item, f"{field}[{index}]", item_line(value, index, line))
        else:
            self.one_effect(value, field, line)

    def one_effect(self, node: Any, field: str, line: int | None) -> None:
        if not self.mapping(node, field, line, EFFECT_KEYS):
            return
        self.each(node, field, line, {
            "label": self.text, "value": self.number, "ci_low": self.number,
            "ci_high": self.number, "p": self.p_value, "text": self.text,
        })
        measure = node.get("measure")
        if measure is not None and (
            not isinstance(measure, str) or canonical_measure(measure) is None
        ):
            self.fail(key_line(node, "measure", line), join(field, "measure"),
                      "expected one of: SMD, Hedges g, Cohen d, MD, OR, RR, RD, HR, percent, r, "
                      f"other (got {measure!r})")
        if measure is not None and node.get("value") is None:
            self.fail(node_line(node) or line, join(field, "value"),
                      "a measure needs a value (put an unreported effect in text)")
        if all(node.get(key) is None for key in ("value", "p", "text")):
            self.fail(node_line(node) or line, field, "needs a value, a p or a text")
        low, high, value = node.get("ci_low"), node.get("ci_high"), node.get("value")
        if (low is None) != (high is None):
            self.fail(node_line(node) or line, field, "ci_low and ci_high go together")
        numbers = (low, high, value)
        if low is not None and high is not None and all(
            isinstance(n, int | float) and not isinstance(n, bool) for n in numbers if n is not None
        ):
            if low > high:
                self.fail(node_line(node) or line, field,
                          f"ci_low ({low}) is above ci_high ({high})")
            elif value is not None and not low <= value <= high:
                self.fail(node_line(node) or line, field,
                          f"value ({value}) lies outside its interval [{low}, {high}]")

    def outcome_entries(self, value: Any, field: str, line: int | None, entries: OutcomeEntries,
                        check: Callable[[Any, str, int | None], None]) -> None:
        """A list of entries, one per outcome (`data`, `grade`), each checked by `check`."""
        if not isinstance(value, list):
            self.fail(line, field, f"expected a list of {entries.listing}, got {kind(value)}")
            return
        seen: set[str] = set()
        for index, entry in enumerate(value):
            entry_field, entry_line = f"{field}[{index}]", item_line(value, index, line)
            if not self.mapping(entry, entry_field, entry_line, entries.keys,
                                required=entries.required):
                continue
            check(entry, entry_field, entry_line)
            name = entry.get("outcome")
            if isinstance(name, str) and name.strip():
                key = outcome_data.outcome_key(name)
                if key in seen:
                    self.fail(key_line(entry, "outcome", entry_line), join(entry_field, "outcome"),
                              entries.second.format(name=name))
                seen.add(key)

    def data(self, value: Any, field: str, line: int | None) -> None:
        """Outcome data for pooling: one entry per outcome (binary, continuous or effect)."""
        self.outcome_entries(value, field, line, DATA_ENTRIES, self.data_entry)

    def data_entry(self, entry: Any, field: str, line: int | None) -> None:
        def report(key: str, message: str) -> None:
            self.fail(key_line(entry, key.split(".", 1)[0], line), join(field, key), message)

        if entry.get("type") is not None:
            outcome_data.check_entry(entry, report)

    def grade(self, value: Any, field: str, line: int | None) -> None:
        """GRADE ratings, one entry per outcome."""
        self.outcome_entries(value, field, line, GRADE_ENTRIES, self.grade_entry)

    def grade_entry(self, entry: Any, field: str, line: int | None) -> None:
        self.each(entry, field, line, {
            "outcome": self.text, "start": self.choice(grading.STARTS), "note": self.text,
        })
        for domain in (*grading.DOWN_DOMAINS, *grading.UP_DOMAINS):
            if entry.get(domain) is None:
                continue
            at = key_line(entry, domain, line)
            for suffix, message in grading.check_rating(domain, entry[domain]):
                self.fail(at, join(field, domain) + suffix, message)
        risk = entry.get("assumed_risk")
        if risk is not None and (isinstance(risk, bool) or not isinstance(risk, int | float)
                                 or not 0 < risk < 1):
            self.fail(key_line(entry, "assumed_risk", line), join(field, "assumed_risk"),
                      f"expected a proportion between 0 and 1, e.g. 0.05 (got {risk!r})")

    def p_value(self, value: Any, field: str, line: int | None) -> None:
        if isinstance(value, str) and re.match(r"^[<≤]\s*(?:0?\.\d+|1(?:\.0*)?)$", value.strip()):
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self.fail(line, field, f"expected a p value between 0 and 1, or like '<0.001' "
                      f"(got {value!r})")

    def risk_of_bias(self, node: Any, field: str, line: int | None) -> None:
        if self.mapping(node, field, line, RISK_KEYS, required=("level",)):
            self.each(node, field, line, {"level": self.choice(RISK_OF_BIAS_LEVELS),
                                          "note": self.text})

    def audit(self, node: Any, field: str, line: int | None) -> None:
        if self.mapping(node, field, line, AUDIT_KEYS, required=("date", "status")):
            self.each(node, field, line, {
                "date": self.date, "status": self.choice(tuple(Status)), "findings": self.text_list,
            })

    def claim(self, node: Any, field: str, line: int | None, seen: set[str]) -> None:
        if not self.mapping(node, field, line, CLAIM_KEYS, required=("id", "statement")):
            return
        if node.get("id") is not None:
            self.ident(node["id"], join(field, "id"), key_line(node, "id", line), seen)
        self.each(node, field, line, {
            "statement": self.text, "quote": self.text, "page": self.text_or_number,
            "audit": self.claim_audit,
        })
        studies = node.get("studies")
        studies_line = key_line(node, "studies", line)
        if studies is None or studies == []:
            self.fail(node_line(node) or line, join(field, "studies"),
                      "a claim needs at least one study")
            return
        # Whether the ids exist is checked separately (dangling_references): a claim citing a
        # removed study leaves the file readable, so `review audit` can flag the claim.
        self.text_list(studies, join(field, "studies"), studies_line)

    def claim_audit(self, node: Any, field: str, line: int | None) -> None:
        if self.mapping(node, field, line, CLAIM_AUDIT_KEYS, required=("date", "status")):
            self.each(node, field, line, {
                "date": self.date, "status": self.choice(CLAIM_STATUSES),
                "problems": self.text_list,
            })


def validate(doc: Any, slug: str | None = None) -> list[Problem]:
    """Every problem in a loaded review, in file order; empty when the review is valid.

    `slug` is the name the file is stored under; the document's own slug must agree with it.
    """
    checker = _Checker()
    checker.review(doc, slug)
    return sorted(checker.problems, key=lambda p: (p.line or 0))


def dangling_references(doc: Any) -> list[Problem]:
    """Claims citing a study id that is not in the review (for `review validate`)."""
    if not isinstance(doc, Mapping):
        return []
    studies, claims = doc.get("studies") or [], doc.get("claims") or []
    if not isinstance(studies, list) or not isinstance(claims, list):
        return []
    known = {study.get("id") for study in studies if isinstance(study, Mapping)}
    problems = []
    claims_line = key_line(doc, "claims", None)
    for index, claim in enumerate(claims):
        if not isinstance(claim, Mapping) or not isinstance(claim.get("studies"), list):
            continue
        cited = claim["studies"]
        line = key_line(claim, "studies", item_line(claims, index, claims_line))
        for position, study_id in enumerate(cited):
            if isinstance(study_id, str) and study_id not in known:
                problems.append(Problem(item_line(cited, position, line),
                                        f"claims[{index}].studies[{position}]",
                                        f"no study with id '{study_id}'"))
    return problems
