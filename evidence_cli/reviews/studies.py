"""Studies in a review: author-year ids and labels, `--set FIELD=VALUE` edits, add/edit/remove."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_cli.errors import UsageError
from evidence_cli.reviews import values
from evidence_cli.reviews.effect import parse_effect
from evidence_cli.reviews.registries import (
    Registered,
    Registries,
    Warn,
    citation_for_doi,
    citation_for_pmid,
)
from evidence_cli.reviews.schema import STUDY_KEYS
from evidence_cli.reviews.store import ReviewStore, today

# "Mahmoudpour A", "Wallin EEK", "Morency L-P": a family name followed by initials.
_INITIALS = re.compile(r"^(?:[A-Z]\.?){1,4}(?:-[A-Z]\.?)?$")


def family_name(author: str) -> str:
    """The family name in an author string written "Family, Given", "Family GI" or "Family"."""
    text = " ".join(author.split())
    if "," in text:
        return text.split(",", 1)[0].strip()
    words = text.split(" ")
    if len(words) > 1 and _INITIALS.match(words[-1]):
        return " ".join(words[:-1])
    return text


def first_author_label(authors: Iterable[str]) -> str | None:
    """"Smith", "Smith & Jones" or "Smith et al." as a table shows a study."""
    names = [family_name(a) for a in authors if isinstance(a, str) and a.strip()]
    if not names:
        return None
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} & {names[1]}"
    return f"{names[0]} et al."


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "", folded.lower())


def generate_id(citation: Mapping[str, Any], taken: Iterable[str]) -> str:
    """An author-year citation key (`wallin2016`), with a, b, c... added when it is taken."""
    authors = citation.get("authors") or []
    base = _ascii_slug(family_name(authors[0])) if authors else ""
    if not base:
        base = _ascii_slug(str(citation.get("title") or ""))[:20]
    if not base and citation.get("doi"):
        # No author or title (an unverified DOI): the DOI's suffix is the most telling name.
        suffix = str(citation["doi"]).split("/", 1)[-1]
        base = re.sub(r"[^a-z0-9]+", "-", suffix.lower()).strip("-")[:30]
    base = base or "study"
    year = citation.get("year")
    base = f"{base[:40]}{year}" if year else f"{base[:40]}-nd"
    used = set(taken)
    if base not in used:
        return base
    for suffix in "abcdefghijklmnopqrstuvwxyz":
        if f"{base}{suffix}" not in used:
            return f"{base}{suffix}"
    number = 2
    while f"{base}-{number}" in used:
        number += 1
    return f"{base}-{number}"


# `study edit --set FIELD=VALUE`: the editable fields (each name is its path in the study) and
# how its text is read. A `+=` appends to list fields; an empty value removes the field.
_FIELDS: dict[str, Callable[[str], Any]] = {
    "id": values.parse_id, "design": values.parse_design, "setting": values.stripped,
    "country": values.stripped, "population.description": values.stripped,
    "population.n": values.parse_n, "population.age": values.stripped,
    "population.sex": values.stripped, "intervention": values.stripped,
    "comparator": values.stripped, "outcomes": values.parse_outcome, "effect": parse_effect,
    "follow_up": values.stripped, "risk_of_bias": values.parse_risk_of_bias,
    "caveats": values.stripped, "notes": values.stripped, "citation.doi": values.parse_doi,
    "citation.title": values.stripped, "citation.authors": values.parse_authors,
    "citation.year": values.parse_year, "citation.container": values.stripped,
    "citation.volume": values.stripped, "citation.issue": values.stripped,
    "citation.pages": values.stripped, "citation.url": values.stripped,
}
# The shorter and hyphenated names people type for the same fields.
_ALIASES = {
    "population": "population.description", "n": "population.n", "outcome": "outcomes",
    "follow-up": "follow_up", "risk-of-bias": "risk_of_bias", "caveat": "caveats",
    "note": "notes", "doi": "citation.doi", "title": "citation.title",
    "authors": "citation.authors", "year": "citation.year", "container": "citation.container",
    "url": "citation.url",
}
SETTABLE: dict[str, tuple[tuple[str, ...], Callable[[str], Any]]] = {
    name: (tuple(_ALIASES.get(name, name).split(".")), _FIELDS[_ALIASES.get(name, name)])
    for name in (*_FIELDS, *_ALIASES)
}
# Fields that hold lists: `=` replaces the list with one item, `+=` appends.
LIST_FIELDS = frozenset({"outcomes", "caveats"})
# Fields that may hold one item or a list (an effect).
ONE_OR_MANY = frozenset({"effect"})


def parse_assignment(text: str) -> tuple[str, str, str]:
    """`FIELD=VALUE` or `FIELD+=VALUE` -> (field, operator, value)."""
    match = re.match(r"^\s*([A-Za-z_.-]+)\s*(\+=|=)(.*)$", text, re.DOTALL)
    if match is None:
        raise ValueError(f"expected FIELD=VALUE or FIELD+=VALUE (got {text!r})")
    field, operator, value = match.groups()
    if field not in SETTABLE:
        raise ValueError(f"unknown field {field!r} (fields: {', '.join(sorted(SETTABLE))})")
    return field, operator, value.strip()


def apply_assignment(study: Any, field: str, operator: str, value: str) -> None:
    """Change one field of a study (a mapping) in place; an empty value removes the field."""
    path, parse = SETTABLE[field]
    *parents, leaf = path
    node = study
    for key in parents:
        child = node.get(key)
        if child is None:
            if not value:
                return
            node[key] = {}
            child = node[key]
        node = child
    if not value:
        if operator == "+=":
            raise ValueError(f"{field}+= needs a value")
        node.pop(leaf, None)
        if parents and not node:
            study.pop(parents[0], None)
        return
    parsed = parse(value)
    if leaf in LIST_FIELDS or leaf in ONE_OR_MANY:
        current = node.get(leaf)
        if operator == "+=" and current is not None:
            if isinstance(current, list):
                current.append(parsed)  # in place, so comments on the list survive
            else:
                node[leaf] = [current, parsed]
        elif leaf in LIST_FIELDS:
            node[leaf] = [parsed]
        else:
            node[leaf] = parsed
    elif operator == "+=":
        raise ValueError(f"{field} holds one value; use {field}=VALUE")
    else:
        node[leaf] = parsed


def is_retracted(study: Mapping[str, Any]) -> bool:
    """Whether the study's last audit (or `study add --allow-retracted`) found a retraction."""
    audit = study.get("audit") or {}
    return "retracted" in (audit.get("findings") or [])


def find_study(studies: Any, study_id: str) -> int | None:
    """Index of the study with this id in the review's studies list, or None."""
    for index, study in enumerate(studies or []):
        if isinstance(study, Mapping) and study.get("id") == study_id:
            return index
    return None


def study_in(doc: Any, slug: str, study_id: str) -> Any:
    """The study with this id in a review document; a usage error when there is none."""
    studies = doc.get("studies") or []
    index = find_study(studies, study_id)
    if index is None:
        raise UsageError(f"review '{slug}' has no study '{study_id}'")
    return studies[index]


# --- the operations behind `evidence study add|edit|remove` -------------------------------------


@dataclass(frozen=True, slots=True)
class StudyOptions:
    """What `study add` was told, as typed; `draft_study` checks every value."""

    doi: str | None = None
    pmid: str | None = None
    unverified: bool = False
    allow_retracted: bool = False
    study_id: str | None = None
    design: str | None = None
    population: str | None = None
    n: str | None = None
    age: str | None = None
    sex: str | None = None
    setting: str | None = None
    country: str | None = None
    intervention: str | None = None
    comparator: str | None = None
    outcomes: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    follow_up: str | None = None
    risk_of_bias: str | None = None
    caveats: tuple[str, ...] = ()
    note: str | None = None
    title: str | None = None
    authors: tuple[str, ...] = ()
    year: str | None = None
    container: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class StudyDraft:
    """A study checked and ready to look up: its identifiers, the fields given, the citation
    fields given (they override the registry's) and the caveats given."""

    doi: str | None
    pmid: str | None
    study: dict[str, Any]
    manual: dict[str, Any]
    caveats: list[str]


@dataclass(frozen=True, slots=True)
class AddedStudy:
    """What `study add` did: the id given, the review's file, and the citation stored."""

    study_id: str
    path: Path
    citation: dict[str, Any]
    doi: str | None
    pmid: str | None


def _given(pairs: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """The non-blank values among (key, text), stripped."""
    return {key: value.strip() for key, value in pairs if value is not None and value.strip()}


def draft_study(options: StudyOptions) -> StudyDraft:
    """Check every option before anything is looked up or written (usage errors name them)."""
    o = options
    manual: dict[str, Any] = _given([("title", o.title)])
    if o.authors:
        manual["authors"] = [a.strip() for a in o.authors if a.strip()]
    if o.year is not None:
        manual["year"] = values.parsed("--year", values.parse_year, o.year)
    manual.update(_given([("container", o.container), ("volume", o.volume),
                          ("issue", o.issue), ("pages", o.pages), ("url", o.url)]))
    if "url" in manual and not manual["url"].startswith(("http://", "https://")):
        raise UsageError(f"--url: expected an http:// or https:// URL (got {o.url!r})")
    doi = values.parsed("--doi", values.parse_doi, o.doi) if o.doi is not None else None
    pmid = values.parsed("--pmid", values.parse_pmid, o.pmid) if o.pmid is not None else None
    if doi is not None and pmid is not None:
        raise UsageError("give --doi or --pmid, not both")
    if doi is None and pmid is None and not (manual.get("title") or manual.get("url")):
        raise UsageError("give --doi or --pmid, or describe the citation with --title (and "
                         "--author, --year, --container, --url ...)")
    study: dict[str, Any] = {}
    if o.study_id is not None:
        study["id"] = values.parsed("--id", values.parse_id, o.study_id)
    if o.design is not None:
        study["design"] = values.parsed("--design", values.parse_design, o.design)
    study.update(_given([("setting", o.setting), ("country", o.country),
                         ("intervention", o.intervention), ("comparator", o.comparator),
                         ("follow_up", o.follow_up), ("notes", o.note)]))
    people: dict[str, Any] = _given([("description", o.population)])
    if o.n is not None:
        people["n"] = values.parsed("--n", values.parse_n, o.n)
    people.update(_given([("age", o.age), ("sex", o.sex)]))
    if people:
        study["population"] = people
    if o.outcomes:
        study["outcomes"] = [values.parsed("--outcome", values.parse_outcome, text)
                             for text in o.outcomes]
    if o.effects:
        effects = [values.parsed("--effect", parse_effect, text) for text in o.effects]
        study["effect"] = effects[0] if len(effects) == 1 else effects
    if o.risk_of_bias is not None:
        study["risk_of_bias"] = values.parsed("--risk-of-bias", values.parse_risk_of_bias,
                                              o.risk_of_bias)
    return StudyDraft(doi, pmid, study, manual, [c.strip() for c in o.caveats if c.strip()])


def add_study(store: ReviewStore, slug: str, options: StudyOptions, registries: Registries,
              *, warn: Warn) -> AddedStudy:
    """Add a study: its citation from Crossref (--doi) or PubMed (--pmid), else as given.

    Unknown identifiers and retracted works are refused (see `registries`); a DOI or PMID
    already in the review, or a taken id, is a usage error. The network is asked outside the
    review's lock; the duplicate checks run under it, against the file as it is then.
    """
    draft = draft_study(options)
    store.load(slug)  # fail before the network when the review is missing or broken
    day = today()
    doi, pmid, study = draft.doi, draft.pmid, dict(draft.study)
    if pmid is not None:
        found = citation_for_pmid(registries, pmid, unverified=options.unverified,
                                  allow_retracted=options.allow_retracted, today=day)
        doi = str(found.citation["doi"]) if found.citation.get("doi") else doi
    elif doi is not None:
        found = citation_for_doi(registries, doi, unverified=options.unverified,
                                 allow_retracted=options.allow_retracted, today=day, warn=warn)
    else:
        found = Registered({})
    if found.audit is not None:
        study["audit"] = found.audit
    citation = {**found.citation, **draft.manual}
    study["citation"] = citation
    caveats = draft.caveats + found.caveats
    if caveats:
        study["caveats"] = caveats
    with store.edit(slug) as review:
        doc = review.doc
        if doc.get("studies") is None:
            doc["studies"] = []
        existing = doc["studies"]
        _refuse_duplicates(existing, slug, doi, pmid)
        taken = [str(s.get("id")) for s in existing]
        if "id" not in study:
            study["id"] = generate_id(citation, taken)
        elif study["id"] in taken:
            raise UsageError(f"review '{slug}' already has a study with id '{study['id']}'")
        existing.append({key: study[key] for key in STUDY_KEYS if key in study})
    return AddedStudy(str(study["id"]), review.path, citation, doi, pmid)


def _refuse_duplicates(existing: list[Any], slug: str, doi: str | None,
                       pmid: str | None) -> None:
    cited = [(other.get("citation") or {}, other.get("id")) for other in existing]
    if doi is not None:
        for citation, other_id in cited:
            if citation.get("doi") and values.parse_doi(str(citation["doi"])) == doi:
                raise UsageError(f"{doi} is already in review '{slug}' as study '{other_id}'")
    if pmid is not None:
        for citation, other_id in cited:
            if str(citation.get("pmid") or "") == pmid:
                raise UsageError(f"PMID {pmid} is already in review '{slug}' as study "
                                 f"'{other_id}'")


def edit_study(store: ReviewStore, slug: str, study_id: str,
               changes: Iterable[tuple[str, str, str]]) -> tuple[str, Path]:
    """Apply `--set` changes (parsed by `parse_assignment`) to a study; returns its id (which
    a change may rename: the claims citing it follow) and the review's file.

    A changed citation drops the study's audit, which checked another citation.
    """
    with store.edit(slug) as review:
        study = study_in(review.doc, slug, study_id)
        before = dict(study.get("citation") or {})
        for field, operator, value in changes:
            try:
                apply_assignment(study, field, operator, value)
            except ValueError as error:
                raise UsageError(f"--set {field}: {error}") from None
        new_id = study.get("id")
        if new_id != study_id:
            if sum(1 for s in review.doc.get("studies") or [] if s.get("id") == new_id) > 1:
                raise UsageError(f"review '{slug}' already has a study with id '{new_id}'")
            for claim in review.doc.get("claims") or []:
                cited = claim.get("studies") or []
                for position, cited_id in enumerate(cited):
                    if cited_id == study_id:
                        cited[position] = new_id
        if dict(study.get("citation") or {}) != before:
            study.pop("audit", None)
    return str(new_id), review.path


def remove_study(store: ReviewStore, slug: str, study_id: str, *, force: bool) -> Path:
    """Remove a study; refused while claims cite it, unless `force` (audits then flag them)."""
    with store.edit(slug) as review:
        studies = review.doc.get("studies") or []
        index = find_study(studies, study_id)
        if index is None:
            raise UsageError(f"review '{slug}' has no study '{study_id}'")
        citing = [str(c.get("id")) for c in review.doc.get("claims") or []
                  if study_id in (c.get("studies") or [])]
        if citing and not force:
            raise UsageError(f"study '{study_id}' supports claim(s) {', '.join(citing)}; edit "
                             "them first, or use --force")
        del studies[index]
    return review.path
