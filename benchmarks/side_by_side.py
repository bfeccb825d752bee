"""The same DOIs, cold, through `evidence check`, habanero and manubot, side by side in one run.

    python benchmarks/run.py side_by_side

The stand-in is the Crossref simulator advertising 50 requests/s and 3 concurrent with 40 ms
latency; the limit-bound minimum for N DOIs is N / 50 s (one request per DOI at the limit).
habanero is called as its users call it: `Crossref(base_url=...).works(ids=[...])`. manubot's
`cite` is not run: it cannot be pointed at the stand-in (see MANUBOT). Benchmark-only packages
come from the `bench` extra (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    CrossrefSimulator,
    bench_records,
    cli_env,
    recorded_records,
    run_cli,
    write_bibliography,
)

RATE, CONCURRENCY, LATENCY = 50, 3, 0.04
COUNTS = (100, 1000)

MANUBOT = (
    "manubot {version} `cite` not run: it cannot be pointed at the same stand-in. For each DOI "
    "it asks doi.org content negotiation (`https://doi.org/<doi>` with a CSL-JSON Accept header; "
    "the URL is a module constant, `manubot.cite.doi.content_negotiation_url_default`), then "
    "shortdoi.org for a short link and NCBI's ID converter for PubMed ids — three requests to "
    "three fixed hosts per DOI, none of them Crossref's REST API that the stand-in serves"
)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def _ours(records: list[dict[str, object]], folder: Path, sim: CrossrefSimulator,
          fixed: float) -> str:
    write_bibliography(folder / "refs.bib", records, len(records))
    run = run_cli(["check", "refs.bib", "--format", "json", "--output", "report.json",
                   "--no-urls"], cli_env(sim, folder / "cache"), folder)
    requests, refused = sim.stats.requests, sim.stats.rate_limited
    minimum = len(records) / RATE
    return (f"evidence check: {run.seconds:.2f} s wall, {requests} requests, {refused} answered "
            f"429, {run.seconds / minimum:.2f}× the limit-bound minimum, "
            f"{run.seconds / (minimum + fixed):.2f}× the minimum plus the fixed cost "
            f"(exit {run.code})")


def _habanero(records: list[dict[str, object]], sim: CrossrefSimulator) -> str:
    from importlib.metadata import version

    from habanero import Crossref

    dois = [str(record["DOI"]) for record in records]
    start = time.perf_counter()
    failed = ""
    try:
        answers = Crossref(base_url=sim.url).works(ids=dois)
        got = sum(1 for answer in answers if answer)
    except Exception as error:  # habanero raises on a 429 or any HTTP error, losing the batch
        got, failed = 0, f"; raised {type(error).__name__} after {sim.stats.requests} requests"
    seconds = time.perf_counter() - start
    minimum = len(records) / RATE
    return (f"habanero {version('habanero')}: {seconds:.2f} s wall, {sim.stats.requests} "
            f"requests, {sim.stats.rate_limited} answered 429, {got} records returned, "
            f"{seconds / minimum:.2f}× the limit-bound minimum{failed}")


def _startup(folder: Path, repeats: int = 7) -> tuple[float, str]:
    """A one-reference offline check (what any `check` run pays before its first request)."""
    (folder / "one.bib").write_text(
        "@article{a, title={Sleep apnea in fragile X premutation carriers}, author={Hamlin, A.},"
        " year={2011}, doi={10.1002/ajmg.b.31237}}\n", encoding="utf-8")
    env = dict(os.environ, EVIDENCE_CACHE_DIR=str(folder / "cache-one"))
    walls, cpus = [], []
    for _ in range(repeats):
        before = os.times()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "evidence_cli", "check", "one.bib", "--offline",
                        "--format", "json"], cwd=folder, env=env, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = os.times()
        cpus.append(after.children_user - before.children_user
                    + after.children_system - before.children_system)
    return statistics.median(walls), (
        f"fixed cost of a `check` run (one BibTeX reference, --offline, JSON): median "
        f"{statistics.median(walls):.3f} s wall, {statistics.median(cpus):.3f} s CPU "
        f"(min {min(walls):.3f} s wall) over {repeats} runs")


def _bare_links(known: int = 140, unknown: int = 80) -> str:
    """A Markdown page of bare DOI links, some to DOIs no agency knows: nothing to search with."""
    records = recorded_records()[:known]
    links = [f"https://doi.org/{record['DOI']}" for record in records]
    links += [f"https://doi.org/10.9999/evidence-cli.unknown-{i}" for i in range(unknown)]
    with tempfile.TemporaryDirectory() as tmp, CrossrefSimulator(
        rate_limit=RATE, concurrency=CONCURRENCY, latency=LATENCY,
        polite_rate_limit=RATE, polite_concurrency=CONCURRENCY,
    ) as sim:
        folder = Path(tmp)
        (folder / "page.md").write_text("".join(f"See {link}.\n\n" for link in links),
                                        encoding="utf-8")
        run = run_cli(["check", "page.md", "--format", "json", "--output", "report.json",
                       "--no-urls"], cli_env(sim, folder / "cache"), folder)
        searches = sum(1 for entry in sim.stats.log if "query" in entry.path)
        requests = sim.stats.requests
    minimum = requests / RATE
    return (f"{known + unknown} bare DOI links, {unknown} to DOIs no agency knows: "
            f"{run.seconds:.2f} s wall, {requests} requests ({searches} searches; each unknown "
            f"DOI costs its lookup and its agency question), limit-bound minimum "
            f"{minimum:.2f} s, {run.seconds / minimum:.2f}× (exit {run.code})")


def run() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    lines = [f"Machine shared with other work while measured: {_load()}; wall figures are "
             "pessimistic"]
    with tempfile.TemporaryDirectory() as tmp:
        fixed, line = _startup(Path(tmp))
        lines.append(line)
    for count in COUNTS:
        records = bench_records(count)
        constructed = max(0, count - len(recorded_records()))
        head = (f"{count} DOIs ({count - constructed} recorded, {constructed} copies under new "
                f"DOIs), cold, stand-in at {RATE}/s, {CONCURRENCY} concurrent, "
                f"{LATENCY * 1000:.0f} ms latency, limit-bound minimum {count / RATE:.2f} s")
        parts = []
        for tool in ("ours", "habanero"):
            with tempfile.TemporaryDirectory() as tmp, CrossrefSimulator(
                rate_limit=RATE, concurrency=CONCURRENCY, latency=LATENCY,
                polite_rate_limit=RATE, polite_concurrency=CONCURRENCY,
            ) as sim:
                for record in records[len(recorded_records()):]:
                    sim.add_record(record)
                parts.append(_ours(records, Path(tmp), sim, fixed) if tool == "ours"
                             else _habanero(records, sim))
        lines.append(f"{head}: " + "; ".join(parts) + f" ({_load()})")
    lines.append(_bare_links())
    try:
        lines.append(MANUBOT.format(version=version("manubot")))
    except PackageNotFoundError:
        lines.append(MANUBOT.format(version="(not installed)"))
    return lines
