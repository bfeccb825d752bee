"""Configuration: the file (found walking up), then the environment, then the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evidence_cli.errors import ConfigError
from evidence_cli.settings import DEFAULT_CROSSREF_URL, Settings, resolve_settings


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _resolve(cwd: Path, cli: dict[str, Any] | None = None,
             environ: dict[str, str] | None = None) -> Settings:
    return resolve_settings(cli or {}, cwd=cwd, environ=environ or {})


# --- unit: resolve_settings ---------------------------------------------------------------------

def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    settings = _resolve(tmp_path)
    assert settings.crossref_url == DEFAULT_CROSSREF_URL
    assert settings.fail_on == "error"
    assert settings.mailto is None


def test_file_values_are_read_and_converted(tmp_path: Path) -> None:
    _write(tmp_path / "evidence.toml", """
mailto = "editor@example.org"
crossref-url = "http://127.0.0.1:9/"
fail-on = "warning"
cache-dir = "build/evidence-cache"
record-expiry-days = 2
url-exclude = ["^https://example\\\\.org/"]
match-threshold = 0.8
""")
    settings = _resolve(tmp_path)
    assert settings.mailto == "editor@example.org"
    assert settings.crossref_url == "http://127.0.0.1:9"  # trailing slash dropped
    assert settings.fail_on == "warning"
    # A relative folder in a file is relative to that file's folder.
    assert settings.cache_dir == tmp_path.resolve() / "build/evidence-cache"
    assert settings.record_ttl == 2 * 86400
    assert settings.url_excludes == ["^https://example\\.org/"]
    assert settings.match_threshold == 0.8


def test_precedence_cli_over_env_over_file_over_defaults(tmp_path: Path) -> None:
    _write(tmp_path / "evidence.toml", 'mailto = "file@example.org"\nfail-on = "warning"\n'
           'timeout = 5\n')
    environ = {"EVIDENCE_MAILTO": "env@example.org", "EVIDENCE_FAIL_ON": "never"}
    only_file = _resolve(tmp_path)
    assert (only_file.mailto, only_file.fail_on, only_file.timeout) == (
        "file@example.org", "warning", 5.0)
    with_env = _resolve(tmp_path, environ=environ)
    assert (with_env.mailto, with_env.fail_on, with_env.timeout) == (
        "env@example.org", "never", 5.0)
    with_cli = _resolve(tmp_path, cli={"mailto": "cli@example.org", "fail_on": None},
                        environ=environ)
    # None means "not given on the command line": the environment still decides fail-on.
    assert (with_cli.mailto, with_cli.fail_on, with_cli.timeout) == (
        "cli@example.org", "never", 5.0)


def test_pyproject_table_is_found_walking_up(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '[project]\nname = "paper"\n\n[tool.evidence]\n'
           'mailto = "lab@example.org"\n')
    nested = tmp_path / "chapters" / "one"
    nested.mkdir(parents=True)
    assert _resolve(nested).mailto == "lab@example.org"


def test_pyproject_without_evidence_table_does_not_stop_the_walk(tmp_path: Path) -> None:
    _write(tmp_path / "evidence.toml", 'mailto = "outer@example.org"\n')
    _write(tmp_path / "inner" / "pyproject.toml", '[project]\nname = "other"\n')
    assert _resolve(tmp_path / "inner").mailto == "outer@example.org"


def test_the_nearest_file_wins(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '[tool.evidence]\nmailto = "outer@example.org"\n')
    _write(tmp_path / "paper" / "evidence.toml", 'mailto = "inner@example.org"\n')
    assert _resolve(tmp_path / "paper").mailto == "inner@example.org"
    assert _resolve(tmp_path).mailto == "outer@example.org"


def test_paths_from_file_are_overridden_by_environment(tmp_path: Path) -> None:
    _write(tmp_path / "evidence.toml", 'cache-dir = "file-cache"\nreviews-dir = "file-reviews"\n')
    settings = _resolve(tmp_path, environ={"EVIDENCE_CACHE_DIR": "/tmp/env-cache"})
    assert settings.cache_dir == Path("/tmp/env-cache")
    assert settings.reviews_dir == tmp_path.resolve() / "file-reviews"


def test_pyproject_evidence_must_be_a_table(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '[tool]\nevidence = "yes"\n')
    with pytest.raises(ConfigError, match=r"\[tool\.evidence\] must be a table"):
        _resolve(tmp_path)


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    config = _write(tmp_path / "evidence.toml", 'mail-to = "x@example.org"\n')
    with pytest.raises(ConfigError) as caught:
        _resolve(tmp_path)
    assert str(config) in str(caught.value)
    assert "mail-to" in str(caught.value)
    assert "mailto" in str(caught.value)  # lists the known keys, so the fix is obvious


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('fail-on = "sometimes"', "fail-on"),
        ('crossref-url = "ftp://example.org"', "crossref-url"),
        ("timeout = -1", "timeout"),
        ("match-threshold = 1.5", "match-threshold"),
        ('max-retries = "three"', "max-retries"),
        ('allow-private = "perhaps"', "allow-private"),
    ],
)
def test_bad_value_names_file_and_key(tmp_path: Path, line: str, key: str) -> None:
    config = _write(tmp_path / "evidence.toml", line + "\n")
    with pytest.raises(ConfigError) as caught:
        _resolve(tmp_path)
    message = str(caught.value)
    assert str(config) in message and f"'{key}'" in message


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="EVIDENCE_FAIL_ON"):
        _resolve(tmp_path, environ={"EVIDENCE_FAIL_ON": "always"})


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    config = _write(tmp_path / "evidence.toml", "mailto = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        _resolve(tmp_path)
    assert str(config) in str(caught.value)


# --- end to end: the real command, reading the file from its working directory -----------------

# One reference, cited with the wrong year: a warning (year-mismatch) and nothing worse, so the
# exit code shows which fail-on setting won. The DOI is a real recorded record.
WARNING_ONLY_BIB = """@article{sadasivan2012,
  title = {Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in
           the Basal Ganglia of Mice},
  author = {Sadasivan, Shankar and Pond, Brooks B. and Pani, Amar K. and Qu, Chunxu and
            Jiao, Yun and Smeyne, Richard J.},
  doi = {10.1371/journal.pone.0033693},
  journal = {PLoS ONE},
  volume = {7},
  number = {3},
  pages = {e33693},
  year = {2011}
}
"""


@pytest.fixture
def project(tmp_path: Path, crossref_sim: Any) -> Path:
    folder = tmp_path / "paper"
    _write(folder / "refs.bib", WARNING_ONLY_BIB)
    _write(folder / "evidence.toml",
           f'crossref-url = "{crossref_sim.url}"\nfail-on = "warning"\n')
    return folder


def test_cli_reads_the_config_file_and_precedence_holds(
    run_evidence: Any, evidence_env: dict[str, str], project: Path
) -> None:
    env = {k: v for k, v in evidence_env.items() if k != "EVIDENCE_CROSSREF_URL"}
    # The file alone: its crossref-url reaches the simulator and its fail-on makes a warning fail.
    from_file = run_evidence("check", "refs.bib", "--no-urls", "--format", "json", env=env,
                             cwd=project)
    assert from_file.returncode == 1, from_file.stderr
    report = json.loads(from_file.stdout)
    assert report["references"][0]["status"] == "warning"
    assert "year-mismatch" in {f["code"] for f in report["references"][0]["findings"]}
    # The environment beats the file...
    from_env = run_evidence("check", "refs.bib", "--no-urls", "-q",
                            env={**env, "EVIDENCE_FAIL_ON": "error"}, cwd=project)
    assert from_env.returncode == 0, from_env.stderr
    # ...and the command line beats the environment.
    from_cli = run_evidence("check", "refs.bib", "--no-urls", "-q", "--fail-on", "warning",
                            env={**env, "EVIDENCE_FAIL_ON": "error"}, cwd=project)
    assert from_cli.returncode == 1, from_cli.stderr


def test_cli_config_error_is_one_line_exit_3(
    run_evidence: Any, project: Path
) -> None:
    config = _write(project / "evidence.toml", 'fail-on = "warning"\ncolour = "blue"\n')
    result = run_evidence("check", "refs.bib", "--no-urls", cwd=project)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "colour" in lines[0] and config.name in lines[0]
    assert "Traceback" not in result.stderr
