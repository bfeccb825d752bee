"""Ctrl-C (issue 8, item 3): SIGINT to a running `evidence` command.

The command is started as a real subprocess against a Crossref simulator slow enough (latency per
answer) that it is mid-run; the signal is sent once the simulator has answered a chosen number of
requests. It must exit 130 within a bounded wait, say so on stderr without a traceback, keep every
cache entry written before the signal (and the cache must stay a sound database), and leave no
half-written report and no temporary file behind.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evidence_cli.services.cache import CACHE_FILE, Cache
from tests.simulator import CrossrefSimulator

PROMPT_EXIT_SECONDS = 10  # "promptly": generous for a loaded CI machine
DOI_COUNT = 30


@pytest.fixture
def slow_sim() -> Iterator[CrossrefSimulator]:
    """Every answer takes 0.3 s, four at a time: 30 DOIs take over 2 s, room to interrupt."""
    sim = CrossrefSimulator(rate_limit=1000, concurrency=4, polite_rate_limit=1000,
                            polite_concurrency=4, list_rate_limit=1000,
                            polite_list_rate_limit=1000, latency=0.3)
    sim.start()
    try:
        yield sim
    finally:
        sim.wake_sleepers()
        sim.stop()


@pytest.fixture
def env(tmp_path: Path, slow_sim: CrossrefSimulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVIDENCE_", "GITHUB_"))}
    env["EVIDENCE_CROSSREF_URL"] = slow_sim.url
    env["EVIDENCE_CACHE_DIR"] = str(tmp_path / "cache")
    env["EVIDENCE_REVIEWS_DIR"] = str(tmp_path / "reviews")
    return env


def _dois(sim: CrossrefSimulator) -> list[str]:
    """Recorded works (not the constructed 10.5555 ones, some of which are built to fail)."""
    dois = sorted(d for d in sim.dois() if not d.startswith("10.5555/"))[:DOI_COUNT]
    assert len(dois) == DOI_COUNT
    return dois


def _answered(sim: CrossrefSimulator) -> int:
    with sim.stats.lock:
        return sum(1 for entry in sim.stats.log if entry.status == 200)


def let_children_see_sigint() -> None:
    """A shell starts background jobs with SIGINT ignored, and an ignored signal stays ignored
    across exec: the command would never see Ctrl-C and this test would prove nothing. A signal
    this process handles is reset to its default in a child, so handle it here."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _sigint_reaches_children() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGINT)
    let_children_see_sigint()
    yield
    signal.signal(signal.SIGINT, previous)


def _start(args: list[str], tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "evidence_cli", *args], cwd=tmp_path, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _interrupt_after(process: subprocess.Popen[str], sim: CrossrefSimulator, answers: int
                     ) -> tuple[str, str, float]:
    """Wait for `answers` answers from the simulator, send SIGINT, wait for the exit."""
    deadline = time.monotonic() + 60
    while _answered(sim) < answers:
        assert process.poll() is None, "the command ended before it could be interrupted"
        assert time.monotonic() < deadline, "the command never reached the simulator"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        stdout, stderr = process.communicate(timeout=PROMPT_EXIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"no exit within {PROMPT_EXIT_SECONDS} s of SIGINT") from None
    return stdout, stderr, time.monotonic() - sent


def _cached(cache_dir: Path, dois: list[str]) -> set[str]:
    # Keys carry the answering service's URL; compare by the DOI at their end.
    try:
        with Cache(cache_dir, read_only=True) as cache:
            keys = cache.keys("work")
            return {doi for doi in dois if doi in keys or any(k.endswith(f" {doi}") for k in keys)}
    except sqlite3.OperationalError:  # polled between the file's creation and its table's
        return set()


def _assert_interrupted(process: subprocess.Popen[str], stderr: str) -> None:
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "evidence: interrupted"


@pytest.mark.parametrize("answers", [1, 5, 12, 20])
def test_sigint_mid_audit_exits_130_keeps_the_cache_and_writes_no_half_report(
        tmp_path: Path, slow_sim: CrossrefSimulator, env: dict[str, str], answers: int) -> None:
    dois = _dois(slow_sim)
    (tmp_path / "refs.txt").write_text("".join(f"doi:{d}\n" for d in dois), encoding="utf-8")
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    process = _start(["check", "refs.txt", "--no-urls", "--output", str(report)], tmp_path, env)
    cache_dir = Path(env["EVIDENCE_CACHE_DIR"])
    # Wait for the answers, then look at what is cached just before the signal goes out.
    deadline = time.monotonic() + 60
    while len(cached_before := (_cached(cache_dir, dois) if (cache_dir / CACHE_FILE).exists()
                                else set())) < answers:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    _stdout, stderr, _waited = _interrupt_after(process, slow_sim, 0)
    _assert_interrupted(process, stderr)

    # No half-written report: absent (the audit had not finished) or whole; no temp file left.
    assert sorted(p.name for p in report.parent.iterdir()) in ([], ["report.json"])
    if report.exists():
        json.loads(report.read_text(encoding="utf-8"))
    assert not [p for p in tmp_path.rglob("*.tmp")]

    # What was cached before the signal is still there, in a sound database...
    connection = sqlite3.connect(cache_dir / CACHE_FILE)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()
    cached_after = _cached(cache_dir, dois)
    assert cached_before <= cached_after
    assert len(cached_after) < len(dois), "the audit finished before the signal: not a test"

    # ...and an offline rerun answers from it: those references verified, the rest unverifiable.
    offline = subprocess.run(
        [sys.executable, "-m", "evidence_cli", "check", "refs.txt", "--no-urls", "--offline",
         "--format", "json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        check=False)
    assert offline.returncode == 4, offline.stderr
    statuses = {r["doi"]: r["status"] for r in json.loads(offline.stdout)["references"]}
    assert {d for d, status in statuses.items() if status != "unverifiable"} == cached_after


def test_sigint_with_the_report_on_stdout_prints_no_partial_report(
        tmp_path: Path, slow_sim: CrossrefSimulator, env: dict[str, str]) -> None:
    dois = _dois(slow_sim)
    (tmp_path / "refs.txt").write_text("".join(f"doi:{d}\n" for d in dois), encoding="utf-8")
    process = _start(["check", "refs.txt", "--no-urls", "--format", "json"], tmp_path, env)
    stdout, stderr, _ = _interrupt_after(process, slow_sim, 6)
    _assert_interrupted(process, stderr)
    assert stdout == ""


def test_sigint_during_study_add_leaves_the_review_unchanged(
        tmp_path: Path, slow_sim: CrossrefSimulator, env: dict[str, str]) -> None:
    made = subprocess.run([sys.executable, "-m", "evidence_cli", "review", "new", "rv", "--title",
                           "T", "--question", "Q?"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    review = Path(env["EVIDENCE_REVIEWS_DIR"]) / "rv.yaml"
    before = review.read_bytes()
    slow_sim.latency = 30.0  # the lookup never answers in time: the signal lands mid-request
    process = _start(["study", "add", "rv", "--doi", _dois(slow_sim)[0]], tmp_path, env)
    deadline = time.monotonic() + 60
    while slow_sim.stats.requests < 1:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    _, stderr, _ = _interrupt_after(process, slow_sim, 0)
    _assert_interrupted(process, stderr)
    assert review.read_bytes() == before
    assert sorted(p.name for p in review.parent.iterdir() if not p.name.endswith(".lock")) == [
        "rv.yaml"]
