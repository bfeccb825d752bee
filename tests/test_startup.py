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

from evidence_cli.cli import COMMAND_MODULES, COMMANDS, modules_for
from tests.simulator import CrossrefSimulator

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


# The HTTP stack: imported when the first request goes out (services/http_client.py), so never
# by a run the cache answers.
HTTP_STACK = ("httpx", "httpcore", "h11", "anyio", "sniffio")


@pytest.mark.parametrize("output_format", ["json", "sarif", "csv"])
def test_a_bibtex_check_imports_no_heavy_module(tmp_path: Path, output_format: str) -> None:
    (tmp_path / "refs.bib").write_text(
        "@article{a, title={Sleep apnea in fragile X premutation carriers}, author={Hamlin, A.},"
        " year={2011}, doi={10.1002/ajmg.b.31237}}\n", encoding="utf-8")
    modules = _imported(["check", "refs.bib", "--offline", "--format", output_format],
                        tmp_path, _env(tmp_path))
    assert "evidence_cli.audit" in modules  # the check did run
    assert _heavy(modules, "rich", "pycrfsuite") == []


def test_an_offline_check_imports_no_http_stack(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(
        "@article{a, title={Sleep apnea in fragile X premutation carriers}, author={Hamlin, A.},"
        " year={2011}, doi={10.1002/ajmg.b.31237}, url={https://example.org/sleep}}\n",
        encoding="utf-8")
    modules = _imported(["check", "refs.bib", "--offline", "--format", "json"], tmp_path,
                        _env(tmp_path))
    assert "evidence_cli.services.links" in modules  # the link checker was built
    # The other commands' modules are not even imported: only `check` is registered.
    assert sorted(name for name in COMMAND_MODULES if name in modules) == [
        "evidence_cli.commands.check"]
    assert [name for name in HTTP_STACK if name in modules] == []


def test_a_warm_check_sends_nothing_and_imports_no_http_stack(
        tmp_path: Path, evidence_env: dict[str, str], crossref_sim: CrossrefSimulator) -> None:
    (tmp_path / "refs.bib").write_text(
        "@article{a, title={Sleep apnea in fragile X premutation carriers}, author={Hamlin, A.},"
        " year={2011}, doi={10.1002/ajmg.b.31237}}\n", encoding="utf-8")
    args = ["check", "refs.bib", "--format", "json", "--output", "report.json"]
    cold = _imported(args, tmp_path, evidence_env)
    asked = crossref_sim.stats.requests
    assert asked > 0 and "httpx" in cold
    warm = _imported(args, tmp_path, evidence_env)
    assert crossref_sim.stats.requests == asked
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["references"][0]["status"] != "unverifiable"  # answered, from the cache
    assert [name for name in HTTP_STACK if name in warm] == []


_FROZEN_AT_EXIT = """
import atexit, gc, runpy, sys
# Registered before the command's own handler, so it runs after it (last registered, first run).
atexit.register(lambda: sys.stderr.write(f"\\nFROZEN {gc.get_freeze_count()}\\n"))
sys.argv = ["evidence", "check", "refs.bib", "--offline", "--format", "json"]
try:
    runpy.run_module("evidence_cli", run_name="__main__")
except SystemExit:
    pass
"""


def test_the_exit_skips_the_last_collections(tmp_path: Path) -> None:
    # The interpreter's collections at exit walk every object the run built (0.2 s at 1,000
    # references): the run freezes them instead (evidence_cli/gc_pause.py).
    (tmp_path / "refs.bib").write_text("@article{a, doi={10.1002/ajmg.b.31237}}\n",
                                       encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _FROZEN_AT_EXIT], cwd=tmp_path,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=120,
                          check=False)
    line = next(line for line in done.stderr.splitlines() if line.startswith("FROZEN "))
    assert int(line.removeprefix("FROZEN ")) > 0


def test_a_run_registers_only_its_command() -> None:
    assert modules_for(["check", "refs.bib", "--offline"]) == ("evidence_cli.commands.check",)
    assert modules_for(["--version", "check"]) == ("evidence_cli.commands.check",)
    assert modules_for(["study", "data", "--help"]) == ("evidence_cli.commands.study",
                                                        "evidence_cli.commands.synthesis")
    assert modules_for(["--version"]) == ()  # flags alone name no command
    # The root's help, no arguments or an unknown name: every command, so that typer lists (and
    # suggests) them.
    for args in ([], ["--help"], ["--help", "check"], ["chek", "refs.bib"]):
        assert modules_for(args) == COMMAND_MODULES


_TREE = """
import importlib, json, sys
import typer
from evidence_cli.cli import COMMAND_MODULES, COMMANDS
app = typer.Typer()
for name in (COMMAND_MODULES if sys.argv[1] == "*" else COMMANDS[sys.argv[1]]):
    importlib.import_module(name).register(app)
def tree(t):
    return {**{c.name: None for c in t.registered_commands},
            **{g.name: tree(g.typer_instance) for g in t.registered_groups}}
print(json.dumps(tree(app)))
"""


def _command_tree(name: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _TREE, name], capture_output=True, text=True,
                          timeout=120, check=True)
    tree: dict[str, object] = json.loads(done.stdout)
    return tree


def test_each_command_names_every_module_it_needs() -> None:
    # In a fresh interpreter each: a module once imported stays registered on its group (`study
    # data` is declared by commands/synthesis.py on commands/study.py's group).
    everything = _command_tree("*")
    assert sorted(everything) == sorted(COMMANDS)
    for name in COMMANDS:
        assert _command_tree(name)[name] == everything[name], name


def test_a_text_check_with_a_table_imports_only_the_parser_and_rich(tmp_path: Path) -> None:
    (tmp_path / "refs.txt").write_text(
        "Hamlin A, Liu Y. Sleep apnea in fragile X premutation carriers with and without FXTAS. "
        "Am J Med Genet B. 2011;156(8):923-8. doi:10.1002/ajmg.b.31237\n", encoding="utf-8")
    modules = _imported(["check", "refs.txt", "--offline"], tmp_path, _env(tmp_path))
    # What this run does use: the parser's tagger is numpy's (#12); python-crfsuite is only
    # training's, and numpy stays out of every run that parses no free text.
    assert {"numpy", "rich"} <= modules
    assert "pycrfsuite" not in modules
    assert [name for name in _heavy(modules, "bibtexparser") if name != "numpy"] == []


def test_version_imports_neither_http_nor_the_checks(tmp_path: Path) -> None:
    modules = _imported(["--version"], tmp_path, _env(tmp_path))
    assert _heavy(modules, "httpx", "evidence_cli.audit", "rich", "bibtexparser") == []
    assert [name for name in COMMAND_MODULES if name in modules] == []  # nor any command


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
