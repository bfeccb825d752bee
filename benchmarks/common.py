"""Helpers shared by the benchmarks: the simulator, generated bibliographies, timed CLI runs."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.simulator import CrossrefSimulator  # noqa: E402

WORKS = ROOT / "tests" / "fixtures" / "crossref" / "works.jsonl"


def machine() -> str:
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")


def recorded_records() -> list[dict[str, Any]]:
    records = []
    with WORKS.open(encoding="utf-8") as handle:
        for line in handle:
            message = json.loads(line)["message"]
            if message.get("DOI") and message.get("type"):  # skip recorded agency answers
                records.append(message)
    return records


def bench_records(count: int) -> list[dict[str, Any]]:
    """`count` records: the recorded ones, then copies of them under new DOIs (10.5555/bench-N),
    marked as constructed for the benchmark, when more distinct DOIs are needed."""
    records = recorded_records()
    extra = []
    for i in range(max(0, count - len(records))):
        copy = dict(records[i % len(records)])
        copy["DOI"] = f"10.5555/bench-{i}"
        copy["source"] = "constructed for evidence-cli benchmarks; a copy of a recorded record"
        extra.append(copy)
    return (records + extra)[:count]


def _bib_escape(text: str) -> str:
    return text.replace("{", "").replace("}", "").replace("\\", "")


def bibtex_entry(key: str, record: dict[str, Any]) -> str:
    """A BibTeX entry that cites a record correctly (so the run measures lookups, not searches)."""
    fields = {"doi": record["DOI"]}
    title = (record.get("title") or [None])[0]
    if title:
        fields["title"] = _bib_escape(title)
    authors = [a.get("family") for a in record.get("author") or [] if a.get("family")]
    if authors:
        fields["author"] = " and ".join(_bib_escape(a) for a in authors[:5])
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@article{{{key},\n{body}\n}}\n"


def write_bibliography(path: Path, records: list[dict[str, Any]], count: int) -> None:
    """`count` entries cycling through the records (keys unique, DOIs repeat past the records)."""
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(bibtex_entry(f"ref{i}", records[i % len(records)]))


@dataclass
class Run:
    seconds: float
    code: int
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run `evidence ARGS` in a child process; wall time and the child's peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "evidence_cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far (KiB on Linux).
    return Run(seconds, done.returncode, max(after, before) / 1024, done.stdout, done.stderr)


_OTHER_SIMULATORS: list[Any] = []
_OTHER_SIMULATORS_LOCK = threading.Lock()  # benchmarks may build environments from threads


def _other_service_urls() -> dict[str, str]:
    """Local PubMed and DataCite simulators (started once): a benchmark never asks NCBI or
    DataCite themselves."""
    with _OTHER_SIMULATORS_LOCK:
        if not _OTHER_SIMULATORS:
            from tests.datacite_simulator import DataCiteSimulator
            from tests.eutils_simulator import EUtilsSimulator

            _OTHER_SIMULATORS.extend([EUtilsSimulator().start(), DataCiteSimulator().start()])
        eutils, datacite = _OTHER_SIMULATORS
    return {"EVIDENCE_NCBI_URL": eutils.url, "EVIDENCE_DATACITE_URL": datacite.url}


def cli_env(sim: CrossrefSimulator, cache_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")}
    env.update(EVIDENCE_CROSSREF_URL=sim.url, EVIDENCE_CACHE_DIR=str(cache_dir))
    env.update(_other_service_urls())
    return env
