"""Where a warm 50,000-reference check keeps its memory: tracemalloc, streamed and whole.

    python benchmarks/warm_memory.py 50000     # figures in benchmarks/results/warm-memory.md

Over a warm cache built by one cold run against the simulator, in this process:
- the streamed run `evidence check refs.bib --format json --output r.json --no-urls` does (read
  a chunk, audit a batch, spool it; the summary and the file last): its peak;
- the whole-report stages the other formats still go through (read all, audit all, build the
  report dict, render the text), each with what it holds.
tracemalloc makes it several times slower: the figures are bytes, not seconds.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cli_env, recorded_records, run_cli, write_bibliography

from tests.simulator import CrossrefSimulator  # common put the project on the path


def mark(stage: str) -> None:
    current, peak = tracemalloc.get_traced_memory()
    print(f"after {stage}: {current / 1e6:.0f} MB held, peak so far {peak / 1e6:.0f} MB",
          flush=True)


def streamed(bib: Path, output: Path) -> None:
    """The real command, in this process."""
    from evidence_cli import cli

    sys.argv = ["evidence", "check", str(bib), "--format", "json", "--output", str(output),
                "--no-urls", "-q"]
    tracemalloc.start()
    with contextlib.suppress(SystemExit):  # the exit code is not what is measured
        cli.main()
    mark("the streamed check (read, audit in batches, JSON spooled and written)")
    tracemalloc.stop()


def whole(bib: Path) -> None:
    from evidence_cli.audit import audit_references
    from evidence_cli.formats import build
    from evidence_cli.formats.report import Report, build_report
    from evidence_cli.settings import resolve_settings
    from evidence_cli.sources import read_all

    settings = resolve_settings({"check_urls": False})
    tracemalloc.start()
    references = read_all([str(bib)], settings.exclude_paths).references
    mark(f"reading {len(references)} references (whole)")
    results = audit_references(references, settings)
    mark("the audit (results)")
    report = build_report(results)
    mark("building the report dict")
    text = build("json").format(cast(Report, report))
    mark(f"rendering the JSON ({len(text) / 1e6:.0f} M characters)")
    tracemalloc.stop()


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, CrossrefSimulator(
        rate_limit=200, concurrency=8, polite_rate_limit=200, polite_concurrency=8,
    ) as sim:
        folder = Path(tmp)
        bib = folder / "refs.bib"
        write_bibliography(bib, recorded_records(), count)
        env = cli_env(sim, folder / "cache")
        run_cli(["check", str(bib), "--format", "json", "--output", str(folder / "cold.json"),
                 "--no-urls"], env, folder)
        os.environ.update(env)
        streamed(bib, folder / "r.json")
        whole(bib)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50000)
