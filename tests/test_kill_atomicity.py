"""SIGKILL at random points (issue 8, item 3): `evidence study add` and `evidence fix --write`.

A process killed with SIGKILL runs no cleanup at all, so only the way files are written can keep
them whole: a temporary file in the same folder, fsync, rename. Each trial starts the real command,
kills it after a random delay and checks that the file is byte for byte the old version or the new
one — parseable, never torn, never empty — and that the next command still works (no stale lock).

Delays are drawn uniformly between 0.6 and 1.15 times the duration of a full run, measured first:
most of a run is interpreter start-up and imports, and the write is at the end, so this spreads
the kills over the part of the run where a file can be torn (and some runs finish first).

The suite runs 15 trials of each; `python benchmarks/reliability.py` runs the same trials many
more times (the figures in RELIABILITY.md).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.simulator import CrossrefSimulator
from tests.test_fix import BIBTEX

TRIALS = 15


@dataclass
class Outcomes:
    """What each killed (or finished) run left behind."""

    old: int = 0  # the file as it was before the run
    new: int = 0  # the file as the run meant to write it
    finished: int = 0  # the run ended before the kill (the file is new)
    torn: list[str] = field(default_factory=list)  # anything else: must stay empty
    leftover_temps: int = 0  # temporary files a killed writer could not remove

    @property
    def trials(self) -> int:
        return self.old + self.new + len(self.torn)


def environment(sim_url: str, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVIDENCE_", "GITHUB_"))}
    env["EVIDENCE_CROSSREF_URL"] = sim_url
    env["EVIDENCE_CACHE_DIR"] = str(work / "cache")
    env["EVIDENCE_REVIEWS_DIR"] = str(work / "reviews")
    return env


def _run(args: list[str], work: Path, env: dict[str, str]) -> tuple[int, float]:
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "evidence_cli", *args], cwd=work, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, time.monotonic() - start


def _kill_after(args: list[str], work: Path, env: dict[str, str], delay: float) -> int | None:
    """Start the command, SIGKILL it after `delay` seconds; its exit code if it ended first."""
    process = subprocess.Popen([sys.executable, "-m", "evidence_cli", *args], cwd=work, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        code = process.wait(timeout=delay)
        return code
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
        return None


def _sweep_temps(folder: Path) -> int:
    temps = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    for temp in temps:
        temp.unlink()
    return len(temps)


def _studies(text: str) -> list[str]:
    document: Any = YAML(typ="safe").load(StringIO(text))
    return [str(study["citation"].get("doi")) for study in document["studies"]]


def recorded_dois(sim: CrossrefSimulator, count: int) -> list[str]:
    """Distinct recorded journal articles with authors, title and year (study add accepts them)."""
    chosen = []
    for doi in sorted(sim.dois()):
        record = sim.record(doi) or {}
        year = ((record.get("issued") or {}).get("date-parts") or [[None]])[0][0]
        if (record.get("type") == "journal-article" and record.get("author")
                and record.get("title") and year and not doi.startswith("10.5555/")):
            chosen.append(doi)
    assert len(chosen) >= count, f"only {len(chosen)} usable records"
    return chosen[:count]


def study_add_trials(sim: CrossrefSimulator, work: Path, trials: int,
                     rng: random.Random) -> Outcomes:
    """Kill `study add` at random points; each trial adds a different DOI to one review."""
    env = environment(sim.url, work)
    dois = recorded_dois(sim, trials + 2)
    code, _ = _run(["review", "new", "rv", "--title", "T", "--question", "Q?"], work, env)
    assert code == 0
    review = work / "reviews" / "rv.yaml"
    # A full run first: it measures how long one takes (the DOI is looked up, not yet cached).
    code, full = _run(["study", "add", "rv", "--doi", dois[0]], work, env)
    assert code == 0
    outcomes = Outcomes()
    for doi in dois[1:-1]:
        before = review.read_text(encoding="utf-8")
        old_studies = _studies(before)
        code = _kill_after(["study", "add", "rv", "--doi", doi], work, env,
                           rng.uniform(0.6, 1.15) * full)
        after = review.read_text(encoding="utf-8")
        outcomes.leftover_temps += _sweep_temps(review.parent)
        if after == before:
            outcomes.old += 1
            continue
        try:
            studies = _studies(after)
        except Exception as error:  # torn: not YAML, or not a review
            outcomes.torn.append(f"{doi}: {error}: {after[-200:]!r}")
            continue
        if studies == [*old_studies, doi]:
            outcomes.new += 1
            outcomes.finished += code is not None
        else:
            outcomes.torn.append(f"{doi}: studies {studies} after {old_studies}")
    # The review's lock was held by killed processes: it must not block the next command.
    code, _ = _run(["study", "add", "rv", "--doi", dois[-1]], work, env)
    assert code == 0
    assert _studies(review.read_text(encoding="utf-8"))[-1] == dois[-1]
    return outcomes


def fix_write_trials(sim: CrossrefSimulator, work: Path, trials: int,
                     rng: random.Random) -> Outcomes:
    """Kill `fix --write` at random points; each trial starts again from the original file."""
    env = environment(sim.url, work)
    refs = work / "refs.bib"
    backup = work / "refs.bib.bak"
    original = BIBTEX.encode("utf-8")
    refs.write_bytes(original)
    code, _ = _run(["fix", "refs.bib", "--write"], work, env)
    assert code == 0
    fixed = refs.read_bytes()
    # Timed again once the answers are cached, as every trial will find them.
    refs.write_bytes(original)
    code, full = _run(["fix", "refs.bib", "--write"], work, env)
    assert code == 0 and refs.read_bytes() == fixed
    assert fixed != original and backup.read_bytes() == original
    outcomes = Outcomes()
    for _ in range(trials):
        refs.write_bytes(original)
        backup.unlink(missing_ok=True)
        code = _kill_after(["fix", "refs.bib", "--write"], work, env,
                           rng.uniform(0.6, 1.15) * full)
        after = refs.read_bytes()
        outcomes.leftover_temps += _sweep_temps(work)
        # The backup is written first: absent, or the original bytes.
        if backup.exists() and backup.read_bytes() != original:
            outcomes.torn.append(f"backup: {backup.read_bytes()[-200:]!r}")
        elif after == original:
            outcomes.old += 1
        elif after == fixed:
            outcomes.new += 1
            outcomes.finished += code is not None
            if not backup.exists():
                outcomes.torn.append("new file without its backup")
        else:
            outcomes.torn.append(f"refs.bib: {after[-200:]!r}")
    return outcomes


@pytest.fixture
def sim() -> Any:
    with CrossrefSimulator(rate_limit=1000, concurrency=8, polite_rate_limit=1000,
                           polite_concurrency=8, list_rate_limit=1000,
                           polite_list_rate_limit=1000) as simulator:
        yield simulator


@pytest.mark.slow
def test_sigkill_during_study_add_never_tears_the_review(sim: CrossrefSimulator,
                                                         tmp_path: Path) -> None:
    outcomes = study_add_trials(sim, tmp_path, TRIALS, random.Random(8))
    assert outcomes.torn == []
    assert outcomes.trials == TRIALS


@pytest.mark.slow
def test_sigkill_during_fix_write_never_tears_the_bibliography(sim: CrossrefSimulator,
                                                               tmp_path: Path) -> None:
    outcomes = fix_write_trials(sim, tmp_path, TRIALS, random.Random(8))
    assert outcomes.torn == []
    assert outcomes.trials == TRIALS
