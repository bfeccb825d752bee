"""Forest and funnel plots with matplotlib (imported only when a plot is drawn): SVG, PNG, PDF."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from evidence_cli.synthesis.effects import Z_975, Measure, to_shown
from evidence_cli.synthesis.outcomes import MetaResult, study_interval
from evidence_cli.synthesis.report import interval, measure_name, shown

PLOT_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
# Nice tick values for ratio axes (drawn on the log scale, labelled as ratios).
RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
INK = "#1a1a1a"
STUDY_COLOUR = "#2b5c8a"
POOLED_COLOUR = "#8a2b2b"


def plot_format(path: Path) -> str:
    fmt = PLOT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"a plot is written as .svg, .png or .pdf (got {path.name!r})")
    return fmt


def _rc() -> dict[str, Any]:
    # Text stays text in SVG (searchable, selectable, checkable by tests); a fixed hash salt
    # and no date metadata make the same data give the same file.
    return {"svg.fonttype": "none", "svg.hashsalt": "evidence-cli", "font.size": 9,
            "font.family": "DejaVu Sans", "axes.linewidth": 0.8}


def _save(fig: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata: dict[str, Any] = {"svg": {"Date": None}, "pdf": {"CreationDate": None},
                                "png": {}}[fmt]
    fig.savefig(buffer, format=fmt, metadata=metadata, dpi=150 if fmt == "png" else 100)
    return buffer.getvalue()


def _ticks(measure: Measure, low: float, high: float) -> tuple[list[float], list[str]] | None:
    """Ratio or correlation axes: ticks at readable values, placed on the analysis scale."""
    if measure.is_ratio:
        values = [t for t in RATIO_TICKS if low <= math.log(t) <= high]
        return [math.log(t) for t in values], [f"{t:g}" for t in values]
    if measure is Measure.ZCOR:
        values = [t / 10 for t in range(-9, 10) if low <= math.atanh(t / 10) <= high]
        return [math.atanh(t) for t in values], [f"{t:g}" for t in values]
    return None


def _fit(label: str, width: int = 38) -> str:
    """A study label that fits its column (about 38 characters at 9 pt)."""
    return label if len(label) <= width else label[:width - 1].rstrip() + "…"


def forest_figure(result: MetaResult) -> Any:
    """A forest plot: a row per study (point sized by weight, CI bar, weight, effect and CI),
    the pooled diamond, the prediction interval, the line of no effect, and heterogeneity."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon
    from matplotlib.transforms import blended_transform_factory

    data, fit, analysis = result.data, result.analysis.fit, result.analysis
    m = result.measure
    k = len(data.rows)
    height = 1.7 + 0.28 * (k + 4)
    fig = Figure(figsize=(10, height))
    bottom, top = 0.9 / height, 1 - 0.45 / height
    ax = fig.add_axes((0.30, bottom, 0.38, top - bottom))
    rows_y = list(range(k + 2, 2, -1))  # studies from the top; pooled at 1.5, PI at 0.6
    pooled_y, pi_y = 1.6, 0.7
    intervals = [study_interval(row) for row in data.rows]
    lows = [low for low, _ in intervals] + [analysis.prediction[0], fit.ci_low[0]]
    highs = [high for _, high in intervals] + [analysis.prediction[1], fit.ci_high[0]]
    null = 0.0  # no effect on the analysis scale (log 1 = 0)
    span_low, span_high = min([*lows, null]), max([*highs, null])
    pad = 0.05 * (span_high - span_low or 1.0)
    ax.set_xlim(span_low - pad, span_high + pad)
    ax.set_ylim(0, k + 3.2)
    max_weight = max(fit.weights)
    label_x = blended_transform_factory(fig.transFigure, ax.transData)

    def column(x: float, y: float, text: str, gid: str | None = None, **style: Any) -> None:
        artist = ax.text(x, y, text, transform=label_x, va="center", clip_on=False,
                         color=INK, **style)
        if gid:
            artist.set_gid(gid)

    header_y = k + 2.75
    name = measure_name(m)
    column(0.02, header_y, "Study", fontweight="bold", gid="header-study")
    column(0.76, header_y, "Weight", fontweight="bold", ha="right", gid="header-weight")
    column(0.98, header_y, f"{name} [95% CI]", fontweight="bold", ha="right",
           gid="header-effect")
    for index, (row, y, (low, high), weight) in enumerate(
            zip(data.rows, rows_y, intervals, fit.weights, strict=True)):
        size = 3 + 9 * math.sqrt(weight / max_weight)
        line = ax.plot([low, high], [y, y], color=INK, linewidth=1.0, solid_capstyle="butt")[0]
        line.set_gid(f"study-ci-{index}")
        marker = ax.plot([row.yi], [y], marker="s", markersize=size, color=STUDY_COLOUR,
                         linestyle="none")[0]
        marker.set_gid(f"study-point-{index}")
        column(0.02, y, _fit(row.label), gid=f"study-label-{index}")
        column(0.76, y, f"{weight:.1f}%", ha="right", gid=f"study-weight-{index}")
        column(0.98, y, f"{shown(m, row.yi)} {interval(m, low, high)}", ha="right",
               gid=f"study-effect-{index}")
    estimate, ci_low, ci_high = fit.estimate, fit.ci_low[0], fit.ci_high[0]
    diamond = Polygon([(ci_low, pooled_y), (estimate, pooled_y + 0.32), (ci_high, pooled_y),
                       (estimate, pooled_y - 0.32)], closed=True, facecolor=POOLED_COLOUR,
                      edgecolor=POOLED_COLOUR)
    diamond.set_gid("pooled-diamond")
    ax.add_patch(diamond)
    method = f"{result.method.value}{', HKSJ' if result.hksj else ''}"
    column(0.02, pooled_y, f"Pooled ({method})", fontweight="bold", gid="pooled-label")
    column(0.76, pooled_y, "100%", ha="right", fontweight="bold")
    column(0.98, pooled_y, f"{shown(m, estimate)} {interval(m, ci_low, ci_high)}", ha="right",
           fontweight="bold", gid="pooled-effect")
    pi_low, pi_high = analysis.prediction
    pi_line = ax.plot([pi_low, pi_high], [pi_y, pi_y], color=POOLED_COLOUR, linewidth=2.2,
                      solid_capstyle="butt")[0]
    pi_line.set_gid("prediction-interval")
    column(0.02, pi_y, "Prediction interval", style="italic", gid="prediction-label")
    column(0.98, pi_y, interval(m, pi_low, pi_high), ha="right", style="italic",
           gid="prediction-effect")
    null_line = ax.axvline(null, color="#777777", linewidth=0.9, linestyle="-", zorder=0)
    null_line.set_gid("null-line")
    ax.axvline(estimate, color=POOLED_COLOUR, linewidth=0.7, linestyle=":", zorder=0,
               ymax=(k + 2.5) / (k + 3.2))
    ax.axhline(2.3, color="#bbbbbb", linewidth=0.6)
    ticks = _ticks(m, *ax.get_xlim())
    if ticks is not None:
        ax.set_xticks(ticks[0], ticks[1])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(f"{m.label}" + (" (log scale)" if m.is_ratio else ""), color=INK)
    tau = f"τ² = {fit.tau2:.3f}, " if result.method.value != "FE" else ""
    p = "p < 0.001" if fit.q_pval < 0.001 else f"p = {fit.q_pval:.3f}"
    heterogeneity = fig.text(0.02, 0.25 / height,
                             f"Heterogeneity: {tau}I² = {fit.i2:.1f}%, "
                             f"Q({fit.q_df}) = {fit.q:.2f}, {p}", color=INK)
    heterogeneity.set_gid("heterogeneity")
    return fig


def funnel_figure(result: MetaResult) -> Any:
    """A funnel plot: effect against standard error (0 at the top), with the 95% funnel."""
    from matplotlib.figure import Figure

    data, fit = result.data, result.analysis.fit
    m = result.measure
    fig = Figure(figsize=(6, 5))
    ax = fig.add_axes((0.13, 0.12, 0.82, 0.8))
    ses = [math.sqrt(row.vi) for row in data.rows]
    top = max(ses) * 1.1
    estimate = fit.estimate
    funnel = ax.fill([estimate - Z_975 * top, estimate, estimate + Z_975 * top],
                     [top, 0, top], facecolor="#eeeeee", edgecolor="#999999", linewidth=0.8)[0]
    funnel.set_gid("funnel-region")
    ax.axvline(estimate, color=POOLED_COLOUR, linewidth=1.0).set_gid("funnel-estimate")
    points = ax.plot([row.yi for row in data.rows], ses, marker="o", linestyle="none",
                     color=STUDY_COLOUR, markersize=6)[0]
    points.set_gid("funnel-points")
    ax.set_ylim(top, 0)
    low, high = ax.get_xlim()
    ticks = _ticks(m, low, high)
    if ticks is not None:
        ax.set_xticks(ticks[0], ticks[1])
    ax.set_xlabel(m.label + (" (log scale)" if m.is_ratio else ""))
    ax.set_ylabel("Standard error")
    ax.set_title(f"{data.outcome}: funnel plot (k = {fit.k})", fontsize=10)
    return fig


def render(result: MetaResult, path: Path, kind: str) -> bytes:
    """The plot's bytes in the format of `path`'s suffix."""
    import matplotlib

    fmt = plot_format(path)
    with matplotlib.rc_context(_rc()):  # type: ignore[arg-type]
        fig = forest_figure(result) if kind == "forest" else funnel_figure(result)
        return _save(fig, fmt)


__all__ = ["PLOT_FORMATS", "plot_format", "render", "to_shown"]
