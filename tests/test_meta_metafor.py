"""evidence_cli.synthesis against R's metafor itself, on datasets metafor ships (metadat).

One Rscript run (tests/r/metafor_reference.R) writes each dataset's raw numbers and metafor's
results; this test computes every figure from the same raw numbers and compares them to 1e-6
relative: yi and vi (escalc), estimate, SE, z/t, p, CI, τ² and its Q-profile CI, I², H², Q and
its p, the prediction interval, weights, Egger's test and leave-one-out, for FE, DL, PM, ML and
REML, each with and without Hartung–Knapp (test="knha"). Nothing is committed but the R script.
CI installs r-base-core, r-cran-metafor and r-cran-jsonlite (.ci/run); without Rscript this
test fails rather than skips, so a CI machine without R cannot pass it silently.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evidence_cli.synthesis import effects, pooling

SCRIPT = Path(__file__).resolve().parent / "r" / "metafor_reference.R"
RTOL = 1e-6
# Values metafor reports as 0 (τ² at the boundary) come out of its iterations as ~1e-13.
ATOL = 1e-10


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail("Rscript is not installed: apt-get install r-base-core r-cran-metafor "
                    "r-cran-jsonlite (CI's .ci/run does)")
    out = tmp_path_factory.mktemp("metafor") / "reference.json"
    done = subprocess.run([rscript, "--vanilla", str(SCRIPT), str(out)], capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    data: dict[str, Any] = json.loads(out.read_text())
    return data


class Tally:
    """Collects every comparison, so the test can report the largest relative difference."""

    def __init__(self) -> None:
        self.count = 0
        self.worst = 0.0
        self.where = ""
        self.failures: list[str] = []

    def check(self, label: str, ours: float, theirs: float) -> None:
        self.count += 1
        if theirs is None or (isinstance(theirs, float) and math.isnan(theirs)):
            self.failures.append(f"{label}: metafor gave no value")
            return
        difference = abs(ours - theirs)
        if abs(theirs) > ATOL:
            relative = difference / abs(theirs)
            if relative > self.worst:
                self.worst, self.where = relative, label
        if difference > RTOL * abs(theirs) + ATOL:
            self.failures.append(f"{label}: ours {ours!r}, metafor {theirs!r}")

    def many(self, label: str, ours: list[float], theirs: Any) -> None:
        theirs = theirs if isinstance(theirs, list) else [theirs]
        assert len(ours) == len(theirs), label
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            self.check(f"{label}[{index}]", a, b)


def _effect_sizes(case: dict[str, Any]) -> list[effects.EffectSize]:
    measure = effects.parse_measure(case["measure"])
    data = case["data"]
    if case["kind"] == "binary":
        return [effects.binary(measure, *row) for row in
                zip(data["ai"], data["n1"], data["ci"], data["n2"], strict=True)]
    if case["kind"] == "continuous":
        return [effects.continuous(measure, *row) for row in
                zip(data["m1"], data["sd1"], data["n1"], data["m2"], data["sd2"], data["n2"],
                    strict=True)]
    if case["kind"] == "correlation":
        return [effects.correlation(r, n) for r, n in zip(data["r"], data["n"], strict=True)]
    return [effects.reported(measure, value, ci_low=low, ci_high=high) for value, low, high in
            zip(data["value"], data["low"], data["high"], strict=True)]


def test_every_figure_matches_metafor(reference: dict[str, Any],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    tally = Tally()
    cases = reference["cases"]
    assert len({case["name"].split()[0] for case in cases}) >= 5  # at least five datasets
    for case in cases:
        name = case["name"]
        sizes = _effect_sizes(case)
        yi, vi = [s.yi for s in sizes], [s.vi for s in sizes]
        tally.many(f"{name} yi", yi, case["yi"])
        tally.many(f"{name} vi", vi, case["vi"])
        ids = [str(i) for i in range(len(yi))]
        for expected in case["fits"]:
            method = pooling.Method(expected["method"])
            hksj = bool(expected["hksj"])
            label = f"{name} {method.value}{' HKSJ' if hksj else ''}"
            analysis = pooling.analyse(ids, yi, vi, method, hksj)
            fit = analysis.fit
            for key, ours in (("b", fit.estimate), ("se", fit.se[0]), ("zval", fit.stat[0]),
                              ("pval", fit.pval[0]), ("ci_lb", fit.ci_low[0]),
                              ("ci_ub", fit.ci_high[0]), ("tau2", fit.tau2), ("I2", fit.i2),
                              ("H2", fit.h2), ("QE", fit.q), ("QEp", fit.q_pval),
                              ("pi_lb", analysis.prediction[0]),
                              ("pi_ub", analysis.prediction[1])):
                tally.check(f"{label} {key}", ours, expected[key])
            tally.many(f"{label} weights", list(fit.weights), expected["weights"])
            if method is not pooling.Method.FE:
                assert analysis.tau2_ci is not None
                tally.check(f"{label} tau2_lb", analysis.tau2_ci[0], expected["tau2_lb"])
                tally.check(f"{label} tau2_ub", analysis.tau2_ci[1], expected["tau2_ub"])
            egger = analysis.egger
            assert egger is not None
            for key, ours in (("zval", egger.stat), ("pval", egger.pval),
                              ("est", egger.limit_estimate), ("ci_lb", egger.limit_ci_low),
                              ("ci_ub", egger.limit_ci_high)):
                tally.check(f"{label} egger {key}", ours, expected["egger"][key])
            l1o = expected["l1o"]
            for key, attribute in (("estimate", "estimate"), ("se", "se"), ("ci_lb", "ci_low"),
                                   ("ci_ub", "ci_high"), ("pval", "pval"), ("tau2", "tau2"),
                                   ("I2", "i2"), ("Q", "q")):
                if method is pooling.Method.FE and key == "tau2":
                    continue  # metafor's leave1out of a fixed-effect model has no τ²
                tally.many(f"{label} leave1out {key}",
                           [getattr(row, attribute) for row in analysis.leave_one_out],
                           l1o[key])
    with capsys.disabled():
        print(f"\nmetafor {reference['metafor']}: {tally.count} figures compared, largest "
              f"relative difference {tally.worst:.2e} ({tally.where})")
    assert not tally.failures, "\n".join(tally.failures[:40])
    assert tally.count > 5000
