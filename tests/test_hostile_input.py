"""Hostile and broken input (issue 8, item 2): every reader, the DOI/URL extractors, review YAML.

Property-based tests (hypothesis) feed random bytes, random text and format-shaped noise to each
reader in-process (`read_one`, the path `evidence check` takes), and a few random files to the real
command. The contract: a list of references, each placed in the file at a line >= 1, or an
InputError whose message starts with the file's name (and names a line, for every text format) —
never any other exception. Fixed cases run the real `evidence check` / `evidence review` commands
on the inputs attackers and accidents produce; RELIABILITY.md lists the limits they rely on.

Everything runs --offline against an empty cache: nothing here needs a network, and a reference
nobody could look up must come out unverifiable (exit 4), never ok.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence_cli import doi as doi_rules
from evidence_cli.errors import InputError
from evidence_cli.sources import MAX_INPUT_BYTES, read_one
from evidence_cli.sources.docx import MAX_MEMBERS
from evidence_cli.sources.text import find_urls, targets_in_text

SUFFIXES = {
    "bibtex": ".bib",
    "text": ".txt",
    "ris": ".ris",
    "csl-json": ".json",
    "markdown": ".md",
    "html": ".html",
    "docx": ".docx",
}
TEXT_KINDS = [kind for kind in SUFFIXES if kind != "docx"]

# Bounded and derandomised: the same examples on every run (CI must not turn red at random on a
# bug that is already known and listed as an xfail below), no example database in the checkout.
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Pieces of each format, so that random strings often get past the first line of a parser.
TOKENS: dict[str, list[str]] = {
    "bibtex": ["@article{", "@string{", "@comment{", "@preamble{", "key,", "title = ", "{", "}",
               '"', "#", ",", "=", "\n", "doi = {10.1000/x}", "author = {A and B}", "\\'e",
               "\\url{", "$", "%", "@", "year = 2020", "url = {https://doi.org/10.1/x}"],
    "text": ["Smith, J. (2020). ", "Title. ", "J Med", " 12(3), 1-9. ", "doi:10.1000/", "x",
             "https://", "example.org/", "\n", "\n\n", "[1] ", "et al.", "(", ")", ".", "\t"],
    "ris": ["TY  - JOUR\n", "ER  - \n", "TI  - ", "AU  - ", "DO  - ", "UR  - ", "PY  - ",
            "SP  - ", "EP  - ", "ID  - ", "\n", "x", "2020", "10.1000/x", " ", "  - ", "T"],
    "csl-json": ["[", "]", "{", "}", '"items"', '"title"', '"DOI"', '"author"', '"issued"',
                 '"date-parts"', '"family"', ":", ",", '"x"', "1", "2020", "null", "true",
                 '"10.1000/x"', '"https://a.b/c"', "-1", "1e5", "[[2020]]"],
    "markdown": ["# References\n", "## Bibliography\n", "- ", "1. ", "* ", "> ", "---\n",
                 "**References**\n", "[x](", "https://a.b/c", ")", "<", ">", "`", "\n", "\n\n",
                 "doi:10.1000/x", " 2020 ", "    ", "![i](", "<https://a.b>", "|"],
    "html": ["<html>", "<body>", "<h2>References</h2>", "<ol>", "<li>", "</li>", "</ol>", "<p>",
             "</p>", "<br>", '<a href="', '">', "</a>", "https://a.b/c", "doi:10.1000/x",
             " 2020 ", "<nav>", "<script>", "<!--", "-->", '<div class="csl-entry">', "</div>",
             "<hr>", "&amp;", "&#0;", "<![CDATA[", "]]>", "<h1>", "</h1>", "\n", "<"],
}
TOKENS["docx"] = TOKENS["text"]


def _assert_read_cleanly(data: bytes, kind: str) -> None:
    """The reader's contract: references placed in the file, or an InputError naming it."""
    path = f"hostile{SUFFIXES[kind]}"
    try:
        references = read_one(data, path, kind)
    except InputError as error:
        assert error.path == path
        assert error.message.startswith(path + ":"), error.message
        if kind != "docx":  # a .docx problem concerns the whole archive, not a line
            assert error.line is not None and error.line >= 1, error.message
            assert error.message.startswith(f"{path}:{error.line}: "), error.message
        return
    for reference in references:
        assert reference.source.path == path
        assert reference.source.line >= 1
        assert isinstance(reference.raw, str) and isinstance(reference.id, str)
        assert reference.id


def _shaped(kind: str) -> st.SearchStrategy[str]:
    piece = st.sampled_from(TOKENS[kind]) | st.text(max_size=4)
    return st.lists(piece, max_size=40).map("".join)


# --- property-based, in-process -----------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SUFFIXES))
@FUZZ
@given(data=st.binary(max_size=1500))
def test_random_bytes_never_escape_as_anything_but_input_error(kind: str, data: bytes) -> None:
    _assert_read_cleanly(data, kind)


@pytest.mark.parametrize("kind", TEXT_KINDS)
@FUZZ
@given(text=st.text(max_size=800))
def test_random_text_never_escapes_as_anything_but_input_error(kind: str, text: str) -> None:
    _assert_read_cleanly(text.encode("utf-8"), kind)


@pytest.mark.parametrize("kind", TEXT_KINDS)
@FUZZ
@given(data=st.data())
def test_format_shaped_noise_never_escapes_as_anything_but_input_error(kind: str,
                                                                       data: st.DataObject) -> None:
    text = data.draw(_shaped(kind))
    _assert_read_cleanly(text.encode("utf-8"), kind)


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("References", level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def valid_docx() -> bytes:
    return _docx(["Smith J, Doe A. A title. J Med. 2020;12(3):1-9. doi:10.1000/xyz",
                  "https://example.org/page"])


# XML 1.0 cannot hold control characters or surrogates; Word cannot either.
_XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=200)


@FUZZ
@given(paragraphs=st.lists(_XML_TEXT | _shaped("docx"), max_size=6))
def test_docx_with_hostile_paragraph_text(paragraphs: list[str]) -> None:
    paragraphs = ["".join(ch for ch in p if ch >= " " or ch in "\t\n") for p in paragraphs]
    _assert_read_cleanly(_docx(paragraphs), "docx")


@FUZZ
@given(data=st.data())
def test_docx_with_corrupted_bytes(valid_docx: bytes, data: st.DataObject) -> None:
    """A real .docx with a few bytes overwritten, cut short or with garbage appended."""
    blob = bytearray(valid_docx)
    for _ in range(data.draw(st.integers(1, 8))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    tail = data.draw(st.binary(max_size=64))
    _assert_read_cleanly(bytes(blob[:cut]) + tail, "docx")


def _damaged_deflate(document: bytes) -> bytes:
    """The document with one byte of word/document.xml's deflate stream changed so that zlib
    itself fails (not the CRC check): the first such byte, searched in order, so the case is
    the same on every run."""
    import zlib

    with zipfile.ZipFile(io.BytesIO(document)) as archive:
        info = archive.getinfo("word/document.xml")
    # The local header: 30 bytes, then the name and the extra field, then the data.
    name_length = int.from_bytes(document[info.header_offset + 26:info.header_offset + 28],
                                 "little")
    extra_length = int.from_bytes(document[info.header_offset + 28:info.header_offset + 30],
                                  "little")
    start = info.header_offset + 30 + name_length + extra_length
    for offset in range(start, start + info.compress_size):
        for value in (0xFF, 0x00, 0x55):
            blob = bytearray(document)
            blob[offset] = value
            try:
                zlib.decompress(bytes(blob[start:start + info.compress_size]), -15)
            except zlib.error:
                return bytes(blob)
    raise AssertionError("no byte of the stream breaks it")


def test_a_damaged_deflate_stream_is_an_input_error(valid_docx: bytes) -> None:
    """zlib.error escaped the reader's DOCTYPE check (benchmarks/reliability.py, 53 of 3,000
    fuzzed documents, 2026-12-02): it names the file now, as every damaged .docx does."""
    with pytest.raises(InputError, match=r"x\.docx"):
        read_one(_damaged_deflate(valid_docx), "x.docx", "docx")



class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


@FUZZ
@given(data=st.one_of(st.binary(max_size=1500),
                      st.sampled_from(list(TOKENS)).flatmap(_shaped).map(str.encode)))
def test_standard_input_is_sniffed_and_read_cleanly(data: bytes) -> None:
    """`evidence check -`: the reader is guessed from the content, then the same contract."""
    from evidence_cli.sources import read_inputs

    saved = sys.stdin
    sys.stdin = _Stdin(data)  # type: ignore[assignment]
    try:
        references = read_inputs(["-"])
    except InputError as error:
        assert error.path == "<stdin>" and error.message.startswith("<stdin>")
        return
    finally:
        sys.stdin = saved
    for reference in references:
        assert reference.source.path == "<stdin>" and reference.source.line >= 1

@FUZZ
@given(text=st.text(max_size=600))
def test_doi_and_url_extractors_never_raise(text: str) -> None:
    for found in doi_rules.find_all(text):
        assert found.startswith("10.") and found == found.lower()
        doi_rules.is_valid(found)
    for url in find_urls(text):
        assert url.lower().startswith(("http://", "https://")) and url in text
    for target in targets_in_text(text):
        assert target
    doi_rules.normalize(text)
    doi_rules.looks_like_doi_attempt(text)
    doi_rules.is_doi_url(text)


_PREFIX = st.from_regex(r"10\.[1-9][0-9]{3,8}", fullmatch=True)
_SUFFIX = st.from_regex(r"[a-z0-9][-._;/:a-z0-9]{0,30}[a-z0-9]", fullmatch=True)


@FUZZ
@given(prefix=_PREFIX, suffix=_SUFFIX, before=st.text(max_size=80), after=st.text(max_size=80),
       label=st.sampled_from(["", "doi:", "DOI: ", "https://doi.org/", "http://dx.doi.org/"]),
       end=st.sampled_from(["", ".", ",", ";", ")", "."]))
def test_a_valid_doi_in_any_text_is_found_exactly(prefix: str, suffix: str, before: str,
                                                  after: str, label: str, end: str) -> None:
    """Whatever surrounds it (separated by white space), a well-formed DOI is found unchanged:
    neither cut short nor run on into the sentence punctuation after it."""
    doi = f"{prefix}/{suffix}"
    assert doi_rules.is_valid(doi)
    found = doi_rules.find_all(f"{before} {label}{doi}{end} {after}")
    assert doi in found


# --- property-based, the real command -----------------------------------------------------------


@pytest.fixture
def offline_env(tmp_path: Path) -> dict[str, str]:
    """The real command's environment: an empty cache; Crossref pointed at a closed loopback
    port (--offline never asks it, and nothing else could be reached either)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVIDENCE_", "GITHUB_"))}
    env["EVIDENCE_CACHE_DIR"] = str(tmp_path / "empty-cache")
    env["EVIDENCE_REVIEWS_DIR"] = str(tmp_path / "reviews")
    env["EVIDENCE_CROSSREF_URL"] = "http://127.0.0.1:9"
    return env


Run = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def run(tmp_path: Path, offline_env: dict[str, str]) -> Run:
    def run(*args: str | os.PathLike[str], stdin: Any = subprocess.DEVNULL,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "evidence_cli", *map(str, args)],
                              env=offline_env, cwd=tmp_path, stdin=stdin, capture_output=True,
                              text=True, timeout=timeout, check=False)

    return run


def _check(run: Run, path: Path, *extra: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return run("check", path.name, "--offline", "--format", "json", *extra, **kwargs)


def _assert_clean_outcome(result: subprocess.CompletedProcess[str], name: str) -> Any:
    """No traceback; exit 3 with one line naming the file, or a JSON report with no ok in it."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1, 3, 4), result.stderr
    if result.returncode == 3:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"evidence: error: {name}"), lines
        return None
    report = json.loads(result.stdout)
    # Offline with an empty cache no DOI can be confirmed.
    assert all(r["status"] != "ok" for r in report["references"] if r["doi"])
    return report


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bibtex", "text", "csl-json", "html"])
@settings(max_examples=3, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_files_through_the_real_command(kind: str, data: st.DataObject, run: Run,
                                               tmp_path: Path) -> None:
    text = data.draw(_shaped(kind))
    raw = data.draw(st.binary(max_size=200))
    path = tmp_path / f"random{SUFFIXES[kind]}"
    path.write_bytes(text.encode("utf-8") + (raw if data.draw(st.booleans()) else b""))
    _assert_clean_outcome(_check(run, path, "--no-urls"), path.name)


# --- fixed cases, the real command --------------------------------------------------------------


@pytest.mark.parametrize("kind", TEXT_KINDS)
def test_invalid_utf8_names_file_and_line(run: Run, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"latin1{SUFFIXES[kind]}"
    path.write_bytes(b"first line\nM\xfcller, J. (2020). Title.\n")
    result = _check(run, path)
    assert result.returncode == 3
    assert result.stderr == (f"evidence: error: {path.name}:2: is not valid UTF-8 (byte 0xfc)\n")


@pytest.mark.parametrize("kind", TEXT_KINDS)
def test_nul_bytes_name_file_and_line(run: Run, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"binary{SUFFIXES[kind]}"
    path.write_bytes(b"one\ntwo\nthree\x00four\n")
    result = _check(run, path)
    assert result.returncode == 3
    assert result.stderr.startswith(f"evidence: error: {path.name}:3: contains a NUL byte")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("suffix", [".txt", ".bib"])
def test_a_100_mb_file_is_refused_before_it_is_read(run: Run, tmp_path: Path,
                                                    suffix: str) -> None:
    path = tmp_path / f"huge{suffix}"
    with path.open("wb") as handle:  # sparse: 100 MB on paper, nothing on disk
        handle.truncate(100 * 1024 * 1024)
    result = _check(run, path)
    assert result.returncode == 3
    assert result.stderr == (f"evidence: error: {path.name}: is {100 * 1024 * 1024} bytes, "
                             f"over the {MAX_INPUT_BYTES} byte input limit\n")


def test_standard_input_over_the_limit_is_refused(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(MAX_INPUT_BYTES + 1)
    with path.open("rb") as stdin:
        result = run("check", "-", "--offline", "--format", "json", stdin=stdin)
    assert result.returncode == 3
    assert result.stderr == (
        f"evidence: error: <stdin>: is over the {MAX_INPUT_BYTES} byte input limit\n")


def test_one_megabyte_line_of_closing_brackets_after_a_doi(run: Run, tmp_path: Path) -> None:
    """Regression: stripping the ')' after a DOI recounted the brackets for every character
    (quadratic: about 500 s for this line); it is now linear. The timeout is the bound."""
    path = tmp_path / "line.txt"
    path.write_text("Smith J. A title. 2020. doi:10.1000/xyz" + ")" * 1_000_000 + "\n",
                    encoding="utf-8")
    result = _check(run, path, timeout=60)
    report = _assert_clean_outcome(result, path.name)
    assert result.returncode == 4
    [reference] = report["references"]
    assert reference["doi"] == "10.1000/xyz" and reference["status"] == "unverifiable"


# Built on demand: a megabyte in a test id would not even fit in the environment of a subprocess
# (pytest puts the current test's id in PYTEST_CURRENT_TEST).
ONE_MB_LINES: dict[str, tuple[str, Callable[[], str]]] = {
    "text-words": (".txt", lambda: "Smith J. " + "word " * 200_000 + "2020. doi:10.1000/xyz."),
    "text-url": (".txt", lambda: "https://example.org/" + "a" * 1_000_000),
    "bibtex-title": (".bib", lambda: "@article{k, title = {" + "word " * 200_000
                     + "}, doi = {10.1000/xyz}}"),
    "markdown-item": (".md", lambda: "# References\n\n- Smith J. " + "word " * 200_000
                      + "2020. doi:10.1000/xyz"),
    "html-item": (".html", lambda: "<h2>References</h2><ol><li>Smith J. " + "word " * 200_000
                  + "2020. doi:10.1000/xyz</li></ol>"),
}


@pytest.mark.parametrize("case", list(ONE_MB_LINES))
def test_one_megabyte_single_line(run: Run, tmp_path: Path, case: str) -> None:
    suffix, make = ONE_MB_LINES[case]
    body = make()
    path = tmp_path / f"line{suffix}"
    path.write_text(body + "\n", encoding="utf-8")
    result = _check(run, path, timeout=60)
    report = _assert_clean_outcome(result, path.name)
    assert report is not None and len(report["references"]) == 1
    reference = report["references"][0]
    assert reference["source"]["line"] >= 1
    # Offline, nothing cached: the DOI (or the link) is unverifiable, never ok.
    assert reference["status"] == "unverifiable" and result.returncode == 4
    if "doi" in body:
        assert reference["doi"] == "10.1000/xyz"


def test_100000_nested_divs_outside_a_reference_section(run: Run, tmp_path: Path) -> None:
    depth = 100_000
    path = tmp_path / "nested.html"
    path.write_text("<html><body>" + "<div>" * depth + "<p>See doi:10.1000/xyz.</p>"
                    + "</div>" * depth + "</body></html>", encoding="utf-8")
    result = _check(run, path, timeout=60)
    report = _assert_clean_outcome(result, path.name)
    assert result.returncode == 4
    assert [r["doi"] for r in report["references"]] == ["10.1000/xyz"]


def test_100000_nested_divs_inside_a_reference_section(run: Run, tmp_path: Path) -> None:
    depth = 100_000
    path = tmp_path / "nested.html"
    path.write_text("<html><body><h2>References</h2><ul><li>" + "<div>" * depth
                    + "Smith J. A title. 2020. doi:10.1000/xyz" + "</div>" * depth
                    + "</li></ul></body></html>", encoding="utf-8")
    # It took 5-10 s on a busy machine, so a fixed 10 s bound failed there (issue 14): the
    # timeout only stops a hang. The quadratic slowdown this once had (no answer in minutes)
    # would still show; its timing is watched by benchmarks/reliability.py, not by the suite.
    result = _check(run, path, timeout=600)
    report = _assert_clean_outcome(result, path.name)
    assert [r["doi"] for r in report["references"]] == ["10.1000/xyz"]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _declare_size(blob: bytes, name: bytes, size: int) -> bytes:
    """Make the central directory declare `size` uncompressed bytes for member `name`: a bomb
    as far as any reader that trusts the directory knows, without building one."""
    data = bytearray(blob)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        name_length = int.from_bytes(data[start + 28: start + 30], "little")
        if bytes(data[start + 46: start + 46 + name_length]) == name:
            data[start + 24: start + 28] = size.to_bytes(4, "little")
            return bytes(data)
        start += 4
    raise AssertionError(f"no central directory entry for {name!r}")


def _bomb_cases(valid: bytes) -> dict[str, tuple[bytes, str]]:
    members = {n: zipfile.ZipFile(io.BytesIO(valid)).read(n)
               for n in zipfile.ZipFile(io.BytesIO(valid)).namelist()}
    return {
        "declared-4gb": (_declare_size(valid, b"word/document.xml", 0xFFFFFFF0),
                         "refusing a possible zip bomb"),
        "real-64mb-of-zeros": (_zip({**members, "word/media/zeros.bin": bytes(64 << 20)}),
                               "refusing a possible zip bomb"),
        "too-many-members": (_zip({**members, **{f"x/{i}": b"" for i in range(MAX_MEMBERS)}}),
                             "not a plausible .docx"),
        "not-a-zip": (b"PK\x03\x04 but then nothing a zip should hold" * 10,
                      "is not a .docx file (not a zip archive)"),
        "text-renamed": (b"Smith J. A title. 2020.\n", "is not a .docx file (not a zip archive)"),
        "zip-not-word": (_zip({"hello.txt": b"hi"}), "not a Word document"),
    }


@pytest.mark.parametrize("case", ["declared-4gb", "real-64mb-of-zeros", "too-many-members",
                                  "not-a-zip", "text-renamed", "zip-not-word"])
def test_docx_bombs_and_impostors_are_refused(run: Run, tmp_path: Path, valid_docx: bytes,
                                              case: str) -> None:
    blob, message = _bomb_cases(valid_docx)[case]
    path = tmp_path / f"{case}.docx"
    path.write_bytes(blob)
    result = _check(run, path)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(f"evidence: error: {path.name}: "), result.stderr
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def _replace_document_xml(valid: bytes, transform: Callable[[str], str]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(valid))
    members = {n: source.read(n) for n in source.namelist()}
    members["word/document.xml"] = transform(members["word/document.xml"].decode()).encode()
    return _zip(members)


@pytest.mark.parametrize("case", ["billion-laughs", "external-entity"])
def test_docx_xml_entities_are_never_expanded(run: Run, tmp_path: Path, valid_docx: bytes,
                                              case: str) -> None:
    if case == "billion-laughs":
        entities = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
        use = "&j;"
    else:
        entities = '<!ENTITY x SYSTEM "file:///etc/passwd">'
        use = "&x;"

    def transform(xml: str) -> str:
        declaration, _, rest = xml.partition("?>")
        return f"{declaration}?><!DOCTYPE w:document [{entities}]>" + rest.replace(
            "Smith J", f"{use} Smith J", 1)

    path = tmp_path / f"{case}.docx"
    path.write_bytes(_replace_document_xml(valid_docx, transform))
    result = _check(run, path, timeout=60)
    assert "Traceback" not in result.stderr
    assert "lollol" not in result.stdout + result.stderr
    assert "root:" not in result.stdout + result.stderr
    if case == "billion-laughs":  # a DTD: refused before python-docx parses (issue 14)
        assert result.returncode == 3
        assert result.stderr.startswith(f"evidence: error: {path.name}: declares XML entities")
    else:  # left unexpanded (python-docx's parser resolves no entities): the file is never read
        _assert_clean_outcome(result, path.name)


@pytest.mark.slow
def test_bibtex_with_20000_entries_offline(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "many.bib"
    path.write_text("".join(
        f"@article{{key{i},\n  author = {{Smith, John and van der Berg, Anna}},\n"
        f"  title = {{A study of item {i}}},\n  journal = {{J Test}}, year = {{2020}},\n"
        f"  doi = {{10.5555/item.{i}}}\n}}\n\n" for i in range(20_000)), encoding="utf-8")
    result = _check(run, path, "--quiet", timeout=120)
    report = _assert_clean_outcome(result, path.name)
    assert result.returncode == 4
    assert report["summary"] == {"references": 20_000, "ok": 0, "info": 0, "warning": 0,
                                 "error": 0, "unverifiable": 20_000}
    assert report["references"][19_999]["source"]["line"] == 19_999 * 7 + 1


# --- review files ---------------------------------------------------------------------------


def _laughs(levels: int = 9) -> str:
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"lol{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


HOSTILE_YAML = {
    "billion-laughs": (lambda base: base + _laughs(), "YAML aliases (*a0) are not allowed", 12),
    "python-object-apply": (
        lambda base: base.replace("title: T", "title: !!python/object/apply:os.system "
                                  "['touch pwned']"), "YAML tags", 4),
    "python-object": (lambda base: base + "x: !!python/object:builtins.object {}\n",
                      "YAML tags", 11),
    "local-tag": (lambda base: base.replace("title: T", "title: !custom T"), "YAML tags", 4),
    "anchor-and-alias": (lambda base: base.replace("title: T", "title: &t T\nother: *t"),
                         "YAML aliases (*t)", 5),
    "merge-key-alias": (lambda base: base + "base: &b {k: v}\nmore:\n  <<: *b\n",
                        "YAML aliases (*b)", 13),
    "two-documents": (lambda base: base + "---\nslug: other\n", "exactly one YAML document", 11),
}


@pytest.mark.parametrize("case", list(HOSTILE_YAML))
def test_hostile_review_yaml_is_refused_and_left_alone(run: Run, tmp_path: Path,
                                                       offline_env: dict[str, str],
                                                       case: str) -> None:
    made = run("review", "new", "rv", "--title", "T", "--question", "Q?")
    assert made.returncode == 0, made.stderr
    path = Path(offline_env["EVIDENCE_REVIEWS_DIR"]) / "rv.yaml"
    transform, message, line = HOSTILE_YAML[case]
    hostile = transform(path.read_text(encoding="utf-8"))
    path.write_text(hostile, encoding="utf-8")

    validate = run("review", "validate", "rv", timeout=30)
    assert validate.returncode == 1, validate.stderr
    assert f"{path}:{line}: " in validate.stderr and message in validate.stderr
    assert "Traceback" not in validate.stderr
    # Commands that write the review refuse before touching it.
    add = run("study", "add", "rv", "--doi", "10.1000/xyz", "--unverified", timeout=30)
    assert add.returncode == 3 and "Traceback" not in add.stderr
    assert add.stderr.startswith(f"evidence: error: {path}:{line}: ")
    table = run("table", "rv", timeout=30)
    assert table.returncode == 3 and "Traceback" not in table.stderr
    assert path.read_text(encoding="utf-8") == hostile
    assert not (tmp_path / "pwned").exists()


# --- known bugs (strict xfails: they start passing when fixed) ----------------------------------


@pytest.mark.parametrize("data", [
    pytest.param(b'[{"id": "a", "issued": {"date-parts": [[1e400]]}}]', id="infinite-year"),
    pytest.param(b'[{"id": "a", "volume": ' + b"9" * 5000 + b"}]", id="5000-digit-number"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100000-nested-arrays"),
])
def test_csl_json_pathological_values_are_input_errors(data: bytes) -> None:
    _assert_read_cleanly(data, "csl-json")


def test_csl_json_lone_surrogate_escape(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "surrogate.json"
    path.write_text('[{"id": "a", "title": "x\\ud800y", "DOI": "10.1000/xyz"}]',
                    encoding="utf-8")
    result = _check(run, path)
    _assert_clean_outcome(result, path.name)


def test_markdown_nested_past_the_parser_limit_is_read_or_refused() -> None:
    data = ("> " * 20 + "See doi:10.1000/xyz for details.\n").encode("utf-8")
    try:
        references = read_one(data, "deep.md", "markdown")
    except InputError as error:
        assert error.message.startswith("deep.md:1: ")
        return
    assert [r.cited.doi for r in references] == ["10.1000/xyz"]


def test_docx_needing_an_unknown_zip_version_is_refused(run: Run, tmp_path: Path,
                                                        valid_docx: bytes) -> None:
    blob = bytearray(valid_docx)
    entry = blob.find(b"PK\x01\x02")
    blob[entry + 6: entry + 8] = (219).to_bytes(2, "little")  # "version needed": 21.9
    path = tmp_path / "future.docx"
    path.write_bytes(bytes(blob))
    result = _check(run, path)
    assert "Traceback" not in result.stderr, result.stderr[-300:]
    assert result.returncode == 3
    assert result.stderr.startswith(f"evidence: error: {path.name}: ")
