"""Readers on the shapes of real bibliographies from peer projects' test corpora (issue 12).

The fixtures in tests/fixtures/peers/ are constructed, each reproducing the shape of one peer
fixture (its README and first lines say which). Units go through `read_one`, the readers' own
interface; the per-entry and per-file contracts go through the real command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evidence_cli import sources
from evidence_cli.errors import InputError
from evidence_cli.models import Reference
from evidence_cli.sources import read_one
from tests.conftest import RunEvidence
from tests.simulator import CrossrefSimulator

PEERS = Path(__file__).parent / "fixtures" / "peers"


def _read(name: str, kind: str) -> list[Reference]:
    path = PEERS / name
    return read_one(path.read_bytes(), str(path), kind)


def _by_id(refs: list[Reference]) -> dict[str, Reference]:
    return {ref.id: ref for ref in refs}


# --- BibTeX ------------------------------------------------------------------------------------


def test_bibtex_lines_stay_right_after_a_backslash_before_a_newline() -> None:
    refs = _by_id(_read("tugboat-shape.bib", "bibtex"))
    text = (PEERS / "tugboat-shape.bib").read_text(encoding="utf-8").splitlines()
    for key in ("Doe:1990:TDF", "Roe:1991:BI", "Poe:1994:LC", "Moe:1995:MF"):
        line = refs[key].source.line
        assert text[line - 1].startswith("@") and key in text[line - 1], (key, line)


def test_bibtex_tex_logos_math_and_braces_become_text() -> None:
    refs = _by_id(_read("tugboat-shape.bib", "bibtex"))
    assert refs["Doe:1990:TDF"].cited.title == \
        "TeX's DVI files and how to read them with TeX tools"
    assert refs["Roe:1991:BI"].cited.title is not None
    assert refs["Roe:1991:BI"].cited.title.startswith("BibTeXing large bibliographies:")
    assert refs["Poe:1994:LC"].cited.title == "The LaTeX Companion, for TeX Users Group members"
    assert refs["Poe:1994:LC"].cited.container == "TeX Users Group"
    assert refs["Moe:1995:MF"].cited.title == "Energy E = mc^2 and the α-helix in METAFONT"
    assert refs["Moe:1995:MF"].cited.container == "TUGboat"


def test_bibtex_concatenation_noopsort_and_commented_entries() -> None:
    refs = _read("xampl-shape.bib", "bibtex")
    by_id = _by_id(refs)
    assert set(by_id) == {"inproceedings-full", "book-full"}  # %@BOOK{whole-set is a comment
    assert by_id["inproceedings-full"].cited.container == \
        "Proc. Fifteenth Annual ACM Symposium on the Theory of Computing"
    assert by_id["inproceedings-full"].cited.year == 1983
    assert by_id["book-full"].cited.year == 1981
    assert not any(ref.problems for ref in refs)


def test_bibtex_legal_but_unusual_files_are_read_whole() -> None:
    refs = _read("legal-oddities.bib", "bibtex")
    assert len(refs) == 5
    first, keyless, twice, twice_again, wos = refs
    assert first.cited.container == "Journal Two"  # the later @string wins, as in BibTeX
    assert keyless.cited.title == "An entry without a key"
    assert keyless.id.endswith(f":{keyless.source.line}")
    assert (twice.cited.year, twice_again.cited.year) == (2003, 2004)
    assert not twice.problems
    [duplicate] = twice_again.problems
    assert duplicate.code == "duplicate-key" and duplicate.severity == "warning"
    assert f"also used at line {twice.source.line}" in duplicate.message
    assert (wos.id, wos.cited.doi, wos.cited.year) == (
        "WOS:000123456700001", "10.5555/evidence-cli.wos", 2005)
    assert wos.cited.title == "A Web of Science record" and not wos.problems


def test_bibtex_unbalanced_brace_loses_only_that_entry() -> None:
    refs = _read("unbalanced.bib", "bibtex")
    assert [ref.id for ref in refs] == ["before", "unclosed", "after1", "after2"]
    broken = refs[1]
    [error] = broken.problems
    assert error.code == "input-error" and error.severity == "error"
    assert broken.is_input_problem and broken.source.line == 10
    assert error.message.startswith(f"{PEERS / 'unbalanced.bib'}:10: cannot read this BibTeX")
    assert "brace" in error.message
    assert [ref.source.line for ref in refs[2:]] == [15, 20]
    assert [ref.cited.year for ref in refs[2:]] == [2012, 2013]


def test_a_broken_bibtex_entry_is_a_finding_and_the_rest_is_checked(
    run_evidence: RunEvidence, tmp_path: Path
) -> None:
    (tmp_path / "refs.bib").write_bytes((PEERS / "unbalanced.bib").read_bytes())
    done = run_evidence("check", "refs.bib", "--offline", "--no-urls", "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    by_id = {ref["id"]: ref for ref in report["references"]}
    assert set(by_id) == {"before", "unclosed", "after1", "after2"}
    [finding] = by_id["unclosed"]["findings"]
    assert finding["code"] == "input-error" and finding["severity"] == "error"
    assert finding["message"].startswith("refs.bib:10: cannot read this BibTeX entry")
    assert by_id["unclosed"]["source"] == {"path": "refs.bib", "line": 10}
    assert by_id["unclosed"]["status"] == "error"
    assert all(by_id[key]["status"] != "error" for key in ("before", "after1", "after2"))


def test_an_unreadable_file_among_others_is_one_finding(
    run_evidence: RunEvidence, tmp_path: Path
) -> None:
    (tmp_path / "good.bib").write_text("@article{a, title = {A title of some length here}, "
                                       "year = 2020}\n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes(b"M\xfcller J. A title. 2020.\n")
    done = run_evidence("check", "latin1.txt", "good.bib", "--offline", "--no-urls",
                        "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    [unreadable] = [ref for ref in report["references"] if ref["id"] == "latin1.txt"]
    assert [f["code"] for f in unreadable["findings"]] == ["input-error"]
    assert "latin1.txt:1: is not valid UTF-8" in unreadable["findings"][0]["message"]
    assert any(ref["id"] == "a" for ref in report["references"])


def test_nothing_readable_at_all_still_exits_3(run_evidence: RunEvidence,
                                              tmp_path: Path) -> None:
    (tmp_path / "only-broken.bib").write_text("@article{x,\n  title = {never closed,\n",
                                              encoding="utf-8")
    done = run_evidence("check", "only-broken.bib", "--offline")
    assert done.returncode == 3
    assert done.stderr.startswith("evidence: error: only-broken.bib:1: cannot read this BibTeX")
    missing = run_evidence("check", "only-broken.bib", "missing.bib", "--offline")
    assert missing.returncode == 3 and "missing.bib: no such file" in missing.stderr


def test_bibtex_lines_do_not_drift_in_a_large_file() -> None:
    entry = ("@article{k%d,\n  title = {Title %d with {TeX} and \\TeX\\\n more},\n"
             "  year = 2001,\n}\n")
    refs = read_one("".join(entry % (i, i) for i in range(2000)).encode(), "l.bib", "bibtex")
    assert len(refs) == 2000
    assert [ref.source.line for ref in refs[::500]] == [1, 2501, 5001, 7501]


# --- RIS ---------------------------------------------------------------------------------------


def test_ris_numbered_exports_and_record_headers() -> None:
    for name, first_line, doi in (("rispy-numbered.ris", 2, "10.5555/evidence-cli.numbered-1"),
                                  ("rispy-record-header.ris", 5,
                                   "10.5555/evidence-cli.header-1")):
        refs = _read(name, "ris")
        assert len(refs) == 2 and not any(ref.problems for ref in refs), name
        assert (refs[0].source.line, refs[0].cited.doi, refs[0].cited.year) == \
            (first_line, doi, 2014)
        assert refs[1].cited.year == 2006 and refs[1].cited.authors == ["Lund"]


def test_ris_ovid_export() -> None:
    first, second = _read("ovid-shape.ris", "ris")
    assert first.cited.doi == "10.5555/evidence-cli.ovid-1"
    assert first.cited.title == "An Ovid record with a title long enough to wrap onto a second line"
    assert (first.source.line, second.source.line) == (2, 19)
    assert first.cited.authors == ["Okafor", "Lin"] and second.cited.year == 2020
    assert first.raw.startswith("TY  - JOUR") and first.raw.endswith("ER  -")


def test_ris_single_space_tags() -> None:
    article, book = _read("zotero-single-space.ris", "ris")
    assert article.cited.doi == "10.5555/evidence-cli.single-space"
    assert (article.cited.title, article.cited.year, article.cited.authors) == (
        "A record written with single-space tags", 2017, ["Costa"])
    assert article.cited.container == "Journal of Constructed Records"
    assert (book.source.line, book.cited.title) == (9, "A book with single-space tags")
    assert article.raw.splitlines()[0] == "TY - JOUR"  # raw stays as written


def test_ris_broken_record_is_one_finding() -> None:
    data = (b"TY  - JOUR\nTI  - One\nER  - \n\nTY  - JOUR\nTI  - Two\n\n"
            b"TY  - JOUR\nTI  - Three\nER  - \n")
    one, two, three = read_one(data, "x.ris", "ris")
    assert (one.cited.title, three.cited.title) == ("One", "Three")
    assert two.source.line == 5 and [p.code for p in two.problems] == ["input-error"]
    assert "no end (ER tag) before the next TY" in two.problems[0].message


# --- DOIs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "expected"), [
    ("http://doi.acm.org/10.1145/358916.358995", "10.1145/358916.358995"),
    ("DOI 10.1177/0956797614524581", "10.1177/0956797614524581"),
    ("https://dx.doi.org/10.1000/182", "10.1000/182"),
    ("https://www.doi.org/10.1000/182", "10.1000/182"),
    ("https://hdl.handle.net/10.1000/182", "10.1000/182"),
    ("https://doi.org/10.1000/182?utm_source=feed", "10.1000/182"),
])
def test_resolver_links_and_labels_are_dois(written: str, expected: str) -> None:
    from evidence_cli import doi

    assert doi.normalize(written) == expected and doi.is_valid(expected)
    if written.startswith("http"):
        assert doi.is_doi_url(written)


def test_scopus_query_string_does_not_leak_into_the_doi() -> None:
    from evidence_cli import doi

    link = ("https://www.scopus.com/inward/record.uri?eid=2-s2.0-85062&doi=10.1016%2fj.jclepro"
            ".2019.02.698&partnerID=40&md5=9a8b7c6d5e4f")
    assert doi.find_all(link) == ["10.1016/j.jclepro.2019.02.698"]
    [ref] = _read("scopus-shape.bib", "bibtex")
    assert ref.cited.url is not None and ref.links == [ref.cited.url]
    from evidence_cli.sources.text import targets_in_text

    assert "10.5555/evidence-cli.scopus.2019.02.698" in targets_in_text(ref.cited.url)


def test_short_dois_are_recognised_not_malformed() -> None:
    from evidence_cli import doi

    assert doi.is_short("10/fqd6hj") and doi.is_short(doi.normalize("https://doi.org/10/fqd6hj"))
    assert doi.is_doi_url("https://doi.org/10/fqd6hj")
    assert not doi.is_short("10.1000/182")


def test_csl_json_doi_labels_links_and_short_dois(run_evidence: RunEvidence,
                                                   tmp_path: Path) -> None:
    refs = _by_id(_read("citeproc-doi-label.json", "csl-json"))
    assert refs["item-1"].cited.doi == "10.1177/0956797614524581"
    assert refs["item-2"].cited.doi == "10.1145/358916.358995"
    (tmp_path / "items.json").write_bytes((PEERS / "citeproc-doi-label.json").read_bytes())
    done = run_evidence("check", "items.json", "--offline", "--no-urls", "--format", "json")
    by_id = {ref["id"]: ref for ref in json.loads(done.stdout)["references"]}
    codes = {key: [f["code"] for f in ref["findings"]] for key, ref in by_id.items()}
    assert not any("doi-malformed" in found for found in codes.values())
    assert codes["item-3"][0] == "doi-short" and by_id["item-3"]["status"] == "unverifiable"
    assert "shortDOI" in by_id["item-3"]["findings"][0]["message"]


# --- Word, Markdown, text ----------------------------------------------------------------------


def _docx_bytes(paragraphs: list[str], body_xml: str = "") -> bytes:
    """A .docx made by python-docx: a References heading, then the given paragraphs; raw
    paragraph XML (w:p elements) is appended to the body when given."""
    import io

    import docx
    from lxml import etree

    document = docx.Document()
    document.add_heading("References", level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if body_xml:
        namespace = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        body = document.element.body
        for element in etree.fromstring(f"<root {namespace}>{body_xml}</root>"):
            body.insert(len(body) - 1, element)  # before the section properties
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _renamed_main_part(blob: bytes) -> bytes:
    """The same package with its main part stored as word/document2.xml (as some generators,
    and python-docx's own test files, name it), [Content_Types].xml and the rels updated."""
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            name = item.filename
            if name == "word/document.xml":
                name = "word/document2.xml"
            elif name == "word/_rels/document.xml.rels":
                name = "word/_rels/document2.xml.rels"
            elif name in ("[Content_Types].xml", "_rels/.rels"):
                data = data.replace(b"word/document.xml", b"word/document2.xml")
            target.writestr(name, data)
    return out.getvalue()


def test_docx_whose_main_part_is_document2_xml() -> None:
    blob = _renamed_main_part(_docx_bytes(
        ["Smith J, Doe A. A title of a trial. J Med. 2020;12(3):1-9. doi:10.1000/xyz"]))
    [ref] = read_one(blob, "renamed.docx", "docx")
    assert ref.cited.doi == "10.1000/xyz" and ref.source.line == 2


def test_docx_field_code_hyperlinks_are_read() -> None:
    """Word, EndNote and Zotero write links as fields: HYPERLINK "url" in w:instrText (a complex
    field) or in w:fldSimple's w:instr; the displayed text is the field's result."""
    complex_field = (
        '<w:p><w:r><w:t xml:space="preserve">See the registry: </w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> HYPERLINK "https://example.org/registry" '
        '</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        '<w:r><w:t>the registry page</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
        '<w:r><w:t xml:space="preserve"> (2020).</w:t></w:r></w:p>')
    simple_field = (
        '<w:p><w:r><w:t xml:space="preserve">Jones K. Another trial. 2019. </w:t></w:r>'
        '<w:fldSimple w:instr=" HYPERLINK &quot;https://doi.org/10.1000/abc&quot; ">'
        '<w:r><w:t>doi link</w:t></w:r></w:fldSimple></w:p>')
    bookmark = ('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>'
                ' HYPERLINK \\l "_Ref1" </w:instrText></w:r><w:r><w:fldChar '
                'w:fldCharType="separate"/></w:r><w:r><w:t>back to 2020</w:t></w:r><w:r>'
                '<w:fldChar w:fldCharType="end"/></w:r></w:p>')
    refs = read_one(_docx_bytes([], complex_field + simple_field + bookmark), "f.docx", "docx")
    assert [ref.source.line for ref in refs] == [2, 3, 4]
    registry, trial, back = refs
    assert registry.links == ["https://example.org/registry"]
    assert "the registry page" in registry.raw and "HYPERLINK" not in registry.raw
    assert trial.cited.doi == "10.1000/abc"
    assert back.links == []  # a link to a bookmark in the document is not a citation


def test_docx_headings_styles_and_bold_lines_still_found() -> None:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("Intro with a link https://example.org/intro")
    document.add_paragraph().add_run("Bibliography").bold = True
    document.add_paragraph("Doe A. A title. 2001.")
    document.add_heading("Appendix", level=1)
    document.add_paragraph("Not a reference 2002.")
    buffer = io.BytesIO()
    document.save(buffer)
    refs = read_one(buffer.getvalue(), "b.docx", "docx")
    assert [(ref.source.line, ref.cited.url or ref.cited.year) for ref in refs] == [
        (1, "https://example.org/intro"), (3, 2001)]


def test_markdown_and_html_urls_in_inline_code_are_not_checked() -> None:
    markdown = (b"Run `curl https://api.example.org/v1/items` to list them, or read "
                b"https://example.org/docs.\n\nAlso ``doi:10.1000/not-cited``.\n")
    refs = read_one(markdown, "a.md", "markdown")
    assert [ref.cited.url for ref in refs] == ["https://example.org/docs"]
    html = (b"<p>Call <code>https://api.example.org/v1</code> or see "
            b"https://example.org/docs.</p><pre>https://example.org/in-pre</pre>")
    refs = read_one(html, "a.html", "html")
    assert [ref.cited.url for ref in refs] == ["https://example.org/docs"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_files_with_a_bom_are_read(encoding: str) -> None:
    """Windows tools ("Unicode" in Notepad, EndNote's and Word's text exports) write UTF-16
    with a byte order mark."""
    bom = b"\xff\xfe" if encoding == "utf-16-le" else b"\xfe\xff"
    bib = "@article{müller,\n  title = {Ein Titel über Dinge},\n  year = 2020,\n}\n"
    [ref] = read_one(bom + bib.encode(encoding), "u.bib", "bibtex")
    assert (ref.id, ref.cited.title, ref.source.line) == ("müller", "Ein Titel über Dinge", 1)
    text = "Doe A. A title. 2001. doi:10.1000/abc\n\nRoe B. Another. 2002.\n"
    refs = read_one(bom + text.encode(encoding), "u.txt", "text")
    assert [ref.source.line for ref in refs] == [1, 3]
    assert refs[0].cited.doi == "10.1000/abc"


def test_csl_json_item_that_is_not_an_object_is_one_finding() -> None:
    data = b'[\n {"id": "a", "title": "T"},\n "stray",\n {"id": "b", "title": "U"}\n]\n'
    first, stray, last = read_one(data, "x.json", "csl-json")
    assert (first.id, last.id) == ("a", "b")
    assert stray.source.line == 3 and [p.code for p in stray.problems] == ["input-error"]
    assert "must be an object, not a string" in stray.problems[0].message


# --- Folder runs -------------------------------------------------------------------------------


def test_gitignore_rules() -> None:
    from evidence_cli.sources.selection import parse_gitignore

    rules = parse_gitignore("# build output\nbuild/\n*.log\n!keep.log\n/root-only.md\n"
                            "docs/**/draft-*.md\n\\#literal.md\n")

    def ignored(path: str) -> bool:
        result = False
        for rule in rules:
            if rule.regex.match(path):
                result = not rule.negated
        return result

    assert ignored("build/refs.bib") and ignored("sub/build/refs.bib")
    assert not ignored("build")  # a folder rule: the file named build is not ignored
    assert ignored("a.log") and ignored("deep/down/b.log") and not ignored("keep.log")
    assert ignored("root-only.md") and not ignored("sub/root-only.md")
    assert ignored("docs/draft-1.md") and ignored("docs/a/b/draft-2.md")
    assert not ignored("docs/final.md") and ignored("#literal.md")


def test_exclude_path_globs() -> None:
    from evidence_cli.sources.selection import excluded_by

    assert excluded_by(["vendor/lib/refs.bib"], ["vendor/*"]) == "vendor/*"
    assert excluded_by(["docs/archive/old.md"], ["docs/archive"]) == "docs/archive"
    assert excluded_by(["a/b/c.min.html"], ["*.min.html"]) == "*.min.html"
    assert excluded_by(["docs/new.md"], ["docs/archive", "*.bib"]) is None


def test_content_sniffing_for_folder_files() -> None:
    from evidence_cli.sources.selection import content_skip_reason

    package = b'{"name": "site", "version": "1.0.0", "dependencies": {"x": "^1"}}'
    assert content_skip_reason("csl-json", package) == "JSON that is not CSL-JSON"
    assert content_skip_reason("csl-json", b'[{"name": "x", "version": "1"}]') is not None
    csl = b'[{"id": "a", "type": "article-journal", "title": "T", "issued": {}}]'
    assert content_skip_reason("csl-json", csl) is None
    assert content_skip_reason("csl-json", b'{"items": [{"id": "a", "title": "T"}]}') is None
    mit = (b"MIT License\n\nCopyright (c) 2024 Jane Doe\n\nPermission is hereby granted, free "
           b"of charge, to any person obtaining a copy\n\nTHE SOFTWARE IS PROVIDED AS IS.\n")
    assert content_skip_reason("text", mit) is not None
    assert content_skip_reason("text", b"requests>=2.31\npytz==2021.1\nnumpy==1.26\n")
    refs = (b"Doe A, Roe B. A trial of things. J Med. 2020;1:1-9.\n"
            b"Poe C. Another study of things. Lancet. 2019;2:3-4.\n")
    assert content_skip_reason("text", refs) is None
    report = b'{\n  "schema": "evidence-cli/check/v1",\n  "references": []\n}'
    assert content_skip_reason("csl-json", report) == "a report written by evidence-cli"


def _write_repository(root: Path) -> None:
    """A small real-looking repository: docs with references, a broken .bib entry, and the files
    a folder run must leave alone."""
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "guide.md").write_text(
        "# Guide\n\nSee [the registry](https://example.org/registry) for details.\n\n"
        "## References\n\n"
        "1. Halvorsen I, García M. Metformin and cognitive decline in older adults with type 2 "
        "diabetes: a cohort study. J Constr Clin Test Rec. 2021;42(3):401-410. "
        "doi:10.5555/evidence-cli.clean\n", encoding="utf-8")
    (root / "docs" / "notes.md").write_text("# Notes\n\nNothing cited here.\n", encoding="utf-8")
    (root / "refs.bib").write_bytes((PEERS / "unbalanced.bib").read_bytes())
    (root / "package.json").write_text('{"name": "site", "version": "1.0.0",\n'
                                       ' "scripts": {"build": "make"}}\n', encoding="utf-8")
    (root / "LICENSE.txt").write_text("MIT License\n\nCopyright (c) 2024 Jane Doe\n\n"
                                      "Permission is hereby granted, free of charge.\n",
                                      encoding="utf-8")
    (root / "requirements.txt").write_text("requests>=2.31\npytz==2021.1\n", encoding="utf-8")
    (root / ".gitignore").write_text("build/\nscratch.md\n", encoding="utf-8")
    (root / "scratch.md").write_text("Draft: https://example.org/scratch\n", encoding="utf-8")
    (root / "build").mkdir()
    (root / "build" / "out.html").write_text('<a href="https://example.org/built">x</a>',
                                             encoding="utf-8")
    (root / "vendor").mkdir()
    (root / "vendor" / "third-party.bib").write_text("@misc{v, title={Vendored}}\n",
                                                    encoding="utf-8")


def test_folder_run_over_a_realistic_repository(run_evidence: RunEvidence,
                                                tmp_path: Path) -> None:
    root = tmp_path / "site"
    _write_repository(root)
    first = run_evidence("check", ".", "--offline", "--format", "json", "--output",
                         "report.json", "--exclude-path", "vendor/*", cwd=root)
    assert first.returncode == 1, first.stderr  # the broken entry is an error finding
    # The second run finds the report the first one wrote, and leaves it alone.
    (root / "report.md").write_text(
        run_evidence("check", "refs.bib", "--offline", "--no-urls", "--format", "markdown",
                     cwd=root).stdout, encoding="utf-8")
    done = run_evidence("check", ".", "--offline", "--format", "json", "-v",
                        "--exclude-path", "vendor/*", cwd=root)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    paths = {ref["source"]["path"] for ref in report["references"]}
    assert paths == {"docs/guide.md", "refs.bib"}, paths
    by_id = {ref["id"]: ref for ref in report["references"]}
    assert [f["code"] for f in by_id["unclosed"]["findings"]] == ["input-error"]
    assert {"before", "after1", "after2"} <= set(by_id)
    guide = {ref["cited"]["doi"] or ref["cited"]["url"] for ref in report["references"]
             if ref["source"]["path"] == "docs/guide.md"}
    assert guide == {"10.5555/evidence-cli.clean", "https://example.org/registry"}
    skipped = {line.split(": ", 1)[0].removeprefix("  skipped "): line.split(": ", 1)[1]
               for line in done.stderr.splitlines() if line.startswith("  skipped ")}
    assert skipped == {
        "LICENSE.txt": "text that does not look like a reference list (name it to read it)",
        "build/out.html": "ignored by git (.gitignore)",
        "package.json": "JSON that is not CSL-JSON",
        "report.json": "a report written by evidence-cli",
        "report.md": "a report written by evidence-cli",
        "requirements.txt": "text that does not look like a reference list (name it to read it)",
        "scratch.md": "ignored by git (.gitignore)",
        "vendor/third-party.bib": "matches --exclude-path vendor/*",
    }, done.stderr
    assert "Skipped 8 files:" in done.stderr
    quiet = run_evidence("check", ".", "--offline", "--format", "json", cwd=root)
    assert "(-v lists them)" in quiet.stderr and "  skipped " not in quiet.stderr


def test_folder_run_checks_every_real_reference_against_crossref(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: CrossrefSimulator
) -> None:
    """Issue 12's "done when": the realistic repository, checked against the Crossref simulator
    (links left out: no network here): the real references are checked, the broken entry is
    reported, nothing aborts."""
    root = tmp_path / "site"
    _write_repository(root)
    (root / "old-report.json").write_text(json.dumps(
        {"schema": "evidence-cli/check/v1", "tool": {"name": "evidence-cli"},
         "references": [{"id": "x", "cited": {"doi": "10.5555/evidence-cli.retracted"}}]}),
        encoding="utf-8")
    done = run_evidence("check", ".", "--no-urls", "--format", "json", cwd=root)
    assert done.returncode == 1, done.stderr
    by_path: dict[str, list[dict[str, object]]] = {}
    for ref in json.loads(done.stdout)["references"]:
        by_path.setdefault(ref["source"]["path"], []).append(ref)
    assert set(by_path) == {"docs/guide.md", "refs.bib", "vendor/third-party.bib"}
    [cited] = by_path["docs/guide.md"]
    assert cited["status"] == "ok" and cited["doi"] == "10.5555/evidence-cli.clean"
    statuses = {ref["id"]: ref["status"] for ref in by_path["refs.bib"]}
    assert statuses["unclosed"] == "error" and len(statuses) == 4
    assert "/works/10.5555%2Fevidence-cli.retracted" not in crossref_sim.stats.by_path


def test_exclude_path_from_the_configuration(run_evidence: RunEvidence, tmp_path: Path) -> None:
    root = tmp_path / "site"
    _write_repository(root)
    (root / "evidence.toml").write_text('exclude-path = ["vendor/*", "refs.bib"]\n',
                                        encoding="utf-8")
    done = run_evidence("check", ".", "--offline", "--no-urls", "--format", "json", "-v",
                        cwd=root)
    paths = {ref["source"]["path"] for ref in json.loads(done.stdout)["references"]}
    assert paths == {"docs/guide.md"}, done.stderr
    assert "skipped refs.bib: matches --exclude-path refs.bib" in done.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "evidence.toml").write_text("exclude-path = 3\n", encoding="utf-8")
    refused = run_evidence("check", ".", "--offline", cwd=bad)
    assert refused.returncode == 3 and "exclude-path" in refused.stderr


def test_folder_run_inside_a_git_work_tree(run_evidence: RunEvidence, tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    _write_repository(root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".git" / "info").mkdir(parents=True, exist_ok=True)
    (root / ".git" / "info" / "exclude").write_text("docs/notes.md\n", encoding="utf-8")
    done = run_evidence("check", ".", "--offline", "--no-urls", "--format", "json", "-v",
                        cwd=root)
    assert "skipped scratch.md: ignored by git" in done.stderr
    assert "skipped docs/notes.md: ignored by git" in done.stderr  # git's own rules count


# --- Nothing found -----------------------------------------------------------------------------


def test_a_named_input_without_references_is_a_warning(run_evidence: RunEvidence,
                                                       tmp_path: Path) -> None:
    (tmp_path / "empty.bib").write_text("% nothing yet\n", encoding="utf-8")
    (tmp_path / "post.md").write_text("# Post\n\n## Literatur\n\n- Doe A. A title. 2001.\n",
                                      encoding="utf-8")
    for name in ("empty.bib", "post.md"):
        done = run_evidence("check", name, "--offline", "--format", "json")
        assert done.returncode == 0, done.stderr
        [ref] = json.loads(done.stdout)["references"]
        assert ref["id"] == name and ref["status"] == "warning"
        [finding] = ref["findings"]
        assert finding["code"] == "no-references" and finding["message"].startswith(f"{name}:1:")
        failing = run_evidence("check", name, "--offline", "--fail-on", "warning")
        assert failing.returncode == 1, failing.stderr
    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "LICENSE.txt").write_text("MIT License\n", encoding="utf-8")
    folder = run_evidence("check", "nothing", "--offline", "--format", "json")
    [ref] = json.loads(folder.stdout)["references"]
    assert ref["findings"][0]["code"] == "no-references" and "1 skipped" in \
        ref["findings"][0]["message"]


# --- Sniffing standard input -------------------------------------------------------------------


@pytest.mark.parametrize(("content", "kind"), [
    (b"% This file was created with JabRef 5.9.\n% Encoding: UTF-8\n\n@Article{a,\n}\n",
     "bibtex"),
    (b"\n\n   @book{b, title={T}}\n", "bibtex"),
    ((PEERS / "rispy-numbered.ris").read_bytes(), "ris"),
    ((PEERS / "rispy-record-header.ris").read_bytes(), "ris"),
    ((PEERS / "ovid-shape.ris").read_bytes(), "ris"),
    ((PEERS / "zotero-single-space.ris").read_bytes(), "ris"),
    (b'[\n  {"id": "a", "title": "T"}\n]\n', "csl-json"),
    (b'{"items": []}', "csl-json"),
    (b"<!DOCTYPE html>\n<html><body><p>x</p></body></html>", "html"),
    (b"<head><title>x</title></head><body>y</body>", "html"),
    (b"Intro text.\n\n## References\n\n1. Doe A. 2001.\n", "markdown"),
    (b"See [the trial](https://example.org/t).\n", "markdown"),
    (b"[1] Doe A. A title. J Med. 2001;1:1-2.\n[2] Roe B. Another. 2002.\n", "text"),
    (b"Doe A. A title. 2001.\n", "text"),
    ("% comment\n@misc{u, title={Ü}}\n".encode("utf-16"), "bibtex"),
])
def test_sniffing(content: bytes, kind: str) -> None:
    from evidence_cli.sources import sniff

    assert sniff(content) == kind


def test_jabref_bibtex_on_standard_input(run_evidence: RunEvidence) -> None:
    bib = ("% This file was created with JabRef 5.9.\n% Encoding: UTF-8\n\n"
           "@Article{halvorsen,\n  author = {Halvorsen, Ingrid and García, Mateo},\n"
           "  title = {Metformin and cognitive decline in older adults with type 2 diabetes: "
           "a cohort study},\n  doi = {10.5555/evidence-cli.clean},\n}\n\n"
           "@Comment{jabref-meta: databaseType:bibtex;}\n")
    done = run_evidence("check", "-", "--offline", "--format", "json", input=bib)
    [ref] = json.loads(done.stdout)["references"]
    assert (ref["id"], ref["source"]["line"]) == ("halvorsen", 4)


@pytest.mark.parametrize("kind", sorted(sources.READER_MODULES))
def test_every_reader_module_is_a_reader(kind: str) -> None:
    """The sources layer's interface (sources.Reader): each kind's module reads bytes and a
    path into references with that path, and refuses what it cannot read with InputError."""
    import importlib
    import inspect

    module = importlib.import_module(sources.READER_MODULES[kind])
    assert list(inspect.signature(module.read).parameters) == ["data", "path"]
    try:
        references = module.read(b"", f"empty.{kind}")
    except InputError as error:
        assert f"empty.{kind}" in str(error)
    else:
        assert all(ref.source.path == f"empty.{kind}" for ref in references)
