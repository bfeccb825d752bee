"""Shared pytest fixtures: a running Crossref simulator, an isolated environment, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.datacite_simulator import DataCiteSimulator
from tests.eutils_simulator import EUtilsSimulator
from tests.simulator import CrossrefSimulator

FIXTURES_DIR = Path(__file__).parent / "fixtures"
# Variables that would make a test depend on the machine running it: a mailto changes the pool,
# the GitHub ones switch on CI-specific output.
_UNSET = ("EVIDENCE_MAILTO", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "EVIDENCE_NCBI_API_KEY")

RunEvidence = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES_DIR


@pytest.fixture
def crossref_sim() -> Iterator[CrossrefSimulator]:
    """A started simulator with limits generous enough that tests are never slowed by them."""
    sim = CrossrefSimulator(
        rate_limit=50,
        concurrency=3,
        polite_rate_limit=50,
        polite_concurrency=3,
        list_rate_limit=20,
        polite_list_rate_limit=20,
        latency=0.0,
    )
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def eutils_sim() -> Iterator[EUtilsSimulator]:
    """A started E-utilities (PubMed) simulator with NCBI's limits (3/s, 10/s with a key)."""
    with EUtilsSimulator() as sim:
        yield sim  # type: ignore[misc]


@pytest.fixture
def datacite_sim() -> Iterator[DataCiteSimulator]:
    with DataCiteSimulator() as sim:
        yield sim  # type: ignore[misc]


@pytest.fixture
def evidence_env(tmp_path: Path, crossref_sim: CrossrefSimulator, eutils_sim: EUtilsSimulator,
                 datacite_sim: DataCiteSimulator) -> dict[str, str]:
    """os.environ pointed at the simulator, with a fresh cache and reviews directory."""
    env = dict(os.environ)
    for name in _UNSET:
        env.pop(name, None)
    cache_dir = tmp_path / "evidence-cache"
    reviews_dir = tmp_path / "evidence-reviews"
    cache_dir.mkdir()
    reviews_dir.mkdir()
    env["EVIDENCE_CROSSREF_URL"] = crossref_sim.url
    env["EVIDENCE_NCBI_URL"] = eutils_sim.url
    env["EVIDENCE_DATACITE_URL"] = datacite_sim.url
    env["EVIDENCE_CACHE_DIR"] = str(cache_dir)
    env["EVIDENCE_REVIEWS_DIR"] = str(reviews_dir)
    return env


@pytest.fixture
def run_evidence(tmp_path: Path, evidence_env: dict[str, str]) -> RunEvidence:
    """Run the real `evidence` command in a subprocess: run_evidence("check", "refs.bib")."""

    def run(
        *args: str | os.PathLike[str],
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        # Without input, stdin is empty rather than inherited: a command that reads stdin must
        # not hang on the terminal pytest runs in.
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        return subprocess.run(
            [sys.executable, "-m", "evidence_cli", *map(str, args)],
            env=evidence_env if env is None else env,
            cwd=tmp_path if cwd is None else cwd,
            **stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
