"""`evidence study data`, `meta`, `grade` and `sof` through the real command, and their layers.

The BCG counts are real: the 13 trials of R's dat.bcg (metadat package), as in
reviews/bcg-vaccine.yaml; the expected figures are metafor's (the issue's orientation values,
and tests/test_meta_metafor.py compares every figure with metafor itself). The other reviews
here are CONSTRUCTED for the tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from evidence_cli.reviews.catalogue import validate_reviews
from evidence_cli.reviews.store import ReviewStore
from evidence_cli.synthesis import effects, outcomes, pooling, report, sof
from tests.conftest import RunEvidence

REPO = Path(__file__).resolve().parent.parent
BCG = [(4, 123, 11, 139), (6, 306, 29, 303), (3, 231, 11, 220), (62, 13598, 248, 12867),
       (33, 5069, 47, 5808), (180, 1541, 372, 1451), (8, 2545, 10, 629),
       (505, 88391, 499, 88391), (29, 7499, 45, 7277), (17, 1716, 65, 1665),
       (186, 50634, 141, 27338), (5, 2498, 3, 2341), (27, 16913, 29, 17854)]
SVG = "{http://www.w3.org/2000/svg}"


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture
def reviews(evidence_env: dict[str, str]) -> Path:
    return Path(evidence_env["EVIDENCE_REVIEWS_DIR"])


@pytest.fixture
def bcg(reviews: Path) -> Path:
    """The example review, copied so tests may change it."""
    path = reviews / "bcg-vaccine.yaml"
    shutil.copy(REPO / "reviews" / "bcg-vaccine.yaml", path)
    return path


TRIALS = """\
# A CONSTRUCTED review for these tests: three made-up trials, no data yet.
slug: trials
title: Constructed trials
created: 2026-12-01
updated: 2026-12-01
studies:
"""
for _author, _year in (("Alpha A", 2001), ("Beta B", 2002), ("=Gamma G", 2003)):
    _key = _author.strip("=").split()[0].lower()
    TRIALS += (f"  - id: {_key}{_year}\n    citation:\n      authors:\n        - '{_author}'\n"
               f"      year: {_year}\n      title: Trial by {_author}\n    design: rct\n")
TRIALS += "claims: []\n"


@pytest.fixture
def trial_review(reviews: Path) -> Path:
    """The CONSTRUCTED review above, written straight to the reviews folder."""
    path = reviews / "trials.yaml"
    path.write_text(TRIALS, encoding="utf-8")
    return path


def _bcg_result() -> outcomes.MetaResult:
    doc = ReviewStore(REPO / "reviews").load("bcg-vaccine").doc
    data = outcomes.collect(doc, "Tuberculosis")
    return outcomes.meta_analyse(data, pooling.Method.REML, False)


# --- layers -------------------------------------------------------------------------------------


def test_bcg_matches_the_figures_metafor_prints() -> None:
    sizes = [effects.binary(effects.Measure.RR, *row) for row in BCG]
    yi, vi = [s.yi for s in sizes], [s.vi for s in sizes]
    reml = pooling.fit(yi, vi, pooling.Method.REML)
    assert reml.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert reml.se[0] == pytest.approx(0.1798, abs=5e-5)
    assert reml.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert reml.i2 == pytest.approx(92.22, abs=5e-3)
    dl = pooling.fit(yi, vi, pooling.Method.DL)
    assert dl.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert dl.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert sum(reml.weights) == pytest.approx(100)


def test_effect_sizes_by_hand() -> None:
    # Zero cell: 1/2 is added to all four cells (metafor's default).
    corrected = effects.binary(effects.Measure.OR, 0, 10, 2, 10)
    assert corrected.corrected
    assert corrected.yi == pytest.approx(effects.math.log((0.5 * 8.5) / (10.5 * 2.5)))
    # Hedges' exact correction J(m) for m = 28 is about 1 - 3/(4m - 1).
    assert effects.hedges_correction(28) == pytest.approx(1 - 3 / 111, abs=1e-4)
    # An OR with a 95% CI: the SE is the log interval's width over 2 × 1.96.
    size = effects.reported(effects.Measure.OR, 2.82, ci_low=1.18, ci_high=6.75)
    assert size.yi == pytest.approx(effects.math.log(2.82))
    se = (effects.math.log(6.75) - effects.math.log(1.18)) / (2 * 1.959963984540054)
    assert size.vi == pytest.approx(se ** 2)
    with pytest.raises(effects.NotPoolable):
        effects.reported(effects.Measure.RR, -1.0, ci_low=0.5, ci_high=2)


# --- study data -----------------------------------------------------------------------------------


def _data(reviews: Path, study_id: str, outcome: str, *options: str) -> str:
    """`study data trials STUDY --outcome OUTCOME OPTIONS...` in-process (None: --remove)."""
    from evidence_cli.reviews.recording import set_data

    given = None if options == ("--remove",) else _options(list(options))
    return set_data(ReviewStore(reviews), "trials", study_id, outcome, given)[0]


def test_study_data_adds_replaces_and_round_trips(run_evidence: RunEvidence,
                                                  trial_review: Path) -> None:
    text = trial_review.read_text(encoding="utf-8")
    trial_review.write_text(text.replace("studies:", "# my comment\nstudies:"), encoding="utf-8")
    reviews = trial_review.parent
    assert _data(reviews, "alpha2001", "Tuberculosis", "--events", "4/123",
                 "--control-events", "11/139") == "added"
    _data(reviews, "alpha2001", "Loneliness", "--mean", "41.2", "--sd", "6.1", "--n", "15",
          "--control-mean", "47.9", "--control-sd", "5.8", "--control-n", "15")
    _data(reviews, "beta2002", "Depression", "--effect", "SMD -0.85 [-1.40, -0.30]")
    done = _ok(run_evidence("study", "data", "trials", "alpha2001", "--outcome", "tuberculosis",
                            "--events", "5/123", "--control-events", "11/139"))
    assert done.stdout == f"replaced alpha2001's data for 'tuberculosis' in {trial_review}\n"
    doc = _load(trial_review)
    alpha = doc["studies"][0]
    assert alpha["data"] == [
        {"outcome": "Tuberculosis", "type": "binary", "intervention": {"events": 5, "total": 123},
         "control": {"events": 11, "total": 139}},
        {"outcome": "Loneliness", "type": "continuous",
         "intervention": {"mean": 41.2, "sd": 6.1, "n": 15},
         "control": {"mean": 47.9, "sd": 5.8, "n": 15}},
    ]
    assert doc["studies"][1]["data"] == [{"outcome": "Depression", "type": "effect",
                                          "measure": "SMD", "value": -0.85, "ci_low": -1.4,
                                          "ci_high": -0.3}]
    assert "# my comment" in trial_review.read_text(encoding="utf-8")
    assert [v.ok for v in validate_reviews(ReviewStore(reviews), "trials")] == [True]
    assert _data(reviews, "beta2002", "Depression", "--remove") == "removed"
    assert "data" not in _load(trial_review)["studies"][1]


BAD_DATA = [
    (["--events", "12/10", "--control-events", "3/40"], "--events"),
    (["--events", "4/x", "--control-events", "3/40"], "--events"),
    (["--events", "4/10"], "--control-events"),
    (["--mean", "1", "--sd", "-2", "--n", "10", "--control-mean", "1", "--control-sd", "2",
      "--control-n", "10"], "--sd"),
    (["--mean", "1", "--sd", "2", "--n", "1.5", "--control-mean", "1", "--control-sd", "2",
      "--control-n", "10"], "--n"),
    (["--mean", "abc", "--sd", "2", "--n", "10", "--control-mean", "1", "--control-sd", "2",
      "--control-n", "10"], "--mean"),
    (["--effect", "OR -0.5 [0.2, 0.9]"], "--effect"),
    (["--effect", "SMD 0.9 [-0.2, 0.4]"], "--effect"),
    (["--effect", "loneliness fell"], "--effect"),
    (["--effect", "OR 2.1", "--se", "0"], "--se"),
    (["--effect", "RR 0.8"], "--se"),
]


def _options(options: list[str]) -> Any:
    from evidence_cli.reviews.recording import DataOptions

    pairs = dict(zip(options[::2], options[1::2], strict=True))
    return DataOptions(
        events=pairs.get("--events"), control_events=pairs.get("--control-events"),
        mean=pairs.get("--mean"), sd=pairs.get("--sd"), n=pairs.get("--n"),
        control_mean=pairs.get("--control-mean"), control_sd=pairs.get("--control-sd"),
        control_n=pairs.get("--control-n"), effect=pairs.get("--effect"), se=pairs.get("--se"))


def test_every_bad_value_is_refused_naming_its_option() -> None:
    from evidence_cli.errors import UsageError
    from evidence_cli.reviews.recording import data_entry

    for options, named in BAD_DATA:
        with pytest.raises(UsageError) as refused:
            data_entry("X", _options(options))
        assert named in refused.value.message, (options, refused.value.message)
    good = data_entry("X", _options(["--mean", "1", "--sd", "2", "--n", "10",
                                     "--control-mean", "1.5", "--control-sd", "2",
                                     "--control-n", "12"]))
    assert good["intervention"] == {"mean": 1, "sd": 2, "n": 10}
    assert good["control"] == {"mean": 1.5, "sd": 2, "n": 12}


def test_study_data_refuses_bad_numbers_and_leaves_the_file(run_evidence: RunEvidence,
                                                            trial_review: Path) -> None:
    before = trial_review.read_bytes()
    for options, named in BAD_DATA[::3]:
        done = run_evidence("study", "data", "trials", "alpha2001", "--outcome", "X", *options)
        assert done.returncode == 2, (options, done.stderr)
        assert done.stderr.startswith("evidence: error: "), options
        assert named in done.stderr, (options, done.stderr)
        assert "Traceback" not in done.stderr
        assert trial_review.read_bytes() == before


def test_data_in_the_file_is_schema_checked(run_evidence: RunEvidence, trial_review: Path) -> None:
    text = trial_review.read_text(encoding="utf-8")
    text = text.replace("    design: rct\n", "    design: rct\n    data:\n      - outcome: TB\n"
                        "        type: binary\n        intervention: {events: 20, total: 10}\n"
                        "        control: {events: 1, total: 10, extra: 1}\n", 1)
    trial_review.write_text(text, encoding="utf-8")
    done = run_evidence("review", "validate", "trials")
    assert done.returncode == 1
    assert "studies[0].data[0].intervention.events: 20 events is more than the 10" in done.stderr
    assert "studies[0].data[0].control.extra: unknown field" in done.stderr


# --- meta -----------------------------------------------------------------------------------------


def test_meta_json_contract_on_the_bcg_example(run_evidence: RunEvidence, bcg: Path) -> None:
    done = _ok(run_evidence("meta", "bcg-vaccine", "--outcome", "tuberculosis", "--format",
                            "json"))
    doc = json.loads(done.stdout)
    for key in ("schema", "outcome", "measure", "method", "k", "estimate", "se", "ci_low",
                "ci_high", "pval", "tau2", "i2", "h2", "q", "q_pval", "pi_low", "pi_high",
                "studies", "tau2_ci_low", "tau2_ci_high", "leave_one_out", "egger",
                "back_transformed", "excluded"):
        assert key in doc, key
    assert doc["schema"] == "evidence-cli/meta/v1"
    assert (doc["measure"], doc["method"], doc["k"], doc["scale"]) == ("RR", "REML", 13, "log")
    assert doc["estimate"] == pytest.approx(-0.7145, abs=5e-5)
    assert doc["se"] == pytest.approx(0.1798, abs=5e-5)
    assert doc["tau2"] == pytest.approx(0.3132, abs=5e-5)
    assert doc["i2"] == pytest.approx(92.22, abs=5e-3)
    assert doc["back_transformed"]["estimate"] == pytest.approx(0.4894, abs=5e-4)
    assert [s["id"] for s in doc["studies"]][:2] == ["aronson1948", "ferguson1949"]
    assert set(doc["studies"][0]) >= {"id", "yi", "vi", "weight"}
    assert sum(s["weight"] for s in doc["studies"]) == pytest.approx(100)
    assert len(doc["leave_one_out"]) == 13
    assert doc["egger"]["reliable"] is True

    dl = json.loads(_ok(run_evidence("meta", "bcg-vaccine", "--outcome", "Tuberculosis",
                                     "--method", "DL", "--hksj", "-f", "json")).stdout)
    assert dl["tau2"] == pytest.approx(0.3088, abs=5e-5)
    assert (dl["test"], dl["df"]) == ("t", 12)


def test_meta_table_and_other_formats(run_evidence: RunEvidence, bcg: Path,
                                      tmp_path: Path) -> None:
    table = _ok(run_evidence("meta", "bcg-vaccine", "--outcome", "Tuberculosis")).stdout
    assert "Pooled RR 0.49 [0.34, 0.70]" in table
    assert "I² = 92.2%" in table
    assert "Prediction interval [0.15, 1.55]" in table
    out = tmp_path / "meta.md"
    _ok(run_evidence("meta", "bcg-vaccine", "--outcome", "Tuberculosis", "--output", out))
    assert "| Study |" in out.read_text(encoding="utf-8")  # the format from the suffix
    result = _bcg_result()
    for fmt, marker in (("html", "<table>"), ("latex", r"\begin{tabular}"),
                        ("csv", "row,study,id"), ("table", "Leave-one-out:")):
        assert marker in report.render(result, fmt, "bcg-vaccine")


def test_meta_says_plainly_when_reviews_have_no_data(run_evidence: RunEvidence,
                                                     reviews: Path) -> None:
    for slug in ("act-loneliness", "therapy-format-preferences"):
        shutil.copy(REPO / "reviews" / f"{slug}.yaml", reviews / f"{slug}.yaml")
        done = run_evidence("meta", slug, "--outcome", "Loneliness")
        assert done.returncode == 1
        assert done.stdout == ""
        assert f"review '{slug}' has no outcome data to pool" in done.stderr
        summary = run_evidence("sof", slug)
        assert summary.returncode == 1
        assert "no outcome data" in summary.stderr


def test_meta_needs_two_studies_and_leaves_flagged_ones_out(run_evidence: RunEvidence,
                                                             trial_review: Path) -> None:
    _data(trial_review.parent, "alpha2001", "TB", "--events", "4/100", "--control-events",
          "9/100")
    done = run_evidence("meta", "trials", "--outcome", "TB")
    assert done.returncode == 1
    assert "1 poolable study, at least 2 are needed" in done.stderr
    unknown = run_evidence("meta", "trials", "--outcome", "Mortality")
    assert unknown.returncode == 1
    assert "no data for outcome 'Mortality' (outcomes with data: TB)" in unknown.stderr
    _data(trial_review.parent, "beta2002", "TB", "--events", "0/100", "--control-events",
          "5/100")
    _data(trial_review.parent, "gamma2003", "TB", "--effect", "RR 0.5 [0.25, 1.0]")
    doc = json.loads(_ok(run_evidence("meta", "trials", "--outcome", "TB", "-f",
                                      "json")).stdout)
    assert doc["k"] == 3
    assert doc["studies"][1]["zero_cell_corrected"] is True
    assert "unreliable" in doc["egger"]["note"]
    text = trial_review.read_text(encoding="utf-8")
    text = text.replace("    design: rct\n", "    design: rct\n    audit:\n      date: "
                        "2026-12-01\n      status: error\n      findings: [retracted]\n", 1)
    trial_review.write_text(text, encoding="utf-8")
    doc = json.loads(_ok(run_evidence("meta", "trials", "--outcome", "TB", "-f",
                                      "json")).stdout)
    assert doc["k"] == 2
    assert doc["excluded"] == [{"id": "alpha2001", "label": "Alpha 2001",
                                "reason": "audit: retracted"}]
    assert "egger" in doc and doc["egger"] is None  # no test with two studies
    table = _ok(run_evidence("meta", "trials", "--outcome", "TB")).stdout
    assert "Excluded: Alpha 2001 (alpha2001): audit: retracted" in table
    kept = json.loads(_ok(run_evidence("meta", "trials", "--outcome", "TB", "-f", "json",
                                       "--include-flagged")).stdout)
    assert kept["k"] == 3
    # A measure the data cannot give is listed, not guessed.
    odds = json.loads(_ok(run_evidence("meta", "trials", "--outcome", "TB", "-f", "json",
                                       "--measure", "OR", "--include-flagged")).stdout)
    assert odds["k"] == 2
    assert odds["not_poolable"][0]["reason"] == "it reports RR; the analysis pools OR"
    csv = _ok(run_evidence("meta", "trials", "--outcome", "TB", "-f", "csv",
                           "--include-flagged")).stdout
    assert "\n" + "study,'=Gamma 2003," in csv or ",'=Gamma 2003," in csv
    bad = run_evidence("meta", "trials", "--outcome", "TB", "--method", "XX")
    assert bad.returncode == 2 and "--method" in bad.stderr


def test_forest_and_funnel_plots(run_evidence: RunEvidence, bcg: Path, tmp_path: Path) -> None:
    forest, funnel = tmp_path / "forest.svg", tmp_path / "funnel.svg"
    _ok(run_evidence("meta", "bcg-vaccine", "--outcome", "Tuberculosis", "--forest", forest,
                     "--funnel", funnel))
    root = ET.parse(forest).getroot()
    ids = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("id")}
    assert sum(1 for key in ids if key.startswith("study-point-")) == 13
    assert sum(1 for key in ids if key.startswith("study-ci-")) == 13
    for key in ("pooled-diamond", "prediction-interval", "null-line", "heterogeneity",
                "header-study", "header-weight", "header-effect"):
        assert key in ids, key

    def text_of(key: str) -> str:
        return "".join("".join(t.itertext()) for t in ids[key].iter(f"{SVG}text"))

    assert text_of("study-label-0") == "Aronson 1948"
    assert text_of("study-label-12") == "Comstock et al. 1976"
    assert text_of("study-weight-0") == "5.1%"
    assert text_of("study-effect-0") == "0.41 [0.13, 1.26]"
    assert text_of("pooled-effect") == "0.49 [0.34, 0.70]"
    assert text_of("prediction-effect") == "[0.15, 1.55]"
    assert "I² = 92.2%" in text_of("heterogeneity")
    diamond = ids["pooled-diamond"].find(f"{SVG}path")
    assert diamond is not None and diamond.get("d", "").count("L") >= 3
    funnel_ids = {g.get("id") for g in ET.parse(funnel).getroot().iter(f"{SVG}g")}
    assert {"funnel-points", "funnel-region", "funnel-estimate"} <= funnel_ids
    png, pdf = tmp_path / "forest.png", tmp_path / "forest.pdf"
    _ok(run_evidence("meta", "bcg-vaccine", "--outcome", "Tuberculosis", "--forest", png,
                     "--funnel", pdf))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    bad = run_evidence("meta", "bcg-vaccine", "--outcome", "Tuberculosis", "--forest", "f.gif")
    assert bad.returncode == 2 and "--forest" in bad.stderr


# --- GRADE ----------------------------------------------------------------------------------------


def test_grade_and_summary_of_findings(run_evidence: RunEvidence, bcg: Path,
                                       tmp_path: Path) -> None:
    done = _ok(run_evidence("grade", "bcg-vaccine", "--outcome", "Tuberculosis",
                            "--imprecision", "serious: constructed for the test"))
    assert "certainty very low ⊕◯◯◯" in done.stdout
    entry = _load(bcg)["grade"][0]
    assert entry["imprecision"] == {"rating": "serious", "reason": "constructed for the test"}
    assert entry["risk_of_bias"]["rating"] == "serious"
    before = bcg.read_bytes()
    refused = run_evidence("grade", "bcg-vaccine", "--outcome", "Tuberculosis",
                           "--inconsistency", "serious")
    assert refused.returncode == 2 and "needs a reason" in refused.stderr
    bad = run_evidence("grade", "bcg-vaccine", "--outcome", "Tuberculosis", "--indirectness",
                       "awful")
    assert bad.returncode == 2 and "not serious, serious, very serious" in bad.stderr
    assert bcg.read_bytes() == before
    _ok(run_evidence("grade", "bcg-vaccine", "--outcome", "Tuberculosis", "--imprecision",
                     "not serious"))

    markdown = _ok(run_evidence("sof", "bcg-vaccine")).stdout
    assert "| Tuberculosis | 357,347 (13 studies) | ⊕⊕◯◯ Low (serious risk of bias" in markdown
    assert "| RR 0.49 (0.34 to 0.70) | 9 per 1,000 | 4 per 1,000 (3 to 6) |" in markdown
    doc = json.loads(_ok(run_evidence("sof", "bcg-vaccine", "-f", "json")).stdout)
    assert doc["schema"] == "evidence-cli/sof/v1"
    row = doc["outcomes"][0]
    assert (row["certainty"], row["measure"], row["studies"]) == ("low", "RR", 13)
    assert row["estimate"] == pytest.approx(0.4894, abs=5e-4)
    _ok(run_evidence("grade", "bcg-vaccine", "--outcome", "Tuberculosis", "--assumed-risk",
                     "0.05", "--note", "=1+1 constructed"))
    csv = _ok(run_evidence("sof", "bcg-vaccine", "-f", "csv")).stdout
    assert "50 per 1,000" in csv
    assert ",'=1+1 constructed" in csv
    out = tmp_path / "sof.html"
    _ok(run_evidence("sof", "bcg-vaccine", "-o", out))
    assert "<td>Tuberculosis</td>" in out.read_text(encoding="utf-8")
    doc = ReviewStore(bcg.parent).load("bcg-vaccine").doc
    latex = sof.render(doc, sof.build(doc), "latex")
    assert r"\begin{tabular}" in latex and "RR 0.49 (0.34 to 0.70)" in latex


def test_grade_entries_are_schema_checked(run_evidence: RunEvidence, bcg: Path) -> None:
    text = bcg.read_text(encoding="utf-8")
    text = text.replace("    inconsistency:\n      rating: serious",
                        "    inconsistency:\n      rating: awful", 1)
    bcg.write_text(text + "  - outcome: Tuberculosis\n", encoding="utf-8")
    done = run_evidence("review", "validate", "bcg-vaccine")
    assert done.returncode == 1
    assert "grade[0].inconsistency.rating: expected one of: not serious" in done.stderr
    assert "a second GRADE entry for outcome 'Tuberculosis'" in done.stderr
