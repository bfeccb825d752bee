"""`evidence meta` output: the pooled result as a table, JSON, Markdown, CSV, HTML or LaTeX."""

from __future__ import annotations

import html
import io
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from evidence_cli.formats.escaping import spreadsheet_safe as neutralise_csv
from evidence_cli.reviews.effect import format_number
from evidence_cli.reviews.tables import _latex_escape, _markdown_escape
from evidence_cli.synthesis.effects import Measure, to_shown
from evidence_cli.synthesis.outcomes import MetaResult, participants, study_interval

META_SCHEMA = "evidence-cli/meta/v1"
FORMATS = ("table", "json", "markdown", "csv", "html", "latex")
EGGER_MINIMUM = 10
EGGER_CAVEAT = ("Egger's test has little power with fewer than 10 studies and is unreliable "
                "here; do not read its result as evidence for or against small-study effects.")


def _num(value: float | None) -> float | None:
    """JSON numbers: no NaN or infinity (JSON has none), rounded to no figure."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _egger_note(k: int) -> str:
    if k < EGGER_MINIMUM:
        return f"{EGGER_CAVEAT} (k = {k})"
    return ("A small p suggests small-study effects (one possible cause is "
            "publication bias).")


def to_document(result: MetaResult, review: str | None = None) -> dict[str, Any]:
    """The JSON contract (`evidence-cli/meta/v1`); summary values on the analysis scale."""
    fit, analysis, data = result.analysis.fit, result.analysis, result.data
    measure = result.measure
    tau2_ci = analysis.tau2_ci
    doc: dict[str, Any] = {
        "schema": META_SCHEMA,
        "review": review,
        "outcome": data.outcome,
        "measure": measure.value,
        "scale": "log" if measure.is_ratio else ("fisher-z" if measure is Measure.ZCOR
                                                 else "raw"),
        "method": result.method.value,
        "hksj": result.hksj,
        "k": fit.k,
        "estimate": fit.estimate,
        "se": fit.se[0],
        "ci_low": fit.ci_low[0],
        "ci_high": fit.ci_high[0],
        "test": "t" if fit.df is not None else "z",
        "stat": fit.stat[0],
        "df": fit.df,
        "pval": fit.pval[0],
        "tau2": fit.tau2,
        "tau2_ci_low": tau2_ci[0] if tau2_ci else None,
        "tau2_ci_high": tau2_ci[1] if tau2_ci else None,
        "tau": math.sqrt(fit.tau2),
        "i2": fit.i2,
        "h2": fit.h2,
        "q": fit.q,
        "q_df": fit.q_df,
        "q_pval": fit.q_pval,
        "pi_low": analysis.prediction[0],
        "pi_high": analysis.prediction[1],
        "participants": participants(data.rows),
        "studies": [],
        "excluded": [{"id": x.id, "label": x.label, "reason": x.reason} for x in data.excluded],
        "not_poolable": [{"id": x.id, "label": x.label, "reason": x.reason}
                         for x in data.not_poolable],
        "leave_one_out": [{"omitted": r.omitted, "estimate": r.estimate, "se": r.se,
                           "ci_low": r.ci_low, "ci_high": r.ci_high, "pval": r.pval,
                           "tau2": r.tau2, "i2": r.i2, "q": r.q}
                          for r in analysis.leave_one_out],
        "egger": None,
    }
    for row, weight in zip(data.rows, fit.weights, strict=True):
        low, high = study_interval(row)
        doc["studies"].append({"id": row.id, "label": row.label, "yi": row.yi, "vi": row.vi,
                               "se": math.sqrt(row.vi), "ci_low": low, "ci_high": high,
                               "weight": weight, "zero_cell_corrected": row.corrected,
                               "participants": row.participants})
    if analysis.egger is not None:
        egger = analysis.egger
        doc["egger"] = {"stat": egger.stat, "df": egger.df, "pval": egger.pval,
                        "limit_estimate": egger.limit_estimate,
                        "limit_ci_low": egger.limit_ci_low, "limit_ci_high": egger.limit_ci_high,
                        "reliable": fit.k >= EGGER_MINIMUM, "note": _egger_note(fit.k)}
    if measure.is_ratio or measure is Measure.ZCOR:
        doc["back_transformed"] = {
            "measure": measure.value if measure.is_ratio else "r",
            **{key: to_shown(measure, doc[key]) for key in
               ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")},
            "studies": [{"id": s["id"], "effect": to_shown(measure, s["yi"]),
                         "ci_low": to_shown(measure, s["ci_low"]),
                         "ci_high": to_shown(measure, s["ci_high"])} for s in doc["studies"]],
        }
    return doc


# --- text -------------------------------------------------------------------------------------

def shown(measure: Measure, value: float, decimals: int = 2) -> str:
    return format_number(to_shown(measure, value), decimals)


def interval(measure: Measure, low: float, high: float, decimals: int = 2) -> str:
    return f"[{shown(measure, low, decimals)}, {shown(measure, high, decimals)}]"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def measure_name(measure: Measure) -> str:
    return "r" if measure is Measure.ZCOR else measure.value


def summary_lines(result: MetaResult) -> list[str]:
    """The pooled result in sentences, on the scale people read."""
    fit, analysis, data = result.analysis.fit, result.analysis, result.data
    m = result.measure
    name = measure_name(m)
    value = format_number(fit.stat[0], 2)
    stat = f"t({fit.df}) = {value}" if fit.df is not None else f"z = {value}"
    method = result.method.label + (", Hartung–Knapp–Sidik–Jonkman CI" if result.hksj else "")
    lines = [
        f"Outcome: {data.outcome}; {m.label}; {method}",
        f"Pooled {name} {shown(m, fit.estimate)} {interval(m, fit.ci_low[0], fit.ci_high[0])}, "
        f"{stat}, {_p(fit.pval[0])}; k = {fit.k} studies"
        + (f", {participants(data.rows):,} participants" if participants(data.rows) else ""),
    ]
    if m.is_ratio or m is Measure.ZCOR:
        scale = "log" if m.is_ratio else "Fisher's z"
        lines.append(f"On the {scale} scale: estimate {fit.estimate:.4f}, SE {fit.se[0]:.4f}")
    lines.append(f"Prediction interval {interval(m, *analysis.prediction)}")
    if result.method.value != "FE":
        tau2 = f"τ² = {fit.tau2:.4f}"
        if analysis.tau2_ci:
            tau2 += f" [{analysis.tau2_ci[0]:.4f}, {analysis.tau2_ci[1]:.4f}]"
        tau2 += f", τ = {math.sqrt(fit.tau2):.4f}, "
    else:
        tau2 = ""
    lines.append(f"Heterogeneity: {tau2}I² = {fit.i2:.1f}%, H² = {fit.h2:.2f}, "
                 f"Q({fit.q_df}) = {fit.q:.2f}, {_p(fit.q_pval)}")
    if analysis.egger is not None:
        egger = analysis.egger
        value = format_number(egger.stat, 2)
        stat = f"t({egger.df}) = {value}" if egger.df is not None else f"z = {value}"
        lines.append(f"Egger's regression test: {stat}, {_p(egger.pval)}. {_egger_note(fit.k)}")
    for left in data.excluded:
        lines.append(f"Excluded: {left.label} ({left.id}): {left.reason} "
                     "(--include-flagged keeps it)")
    for left in data.not_poolable:
        lines.append(f"Not poolable: {left.label} ({left.id}): {left.reason}")
    if any(row.corrected for row in data.rows):
        lines.append("1/2 was added to every cell of the tables with a zero cell (as metafor).")
    return lines


def _study_rows(result: MetaResult) -> tuple[list[str], list[list[str]]]:
    m = result.measure
    fit = result.analysis.fit
    name = measure_name(m)
    headers = ["Study", "Id", f"{name} [95% CI]", "Weight", "yi", "vi"]
    rows = []
    for row, weight in zip(result.data.rows, fit.weights, strict=True):
        low, high = study_interval(row)
        rows.append([row.label, row.id, f"{shown(m, row.yi)} {interval(m, low, high)}",
                     f"{weight:.1f}%", f"{row.yi:.4f}", f"{row.vi:.4f}"])
    rows.append([f"Pooled ({result.method.value}{', HKSJ' if result.hksj else ''})", "",
                 f"{shown(m, fit.estimate)} {interval(m, fit.ci_low[0], fit.ci_high[0])}",
                 "100%", f"{fit.estimate:.4f}", f"{fit.se[0] ** 2:.4f}"])
    return headers, rows


def _leave_one_out_rows(result: MetaResult) -> tuple[list[str], list[list[str]]]:
    m = result.measure
    headers = ["Omitted", f"{measure_name(m)} [95% CI]", "p", "τ²", "I²"]
    labels = {row.id: row.label for row in result.data.rows}
    rows = [[labels.get(r.omitted, r.omitted), f"{shown(m, r.estimate)} "
             f"{interval(m, r.ci_low, r.ci_high)}", _p(r.pval).removeprefix("p ").strip("= "),
             f"{r.tau2:.4f}", f"{r.i2:.1f}%"] for r in result.analysis.leave_one_out]
    return headers, rows


def _plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                 for row in rows)
    return "\n".join(lines)


def _markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(_markdown_escape(h) for h in headers) + " |",
             "| " + " | ".join("---" for _ in headers) + " |"]
    lines.extend("| " + " | ".join(_markdown_escape(c) for c in row) + " |" for row in rows)
    return "\n".join(lines)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n"
                   for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _latex_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    spec = "l" * len(headers)
    lines = [rf"\begin{{tabular}}{{{spec}}}", r"\hline",
             " & ".join(_latex_escape(h) for h in headers) + r" \\", r"\hline"]
    lines.extend(" & ".join(_latex_escape(c) for c in row) + r" \\" for row in rows)
    lines.extend([r"\hline", r"\end{tabular}"])
    return "\n".join(lines)


def render(result: MetaResult, fmt: str, review: str | None = None) -> str:
    """The result in one of FORMATS."""
    if fmt == "json":
        document = to_document(result, review)
        return json.dumps(_clean(document), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(result)
    summary = summary_lines(result)
    tables = [_study_rows(result)]
    if result.analysis.leave_one_out:
        tables.append(_leave_one_out_rows(result))
    titles = ["Studies", "Leave-one-out"]
    makers: dict[str, tuple[Callable[[str], str], Callable[[str], str],
                            Callable[[Sequence[str], Sequence[Sequence[str]]], str]]] = {
        "table": (lambda t: t, lambda t: f"\n{t}:", _plain_table),
        "markdown": (lambda t: _markdown_escape(t) + "  ", lambda t: f"\n### {t}\n",
                     _markdown_table),
        "html": (lambda t: f"<p>{html.escape(t)}</p>", lambda t: f"<h3>{html.escape(t)}</h3>",
                 _html_table),
        "latex": (lambda t: _latex_escape(t) + r" \\", lambda t: rf"\paragraph{{{t}}}",
                  _latex_table),
    }
    if fmt not in makers:
        raise ValueError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
    line, title, table = makers[fmt]
    parts = [line(text) for text in summary]
    for name, (headers, rows) in zip(titles, tables, strict=False):
        parts.append(title(name))
        parts.append(table(headers, rows))
    return "\n".join(parts) + "\n"


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def _csv(result: MetaResult) -> str:
    """One row per study and one for the pooled estimate; numbers at full precision."""
    import csv

    m = result.measure
    fit = result.analysis.fit
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["row", "study", "id", "measure", "effect", "ci_low", "ci_high", "yi", "vi",
                     "weight"])
    for row, weight in zip(result.data.rows, fit.weights, strict=True):
        low, high = study_interval(row)
        writer.writerow([neutralise_csv(x) for x in (
            "study", row.label, row.id, measure_name(m), repr(to_shown(m, row.yi)),
            repr(to_shown(m, low)), repr(to_shown(m, high)), repr(row.yi), repr(row.vi),
            repr(weight))])
    writer.writerow([neutralise_csv(x) for x in (
        "pooled", f"{result.method.value}{' HKSJ' if result.hksj else ''}", "",
        measure_name(m), repr(to_shown(m, fit.estimate)), repr(to_shown(m, fit.ci_low[0])),
        repr(to_shown(m, fit.ci_high[0])), repr(fit.estimate), repr(fit.se[0] ** 2), "100.0")])
    writer.writerow([neutralise_csv(x) for x in (
        "prediction", "", "", measure_name(m), "", repr(to_shown(m, result.analysis.prediction[0])),
        repr(to_shown(m, result.analysis.prediction[1])), "", "", "")])
    return buffer.getvalue()
