"""The streamed check (JSON written as references are audited) against the whole-report path:
the same bytes and exit codes, and memory that does not grow with the number of references."""

from __future__ import annotations

import json
import shutil
import sys
import tracemalloc
from pathlib import Path
from typing import Any, cast

import pytest

from evidence_cli import audit, sources
from evidence_cli.formats import build
from evidence_cli.formats.report import Report, build_report
from evidence_cli.models import exit_code
from tests.conftest import RunEvidence

BIB = Path(__file__).parent / "fixtures" / "bib"
WORKS = Path(__file__).parent / "fixtures" / "crossref" / "works.jsonl"


def whole_report(paths: list[str], fail_on: str = "error") -> tuple[str, int]:
    """The report as the formats that need it whole build it: every reference read, audited
    and put in one dict, rendered at once."""
    from evidence_cli.settings import resolve_settings

    settings = resolve_settings({"check_urls": False, "fail_on": fail_on})
    references = sources.read_all(paths).references
    results = audit.audit_references(references, settings)
    report = cast(Report, build_report(results))
    return build("json").format(report), exit_code(results, settings.fail_on)


@pytest.fixture
def bibliography(tmp_path: Path) -> list[str]:
    """Real fixture bibliographies: findings of every code, broken entries, and a second copy
    of one file, whose keys (each used twice) must get their locations added."""
    for name in ("codes.bib", "warnings.bib", "broken.bib", "clean.bib"):
        shutil.copy(BIB / name, tmp_path / name)
    shutil.copy(BIB / "clean.bib", tmp_path / "again.bib")
    return ["codes.bib", "warnings.bib", "broken.bib", "clean.bib", "again.bib"]


def _run_check(args: list[str]) -> int:
    """`evidence check ARGS` in this process (so that a test can shrink batches); its exit code."""
    from evidence_cli import cli

    saved = sys.argv
    sys.argv = ["evidence", "check", *args]
    try:
        cli.main()
    except SystemExit as done:
        return int(done.code or 0)
    finally:
        sys.argv = saved
    return 0


@pytest.mark.parametrize("fail_on", ["error", "warning", "never"])
def test_streamed_json_is_the_whole_report_byte_for_byte(
    tmp_path: Path, run_evidence: RunEvidence, evidence_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch, bibliography: list[str], fail_on: str,
) -> None:
    to_stdout = run_evidence("check", *bibliography, "--format", "json", "--no-urls",
                             "--fail-on", fail_on)
    for name, value in evidence_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    # Small batches and chunks: the files are spread over several of each.
    monkeypatch.setattr(audit, "BATCH_SIZE", 7)
    monkeypatch.setattr(sources.inputs, "CHUNK", 3)
    code = _run_check([*bibliography, "--format", "json", "-o", "r.json", "--no-urls",
                       "--fail-on", fail_on, "-q"])
    text, whole_code = whole_report(bibliography, fail_on)
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == text
    assert to_stdout.stdout == text
    assert code == to_stdout.returncode == whole_code
    assert code == {"error": 1, "warning": 1, "never": 4}[fail_on]
    ids = [reference["id"] for reference in json.loads(text)["references"]]
    assert len(ids) == len(set(ids))
    assert any(ref_id.startswith("halvorsen2021@") for ref_id in ids)  # a repeated key, renamed


def _records() -> list[dict[str, Any]]:
    records = []
    with WORKS.open(encoding="utf-8") as handle:
        for line in handle:
            message = json.loads(line)["message"]
            title = (message.get("title") or [None])[0]
            families = [a["family"] for a in message.get("author") or [] if a.get("family")]
            if message.get("DOI") and message.get("type") and title and families:
                records.append({"doi": message["DOI"], "title": title, "authors": families[:5]})
    return records[:60]


def _write_bibliography(path: Path, count: int, prefix: str = "ref") -> None:
    records = _records()
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            record = records[i % len(records)]
            title = "".join(c for c in record["title"] if c not in "{}\\")
            authors = " and ".join(record["authors"]).replace("{", "").replace("}", "")
            handle.write(f"@article{{{prefix}{i},\n  doi = {{{record['doi']}}},\n"
                         f"  title = {{{title}}},\n  author = {{{authors}}}\n}}\n")


def _traced_check(args: list[str]) -> int:
    """Peak bytes Python allocates during one in-process `evidence check`."""
    tracemalloc.start()
    try:
        assert _run_check(args) in (0, 4)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_of_a_streamed_check_does_not_grow_with_the_references(
    tmp_path: Path, run_evidence: RunEvidence, evidence_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ten times the references in ten files: what a run holds of one file at a time (its text,
    # its keys' lines) is the same in both runs; the references themselves must not add up.
    _write_bibliography(tmp_path / "small.bib", 1000)
    large = [f"large{n}.bib" for n in range(10)]
    for n, name in enumerate(large):
        _write_bibliography(tmp_path / name, 1000, prefix=f"f{n}r")
    warmed = run_evidence("check", "small.bib", "--format", "json", "-o", "cold.json",
                          "--no-urls")  # every DOI of both files is now in the cache
    assert warmed.returncode in (0, 4), warmed.stderr
    for name, value in evidence_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    # Batches and chunks small enough that both runs hold full ones.
    monkeypatch.setattr(audit, "BATCH_SIZE", 250)
    monkeypatch.setattr(sources.inputs, "CHUNK", 250)
    args = ["--format", "json", "-o", "out.json", "--no-urls", "-q"]
    _traced_check(["small.bib", *args])  # imports and first-use caches, untraced by the figures
    peak_small = _traced_check(["small.bib", *args])
    peak_large = _traced_check([*large, *args])
    report = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert report["summary"]["references"] == 10000
    assert peak_large < 1.25 * peak_small, (peak_small, peak_large)
