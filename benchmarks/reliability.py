"""The heavier repetitions behind RELIABILITY.md: random input, SIGINT and SIGKILL, many times.

    python benchmarks/reliability.py                 # defaults below, about 6 minutes on 2 cores
    python benchmarks/reliability.py --kills 20 --sigints 5 --fuzz 200   # a quick look

Everything runs on loopback: the Crossref simulator (tests/simulator.py) in this process, the real
`evidence` command in subprocesses. Prints one Markdown table; every figure is counted here, in
this run. The test suite runs the same checks fewer times (tests/test_hostile_input.py,
tests/test_interrupt.py, tests/test_kill_atomicity.py).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evidence_cli.errors import InputError
from evidence_cli.services.cache import CACHE_FILE
from evidence_cli.sources import read_one
from tests.simulator import CrossrefSimulator
from tests.test_hostile_input import SUFFIXES, TOKENS, _assert_read_cleanly, _docx
from tests.test_interrupt import _answered, _cached, _dois, let_children_see_sigint
from tests.test_kill_atomicity import (
    Outcomes,
    environment,
    fix_write_trials,
    study_add_trials,
)

# --- random input -------------------------------------------------------------------------------


def _random_input(kind: str, rng: random.Random) -> bytes:
    """Random bytes, random text, or format-shaped noise, in turn."""
    style = rng.randrange(3)
    if style == 0:
        return rng.randbytes(rng.randrange(0, 2000))
    if style == 1:
        alphabet = [chr(rng.randrange(0x20, 0x3000)) for _ in range(40)] + ["\n", "\t", " "]
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 800))).encode(
            "utf-8", errors="replace")
    pieces = TOKENS[kind]
    return "".join(rng.choice(pieces) if rng.random() < 0.8 else chr(rng.randrange(0x20, 0x250))
                   for _ in range(rng.randrange(0, 60))).encode("utf-8")


def fuzz(per_reader: int, rng: random.Random) -> dict[str, Counter[str]]:
    """Per reader: how many inputs were read, refused with an InputError, or broke the contract
    (any other exception, or an error that does not name the file and line)."""
    results: dict[str, Counter[str]] = {}
    for kind in SUFFIXES:
        counts: Counter[str] = Counter()
        for _ in range(per_reader):
            if kind == "docx" and rng.random() < 0.5:
                # Half the .docx inputs are real documents with hostile paragraphs or bytes.
                text = _random_input("text", rng).decode("utf-8", "ignore")
                text = "".join(ch for ch in text if ch >= " " and not "\x7f" <= ch <= "\x9f")
                blob = bytearray(_docx([text]))
                for _ in range(rng.randrange(0, 6)):
                    blob[rng.randrange(len(blob))] = rng.randrange(256)
                data = bytes(blob)
            else:
                data = _random_input(kind, rng)
            try:
                _assert_read_cleanly(data, kind)
            except AssertionError:
                counts["contract broken"] += 1
                continue
            except Exception as error:
                counts[f"escaped: {type(error).__name__}"] += 1
                continue
            try:
                read_one(data, f"x{SUFFIXES[kind]}", kind)
                counts["read"] += 1
            except InputError:
                counts["input error"] += 1
        results[kind] = counts
    return results


# --- SIGINT -------------------------------------------------------------------------------------


@dataclass
class SigintOutcomes:
    runs: int = 0
    exit_130: int = 0
    slowest_exit: float = 0.0
    answers_before: list[int] = field(default_factory=list)  # cache entries at the signal
    cache_kept: int = 0
    cache_sound: int = 0
    no_partial_report: int = 0
    problems: list[str] = field(default_factory=list)


def sigint_trials(runs: int, rng: random.Random) -> SigintOutcomes:
    outcomes = SigintOutcomes()
    let_children_see_sigint()
    for run in range(runs):
        with tempfile.TemporaryDirectory() as folder, CrossrefSimulator(
                rate_limit=1000, concurrency=4, polite_rate_limit=1000, polite_concurrency=4,
                latency=0.3) as sim:
            work = Path(folder)
            env = environment(sim.url, work)
            dois = _dois(sim)
            (work / "refs.txt").write_text("".join(f"doi:{d}\n" for d in dois), encoding="utf-8")
            (work / "out").mkdir()
            report = work / "out" / "report.json"
            process = subprocess.Popen(
                [sys.executable, "-m", "evidence_cli", "check", "refs.txt", "--no-urls",
                 "--output", str(report)], cwd=work, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            answers = rng.randrange(1, 25)
            while _answered(sim) < answers and process.poll() is None:
                time.sleep(0.005)
            cache_dir = work / "cache"
            before = _cached(cache_dir, dois) if (cache_dir / CACHE_FILE).exists() else set()
            process.send_signal(signal.SIGINT)
            sent = time.monotonic()
            outcomes.answers_before.append(len(before))
            try:
                _, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                outcomes.problems.append(f"run {run}: no exit within 30 s")
                continue
            waited = time.monotonic() - sent
            sim.wake_sleepers()
            outcomes.runs += 1
            outcomes.slowest_exit = max(outcomes.slowest_exit, waited)
            if process.returncode == 130 and "Traceback" not in stderr:
                outcomes.exit_130 += 1
            else:
                outcomes.problems.append(f"run {run}: exit {process.returncode}: {stderr[-200:]}")
            after = _cached(cache_dir, dois) if (cache_dir / CACHE_FILE).exists() else set()
            outcomes.cache_kept += before <= after
            if (cache_dir / CACHE_FILE).exists():
                connection = sqlite3.connect(cache_dir / CACHE_FILE)
                ok = connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                connection.close()
            else:
                ok = True
            outcomes.cache_sound += ok
            names = sorted(p.name for p in report.parent.iterdir())
            whole = names == [] or (names == ["report.json"] and _is_json(report))
            outcomes.no_partial_report += whole and not list(work.rglob("*.tmp"))
    return outcomes


def _is_json(path: Path) -> bool:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return True


# --- report -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=100,
                        help="SIGKILL trials of study add, and as many of fix --write")
    parser.add_argument("--sigints", type=int, default=20, help="SIGINT trials of check")
    parser.add_argument("--fuzz", type=int, default=3000, help="random inputs per reader")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    rows: list[str] = []
    started = time.monotonic()
    fuzzed = fuzz(args.fuzz, rng)
    for kind, counts in fuzzed.items():
        broken = sum(v for k, v in counts.items() if k not in ("read", "input error"))
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        rows.append(f"| random input, {kind} reader | {sum(counts.values())} | "
                    f"{'held' if not broken else 'FAILED'} ({detail}) |")
    fuzz_seconds = time.monotonic() - started

    kills: dict[str, Outcomes] = {}
    with CrossrefSimulator(rate_limit=1000, concurrency=8, polite_rate_limit=1000,
                           polite_concurrency=8, list_rate_limit=1000,
                           polite_list_rate_limit=1000) as sim:
        for name, trials in (("study add", study_add_trials), ("fix --write", fix_write_trials)):
            with tempfile.TemporaryDirectory() as folder:
                kills[name] = trials(sim, Path(folder), args.kills, rng)
    for name, outcome in kills.items():
        rows.append(
            f"| SIGKILL during `{name}` | {outcome.trials} | "
            f"{'held' if not outcome.torn else 'FAILED'}: old file {outcome.old}, new file "
            f"{outcome.new} (of which the run had finished {outcome.finished}), torn "
            f"{len(outcome.torn)}; temp files left by killed writers {outcome.leftover_temps} |")
        for problem in outcome.torn[:5]:
            rows.append(f"|  | | torn: {problem!r} |")

    interrupted = sigint_trials(args.sigints, rng)
    rows.append(
        f"| SIGINT during `check --output` | {interrupted.runs} | exit 130 {interrupted.exit_130},"
        f" cache entries kept {interrupted.cache_kept}, cache sound {interrupted.cache_sound}, "
        f"no partial report or temp file {interrupted.no_partial_report}; slowest exit "
        f"{interrupted.slowest_exit:.2f} s after the signal; cache entries at the signal "
        f"{min(interrupted.answers_before, default=0)} to "
        f"{max(interrupted.answers_before, default=0)} of 30 |")
    for problem in interrupted.problems[:5]:
        rows.append(f"|  | | {problem!r} |")

    print(f"seed {args.seed}; random input took {fuzz_seconds:.0f} s, all "
          f"{time.monotonic() - started:.0f} s\n")
    print("| What | Runs | Result |")
    print("| --- | ---: | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
