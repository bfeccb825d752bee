"""Run the benchmarks, print their figures and write BENCHMARKS.md-ready results.

    python benchmarks/run.py            # every benchmark
    python benchmarks/run.py cold warm  # some of them

Everything runs against the Crossref simulator (and a local web server) on loopback.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    CrossrefSimulator,
    bench_records,
    bibtex_entry,
    cli_env,
    machine,
    recorded_records,
    run_cli,
    write_bibliography,
)

RESULTS = ROOT / "benchmarks" / "results"
TITLES = {
    "cold": "Cold audit against Crossref's advertised limits",
    "warm": "Warm cache: large bibliographies on a second run",
    "startup": "Start-up",
    "habanero": "DOI lookups: evidence check and habanero",
    "readers": "Reader speed",
    "side_by_side": "Side by side, cold: evidence check, habanero, manubot",
}


def cold(doi_count: int = 300, rate: int = 50, concurrency: int = 3,
         latency: float = 0.04) -> list[str]:
    """A cold audit of N DOIs against the simulator's advertised limits."""
    records = recorded_records()[:doi_count]
    with tempfile.TemporaryDirectory() as tmp, CrossrefSimulator(
        rate_limit=rate, concurrency=concurrency, latency=latency,
        polite_rate_limit=rate, polite_concurrency=concurrency,
    ) as sim:
        folder = Path(tmp)
        write_bibliography(folder / "refs.bib", records, len(records))
        run = run_cli(["check", "refs.bib", "--format", "json", "--output", "report.json",
                       "--no-urls"], cli_env(sim, folder / "cache"), folder)
        requests = sim.stats.requests
        refused = sim.stats.rate_limited
        outcome = _unverifiable(folder / "report.json")
    minimum = requests / rate
    return [
        f"Cold audit, {len(records)} DOIs, simulator at {rate}/s, {concurrency} concurrent, "
        f"{latency * 1000:.0f} ms latency: {run.seconds:.2f} s wall, {requests} requests, "
        f"{refused} answered 429, limit-bound minimum {minimum:.2f} s, ratio "
        f"{run.seconds / minimum:.3f} (exit {run.code}; {outcome})",
    ]


def _unverifiable(report_path: Path) -> str:
    """How many references ended unverifiable, and why (for the exit code beside the figures)."""
    summary = json.loads(report_path.read_text(encoding="utf-8"))["summary"]
    count = summary["unverifiable"]
    return (f"{count} unverifiable: recorded records with neither title nor authors, which "
            "cannot confirm a citation" if count else "none unverifiable")


def habanero(doi_count: int = 500, latency: float = 0.04) -> list[str]:
    """The same DOIs through `evidence check` and through habanero, one DOI at a time."""
    from habanero import Crossref

    records = bench_records(doi_count)
    mailto = "bench@example.org"
    lines = []
    # Crossref's advertised polite-pool limits: 10 requests per second, 3 at a time.
    limits = {"rate_limit": 10, "concurrency": 3, "polite_rate_limit": 10,
              "polite_concurrency": 3, "latency": latency}
    with tempfile.TemporaryDirectory() as tmp, CrossrefSimulator(**limits) as sim:
        for record in records[len(recorded_records()):]:
            sim.add_record(record)
        folder = Path(tmp)
        write_bibliography(folder / "refs.bib", records, len(records))
        run = run_cli(["check", "refs.bib", "--format", "json", "--output", "report.json",
                       "--no-urls", "--mailto", mailto], cli_env(sim, folder / "cache"), folder)
        ours = (run.seconds, sim.stats.requests, sim.stats.rate_limited, run.code,
                _unverifiable(folder / "report.json"))
        sim.reset_stats()
        sim.reset_limits()
        client = Crossref(base_url=sim.url, mailto=mailto, timeout=20)
        failures = 0
        start = time.perf_counter()
        for record in records:
            try:
                client.works(ids=record["DOI"])
            except Exception:  # habanero raises on 429 and other HTTP errors
                failures += 1
        theirs = (time.perf_counter() - start, sim.stats.requests, sim.stats.rate_limited,
                  failures)
    minimum = doi_count / limits["polite_rate_limit"]
    lines.append(
        f"evidence check, {doi_count} DOIs ({len(recorded_records())} recorded, the rest copies "
        f"of recorded records under new DOIs; polite pool: 10/s, 3 concurrent, "
        f"{latency * 1000:.0f} ms latency): {ours[0]:.1f} s wall, {ours[1]} requests, "
        f"{ours[2]} answered 429, ratio to the limit-bound minimum ({minimum:.0f} s) "
        f"{ours[0] / minimum:.3f}; every DOI answered (exit {ours[3]}; {ours[4]})")
    lines.append(
        f"habanero {_version('habanero')}, same DOIs one at a time: {theirs[0]:.1f} s wall, "
        f"{theirs[1]} requests, {theirs[2]} answered 429, {theirs[3]} DOIs failed "
        f"(habanero has no client-side pacing or retry)")
    return lines


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def warm(counts: tuple[int, ...] = (2000, 50000, 500000)) -> list[str]:
    """Second run over a warm cache: wall time, CPU time and peak memory. Past 50,000 references
    the bibliography is split into files of 50,000 (an input over 50 MB is refused)."""
    lines = []
    records = recorded_records()
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp, CrossrefSimulator(
            rate_limit=200, concurrency=8, polite_rate_limit=200, polite_concurrency=8,
        ) as sim:
            folder = Path(tmp)
            files = _warm_files(folder, records, count)
            env = cli_env(sim, folder / "cache")
            args = ["check", *files, "--format", "json", "--output", "report.json", "--no-urls"]
            first = run_cli(args, env, folder)
            requests_first = sim.stats.requests
            before = os.times()
            second = run_cli(args, env, folder)
            after = os.times()
            requests_second = sim.stats.requests - requests_first
        cpu = (after.children_user - before.children_user
               + after.children_system - before.children_system)
        split = f" in {len(files)} files" if len(files) > 1 else ""
        lines.append(
            f"Warm cache, {count} references{split} ({len(records)} distinct DOIs): "
            f"{second.seconds:.2f} s wall, {cpu:.2f} CPU-s, peak RSS {second.peak_rss_mb:.0f} MB "
            f"(cold first run {first.seconds:.1f} s, {requests_first} requests; the second run "
            f"made {requests_second}, for the records without title or authors, which are "
            f"never cached; exit {second.code}; load average {os.getloadavg()[0]:.1f})"
        )
    return lines


def _warm_files(folder: Path, records: list[dict[str, Any]], count: int,
                per_file: int = 50000) -> list[str]:
    """The bibliography as files of at most `per_file` entries, keys unique across them."""
    names = []
    for start in range(0, count, per_file):
        name = f"refs{start // per_file}.bib"
        with (folder / name).open("w", encoding="utf-8") as handle:
            for i in range(start, min(count, start + per_file)):
                handle.write(bibtex_entry(f"ref{i}", records[i % len(records)]))
        names.append(name)
    return names


def startup(repeats: int = 15) -> list[str]:
    lines = []
    for args in (["--version"], ["--help"]):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(["evidence", *args], capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        lines.append(f"`evidence {' '.join(args)}`: median {statistics.median(times):.3f} s, "
                     f"max {max(times):.3f} s over {repeats} runs")
    return lines


def readers() -> list[str]:
    """Entries (or paragraphs) read per second by each reader, at two sizes (linearity)."""
    from readers_bench import run

    return run()


def side_by_side() -> list[str]:
    """The same DOIs, cold, through evidence check, habanero and manubot (issue 15)."""
    from side_by_side import run

    return run()


def _script(*command: str) -> Callable[[], list[str]]:
    """A benchmark that is its own script and writes its own results file."""

    def run() -> list[str]:
        subprocess.run([sys.executable, *command], cwd=ROOT, check=True)
        return []

    return run


BENCHMARKS: dict[str, Callable[[], list[str]]] = {
    "cold": cold,
    "warm": warm,
    "startup": startup,
    "habanero": habanero,
    "readers": readers,
    "side_by_side": side_by_side,
    "links": _script("benchmarks/links_vs_linkchecker.py"),
    "matching": _script("-m", "benchmarks.matching_eval", "--write"),
    "styles": _script("benchmarks/styles_e2e.py", "--write"),
    # A synthetic snapshot of 200,000 works / ~2M references: 10 to 20 minutes on this machine.
    "snapshot": _script("benchmarks/snapshot_bench.py", "--works", "200000"),
    "refparse": _script("benchmarks/refparse_eval.py", "--write"),
}
# The order of BENCHMARKS.md; profile.md, warm-memory.md (profiling is not repeatable),
# pubmed.md (printed by benchmarks/pubmed_batching.py), refparse-speed.md (side by side with an
# older checkout, from benchmarks/refparse_speed.py and callgrind) and snapshot-scale.md
# (arithmetic on the snapshot figures) are written by hand.
SECTIONS = ("cold", "side_by_side", "habanero", "warm", "warm-memory", "startup", "readers",
            "links", "matching", "refparse", "refparse-speed", "styles", "pubmed", "snapshot",
            "snapshot-scale", "profile")

HEADER = """# Benchmarks

Every figure below was measured on this project's machine with the command shown beside it;
`python benchmarks/run.py` reruns them all and rewrites this file (`python benchmarks/run.py
NAME` reruns one). Crossref is the simulator in `tests/simulator.py` (a real HTTP server on
127.0.0.1 serving recorded Crossref records with Crossref's headers and limits); links go to local
HTTP servers. Nothing here reaches the internet.

| goal (issue) | measured | section |
| --- | --- | --- |
{goals}
"""


def assemble() -> None:
    parts = []
    for name in SECTIONS:
        path = RESULTS / f"{name}.md"
        if path.exists():
            text = path.read_text(encoding="utf-8").strip()
            parts.append(text.replace("\n# ", "\n## ").replace("# ", "## ", 1)
                         if text.startswith("# ") else text)
    goals_path = RESULTS / "goals.md"
    goals = goals_path.read_text(encoding="utf-8").strip() if goals_path.exists() else ""
    (ROOT / "BENCHMARKS.md").write_text(
        HEADER.format(goals=goals) + "\n" + "\n\n".join(parts) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, "assemble", []], default=[])
    args = parser.parse_args()
    if args.names == ["assemble"]:
        assemble()
        return
    names = args.names or list(BENCHMARKS)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    for name in names:
        print(f"== {name}", flush=True)
        lines = BENCHMARKS[name]()
        if not lines:  # a script benchmark: it wrote its own results file
            continue
        for line in lines:
            print(line, flush=True)
        text = (f"# {TITLES[name]}\n\nMeasured {stamp} on {machine()} with "
                f"`python benchmarks/run.py {name}`.\n\n" + "\n".join(f"- {x}" for x in lines))
        (RESULTS / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    assemble()


if __name__ == "__main__":
    main()
