"""Inverse-variance pooling as metafor's rma.uni: FE, DL, PM, ML, REML, HKSJ, Q-profile, predict."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# How closely τ² is solved for. metafor stops Fisher scoring at a change below 1e-5 and its
# root-finding at a tolerance of about 1e-4; here both go to machine precision, so the figures
# are the estimator's exact values (the validation test asks metafor for the same).
TOLERANCE = 1e-13
MAX_ITERATIONS = 10_000


class Method(StrEnum):
    """How τ² is estimated; FE assumes it is 0."""

    FE = "FE"
    DL = "DL"
    PM = "PM"
    ML = "ML"
    REML = "REML"

    @property
    def label(self) -> str:
        return {"FE": "fixed effect (inverse variance)", "DL": "random effects, DerSimonian–Laird",
                "PM": "random effects, Paule–Mandel", "ML": "random effects, maximum likelihood",
                "REML": "random effects, restricted maximum likelihood"}[self.value]


def parse_method(text: str) -> Method:
    try:
        return Method(text.strip().upper())
    except ValueError:
        raise ValueError(f"unknown method {text!r} (methods: "
                         f"{', '.join(m.value for m in Method)})") from None


@dataclass(frozen=True, slots=True)
class Fit:
    """One fitted model (intercept-only or with moderators), as rma.uni reports it."""

    method: Method
    hksj: bool
    k: int
    p: int
    coefficients: tuple[float, ...]
    se: tuple[float, ...]
    stat: tuple[float, ...]  # z, or t with df = k − p under HKSJ
    pval: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    df: int | None  # degrees of freedom of the t distribution (HKSJ), else None
    tau2: float
    q: float
    q_df: int
    q_pval: float
    i2: float
    h2: float
    weights: tuple[float, ...]  # percent, summing to 100

    @property
    def estimate(self) -> float:
        return self.coefficients[0]


def _np() -> Any:
    import numpy as np

    return np


def _design(k: int, moderators: Sequence[Sequence[float]] | None) -> Any:
    np = _np()
    columns = [np.ones(k)]
    for column in moderators or []:
        columns.append(np.asarray(column, dtype=float))
    return np.column_stack(columns)


def _wls(y: Any, x: Any, w: Any) -> tuple[Any, Any]:
    """Weighted least squares: coefficients and (X'WX)^-1."""
    np = _np()
    xtw = x.T * w
    inverse = np.linalg.inv(xtw @ x)
    return inverse @ (xtw @ y), inverse


def _p_matrix(x: Any, w: Any) -> Any:
    np = _np()
    xtw = x.T * w
    return np.diag(w) - xtw.T @ np.linalg.inv(xtw @ x) @ xtw


def _q(y: Any, v: Any, x: Any, tau2: float) -> float:
    """The generalised Q statistic Σ wᵢ(yᵢ − xᵢb)² with wᵢ = 1/(vᵢ + τ²)."""
    w = 1 / (v + tau2)
    b, _ = _wls(y, x, w)
    resid = y - x @ b
    return float(((resid ** 2) * w).sum())


def _root(func: Callable[[float], float], target: float, low: float = 0.0) -> float:
    """τ² ≥ low where func (decreasing in τ²) equals target: bracket upwards, then Illinois.

    The regula falsi with the Illinois fix converges superlinearly and, unlike Newton, never
    leaves the bracket; it stops when the bracket is as narrow as floating point allows.
    """
    high = max(1.0, 10 * low)
    while func(high) > target:
        low, high = high, high * 10
        if high > 1e12:
            raise ArithmeticError("τ² is unbounded")
    f_low, f_high = func(low) - target, func(high) - target
    if f_low == 0:
        return low
    side = 0
    for _ in range(MAX_ITERATIONS):
        middle = (low * f_high - high * f_low) / (f_high - f_low)
        if not low < middle < high:
            middle = (low + high) / 2
        f_middle = func(middle) - target
        if f_middle == 0 or high - low <= 4e-16 * max(1.0, abs(middle)):
            return middle
        if (f_middle > 0) == (f_low > 0):
            low, f_low = middle, f_middle
            if side == -1:
                f_high /= 2
            side = -1
        else:
            high, f_high = middle, f_middle
            if side == 1:
                f_low /= 2
            side = 1
    return (low + high) / 2


# scipy.special's distribution functions (the ones scipy.stats wraps) import in a fraction of
# the time scipy.stats takes, which every `evidence meta` run would pay.

def _critical(level: float, df: int | None) -> float:
    """The two-sided critical value: normal, or t with df degrees of freedom."""
    from scipy import special

    if df is None:
        return float(special.ndtri(0.5 + level / 2))
    return float(special.stdtrit(df, 0.5 + level / 2))


def _two_sided_p(stat: float, df: int | None) -> float:
    from scipy import special

    if df is None:
        return float(2 * special.ndtr(-abs(stat)))
    return float(2 * special.stdtr(df, -abs(stat)))


def _chi2_sf(q: float, df: int) -> float:
    from scipy import special

    return float(special.chdtrc(df, q))


def _tau2_dl(y: Any, v: Any, x: Any) -> float:
    np = _np()
    k, p = x.shape
    w = 1 / v
    trace = float(np.trace(_p_matrix(x, w)))
    return max(0.0, float(_q(y, v, x, 0.0) - (k - p)) / trace)


def _tau2_pm(y: Any, v: Any, x: Any) -> float:
    k, p = x.shape
    if _q(y, v, x, 0.0) < k - p:
        return 0.0
    return _root(lambda t: _q(y, v, x, t), k - p)


def _tau2_he(y: Any, v: Any, x: Any) -> float:
    """Hedges' estimator, metafor's starting value for ML and REML."""
    np = _np()
    k, p = x.shape
    b, _ = _wls(y, x, np.ones(k))
    resid = y - x @ b
    hat = x @ np.linalg.inv(x.T @ x) @ x.T
    residual_ss = float(resid @ resid)
    return max(0.0, (residual_ss - float(np.trace((np.eye(k) - hat) * v))) / float(k - p))


def _score(y: Any, v: Any, x: Any, tau2: float, method: Method) -> tuple[float, float]:
    """Fisher scoring's numerator and denominator (the adjustment of τ² is their ratio)."""
    np = _np()
    w = 1 / (v + tau2)
    pm = _p_matrix(x, w)
    py = pm @ y
    yppy = float(py @ py)
    if method is Method.ML:
        return yppy - float(w.sum()), float((w ** 2).sum())
    return yppy - float(np.trace(pm)), float(np.trace(pm @ pm))


def _tau2_likelihood(y: Any, v: Any, x: Any, method: Method) -> float:
    """ML or REML τ² by Fisher scoring from Hedges' estimate, as metafor, run to convergence."""
    numerator, _ = _score(y, v, x, 0.0, method)
    tau2 = _tau2_he(y, v, x)
    for _ in range(MAX_ITERATIONS):
        numerator, denominator = _score(y, v, x, tau2, method)
        step = numerator / denominator
        while tau2 + step < 0:
            step /= 2  # step halving keeps τ² at or above 0, as metafor does
        tau2 += step
        if abs(step) <= TOLERANCE * max(1.0, tau2):
            break
    else:
        raise ArithmeticError(f"{method.value} estimate of τ² did not converge")
    if tau2 < 1e-10:
        # The likelihood peaks at the boundary when its slope at 0 is not positive.
        numerator, _ = _score(y, v, x, 0.0, method)
        if numerator <= 0:
            return 0.0
    return max(0.0, tau2)


def estimate_tau2(y: Any, v: Any, x: Any, method: Method) -> float:
    if method is Method.FE:
        return 0.0
    if method is Method.DL:
        return _tau2_dl(y, v, x)
    if method is Method.PM:
        return _tau2_pm(y, v, x)
    return _tau2_likelihood(y, v, x, method)


def fit(yi: Sequence[float], vi: Sequence[float], method: Method = Method.REML, *,
        hksj: bool = False, moderators: Sequence[Sequence[float]] | None = None,
        level: float = 0.95) -> Fit:
    """Fit rma.uni(yi, vi, mods, method, test="knha" if hksj) and report what it prints."""
    np = _np()

    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = len(y)
    x = _design(k, moderators)
    p = x.shape[1]
    if k <= p:
        raise ValueError(f"{k} studies cannot fit a model with {p} coefficient(s)")
    tau2 = estimate_tau2(y, v, x, method)
    w = 1 / (v + tau2)
    b, vb = _wls(y, x, w)
    df: int | None = None
    if hksj:
        resid = y - x @ b
        vb = vb * float(((resid ** 2) * w).sum()) / (k - p)
        df = k - p
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = b / se  # identical effects under HKSJ give SE 0, as in metafor
    crit = _critical(level, df)
    pval = np.array([_two_sided_p(float(z), df) for z in stat])
    q = _q(y, v, x, 0.0)
    q_df = k - p
    q_pval = _chi2_sf(q, q_df) if q_df > 0 else 1.0
    if method is Method.FE:
        i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
    else:
        typical = q_df / float(np.trace(_p_matrix(x, 1 / v)))
        i2 = 100 * tau2 / (typical + tau2)
        h2 = tau2 / typical + 1
    weights = 100 * w / w.sum()
    return Fit(
        method=method, hksj=hksj, k=k, p=p, coefficients=tuple(map(float, b)),
        se=tuple(map(float, se)), stat=tuple(map(float, stat)), pval=tuple(map(float, pval)),
        ci_low=tuple(float(c) for c in b - crit * se),
        ci_high=tuple(float(c) for c in b + crit * se),
        df=df, tau2=float(tau2), q=q, q_df=q_df, q_pval=q_pval, i2=float(i2), h2=float(h2),
        weights=tuple(map(float, weights)),
    )


def prediction_interval(result: Fit, level: float = 0.95) -> tuple[float, float]:
    """metafor's predict(): estimate ± crit × √(SE² + τ²), crit from t(k−p) under HKSJ."""
    crit = _critical(level, result.df)
    half = crit * math.sqrt(result.se[0] ** 2 + result.tau2)
    return result.estimate - half, result.estimate + half


def tau2_interval(yi: Sequence[float], vi: Sequence[float], level: float = 0.95,
                  moderators: Sequence[Sequence[float]] | None = None) -> tuple[float, float]:
    """The Q-profile interval of τ² (Viechtbauer 2007), as metafor's confint().

    The bounds are where the generalised Q equals the χ²(k − p) quantiles; a bound whose Q at
    τ² = 0 is already below its quantile is 0.
    """
    np = _np()
    from scipy import special

    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    x = _design(len(y), moderators)
    df = len(y) - x.shape[1]
    alpha = 1 - level
    upper_crit = float(special.chdtri(df, 1 - alpha / 2))  # Q at the upper bound of τ²
    lower_crit = float(special.chdtri(df, alpha / 2))  # Q at the lower bound

    def q_of(tau2: float) -> float:
        return _q(y, v, x, tau2)

    at_zero = q_of(0.0)
    low = 0.0 if at_zero < lower_crit else _root(q_of, lower_crit)
    high = 0.0 if at_zero < upper_crit else _root(q_of, upper_crit)
    return low, high


@dataclass(frozen=True, slots=True)
class EggerTest:
    """Egger's regression test as metafor's regtest(model="rma", predictor="sei")."""

    stat: float
    pval: float
    df: int | None
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float


def egger_test(yi: Sequence[float], vi: Sequence[float], method: Method, hksj: bool) -> EggerTest:
    """Regress the effects on their standard errors in the same model; test the slope."""
    sei = [math.sqrt(v) for v in vi]
    result = fit(yi, vi, method, hksj=hksj, moderators=[sei])
    return EggerTest(result.stat[1], result.pval[1], result.df, result.coefficients[0],
                     result.ci_low[0], result.ci_high[0])


@dataclass(frozen=True, slots=True)
class LeaveOneOut:
    """The pooled result with one study left out."""

    omitted: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pval: float
    tau2: float
    i2: float
    q: float


def leave_one_out(ids: Sequence[str], yi: Sequence[float], vi: Sequence[float],
                  method: Method, hksj: bool) -> list[LeaveOneOut]:
    """metafor's leave1out(): refit without each study in turn."""
    rows = []
    for index, study_id in enumerate(ids):
        keep = [i for i in range(len(ids)) if i != index]
        result = fit([yi[i] for i in keep], [vi[i] for i in keep], method, hksj=hksj)
        rows.append(LeaveOneOut(study_id, result.estimate, result.se[0], result.ci_low[0],
                                result.ci_high[0], result.pval[0], result.tau2, result.i2,
                                result.q))
    return rows


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything `evidence meta` reports for one outcome."""

    fit: Fit
    tau2_ci: tuple[float, float] | None
    prediction: tuple[float, float]
    egger: EggerTest | None
    leave_one_out: list[LeaveOneOut] = field(default_factory=list)


def analyse(ids: Sequence[str], yi: Sequence[float], vi: Sequence[float],
            method: Method = Method.REML, hksj: bool = False) -> Analysis:
    """Fit, τ² interval, prediction interval, Egger's test and leave-one-out (k ≥ 3 for both).

    Egger's test is left out (None) when the studies' standard errors are all equal.
    """
    result = fit(yi, vi, method, hksj=hksj)
    tau2_ci = None if method is Method.FE else tau2_interval(yi, vi)
    egger = None
    if len(yi) >= 3 and len(set(vi)) > 1:  # equal SEs leave nothing to regress on
        try:
            egger = egger_test(yi, vi, method, hksj)
        except (ArithmeticError, ValueError):
            egger = None  # numpy's LinAlgError is a ValueError: a design with no information
    loo = leave_one_out(ids, yi, vi, method, hksj) if len(yi) >= 3 else []
    return Analysis(result, tau2_ci, prediction_interval(result), egger, loo)
