"""Reviews end to end: the real `evidence` command against the Crossref simulator.

One or two runs per command, where the command's contract is the point (options, output, JSON,
exit codes); the rules behind them are checked in-process in tests/test_reviews_operations.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from evidence_cli.reviews.catalogue import Question, create_review
from evidence_cli.reviews.claims import NewClaim, add_claim
from evidence_cli.reviews.store import ReviewStore
from evidence_cli.reviews.studies import remove_study
from tests.simulator import CrossrefSimulator
from tests.test_reviews_operations import (
    BROKEN_FILES,
    ONE_STUDY_ONE_CLAIM,
    Registry,
    add,
    write_broken,
    write_tricky_review,
)

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "reviews"
RunEvidence = Callable[..., "subprocess.CompletedProcess[str]"]

# Real recorded records (tests/fixtures/crossref/works.jsonl) and constructed ones (10.5555/...).
SADASIVAN = "10.1371/journal.pone.0033693"
CLEAN = "10.5555/evidence-cli.clean"
RETRACTED = "10.5555/evidence-cli.retracted-publisher"
UNKNOWN = "10.5555/evidence-cli.never-registered-xyz"


@pytest.fixture
def reviews(evidence_env: dict[str, str]) -> Path:
    return Path(evidence_env["EVIDENCE_REVIEWS_DIR"])


@pytest.fixture
def store(reviews: Path) -> ReviewStore:
    return ReviewStore(reviews)


@pytest.fixture
def new_review(store: ReviewStore) -> Path:
    """An empty review 'act' (made in-process; `review new` itself is run below)."""
    return create_review(store, "act", "ACT for loneliness",
                         Question(text="Does ACT reduce loneliness?"))


def _setup(store: ReviewStore, sim: CrossrefSimulator, *studies: dict[str, Any],
           claims: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> None:
    """Studies (StudyOptions fields; Crossref answers from the simulator's records) and claims
    added in-process, for the tests whose point is the command run afterwards."""
    for options in studies:
        add(store, Registry(sim), **options)
    for statement, cited in claims:
        add_claim(store, "act", NewClaim(statement, cited))


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def _record(sim: CrossrefSimulator, doi: str) -> dict[str, Any]:
    record = sim.record(doi)
    assert record is not None
    return record


# --- review new / list / show / validate --------------------------------------------------------


def test_review_new_list_show_validate(run_evidence: RunEvidence, reviews: Path) -> None:
    created = _ok(run_evidence("review", "new", "act", "--title", "ACT for loneliness",
                               "--question", "Does ACT reduce loneliness?"))
    new_review = reviews / "act.yaml"
    assert created.stdout == f"created {new_review}\n"
    data = _load(new_review)
    assert data["slug"] == "act"
    assert data["title"] == "ACT for loneliness"
    assert data["question"] == {"text": "Does ACT reduce loneliness?"}
    assert data["studies"] == [] and data["claims"] == []
    assert str(data["created"]) == str(data["updated"])

    listed = _ok(run_evidence("review", "list"))
    assert "act" in listed.stdout and "0 studies" in listed.stdout
    listed_json = json.loads(_ok(run_evidence("review", "list", "--json")).stdout)
    assert [r["slug"] for r in listed_json["reviews"]] == ["act"]

    shown = _ok(run_evidence("review", "show", "act"))
    assert "ACT for loneliness" in shown.stdout and "Does ACT reduce loneliness?" in shown.stdout
    assert json.loads(_ok(run_evidence("review", "show", "act", "--json")).stdout)["slug"] == "act"

    assert "ok:" in _ok(run_evidence("review", "validate", "act")).stdout
    assert "ok:" in _ok(run_evidence("review", "validate")).stdout

    again = run_evidence("review", "new", "act", "--title", "Other")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert _load(new_review)["title"] == "ACT for loneliness"


@pytest.mark.parametrize("slug", ["../escape", ".hidden"])  # all of them: test_reviews_operations
def test_path_trick_slugs_are_refused(run_evidence: RunEvidence, reviews: Path, tmp_path: Path,
                                      slug: str) -> None:
    before = sorted(p.name for p in tmp_path.rglob("*"))
    # "--" ends the options, so a slug starting with "-" reaches the slug check.
    done = run_evidence("review", "new", "--title", "T", "--", slug)
    assert done.returncode == 2
    assert "invalid review slug" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    if slug.startswith("."):
        for args in (["study", "list"], ["table"], ["review", "validate"]):
            assert run_evidence(*args, "--", slug).returncode == 2


def test_validate_names_file_line_and_field_and_exits_1(run_evidence: RunEvidence,
                                                        reviews: Path) -> None:
    (reviews / "bad.yaml").write_text(
        "slug: bad\ntitle: Bad\nstudies:\n  - id: s1\n    citation:\n      title: T\n"
        "    design: randomised\n    population:\n      n: thirty\n", encoding="utf-8")
    done = run_evidence("review", "validate", "bad")
    assert done.returncode == 1
    path = str(reviews / "bad.yaml")
    assert f"{path}:7: studies[0].design: expected one of: rct" in done.stderr
    assert f"{path}:9: studies[0].population.n: expected a positive whole number" in done.stderr
    # Every review at once: still 1, and the broken one is named.
    assert run_evidence("review", "validate").returncode == 1
    # A review that does not exist is unreadable input: 3.
    missing = run_evidence("review", "validate", "nope")
    assert missing.returncode == 3 and "no review 'nope'" in missing.stderr


# --- study add from Crossref --------------------------------------------------------------------


def test_study_add_fills_citation_from_crossref(run_evidence: RunEvidence, new_review: Path,
                                               crossref_sim: CrossrefSimulator) -> None:
    done = _ok(run_evidence(
        "study", "add", "act", "--doi", f"https://doi.org/{SADASIVAN.upper()}",
        "--design", "rct", "--population", "adults", "--n", "44", "--setting", "clinic",
        "--intervention", "ACT", "--comparator", "waiting list",
        "--outcome", "loneliness; UCLA Loneliness Scale; 8 weeks",
        "--effect", "SMD −0.85 [−1.40, −0.30]", "--follow-up", "3 months",
        "--risk-of-bias", "some concerns: no blinding", "--caveat", "small", "--caveat", "pilot",
        "--note", "read in full",
    ))
    record = _record(crossref_sim, SADASIVAN)
    study = _load(new_review)["studies"][0]
    assert study["id"] == "sadasivan2012"
    assert "sadasivan2012" in done.stdout
    citation = study["citation"]
    assert citation["doi"] == SADASIVAN
    assert citation["title"] == record["title"][0]
    assert citation["authors"][0] == record["author"][0]["family"]
    assert citation["year"] == 2012
    assert citation["container"] == record["container-title"][0]
    assert (citation["volume"], citation["issue"]) == ("7", "3")
    assert study["design"] == "rct"
    assert study["population"] == {"description": "adults", "n": 44}
    assert study["outcomes"] == [{"name": "loneliness", "instrument": "UCLA Loneliness Scale",
                                  "timepoint": "8 weeks"}]
    assert study["effect"] == {"measure": "SMD", "value": -0.85, "ci_low": -1.4,
                               "ci_high": -0.3}
    assert study["risk_of_bias"] == {"level": "some concerns", "note": "no blinding"}
    assert study["caveats"] == ["small", "pilot"]
    assert study["follow_up"] == "3 months" and study["notes"] == "read in full"


def test_study_add_uses_the_cache(run_evidence: RunEvidence, crossref_sim: CrossrefSimulator,
                                  new_review: Path) -> None:
    _ok(run_evidence("review", "new", "other", "--title", "Other"))
    _ok(run_evidence("study", "add", "act", "--doi", CLEAN))
    requests = crossref_sim.stats.requests
    # Offline, the answer can only come from the cache the first add filled.
    _ok(run_evidence("study", "add", "other", "--doi", CLEAN, "--offline"))
    assert crossref_sim.stats.requests == requests
    assert _load(new_review.parent / "other.yaml")["studies"][0]["citation"]["doi"] == CLEAN


def test_unknown_doi_is_refused_with_exit_1(run_evidence: RunEvidence, new_review: Path) -> None:
    before = new_review.read_bytes()
    refused = run_evidence("study", "add", "act", "--doi", UNKNOWN)
    assert refused.returncode == 1
    assert "no registration agency knows the DOI" in refused.stderr
    assert new_review.read_bytes() == before


def test_unavailable_service_exits_4(run_evidence: RunEvidence,
                                    new_review: Path) -> None:
    # Offline with an empty cache, Crossref cannot be asked: unavailable, never "ok".
    before = new_review.read_bytes()
    done = run_evidence("study", "add", "act", "--doi", CLEAN, "--offline")
    assert done.returncode == 4
    assert "could not be asked" in done.stderr
    assert new_review.read_bytes() == before


# --- the unchanged-file rule ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [  # one per command; every refusal in-process: test_reviews_operations
        (["study", "add", "act", "--title", "T", "--n", "thirty"], 2, "--n"),
        (["study", "add", "act"], 2, "give --doi"),
        (["study", "edit", "act", "s1", "--set", "colour=blue"], 2, "unknown field"),
        (["study", "remove", "act", "s1"], 2, "supports claim"),
        (["claim", "add", "act", "Says so", "--study", "ghost"], 2, "no study"),
        (["table", "act", "--format", "pdf"], 2, "--format"),
    ],
)
def test_invalid_input_leaves_the_file_unchanged(
    run_evidence: RunEvidence, new_review: Path, args: list[str], code: int, message: str
) -> None:
    new_review.write_text(ONE_STUDY_ONE_CLAIM, encoding="utf-8")
    before = new_review.read_bytes()
    done = run_evidence(*args)
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3
    assert new_review.read_bytes() == before
    assert not [p for p in new_review.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("kind", ["python tag", "schema"])  # all: test_reviews_operations
def test_broken_review_file_is_refused_and_left_alone(
    run_evidence: RunEvidence, reviews: Path, tmp_path: Path, kind: str
) -> None:
    path = write_broken(reviews, kind)
    message = BROKEN_FILES[kind][1]
    before = path.read_bytes()
    for args in (["study", "add", "act", "--title", "T"], ["table", "act"]):
        done = run_evidence(*args)
        assert done.returncode == 3, (args, done.stderr)
        assert message in done.stderr
        assert str(path) in done.stderr
        assert "Traceback" not in done.stderr
        assert path.read_bytes() == before
    validated = run_evidence("review", "validate", "act")
    assert validated.returncode == 1 and message in validated.stderr
    assert not (tmp_path / "PWNED").exists()


# --- study edit / remove, claims ----------------------------------------------------------------


def test_study_and_claim_commands(run_evidence: RunEvidence, new_review: Path) -> None:
    added = _ok(run_evidence("study", "add", "act", "--title", "Effect of ACT", "--author",
                             "Namazi R", "--year", "2022", "--url",
                             "http://jcbr.goums.ac.ir/article-1-343-en.html"))
    assert added.stdout == f"added namazi2022 to {new_review}: Namazi 2022\n"
    _ok(run_evidence("study", "add", "act", "--id", "s2", "--title", "Second", "--year", "2021"))
    _ok(run_evidence("claim", "add", "act", "ACT helps", "--study", "namazi2022", "--study",
                     "s2", "--quote", "loneliness fell", "--page", "834"))
    edited = _ok(run_evidence("study", "edit", "act", "namazi2022", "--set", "n=40",
                              "--set", "id=first2020"))
    assert edited.stdout == f"updated first2020 in {new_review}\n"
    listed = _ok(run_evidence("claim", "list", "act"))
    assert "claim-1" in listed.stdout and "first2020, s2" in listed.stdout
    assert json.loads(_ok(run_evidence("claim", "list", "act", "--json")).stdout)[0]["id"] == \
        "claim-1"
    studies = _ok(run_evidence("study", "list", "act"))
    assert "first2020" in studies.stdout and "n=40" in studies.stdout
    assert len(json.loads(_ok(run_evidence("study", "list", "act", "--json")).stdout)) == 2
    removed = _ok(run_evidence("study", "remove", "act", "s2", "--force"))
    assert removed.stdout == f"removed s2 from {new_review}\n"
    assert [s["id"] for s in _load(new_review)["studies"]] == ["first2020"]


# --- concurrency --------------------------------------------------------------------------------


def _sixteen_dois(sim: CrossrefSimulator) -> list[str]:
    """Sixteen recorded journal articles with authors, a title and a year (no retractions)."""
    chosen = []
    for doi in sorted(sim.dois()):
        record = sim.record(doi) or {}
        year = ((record.get("issued") or {}).get("date-parts") or [[None]])[0][0]
        if (record.get("type") == "journal-article" and record.get("author")
                and record.get("title") and year and not doi.startswith("10.5555/")):
            chosen.append(doi)
    assert len(chosen) >= 16
    return chosen[:16]


@pytest.mark.slow
def test_sixteen_concurrent_adds_lose_no_update(evidence_env: dict[str, str], new_review: Path,
                                                crossref_sim: CrossrefSimulator,
                                                tmp_path: Path) -> None:
    dois = _sixteen_dois(crossref_sim)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "evidence_cli", "study", "add", "act", "--doi", doi,
             "--caveat", f"added by process {index}"],
            env=evidence_env, cwd=tmp_path, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for index, doi in enumerate(dois)
    ]
    try:
        outcomes = [(p.wait(timeout=180), p.stderr.read() if p.stderr else "")
                    for p in processes]
    finally:  # a timeout above must not leave the others running (issue 14)
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream:
                    stream.close()
    assert all(code == 0 for code, _ in outcomes), outcomes
    studies = _load(new_review)["studies"]
    assert sorted(s["citation"]["doi"] for s in studies) == sorted(dois)
    assert len({s["id"] for s in studies}) == 16
    assert sorted(s["caveats"][0] for s in studies) == sorted(
        f"added by process {i}" for i in range(16))


# --- audit --------------------------------------------------------------------------------------


def test_review_audit_stores_results_and_flags_claims(run_evidence: RunEvidence,
                                                     new_review: Path, store: ReviewStore,
                                                     crossref_sim: CrossrefSimulator) -> None:
    # A retracted DOI is refused without --allow-retracted (issue 14, tests/test_hardening2.py).
    _setup(store, crossref_sim, {"doi": CLEAN, "study_id": "clean"},
           {"doi": RETRACTED, "study_id": "gone", "allow_retracted": True},
           {"doi": SADASIVAN, "study_id": "fixed"},
           {"doi": UNKNOWN, "study_id": "ghost", "unverified": True},
           claims=(("Stands", ("clean", "fixed")),
                   ("Rests on a retracted study", ("gone", "clean")),
                   ("Rests on a DOI nobody knows", ("ghost",))))
    done = run_evidence("review", "audit", "act")
    assert done.returncode == 1, done.stderr
    assert "RETRACTED" in done.stdout
    assert "claim claim-2 FLAGGED" in done.stdout and "claim claim-1 ok" in done.stdout

    data = _load(new_review)
    audits = {s["id"]: s["audit"] for s in data["studies"]}
    assert audits["clean"]["status"] == "ok" and audits["clean"]["findings"] == []
    assert audits["gone"]["status"] == "error" and "retracted" in audits["gone"]["findings"]
    assert audits["fixed"]["status"] == "info" and "corrected" in audits["fixed"]["findings"]
    assert {str(a["date"]) for a in audits.values()} == {str(data["updated"])}
    claims = {c["id"]: c["audit"] for c in data["claims"]}
    assert claims["claim-1"]["status"] == "ok"
    assert claims["claim-2"]["status"] == "flagged"
    assert "gone" in claims["claim-2"]["problems"][0]
    assert claims["claim-3"]["problems"] == ["study 'ghost' failed its check (doi-not-found)"]

    markdown = _ok(run_evidence("table", "act")).stdout
    gone_row = next(line for line in markdown.splitlines() if RETRACTED in line)
    assert gone_row.count("**RETRACTED**") == 2  # the study cell and the audit cell
    assert "ok (" in next(line for line in markdown.splitlines() if CLEAN in line)

    report = json.loads(run_evidence("review", "audit", "act", "--json").stdout)
    assert report["report"]["schema"] == "evidence-cli/check/v1"
    assert report["report"]["summary"]["error"] == 2
    source = {r["id"]: r["source"] for r in report["report"]["references"]}
    lines = new_review.read_text(encoding="utf-8").splitlines()
    assert "id: gone" in lines[source["gone"]["line"] - 1]
    assert source["gone"]["path"] == str(new_review)
    # Only warnings and worse fail the run when asked; a retraction is an error either way.
    assert run_evidence("review", "audit", "act", "--fail-on", "never").returncode == 0


def test_review_audit_unverifiable_and_missing_studies(run_evidence: RunEvidence,
                                                      new_review: Path, store: ReviewStore,
                                                      crossref_sim: CrossrefSimulator) -> None:
    _setup(store, crossref_sim, {"doi": CLEAN, "study_id": "clean"},
           {"doi": SADASIVAN, "study_id": "other"},
           claims=(("Stands", ("clean",)), ("Lost its study", ("other",))))
    # Offline with a fresh cache directory: nothing can be checked, so nothing is "ok".
    empty_cache = new_review.parent.parent / "empty-cache"
    done = run_evidence("review", "audit", "act", "--offline", "--cache-dir", str(empty_cache))
    assert done.returncode == 4, done.stderr
    data = _load(new_review)
    assert {s["audit"]["status"] for s in data["studies"]} == {"unverifiable"}
    assert all("service-unavailable" in s["audit"]["findings"] for s in data["studies"])
    assert data["claims"][0]["audit"]["status"] == "flagged"
    assert "could not be verified" in data["claims"][0]["audit"]["problems"][0]

    remove_study(store, "act", "other", force=True)
    done = run_evidence("review", "audit", "act")
    assert done.returncode == 1, done.stderr  # a claim whose study is gone is an error
    claims = {c["id"]: c["audit"] for c in _load(new_review)["claims"]}
    assert claims["claim-1"]["status"] == "ok"
    assert claims["claim-2"]["problems"] == ["study 'other' is not in the review"]


def test_review_audit_all_clean_exits_0(run_evidence: RunEvidence, new_review: Path,
                                        store: ReviewStore,
                                        crossref_sim: CrossrefSimulator) -> None:
    _setup(store, crossref_sim, {"doi": CLEAN})
    done = _ok(run_evidence("review", "audit", "act"))
    assert "halvorsen2021  ok" in done.stdout


# --- tables -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tricky_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reviews folder with a review 'act' whose cells hold pipes, newlines, markup and
    formula-like text, written once (in-process) for the table tests, which only read it."""
    return write_tricky_review(tmp_path_factory.mktemp("tricky") / "reviews")


def _table(run: RunEvidence, reviews_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _ok(run("table", "act", "--reviews-dir", str(reviews_dir), *args))


def test_table_csv_neutralises_formulas(run_evidence: RunEvidence, tricky_dir: Path,
                                        tmp_path: Path) -> None:
    out = tmp_path / "table.csv"
    _table(run_evidence, tricky_dir, "--output", str(out), "--columns", "id,n,effect,caveats")
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == ["Id", "n", "Effect", "Caveats"]
    tricky, later = rows[1], rows[2]
    assert tricky[2] == "SMD −0.85 [−1.40, −0.30]"
    assert tricky[3].startswith("'=HYPERLINK")
    assert "line one\nline two | piped" in tricky[3]
    assert later[3] == "'-5 points\n@mention"
    assert later[1] == "300"
    for row in rows[1:]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@")


def test_table_latex_escapes_specials(run_evidence: RunEvidence, tricky_dir: Path,
                                      tmp_path: Path) -> None:
    out = tmp_path / "table.tex"
    _table(run_evidence, tricky_dir, "-o", str(out))  # format from the suffix
    text = out.read_text(encoding="utf-8")
    assert "\\begin{tabular}" in text and "\\end{tabular}" in text
    assert r"50\% \& \$5 \#1 \_x\_ \{y\}" in text
    assert r"SMD \textminus{}0.85 [\textminus{}1.40, \textminus{}0.30]" in text


# --- the example reviews ------------------------------------------------------------------------


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A copy of the repository's example reviews (commands may write lock files)."""
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("*.lock"))
    return target


def test_example_reviews_validate_offline(run_evidence: RunEvidence, examples: Path,
                                          evidence_env: dict[str, str]) -> None:
    env = {**evidence_env, "EVIDENCE_CROSSREF_URL": "http://127.0.0.1:9"}
    done = run_evidence("review", "validate", "--reviews-dir", str(examples), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok:") == 3  # with bcg-vaccine


def test_example_reviews_invent_no_numbers(examples: Path) -> None:
    act = _load(examples / "act-loneliness.yaml")
    # Neither ACT study reports an effect size: no value, measure or interval may appear.
    for study in act["studies"]:
        effects = study["effect"] if isinstance(study["effect"], list) else [study["effect"]]
        for effect in effects:
            assert not {"value", "measure", "ci_low", "ci_high"} & set(effect)
    formats = _load(examples / "therapy-format-preferences.yaml")
    wallin = formats["studies"][0]
    values = sorted(e["value"] for e in wallin["effect"])
    assert values == [2.6, 2.82, 3.52, 6.5]
    text = (examples / "therapy-format-preferences.yaml").read_text(encoding="utf-8")
    assert "67%" in text and "could not be traced" in text
    assert "67" not in json.dumps(wallin["effect"])


def test_env_reviews_dir_and_option_agree(run_evidence: RunEvidence, examples: Path,
                                          evidence_env: dict[str, str]) -> None:
    env = {**evidence_env, "EVIDENCE_REVIEWS_DIR": str(examples)}
    via_env = _ok(run_evidence("review", "list", env=env)).stdout
    via_option = _ok(run_evidence("review", "list", "--reviews-dir", str(examples))).stdout
    assert via_env == via_option
    assert "act-loneliness" in via_env and "therapy-format-preferences" in via_env
    assert os.path.basename(str(examples)) == "examples"
