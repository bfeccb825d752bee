"""Benchmark: a PMID-only reference list checked against the E-utilities simulator (NCBI's limits
enforced: 3 requests/s, 10 with a key): requests, 429s and wall time, cold and warm.

    python benchmarks/pubmed_batching.py --count 2000
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.common import cli_env, machine, run_cli
from tests.eutils_simulator import EUtilsSimulator
from tests.simulator import CrossrefSimulator

RECORDED = ("27797938", "28775130", "30108519", "11748933", "11700088", "9997", "12091962")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, CrossrefSimulator() as crossref, \
            EUtilsSimulator() as eutils:
        crossref.start()
        work = Path(folder)
        lines = []
        for i in range(args.count):
            pmid = RECORDED[i] if i < len(RECORDED) else str(30000000 + i)
            lines.append(f"Author{i} A. Trial {i}. J Med. 2020;1:{i}. PMID: {pmid}.")
        (work / "refs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = {**cli_env(crossref, work / "cache"), "EVIDENCE_NCBI_URL": eutils.url}
        print(f"# PubMed batching ({args.count} PMID-only references; {machine()})")
        for label, extra in (("cold", ["--refresh"]), ("warm", [])):
            before = eutils.stats.requests
            limited = eutils.stats.rate_limited
            run = run_cli(["check", "refs.txt", "--no-urls", "--no-pubmed-search", "-q",
                           "--format", "json", *extra], env, work)
            report = json.loads(run.stdout)
            print(f"{label}: {run.seconds:.2f} s, exit {run.code}, "
                  f"{eutils.stats.requests - before} E-utilities requests, "
                  f"{eutils.stats.rate_limited - limited} answered 429, "
                  f"summary {report['summary']}")


if __name__ == "__main__":
    main()
