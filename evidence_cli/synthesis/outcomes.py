"""One outcome's data across a review's studies: what is pooled, what is left out and why."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evidence_cli.reviews.outcome_data import outcome_key
from evidence_cli.reviews.studies import first_author_label
from evidence_cli.synthesis import effects
from evidence_cli.synthesis.effects import Measure, NotPoolable
from evidence_cli.synthesis.pooling import Analysis, Method, analyse

# Audit verdicts that keep a study out of the pooled estimate unless asked otherwise.
FLAGGED_STATUSES = ("unverifiable",)
FLAGGED_FINDINGS = ("retracted",)
EFFECT_MEASURE = {"SMD": Measure.SMD, "Hedges g": Measure.SMD, "Cohen d": Measure.SMD,
                  "MD": Measure.MD, "OR": Measure.OR, "RR": Measure.RR, "RD": Measure.RD,
                  "HR": Measure.HR, "r": Measure.ZCOR}


class NoData(ValueError):
    """The review has no data to pool for the outcome (the message says what is missing)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One study in the analysis."""

    id: str
    label: str
    yi: float
    vi: float
    corrected: bool
    participants: int | None
    control_events: int | None
    control_total: int | None
    design: str | None


@dataclass(frozen=True, slots=True)
class Left:
    """A study with data for the outcome that is not in the analysis, and why."""

    id: str
    label: str
    reason: str


@dataclass(frozen=True, slots=True)
class OutcomeData:
    outcome: str
    kind: str  # "binary", "continuous" or "mixed"
    measure: Measure
    rows: list[Row]
    excluded: list[Left] = field(default_factory=list)  # flagged by the audit
    not_poolable: list[Left] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MetaResult:
    """`evidence meta` for one outcome: the data and the analysis."""

    data: OutcomeData
    method: Method
    hksj: bool
    analysis: Analysis

    @property
    def measure(self) -> Measure:
        return self.data.measure


def study_label(study: Mapping[str, Any]) -> str:
    citation = study.get("citation") or {}
    label = first_author_label(citation.get("authors") or []) or str(study.get("id"))
    year = citation.get("year")
    return f"{label} {year}" if year else label


def flag_of(study: Mapping[str, Any]) -> str | None:
    """Why the audit keeps a study out ("retracted", "unverifiable"), or None."""
    audit = study.get("audit") or {}
    findings = [str(code) for code in audit.get("findings") or []]
    for code in FLAGGED_FINDINGS:
        if code in findings:
            return code
    status = audit.get("status")
    return str(status) if status in FLAGGED_STATUSES else None


def _studies(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in doc.get("studies") or [] if isinstance(s, Mapping)]


def outcome_names(doc: Mapping[str, Any]) -> list[str]:
    """Every outcome with data in the review, as first written, in file order."""
    names: dict[str, str] = {}
    for study in _studies(doc):
        for entry in study.get("data") or []:
            name = str(entry.get("outcome", ""))
            names.setdefault(outcome_key(name), " ".join(name.split()))
    return list(names.values())


def natural_measure(entry: Mapping[str, Any]) -> Measure:
    if entry.get("type") == "binary":
        return Measure.RR
    if entry.get("type") == "continuous":
        return Measure.SMD
    return EFFECT_MEASURE[str(entry.get("measure"))]


def effect_size(entry: Mapping[str, Any], measure: Measure) -> effects.EffectSize:
    """(yi, vi) of one data entry for the chosen measure; NotPoolable says why not."""
    kind = entry.get("type")
    if kind == "binary":
        if measure not in effects.BINARY_MEASURES:
            raise NotPoolable(f"counts give RR, OR or RD, not {measure.value}")
        a, c = entry["intervention"], entry["control"]
        return effects.binary(measure, a["events"], a["total"], c["events"], c["total"])
    if kind == "continuous":
        if measure not in effects.CONTINUOUS_MEASURES:
            raise NotPoolable(f"means and SDs give SMD or MD, not {measure.value}")
        a, c = entry["intervention"], entry["control"]
        return effects.continuous(measure, a["mean"], a["sd"], a["n"], c["mean"], c["sd"],
                                  c["n"])
    reported = EFFECT_MEASURE[str(entry.get("measure"))]
    if reported is not measure:
        raise NotPoolable(f"it reports {entry.get('measure')}; the analysis pools "
                          f"{measure.value}")
    return effects.reported(measure, float(entry["value"]),
                            ci_low=_float(entry.get("ci_low")),
                            ci_high=_float(entry.get("ci_high")), se=_float(entry.get("se")))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def collect(doc: Mapping[str, Any], outcome: str, measure: Measure | None = None,
            include_flagged: bool = False) -> OutcomeData:
    """The outcome's data entries across the review, ready to pool."""
    studies = _studies(doc)
    names = outcome_names(doc)
    slug = doc.get("slug")
    if not names:
        raise NoData(f"review '{slug}' has no outcome data to pool: none of its {len(studies)} "
                     "studies has a `data` entry (effects written as text, p values or a single "
                     "number cannot be pooled); add counts, means or a reported effect with its "
                     "CI with `evidence study data`")
    key = outcome_key(outcome)
    found = [(study, entry) for study in studies for entry in study.get("data") or []
             if outcome_key(str(entry.get("outcome", ""))) == key]
    if not found:
        raise NoData(f"review '{slug}' has no data for outcome '{outcome}' (outcomes with data: "
                     f"{', '.join(names)})")
    kinds = {str(entry.get("type")) for _, entry in found}
    if measure is None:
        counts = Counter(natural_measure(entry) for _, entry in found)
        measure = max(counts, key=lambda m: counts[m])  # ties: the first study's measure
    rows: list[Row] = []
    excluded: list[Left] = []
    not_poolable: list[Left] = []
    for study, entry in found:
        study_id, label = str(study.get("id")), study_label(study)
        flag = flag_of(study)
        if flag is not None and not include_flagged:
            excluded.append(Left(study_id, label, f"audit: {flag}"))
            continue
        try:
            size = effect_size(entry, measure)
        except NotPoolable as reason:
            not_poolable.append(Left(study_id, label, str(reason)))
            continue
        participants, control_events, control_total = _counts(entry)
        rows.append(Row(study_id, label, size.yi, size.vi, size.corrected, participants,
                        control_events, control_total,
                        str(study["design"]) if study.get("design") else None))
    name = next(str(e.get("outcome")) for _, e in found)
    kind = kinds.pop() if len(kinds) == 1 else "mixed"
    return OutcomeData(" ".join(name.split()), kind, measure, rows, excluded, not_poolable)


def _counts(entry: Mapping[str, Any]) -> tuple[int | None, int | None, int | None]:
    if entry.get("type") == "binary":
        a, c = entry["intervention"], entry["control"]
        return int(a["total"]) + int(c["total"]), int(c["events"]), int(c["total"])
    if entry.get("type") == "continuous":
        return int(entry["intervention"]["n"]) + int(entry["control"]["n"]), None, None
    return None, None, None


def meta_analyse(data: OutcomeData, method: Method, hksj: bool) -> MetaResult:
    """Pool the outcome; fewer than two poolable studies is NoData, never a number."""
    if len(data.rows) < 2:
        left = [*data.excluded, *data.not_poolable]
        why = "; ".join(f"{x.id} ({x.reason})" for x in left)
        raise NoData(f"outcome '{data.outcome}': {len(data.rows)} poolable "
                     f"{'study' if len(data.rows) == 1 else 'studies'}, at least 2 are needed to "
                     f"pool" + (f"; left out: {why}" if why else ""))
    analysis = analyse([r.id for r in data.rows], [r.yi for r in data.rows],
                       [r.vi for r in data.rows], method, hksj)
    return MetaResult(data, method, hksj, analysis)


def study_interval(row: Row) -> tuple[float, float]:
    """A study's 95% Wald interval on the analysis scale (as metafor's forest plot draws it)."""
    half = effects.Z_975 * math.sqrt(row.vi)
    return row.yi - half, row.yi + half


def participants(rows: Sequence[Row]) -> int | None:
    counts = [r.participants for r in rows]
    return sum(c for c in counts if c is not None) if all(c is not None for c in counts) \
        else None


def pool(doc: Mapping[str, Any], outcome: str, measure: Measure | None, include_flagged: bool,
         method: Method, hksj: bool) -> MetaResult:
    """`evidence meta`: collect the outcome's data and pool it; too little to pool (or a
    computation with no answer) is NotPoolableError, a message and exit 1, never a number."""
    from evidence_cli.errors import NotPoolableError

    try:
        return meta_analyse(collect(doc, outcome, measure, include_flagged), method, hksj)
    except NoData as error:
        raise NotPoolableError(str(error)) from None
    except ArithmeticError as error:
        raise NotPoolableError(f"outcome '{outcome}': {error}") from None
