"""Benchmark: evidence-cli's LinkChecker against linkchecker on 300 links to local slow servers.

Ten local servers (127.0.0.1 to 127.0.0.10, 40 ms latency on every answer) stand in for ten
sites; 300 links mix fast, slow, broken, redirected, rate-limited and failing pages, each with a
known right verdict. Both tools run as subprocesses against the same servers, with the same
timeout and overall concurrency; the script prints and records wall time, requests sent, and
every verdict that differs from the expected one.

    python benchmarks/links_vs_linkchecker.py [--timeout 2] [--repeat 3]
        [--output benchmarks/results/links.md]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.webserver import LocalServer  # noqa: E402

LATENCY = 0.04
HOSTS = [f"127.0.0.{i}" for i in range(1, 11)]
CONCURRENCY = 16

# (route, how many links, the right verdict). 300 links in all.
MIX: list[tuple[str, int, str]] = [
    ("/ok", 150, "ok"),
    ("/delay?s=0.5", 30, "ok"),  # slow, but well within the timeout
    ("/slow", 6, "url-timeout"),  # answers after 10 s
    ("/404", 30, "url-broken"),
    ("/410", 10, "url-broken"),
    ("/redirect-permanent", 20, "url-redirected"),
    ("/redirect-temp", 15, "ok"),
    ("/loop-a", 4, "url-broken"),
    ("/429-then-ok", 10, "ok"),  # 429 with Retry-After: 1, then 200
    ("/always-429", 5, "url-blocked"),
    ("/503", 5, "url-server-error"),
    ("/500-then-ok", 5, "ok"),
    ("/head-405", 5, "ok"),
    ("/403", 5, "url-blocked"),
]


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    route: str
    expected: str


def make_links(servers: list[LocalServer], run: str) -> list[Link]:
    """The 300 links, spread round-robin over the servers; `run` makes every URL (and so every
    stateful route) fresh for each tool."""
    links: list[Link] = []
    n = 0
    for route, count, expected in MIX:
        for _ in range(count):
            server = servers[n % len(servers)]
            sep = "&" if "?" in route else "?"
            links.append(Link(server.url(f"{route}{sep}run={run}&n={n}"), route, expected))
            n += 1
    return links


# -- the two tools --------------------------------------------------------------------------


async def _evidence(urls: list[str], timeout: float, retries: int) -> dict[str, dict[str, object]]:
    from evidence_cli.services.links import LinkChecker

    async with httpx.AsyncClient(trust_env=False) as client:
        checker = LinkChecker(client, timeout=timeout, max_retries=retries, allow_private=True,
                              global_limit=CONCURRENCY)
        verdicts = await checker.check_many(urls)
    return {
        url: {"verdict": v.finding.code if v.finding else "ok", "status": v.status}
        for url, v in verdicts.items()
    }


def evidence_child(urls_file: str, out_file: str, timeout: float, retries: int) -> None:
    """Run inside a subprocess, like linkchecker, so that neither tool shares the servers'
    process (and interpreter lock)."""
    urls = json.loads(Path(urls_file).read_text())
    result = asyncio.run(_evidence(urls, timeout, retries))
    Path(out_file).write_text(json.dumps(result))


def run_evidence_check(links: list[Link], timeout: float, tmp: Path
                       ) -> tuple[float, dict[str, str]]:
    """The real command, as a user runs it: `evidence check urls.txt --urls-only`."""
    urls_file, out_file = tmp / "urls.txt", tmp / "evidence-check.json"
    urls_file.write_text("\n".join(link.url for link in links) + "\n")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "evidence_cli", "check", str(urls_file), "--urls-only",
         "--allow-private", "--url-timeout", str(timeout), "--format", "json",
         "--output", str(out_file), "--cache-dir", str(tmp / f"cache-{time.time_ns()}"), "-q"],
        capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1, 4):
        raise RuntimeError(f"evidence check failed: {done.stderr}")
    verdicts: dict[str, str] = {}
    for reference in json.loads(out_file.read_text())["references"]:
        url = reference["cited"]["url"]
        codes = [f["code"] for f in reference["findings"] if f["code"].startswith("url-")]
        verdicts[url] = codes[0] if codes else "ok"
    return elapsed, verdicts


def run_evidence(links: list[Link], timeout: float, retries: int,
                 tmp: Path) -> tuple[float, dict[str, str]]:
    urls_file, out_file = tmp / "urls.json", tmp / "evidence.json"
    urls_file.write_text(json.dumps([link.url for link in links]))
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--evidence-child", str(urls_file), str(out_file),
                    "--timeout", str(timeout), "--retries", str(retries)], check=True)
    elapsed = time.perf_counter() - started
    found = json.loads(out_file.read_text())
    return elapsed, {url: str(v["verdict"]) for url, v in found.items()}


def linkchecker_verdict(row: dict[str, str]) -> str:
    """linkchecker's answer in this tool's vocabulary."""
    result = row["result"]
    code = result.split(" ", 1)[0]
    if row["valid"] == "True":
        # linkchecker counts a redirected link as valid and mentions the redirect in a warning.
        if "301 Moved Permanently" in row["warningstring"]:
            return "url-redirected"
        return "ok"
    if code in ("404", "410") or result.startswith("TooManyRedirects"):
        return "url-broken"
    if "Timeout" in result or "timed out" in result:
        return "url-timeout"
    if code in ("401", "403", "429", "999"):
        return "url-blocked"
    if code.isdigit() and code.startswith("5"):
        return "url-server-error"
    if result.startswith("ConnectionError"):
        return "url-unreachable"
    return f"other: {result[:40]}"


def run_linkchecker(links: list[Link], timeout: float, tmp: Path) -> tuple[float, dict[str, str]]:
    page = tmp / "links.html"
    page.write_text("<!doctype html><html><body>\n" + "".join(
        f'<p><a href="{link.url}">link {i}</a></p>\n' for i, link in enumerate(links)
    ) + "</body></html>\n")
    # linkchecker drops root privileges to "nobody", which must be able to read the page.
    tmp.chmod(0o755)
    page.chmod(0o644)
    command = ["linkchecker", "--recursion-level", "1", "--check-extern", "--no-robots",
               "--threads", str(CONCURRENCY), "--timeout", str(round(timeout)), "--output", "csv",
               "--verbose", "--no-status", str(page)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines(keepends=True) if not line.startswith("#")]
    verdicts: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO("".join(lines)), delimiter=";"):
        if row["urlname"].startswith("http"):
            verdicts[row["urlname"]] = linkchecker_verdict(row)
    if not verdicts:
        raise SystemExit(f"linkchecker gave no results (exit {done.returncode}):\n{done.stderr}")
    return elapsed, verdicts


# -- comparison -----------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    tool: str
    times: list[float]
    requests: int
    links: list[Link]
    verdicts: dict[str, str]

    def got(self, link: Link) -> str:
        return self.verdicts.get(link.url, "missing")

    @property
    def right(self) -> int:
        return sum(self.got(link) == link.expected for link in self.links)

    def wrong_by_route(self) -> Counter[tuple[str, str, str]]:
        return Counter((link.route, link.expected, self.got(link)) for link in self.links
                       if self.got(link) != link.expected)

    @property
    def wrong_ok(self) -> int:
        """Links reported as working although they are not: the worst kind of mistake."""
        return sum(self.got(link) == "ok" and link.expected != "ok" for link in self.links)


def measure(servers: list[LocalServer], tool: str, timeout: float, tmp: Path, repeat: int,
            retries: int = 2) -> Run:
    """Run one tool `repeat` times on fresh URLs; times are all kept, verdicts and request
    counts are the last run's (the server behaves the same way every time)."""
    times: list[float] = []
    for i in range(repeat):
        links = make_links(servers, f"{tool.split(' ')[0]}{retries}r{i}")
        before = sum(len(s.log) for s in servers)
        if tool == "evidence check --urls-only":
            seconds, verdicts = run_evidence_check(links, timeout, tmp)
        elif tool.startswith("evidence"):
            seconds, verdicts = run_evidence(links, timeout, retries, tmp)
        else:
            seconds, verdicts = run_linkchecker(links, timeout, tmp)
        times.append(seconds)
        requests = sum(len(s.log) for s in servers) - before
    return Run(tool, times, requests, links, verdicts)


def report(runs: list[Run], timeout: float, command: str) -> str:
    lc_version = subprocess.run(["linkchecker", "--version"], capture_output=True,
                                text=True).stdout.splitlines()[0]
    lines = [
        "# Link checking: evidence-cli LinkChecker vs linkchecker",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, httpx {httpx.__version__}; {lc_version}",
        f"- Command: `{command}`",
        f"- Setup: 300 links over {len(HOSTS)} local servers ({HOSTS[0]}–{HOSTS[-1]}), "
        f"{LATENCY * 1000:.0f} ms latency on every answer; timeout {timeout:g} s for both tools; "
        f"{CONCURRENCY} concurrent requests overall (linkchecker `--threads {CONCURRENCY}`, "
        "its default of at most 10 requests per second per host; LinkChecker at most 2 at once "
        "per host). linkchecker runs with `--no-robots`; both run as subprocesses.",
        "",
        f"| tool | wall time (s), median of {len(runs[0].times)} (min–max) | requests sent | "
        "right verdicts (of 300) | wrong \"ok\" |",
        "|---|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(f"| {run.tool} | {statistics.median(run.times):.1f} "
                     f"({min(run.times):.1f}–{max(run.times):.1f}) | {run.requests} | "
                     f"{run.right} | {run.wrong_ok} |")
    lines += ["", "Verdicts that differ from the expected one:", ""]
    for run in runs:
        wrong = run.wrong_by_route()
        lines.append(f"- **{run.tool}**: " + ("none" if not wrong else "; ".join(
            f"{route} ×{n}: expected {expected}, got {got}"
            for (route, expected, got), n in sorted(wrong.items()))))
    lines += [
        "",
        "\"evidence check --urls-only\" is the command a user runs (the 300 URLs in a text "
        "file, one per line, with --allow-private for the local servers); \"evidence "
        "LinkChecker\" is the same checker called as a library, without the command's start-up "
        "and report. "
        "How to read this: LinkChecker sends HEAD first and confirms any HEAD error with GET, "
        "follows redirects itself, and retries timeouts, 429 (honouring Retry-After) and 5xx "
        "with backoff, so its wall time is dominated by the links that time out (each gets "
        "three attempts of the full timeout plus backoff). linkchecker sends one GET per link "
        "and never retries: a 429 counts as valid (a wrong \"ok\"), and a passing 5xx is "
        "reported as an error. \"requests sent\" counts every request the servers received, "
        "redirect hops and retries included.",
        "",
        "Expected verdicts: " + ", ".join(f"{route} ×{n} → {v}" for route, n, v in MIX) + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    # Whole seconds: linkchecker's --timeout takes an integer.
    parser.add_argument("--timeout", type=int, default=2)
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks/results/links.md")
    parser.add_argument("--evidence-child", nargs=2, metavar=("URLS", "OUT"))
    args = parser.parse_args()
    if args.evidence_child:
        urls_file, out_file = args.evidence_child
        evidence_child(urls_file, out_file, args.timeout, args.retries)
        return
    command = "python " + " ".join([str(Path(sys.argv[0]).as_posix()), *sys.argv[1:]])
    servers = [LocalServer(host, latency=LATENCY, slow_seconds=10.0).start() for host in HOSTS]
    try:
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            runs = [
                measure(servers, "evidence check --urls-only", args.timeout, tmp, args.repeat),
                measure(servers, "evidence LinkChecker", args.timeout, tmp, args.repeat,
                        args.retries),
                measure(servers, "evidence LinkChecker (no retries)", args.timeout, tmp,
                        args.repeat, 0),
                measure(servers, "linkchecker", args.timeout, tmp, args.repeat),
            ]
    finally:
        for server in servers:
            server.stop()
    text = report(runs, args.timeout, command)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
