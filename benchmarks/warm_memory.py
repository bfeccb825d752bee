"""Where a warm 50,000-reference check keeps its memory: tracemalloc after each stage.

    python benchmarks/warm_memory.py 50000     # figures in benchmarks/results/warm-memory.md

Runs the stages of `evidence check --format json --no-urls` in this process (read, audit,
report, render) over a warm cache built by one cold run against the simulator. tracemalloc makes
it several times slower: the figures are bytes, not seconds.
"""

from __future__ import annotations

import os
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CrossrefSimulator, cli_env, recorded_records, run_cli, write_bibliography


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
        from evidence_cli.audit import audit_references, build_report
        from evidence_cli.formats import build, neutral
        from evidence_cli.formats.report import Report
        from evidence_cli.settings import resolve_settings
        from evidence_cli.sources import read_all

        settings = resolve_settings({"check_urls": False})
        tracemalloc.start()

        def mark(stage: str) -> None:
            current, peak = tracemalloc.get_traced_memory()
            print(f"after {stage}: {current / 1e6:.0f} MB held, peak so far {peak / 1e6:.0f} MB",
                  flush=True)

        references = read_all([str(bib)], settings.exclude_paths).references
        mark(f"reading {len(references)} references")
        results = audit_references(references, settings)
        mark("the audit (results)")
        report = build_report(results)
        mark("building the report dict")
        text = neutral(build("json").format(cast(Report, report)))
        mark(f"rendering the JSON ({len(text) / 1e6:.0f} M characters)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50000)
