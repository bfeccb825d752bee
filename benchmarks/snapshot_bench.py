"""Benchmark the local Crossref snapshot on a generated data file (issue 18).

    python benchmarks/snapshot_bench.py --works 200000 --refs-per-work 10

Generates a SYNTHETIC snapshot in the public data file's exact layout (a folder of gzipped
`{"items": [work, ...]}` files, 5,000 works each) from the recorded Crossref records in
tests/fixtures/crossref/works.jsonl: every work is a recorded record with a new DOI under the
test prefix 10.5555 (`10.5555/synthetic.N`), a perturbed title, shuffled author names, a new
year and a generated reference list (most references cite other generated works; some cite
DOIs that do not exist, some a DataCite prefix, some give only text); one work in 500 is
retracted by a generated notice. None of it is real bibliographic data, and the manifest says
so ("source": "synthetic ..."). Then it measures: build (records/s, peak RSS, size on disk),
DOI lookups/s, searches/s, the warm `evidence check --snapshot` of 50,000 references, and
`evidence bulk` with DuckDB and with Spark. Results go to benchmarks/results/snapshot.md.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import machine, recorded_records, write_bibliography  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PER_FILE = 5000
DROP = ("reference", "score")


def _templates() -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in DROP} for r in recorded_records()
            if r.get("title")]


def generate(folder: Path, works: int, refs_per_work: int, seed: int = 18) -> dict[str, int]:
    """Write the synthetic data file; returns its counts."""
    rng = random.Random(seed)
    templates = _templates()
    vocabulary = sorted({w for t in templates for title in t.get("title", [])
                         for w in title.split() if w.isalpha() and len(w) > 3})
    families = sorted({str(a.get("family")) for t in templates for a in t.get("author") or []
                       if a.get("family")})
    folder.mkdir(parents=True, exist_ok=True)
    counts = {"works": 0, "references": 0, "retracted": 0}
    retracted_every = 500
    batch: list[dict[str, Any]] = []
    file_number = 0

    def flush() -> None:
        nonlocal batch, file_number
        if batch:
            body = json.dumps({"items": batch}, ensure_ascii=False).encode()
            (folder / f"{file_number:05d}.json.gz").write_bytes(gzip.compress(body, 1))
            file_number += 1
            batch = []

    for i in range(works):
        template = templates[i % len(templates)]
        work = dict(template)
        doi = f"10.5555/synthetic.{i}"
        work["DOI"] = doi
        work["URL"] = f"https://doi.org/{doi}"
        words = str(template["title"][0]).split()
        for _ in range(min(3, len(words))):
            words[rng.randrange(len(words))] = rng.choice(vocabulary)
        work["title"] = [" ".join(words)]
        if template.get("author"):
            work["author"] = [dict(a, family=rng.choice(families)) if a.get("family") else a
                              for a in template["author"]]
        year = rng.randint(1990, 2025)
        date = {"date-parts": [[year, rng.randint(1, 12), rng.randint(1, 28)]]}
        work["issued"] = work["published"] = date
        for key in ("published-print", "published-online"):
            work.pop(key, None)
        work.pop("updated-by", None)
        work.pop("update-to", None)
        work["deposited"] = {"date-parts": [[2026, 1, 1 + i % 28]]}
        references = []
        for n in range(rng.randint(refs_per_work // 2, refs_per_work * 3 // 2)):
            roll = rng.random()
            if roll < 0.85:
                references.append({"key": f"ref{n}", "DOI": f"10.5555/synthetic."
                                                            f"{rng.randrange(works)}"})
            elif roll < 0.88:
                references.append({"key": f"ref{n}", "DOI": f"10.5555/synthetic.x{n}{i}"})
            elif roll < 0.90:
                references.append({"key": f"ref{n}", "DOI": f"10.5281/zenodo.{i}{n}"})
            else:
                references.append({"key": f"ref{n}", "unstructured":
                                   f"{rng.choice(families)} A. {rng.choice(vocabulary)} "
                                   f"{rng.choice(vocabulary)}. {year - 3}."})
        work["reference"] = references
        work["reference-count"] = work["references-count"] = len(references)
        counts["references"] += len(references)
        if i % retracted_every == retracted_every - 1:
            notice_doi = f"10.5555/synthetic.notice.{i}"
            when = {"date-parts": [[min(year + 2, 2026), 6, 1]]}
            work["updated-by"] = [{"DOI": notice_doi, "type": "retraction", "label": "Retraction",
                                   "source": "retraction-watch", "record-id": i,
                                   "updated": when}]
            notice = {"DOI": notice_doi, "type": "journal-article",
                      "title": [f"Retraction: {work['title'][0]}"], "issued": when,
                      "container-title": template.get("container-title", []),
                      "update-to": [{"DOI": doi, "type": "retraction", "label": "Retraction",
                                     "source": "retraction-watch", "updated": when}],
                      "deposited": when}
            batch.append(notice)
            counts["retracted"] += 1
        batch.append(work)
        counts["works"] += 1
        if len(batch) >= PER_FILE:
            flush()
    flush()
    return counts


LAST_CPU = [0.0]
_LAUNCHER = """
import json, os, subprocess, sys
command = json.loads(sys.argv[1])
child = subprocess.Popen(command, stdout=int(os.environ["OUT_FD"]),
                         stderr=int(os.environ["ERR_FD"]), close_fds=False)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
                  "cpu": usage.ru_utime + usage.ru_stime}))
"""


def _child(command: list[str], cwd: Path | None = None) -> tuple[float, float, str, str]:
    """Run a child; (seconds, peak RSS MB of it and its children, stdout, stderr). Its CPU
    seconds (user + system, children included) are left in LAST_CPU: on a machine shared with
    other work, wall time says more about the neighbours than about the code."""
    start = time.perf_counter()
    # Linux carries the parent's resident size into a child's ru_maxrss (at exec), and this
    # process holds hundreds of MB: a small launcher process starts the command and reports
    # its own child's peak RSS and CPU (wait4: the command and its reaped descendants).
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        launcher = subprocess.run([sys.executable, "-c", _LAUNCHER, json.dumps(command)],
                                  cwd=cwd, stdout=subprocess.PIPE, text=True,
                                  pass_fds=(out_file.fileno(), err_file.fileno()),
                                  env={**os.environ, "OUT_FD": str(out_file.fileno()),
                                       "ERR_FD": str(err_file.fileno())})
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    seconds = time.perf_counter() - start
    usage = json.loads(launcher.stdout)
    LAST_CPU[0] = usage["cpu"]
    peak = usage["maxrss_kb"] / 1024
    if usage["code"] not in (0, 1, 4):
        raise SystemExit(f"{command} failed ({usage['code']}):\n{err[-3000:]}")
    return seconds, peak, out, err


def _size(path: Path, skip: str | None = None, skip_linked: bool = False) -> int:
    """Bytes of the files under `path` (but a folder named `skip`; `skip_linked`: files that
    have another name too, the references table's hard links to the parts)."""
    return sum(p.stat().st_size for p in path.rglob("*")
               if p.is_file() and (skip is None or skip not in p.parts)
               and not (skip_linked and p.stat().st_nlink > 1))


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def lookups(snapshot: Path, works: int, rng: random.Random) -> tuple[float, float, float]:
    from evidence_cli.services.snapshot import Snapshot

    snap = Snapshot(snapshot)
    try:
        dois = [f"10.5555/synthetic.{rng.randrange(works)}" for _ in range(50_000)]
        snap.records(dois[:1000])  # warm
        start, cpu = time.perf_counter(), time.process_time()
        for first in range(0, len(dois), 5000):
            found = snap.records(dois[first:first + 5000])
            assert len(found) > 0
        batched = len(dois) / (time.perf_counter() - start)
        batched_cpu = len(dois) / (time.process_time() - cpu)
        start = time.perf_counter()
        for doi in dois[:2000]:
            snap.records([doi])
        single = 2000 / (time.perf_counter() - start)
    finally:
        snap.close()
    return batched, single, batched_cpu


def searches(snapshot: Path, works: int, rng: random.Random, count: int = 500
             ) -> tuple[float, float, float]:
    """Searches/s (wall, CPU) and how often the generated work came first, for reference texts
    built from a work's own fields (first author, year, title, journal)."""
    from evidence_cli.services.snapshot import Snapshot

    snap = Snapshot(snapshot)
    try:
        wanted = [f"10.5555/synthetic.{rng.randrange(works)}" for _ in range(count)]
        records = snap.records(wanted)
        queries = []
        for doi in wanted:
            record = records[doi]
            author = (record.get("author") or [{}])[0].get("family", "")
            year = record["issued"]["date-parts"][0][0]
            journal = (record.get("container-title") or [""])[0]
            queries.append((doi, f"{author} {year} {record['title'][0]} {journal}"))
        snap.search(queries[0][1])
        start, cpu = time.perf_counter(), time.process_time()
        first = sum(1 for doi, text in queries
                    if (hits := snap.search(text)) and hits[0]["DOI"] == doi)
        rate = count / (time.perf_counter() - start)
        rate_cpu = count / (time.process_time() - cpu)
    finally:
        snap.close()
    return rate, first / count, rate_cpu


def audit_bibliography(snapshot: Path, path: Path, works: int, count: int,
                       rng: random.Random, distinct: int | None = None) -> None:
    """BibTeX of `count` references citing generated works by DOI, as they are registered (the
    warm-cache benchmark's format, so the two figures compare)."""
    from evidence_cli.services.snapshot import Snapshot

    snap = Snapshot(snapshot)
    try:
        records = snap.records(f"10.5555/synthetic.{rng.randrange(works)}"
                               for _ in range(distinct or count))
    finally:
        snap.close()
    write_bibliography(path, list(records.values()), count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--works", type=int, default=200_000)
    parser.add_argument("--refs-per-work", type=int, default=10)
    parser.add_argument("--audit", type=int, default=50_000)
    parser.add_argument("--folder", type=Path, help="Keep the generated files here.")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--measure-only", action="store_true",
                        help="Reuse the snapshot in --folder: skip generating and building.")
    parser.add_argument("--reuse-data", action="store_true",
                        help="Reuse the data generated in --folder before (its generated.json "
                             "says the counts): skip generating, build and measure.")
    args = parser.parse_args()
    rng = random.Random(7)
    temp = tempfile.mkdtemp(prefix="snapshot-bench-")
    folder = args.folder or Path(temp)
    python = [sys.executable, "-m", "evidence_cli"]
    lines: list[str] = []
    try:
        data, snapshot = folder / "data", folder / "snapshot"
        if not args.measure_only:
            lines += build_figures(data, snapshot, args, python)
        measure(snapshot, folder, args, python, rng, lines)
    finally:
        if args.folder is None:
            shutil.rmtree(temp, ignore_errors=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = (f"python benchmarks/snapshot_bench.py --works {args.works} --refs-per-work "
               f"{args.refs_per_work}" + (" --measure-only" if args.measure_only else "")
               + (" --reuse-data" if args.reuse_data else ""))
    text = ("# Local Crossref snapshot (issue 18)\n\n"
            f"Measured {stamp} on {machine()} with `{command}` (a synthetic snapshot: generated "
            "from the recorded records, not real data).\n\n"
            + "\n".join(f"- {line}" for line in lines) + "\n")
    for line in lines:
        print(line, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / ("snapshot-measure.md" if args.measure_only else "snapshot.md")
    target.write_text(text, encoding="utf-8")


def build_figures(data: Path, snapshot: Path, args: argparse.Namespace, python: list[str]
                  ) -> list[str]:
    lines: list[str] = []
    shutil.rmtree(snapshot, ignore_errors=True)
    # The counts of a generation, beside its data: --reuse-data builds from it again (at 1M
    # works generating takes three times as long as building).
    generated_file = data.parent / "generated.json"
    if args.reuse_data:
        if not generated_file.is_file():
            raise SystemExit(f"--reuse-data: no {generated_file}; generate once without it")
        counts = json.loads(generated_file.read_text(encoding="utf-8"))
        if (counts.get("asked_works"), counts.get("refs_per_work")) != (args.works,
                                                                       args.refs_per_work):
            raise SystemExit(f"--reuse-data: {data} was generated with other --works or "
                             "--refs-per-work")
        made, took = "Data generated before:", ""
    else:
        start = time.perf_counter()
        counts = generate(data, args.works, args.refs_per_work)
        made, took = "Generated", f", in {time.perf_counter() - start:.0f} s"
        generated_file.write_text(json.dumps({**counts, "asked_works": args.works,
                                              "refs_per_work": args.refs_per_work}),
                                  encoding="utf-8")
    lines.append(f"{made} {counts['works']:,} works (+{counts['retracted']:,} retraction "
                 f"notices) and {counts['references']:,} references in "
                 f"{len(list(data.iterdir()))} files, {_mb(_size(data))} gzipped{took}")
    records = counts["works"] + counts["retracted"]
    seconds, peak, _, err = _child([
        *python, "snapshot", "build", str(data), "--out", str(snapshot), "--jobs", "2",
        "--source",
        f"synthetic: {counts['works']:,} generated works from the recorded records "
        "(benchmarks/snapshot_bench.py)", "--date", "2026-01-28"])
    lines.append(f"Build (`--jobs 2`): {seconds:.1f} s wall, {records / seconds:,.0f} "
                 f"records/s; {LAST_CPU[0]:.1f} CPU-s ({records / LAST_CPU[0]:,.0f} records "
                 f"per CPU-second); peak RSS {peak:.0f} MB; {err.strip()}")
    lines.append(f"Size on disk: {_mb(_size(snapshot, skip='parts'))} (works "
                 f"{_mb(_size(snapshot / 'works'))}, references "
                 f"{_mb(_size(snapshot / 'references'))}, lookup and search index "
                 f"{_mb((snapshot / 'index.sqlite3').stat().st_size)}); resumable parts "
                 f"{_mb(_size(snapshot / 'parts', skip_linked=True))} more, not counting the "
                 "references they share with the table by hard links (may be deleted once "
                 "built)")
    return lines


def measure(snapshot: Path, folder: Path, args: argparse.Namespace, python: list[str],
            rng: random.Random, lines: list[str]) -> None:
    batched, single, batched_cpu = lookups(snapshot, args.works, rng)
    lines.append(f"DOI lookups: {batched:,.0f}/s wall ({batched_cpu:,.0f} per CPU-second) "
                 f"in batches of 5,000, how the audit asks; {single:,.0f}/s one at a time")
    rate, first, rate_cpu = searches(snapshot, args.works, rng)
    lines.append(f"Searches: {rate:,.0f}/s wall ({rate_cpu:,.0f} per CPU-second; 500 "
                 f"reference texts: first author, year, title, journal); the generated "
                 f"work ranked first for {first:.0%}")
    for distinct in (None, 408):
        bib = folder / "refs.bib"
        audit_bibliography(snapshot, bib, args.works, args.audit, rng, distinct)
        check = [*python, "check", str(bib), "--snapshot", str(snapshot), "--offline",
                 "--no-urls", "-f", "json", "-o", str(folder / "report.json"), "--cache-dir",
                 str(folder / "cache")]
        _child(check)  # the first run reads the files into the page cache
        seconds, peak, _, err = _child(check)
        report = json.loads((folder / "report.json").read_text())
        mix = (f"{distinct} distinct works, as the warm-cache benchmark cycles"
               if distinct else "random works, ~90% distinct")
        lines.append(f"Warm audit of {args.audit:,} references (BibTeX; {mix}) through "
                     f"--snapshot --offline: {seconds:.2f} s wall, {LAST_CPU[0]:.1f} CPU-s, "
                     f"peak RSS {peak:.0f} MB ({err.strip()})")
    engines = ["duckdb"] if args.no_spark else ["duckdb", "spark"]
    for engine in engines:
        seconds, peak, _, err = _child([*python, "bulk", str(snapshot), "--out",
                                        str(folder / f"bulk-{engine}"), "--engine", engine,
                                        "-q"])
        summary = json.loads((folder / f"bulk-{engine}" / "summary.json").read_text())
        figures = summary["summary"]
        lines.append(f"Bulk audit, {engine}: {seconds:.1f} s wall, {LAST_CPU[0]:.1f} CPU-s "
                     f"(children included), peak RSS {peak:.0f} MB; "
                     f"{figures['refs']:,} references, "
                     f"{figures['missing']:,} cited DOIs not in the snapshot, "
                     f"{figures['retracted']:,} citations of retracted works")
    assert report["snapshot"]["date"] == "2026-01-28"


if __name__ == "__main__":
    main()
