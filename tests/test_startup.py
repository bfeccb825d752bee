"""Start-up stays fast: a `check` run imports only what it uses (which modules, not how long).

The real command runs in a fresh interpreter; what it imported is read from sys.modules after it
exits. Heavy libraries a plain check never needs must not be among them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Reading BibTeX needs bibtexparser, free text the CRF parser, a table rich: each stays out of
# runs that do not read or print such things. pydantic is typer's (its option coercion); trio and
# httpx's own command line are imported by httpx's stack whenever they are installed.
NEVER_IN_A_CHECK = ("pandas", "numpy", "scipy", "matplotlib", "duckdb", "pyarrow", "pydantic",
                    "trio", "httpx._main", "markdown_it", "pygments", "yaml", "docx", "lxml",
                    "bs4", "openpyxl", "jinja2")

_PROBE = """
import json, runpy, sys
sys.argv = ["evidence", *json.loads(sys.argv[1])]
try:
    runpy.run_module("evidence_cli", run_name="__main__")
except SystemExit:
    pass
loaded = sorted(name for name, module in sys.modules.items() if module is not None)
sys.stderr.write("\\nMODULES " + json.dumps(loaded) + "\\n")
"""


def _imported(args: list[str], cwd: Path, env: dict[str, str]) -> set[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["EVIDENCE_CACHE_DIR"] = str(tmp_path / "cache")
    env["EVIDENCE_REVIEWS_DIR"] = str(tmp_path / "reviews")
    return env


def _heavy(modules: set[str], *extra: str) -> list[str]:
    return sorted(name for name in (*NEVER_IN_A_CHECK, *extra) if name in modules)


@pytest.mark.parametrize("output_format", ["json", "sarif", "csv"])
def test_a_bibtex_check_imports_no_heavy_module(tmp_path: Path, output_format: str) -> None:
    (tmp_path / "refs.bib").write_text(
        "@article{a, title={Sleep apnea in fragile X premutation carriers}, author={Hamlin, A.},"
        " year={2011}, doi={10.1002/ajmg.b.31237}}\n", encoding="utf-8")
    modules = _imported(["check", "refs.bib", "--offline", "--format", output_format],
                        tmp_path, _env(tmp_path))
    assert "evidence_cli.audit" in modules  # the check did run
    assert _heavy(modules, "rich", "pycrfsuite") == []


def test_a_text_check_with_a_table_imports_only_the_parser_and_rich(tmp_path: Path) -> None:
    (tmp_path / "refs.txt").write_text(
        "Hamlin A, Liu Y. Sleep apnea in fragile X premutation carriers with and without FXTAS. "
        "Am J Med Genet B. 2011;156(8):923-8. doi:10.1002/ajmg.b.31237\n", encoding="utf-8")
    modules = _imported(["check", "refs.txt", "--offline"], tmp_path, _env(tmp_path))
    assert {"pycrfsuite", "rich"} <= modules  # what this run does use
    assert _heavy(modules, "bibtexparser") == []


def test_version_imports_neither_http_nor_the_checks(tmp_path: Path) -> None:
    modules = _imported(["--version"], tmp_path, _env(tmp_path))
    assert _heavy(modules, "httpx", "evidence_cli.audit", "rich", "bibtexparser") == []


def test_options_without_pydantic_are_still_checked_in_typer_words(tmp_path: Path) -> None:
    # Plain options skip typer's pydantic adapters (evidence_cli/cli_coercion.py); a value they
    # cannot take still gets typer's own message and the usage exit code.
    (tmp_path / "refs.bib").write_text("@article{a, doi={10.1002/ajmg.b.31237}}\n",
                                       encoding="utf-8")
    env = _env(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "evidence_cli", "check", "refs.bib",
                               "--offline", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    choice = run("--format", "xml")
    assert choice.returncode == 2
    assert ("Invalid value for '--format' / '-f': 'xml' is not one of 'table', 'json'"
            in choice.stderr)
    number = run("--timeout", "soon")
    assert number.returncode == 2 and "Invalid value for '--timeout'" in number.stderr
    written = run("--format", "csv", "--output", "out/report.csv")
    assert written.returncode != 2 and "out/report.csv" in written.stderr
    done = run("-f", "json", "-o", "report.json")
    assert done.returncode == 4 and (tmp_path / "report.json").read_text(encoding="utf-8")
