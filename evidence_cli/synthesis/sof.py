"""Summary-of-findings tables like GRADEpro's: studies, certainty and effects per 1,000."""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evidence_cli.formats.escaping import spreadsheet_safe as neutralise_csv
from evidence_cli.reviews.grading import Certainty, judge
from evidence_cli.reviews.outcome_data import outcome_key
from evidence_cli.reviews.tables import _latex_escape, _markdown_escape
from evidence_cli.synthesis.effects import Measure, to_shown
from evidence_cli.synthesis.outcomes import (
    MetaResult,
    NoData,
    OutcomeData,
    collect,
    meta_analyse,
    outcome_names,
    participants,
    study_interval,
)
from evidence_cli.synthesis.pooling import Method
from evidence_cli.synthesis.report import measure_name

SOF_SCHEMA = "evidence-cli/sof/v1"
FORMATS = ("markdown", "csv", "html", "json", "latex")
HEADERS = ("Outcome", "Participants (studies)", "Certainty of the evidence (GRADE)",
           "Relative effect (95% CI)", "Risk with control", "Risk with intervention",
           "Difference (95% CI)", "Comments")


@dataclass(frozen=True, slots=True)
class SofRow:
    """One outcome's line in the table, with the figures behind it for JSON."""

    outcome: str
    participants: int | None
    studies: int
    certainty: Certainty | None
    reasons: tuple[str, ...]
    measure: str | None
    estimate: float | None  # on the shown scale (a ratio, not its log)
    ci_low: float | None
    ci_high: float | None
    control_risk: float | None  # per participant
    intervention_risk: tuple[float, float, float] | None
    method: str | None
    note: str

    def cells(self) -> list[str]:
        count = f"{self.participants:,}" if self.participants is not None else "not reported"
        studies = f"{self.studies} {'study' if self.studies == 1 else 'studies'}"
        certainty = f"{self.certainty.symbols} {self.certainty.label.capitalize()}" \
            if self.certainty else "not rated"
        if self.reasons:
            certainty += " (" + "; ".join(self.reasons) + ")"
        relative = difference = control = intervention = "—"
        if self.estimate is not None and self.ci_low is not None and self.ci_high is not None:
            effect = f"{self.measure} {_two(self.estimate)} ({_two(self.ci_low)} to " \
                     f"{_two(self.ci_high)})"
            if self.measure in ("RR", "OR", "HR"):
                relative = effect
            else:
                difference = effect
        if self.control_risk is not None and self.intervention_risk is not None:
            control = f"{_per_1000(self.control_risk)} per 1,000"
            point, low, high = self.intervention_risk
            intervention = f"{_per_1000(point)} per 1,000 ({_per_1000(low)} to " \
                           f"{_per_1000(high)})"
            difference = _difference(self.control_risk, point, low, high)
        return [self.outcome, f"{count} ({studies})", certainty, relative, control,
                intervention, difference, self.note]


def _two(value: float) -> str:
    from evidence_cli.reviews.effect import format_number

    return format_number(value, 2)


def _per_1000(risk: float) -> str:
    return f"{round(1000 * risk):,}"


def _difference(control: float, point: float, low: float, high: float) -> str:
    def words(risk: float) -> str:
        change = round(1000 * (risk - control))
        return f"{abs(change):,} {'fewer' if change < 0 else 'more'}"

    return f"{words(point)} per 1,000 (from {words(low)} to {words(high)})"


def intervention_risk(measure: Measure, control: float, value: float) -> float:
    """The risk with intervention that a pooled effect (on the shown scale) implies."""
    if measure is Measure.RR:
        return min(1.0, control * value)
    if measure is Measure.OR:
        return value * control / (1 - control + value * control)
    if measure is Measure.RD:
        return min(1.0, max(0.0, control + value))
    raise ValueError(f"{measure.value} gives no absolute risk")


def _grade_entries(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {outcome_key(str(e.get("outcome", ""))): e for e in doc.get("grade") or []
            if isinstance(e, Mapping)}


def _start(data: OutcomeData | None) -> str:
    """GRADE starts randomised evidence at high and non-randomised evidence at low."""
    if data is None or not data.rows:
        return "high"
    return "high" if all(row.design == "rct" for row in data.rows) else "low"


def build(doc: Mapping[str, Any], method: Method = Method.REML, hksj: bool = False,
          include_flagged: bool = False) -> list[SofRow]:
    """One row per outcome with data or a GRADE rating, in file order."""
    names = outcome_names(doc)
    grades = _grade_entries(doc)
    for entry in grades.values():
        name = " ".join(str(entry.get("outcome")).split())
        if outcome_key(name) not in {outcome_key(n) for n in names}:
            names.append(name)
    if not names:
        raise NoData(f"review '{doc.get('slug')}' has no outcome data and no GRADE ratings: "
                     "add data with `evidence study data` and ratings with `evidence grade`")
    rows = []
    for name in names:
        grade = grades.get(outcome_key(name))
        try:
            data: OutcomeData | None = collect(doc, name, None, include_flagged)
        except NoData:
            data = None
        rows.append(_row(name, data, grade, method, hksj))
    return rows


def _row(name: str, data: OutcomeData | None, grade: Mapping[str, Any] | None, method: Method,
         hksj: bool) -> SofRow:
    judgement = judge(grade, _start(data)) if grade is not None else None
    certainty = judgement.certainty if judgement else None
    reasons = judgement.reasons if judgement else ()
    note = str(grade.get("note")) if grade and grade.get("note") else ""
    if data is None or not data.rows:
        return SofRow(name, None, 0, certainty, reasons, None, None, None, None, None, None,
                      None, _join(note, "no data to pool"))
    m = data.measure
    shown_name = measure_name(m)
    result: MetaResult | None = None
    if len(data.rows) >= 2:
        result = meta_analyse(data, method, hksj)
        fit = result.analysis.fit
        point, low, high = fit.estimate, fit.ci_low[0], fit.ci_high[0]
        how = f"{method.value}{' HKSJ' if hksj else ''}"
    else:
        row = data.rows[0]
        point = row.yi
        low, high = study_interval(row)
        how = "single study"
        note = _join(note, "one study: not pooled")
    estimate, ci_low, ci_high = (to_shown(m, x) for x in (point, low, high))
    control = None
    risks = None
    if m in (Measure.RR, Measure.OR, Measure.RD):
        assumed = grade.get("assumed_risk") if grade else None
        if assumed is not None:
            control = float(assumed)
        else:
            events = [r.control_events for r in data.rows]
            totals = [r.control_total for r in data.rows]
            if all(e is not None for e in events) and all(t for t in totals):
                control = sum(e for e in events if e is not None) / \
                    sum(t for t in totals if t is not None)
        if control is not None:
            risks = (intervention_risk(m, control, estimate),
                     intervention_risk(m, control, ci_low),
                     intervention_risk(m, control, ci_high))
    if data.excluded:
        note = _join(note, "excluded by the audit: " + ", ".join(
            f"{x.label} ({x.reason.removeprefix('audit: ')})" for x in data.excluded))
    if m.is_ratio and control is not None and (grade is None or grade.get("assumed_risk") is None):
        note = _join(note, "risk with control: the control arms' pooled risk")
    if result is not None and not math.isfinite(estimate):
        note = _join(note, "estimate out of range")
    return SofRow(name, participants(data.rows), len(data.rows), certainty, reasons,
                  shown_name, estimate, ci_low, ci_high, control, risks, how, note)


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second


def render(doc: Mapping[str, Any], rows: Sequence[SofRow], fmt: str) -> str:
    """The table in one of FORMATS."""
    if fmt == "json":
        return json.dumps({
            "schema": SOF_SCHEMA,
            "review": {"slug": doc.get("slug"), "title": doc.get("title")},
            "outcomes": [{
                "outcome": r.outcome, "participants": r.participants, "studies": r.studies,
                "certainty": r.certainty.label if r.certainty else None,
                "reasons": list(r.reasons), "measure": r.measure, "estimate": r.estimate,
                "ci_low": r.ci_low, "ci_high": r.ci_high, "method": r.method,
                "control_risk_per_1000": None if r.control_risk is None
                else 1000 * r.control_risk,
                "intervention_risk_per_1000": None if r.intervention_risk is None
                else [1000 * x for x in r.intervention_risk],
                "comments": r.note, "cells": dict(zip(HEADERS, r.cells(), strict=True)),
            } for r in rows],
        }, ensure_ascii=False, indent=2) + "\n"
    table = [r.cells() for r in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADERS)
        writer.writerows([[neutralise_csv(c) for c in row] for row in table])
        return buffer.getvalue()
    if fmt == "markdown":
        lines = ["| " + " | ".join(_markdown_escape(h) for h in HEADERS) + " |",
                 "| " + " | ".join("---" for _ in HEADERS) + " |"]
        lines.extend("| " + " | ".join(_markdown_escape(c) for c in row) + " |" for row in table)
        return "\n".join(lines) + "\n"
    if fmt == "html":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n"
                       for row in table)
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"
    if fmt == "latex":
        lines = [r"\begin{tabular}{" + "p{2.2cm}" * len(HEADERS) + "}", r"\hline",
                 " & ".join(_latex_escape(h) for h in HEADERS) + r" \\", r"\hline"]
        lines.extend(" & ".join(_latex_escape(c) for c in row) + r" \\" for row in table)
        lines.extend([r"\hline", r"\end{tabular}"])
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
