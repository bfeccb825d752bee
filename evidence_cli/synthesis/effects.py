"""Effect sizes as metafor's escalc computes them: (yi, vi) from counts, means or reported CIs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

# metafor's default continuity correction: 1/2 added to every cell of a table with a zero cell.
ZERO_CELL_ADD = 0.5
Z_975 = 1.959963984540054  # qnorm(0.975): the multiplier of a 95% Wald interval


class Measure(StrEnum):
    """The analysis measures; ratio measures are pooled on the log scale."""

    RR = "RR"
    OR = "OR"
    RD = "RD"
    SMD = "SMD"
    MD = "MD"
    ZCOR = "ZCOR"
    HR = "HR"

    @property
    def is_ratio(self) -> bool:
        return self in (Measure.RR, Measure.OR, Measure.HR)

    @property
    def null_value(self) -> float:
        """The value of "no effect" on the shown scale (1 for ratios, else 0)."""
        return 1.0 if self.is_ratio else 0.0

    @property
    def label(self) -> str:
        return {"RR": "Risk ratio", "OR": "Odds ratio", "RD": "Risk difference",
                "SMD": "Standardised mean difference (Hedges' g)", "MD": "Mean difference",
                "ZCOR": "Correlation (Fisher's z)", "HR": "Hazard ratio"}[self.value]


BINARY_MEASURES = (Measure.RR, Measure.OR, Measure.RD)
CONTINUOUS_MEASURES = (Measure.SMD, Measure.MD)


def parse_measure(text: str) -> Measure:
    key = text.strip().upper().replace("'", "")
    aliases = {"HEDGES G": "SMD", "G": "SMD", "R": "ZCOR", "COR": "ZCOR", "Z": "ZCOR"}
    key = aliases.get(key, key)
    try:
        return Measure(key)
    except ValueError:
        raise ValueError(f"unknown measure {text!r} (measures: "
                         f"{', '.join(m.value for m in Measure)})") from None


def to_shown(measure: Measure, value: float) -> float:
    """Analysis scale -> the scale people read (exp for ratios, tanh for Fisher's z)."""
    if measure.is_ratio:
        return math.exp(value)
    if measure is Measure.ZCOR:
        return math.tanh(value)
    return value


@dataclass(frozen=True, slots=True)
class EffectSize:
    """One study's effect on the analysis scale, its sampling variance, and what was done."""

    yi: float
    vi: float
    corrected: bool = False  # 1/2 was added to each cell (a zero cell)


class NotPoolable(ValueError):
    """A study's data cannot give this measure (a reason people can act on)."""


def binary(measure: Measure, ai: float, n1: float, ci: float, n2: float) -> EffectSize:
    """RR, OR or RD from events/total in each arm, as escalc (add=1/2, to="only0", drop00=FALSE).

    A table with a zero cell gets 1/2 added to each of its four cells, for every measure; a
    trial with no events in either arm is kept (metafor's default), which gives it a ratio of
    about 1 with a wide variance, so it carries little weight.
    """
    bi, di = n1 - ai, n2 - ci
    if min(ai, bi, ci, di) < 0 or n1 <= 0 or n2 <= 0:
        raise NotPoolable("events must lie between 0 and the total in each arm")
    corrected = min(ai, bi, ci, di) == 0
    if corrected:
        ai, bi, ci, di = (x + ZERO_CELL_ADD for x in (ai, bi, ci, di))
    n1, n2 = ai + bi, ci + di
    if measure is Measure.RR:
        yi = math.log(ai / n1) - math.log(ci / n2)
        vi = 1 / ai - 1 / n1 + 1 / ci - 1 / n2
    elif measure is Measure.OR:
        yi = math.log(ai * di / (bi * ci))
        vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
    elif measure is Measure.RD:
        p1, p2 = ai / n1, ci / n2
        yi = p1 - p2
        vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        if vi <= 0:
            raise NotPoolable("a risk difference with 0% or 100% in both arms has no variance")
    else:
        raise NotPoolable(f"{measure.value} is not a measure for binary data")
    return EffectSize(yi, vi, corrected)


def hedges_correction(df: float) -> float:
    """The exact small-sample correction J(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)) of Hedges' g."""
    return math.exp(math.lgamma(df / 2) - math.log(math.sqrt(df / 2)) - math.lgamma((df - 1) / 2))


def continuous(measure: Measure, m1: float, sd1: float, n1: float,
               m2: float, sd2: float, n2: float) -> EffectSize:
    """SMD (Hedges' g, escalc vtype "LS") or MD (unequal variances) from means, SDs and sizes."""
    if sd1 <= 0 or sd2 <= 0:
        raise NotPoolable("standard deviations must be above 0")
    if n1 < 2 or n2 < 2:
        raise NotPoolable("each arm needs at least 2 participants")
    if measure is Measure.MD:
        return EffectSize(m1 - m2, sd1 ** 2 / n1 + sd2 ** 2 / n2)
    if measure is not Measure.SMD:
        raise NotPoolable(f"{measure.value} is not a measure for continuous data")
    df = n1 + n2 - 2
    pooled = math.sqrt(((n1 - 1) * sd1 ** 2 + (n2 - 1) * sd2 ** 2) / df)
    yi = hedges_correction(df) * (m1 - m2) / pooled
    vi = 1 / n1 + 1 / n2 + yi ** 2 / (2 * (n1 + n2))
    return EffectSize(yi, vi)


def correlation(r: float, n: float) -> EffectSize:
    """Fisher's z of a correlation, vi = 1/(n − 3)."""
    if not -1 < r < 1:
        raise NotPoolable("a correlation must lie strictly between −1 and 1")
    if n <= 3:
        raise NotPoolable("a correlation needs more than 3 participants")
    return EffectSize(math.atanh(r), 1 / (n - 3))


def _analysis_scale(measure: Measure, value: float, what: str) -> float:
    if measure.is_ratio:
        if value <= 0:
            raise NotPoolable(f"a ratio's {what} must be above 0 (got {value})")
        return math.log(value)
    if measure is Measure.ZCOR:
        if not -1 < value < 1:
            raise NotPoolable(f"a correlation's {what} must lie between −1 and 1 (got {value})")
        return math.atanh(value)
    return value


def reported(measure: Measure, value: float, *, ci_low: float | None = None,
             ci_high: float | None = None, se: float | None = None,
             level: float = 0.95) -> EffectSize:
    """A reported effect with its 95% CI or SE -> (yi, vi) on the analysis scale.

    A ratio's CI is symmetric on the log scale, a correlation's on Fisher's z; so the SE is
    (upper − lower) / (2 × 1.96) there. An SE is taken to be on the analysis scale already
    (as papers report the SE of a log ratio).
    """
    yi = _analysis_scale(measure, value, "value")
    if se is not None:
        if se <= 0:
            raise NotPoolable(f"a standard error must be above 0 (got {se})")
        return EffectSize(yi, se ** 2)
    if ci_low is None or ci_high is None:
        raise NotPoolable("a reported effect needs its CI (ci_low and ci_high) or its SE")
    low = _analysis_scale(measure, ci_low, "ci_low")
    high = _analysis_scale(measure, ci_high, "ci_high")
    if not low < high:
        raise NotPoolable(f"ci_low ({ci_low}) must be below ci_high ({ci_high})")
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2) if level != 0.95 else Z_975
    se_value = (high - low) / (2 * z)
    return EffectSize(yi, se_value ** 2)
