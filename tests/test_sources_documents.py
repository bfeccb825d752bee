"""Readers for Markdown, HTML, .docx, RIS and CSL-JSON: through `evidence check` against the
Crossref simulator, and their line numbers, ids and refusals of unreadable input."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from evidence_cli.errors import InputError
from evidence_cli.sources import read_inputs
from tests.conftest import RunEvidence

DOCUMENTS = Path(__file__).parent / "fixtures" / "documents"


def _check(run_evidence: RunEvidence, *paths: str | Path) -> tuple[int, dict[str, Any]]:
    done = run_evidence("check", *map(str, paths), "--format", "json", "--no-urls")
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def _by_line(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {ref["source"]["line"]: ref for ref in report["references"]}


def _codes(ref: dict[str, Any]) -> list[str]:
    return [f["code"] for f in ref["findings"]]


def _read(path: Path) -> dict[int, Any]:
    """What the reader produced, by line: the report leaves out, under --no-urls, references
    that are only a link (nothing about them is checked), so links are asserted here."""
    return {ref.source.line: ref for ref in read_inputs([str(path)])}


def test_markdown_newsletter_end_to_end(run_evidence: RunEvidence) -> None:
    """Wrong issue and pages are reported with the registered values; a work Crossref does not
    hold ends unverifiable with no DOI; links outside the reference list are kept apart."""
    code, report = _check(run_evidence, DOCUMENTS / "newsletter.md")
    refs = _by_line(report)

    hamlin = refs[26]  # APA, no DOI, issue 6 and pages 823–828 where the record says 8, 923-928
    assert hamlin["doi"] == "10.1002/ajmg.b.31237"
    assert hamlin["status"] == "warning"
    findings = {f["code"]: f for f in hamlin["findings"]}
    assert findings["doi-suggested"]["suggestion"] == "10.1002/ajmg.b.31237"
    assert (findings["issue-mismatch"]["cited"], findings["issue-mismatch"]["registered"]) == \
        ("6", "8")
    assert findings["pages-mismatch"]["cited"] == "823–828"
    assert findings["pages-mismatch"]["registered"] == "923-928"
    assert hamlin["cited"]["authors"][0] == "Hamlin" and hamlin["cited"]["year"] == 2011

    mahmoudpour = refs[38]  # a real study whose record the simulator does not hold
    assert mahmoudpour["status"] == "unverifiable"
    assert mahmoudpour["doi"] is None
    assert _codes(mahmoudpour) == ["no-match"]

    # Vancouver with its DOI, Harvard and Chicago without: each verified against its record.
    assert refs[29]["doi"] == "10.1371/journal.pone.0033693"
    assert refs[32]["doi"] == "10.1371/journal.pone.0020476" and "doi-suggested" in _codes(refs[32])
    assert refs[34]["doi"] == "10.1371/journal.pone.0163945" and "doi-suggested" in _codes(refs[34])

    # Outside the reference section: one reference per link or bare DOI/URL, with only that.
    assert refs[14]["cited"]["doi"] == "10.1371/journal.pone.0033693"
    assert refs[22]["cited"]["doi"] == "10.1002/ajmg.b.31237"
    read = _read(DOCUMENTS / "newsletter.md")
    assert read[21].cited.url == "https://example.org/evidence-brief/ucla-loneliness-scale"
    assert read[44].cited.url == "https://example.org/evidence-brief"  # after the rule
    assert all(read[line].cited.title is None for line in (14, 21, 22, 44))
    assert 21 not in refs and 44 not in refs  # only links, and --no-urls: left out
    assert report["summary"]["references"] == 7
    assert code == 4  # something was unverifiable, nothing reached --fail-on error


def test_html_page_end_to_end(run_evidence: RunEvidence) -> None:
    _, report = _check(run_evidence, DOCUMENTS / "evidence-page.html")
    refs = _by_line(report)
    # The three list items of the References section, on the lines they start.
    assert refs[22]["cited"]["authors"][:2] == ["Boulkedid", "Abdoul"]
    assert refs[22]["doi"] == "10.1371/journal.pone.0020476"
    assert refs[25]["cited"]["doi"] == "10.1371/journal.pone.0163945"  # from its link
    assert refs[25]["status"] == "ok"
    assert refs[30]["cited"]["issue"] == "8" and refs[30]["doi"] == "10.1002/ajmg.b.31237"
    # The introductory paragraph is not a reference; navigation links and scripts are skipped.
    raws = [ref["raw"] for ref in report["references"]]
    assert not any("listed in order" in raw for raw in raws)
    assert not any("example.org/archive" in raw or "tracker" in raw for raw in raws)
    # A linked DOI and a bare DOI in the article text.
    assert refs[17]["cited"]["doi"] == "10.1371/journal.pone.0020476"
    assert refs[18]["cited"]["doi"] == "10.1371/journal.pone.0163945"
    assert _read(DOCUMENTS / "evidence-page.html")[39].cited.url == "https://example.org/privacy"
    assert 39 not in refs  # only a link, and --no-urls: left out


def _word_document(path: Path) -> None:
    """A practice note built with python-docx: a hyperlink and a bare DOI in the text, then a
    numbered reference list, then another section."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_heading("Practice note: sleep and neurodevelopment", 0)  # paragraph 1
    paragraph = document.add_paragraph("Screening advice is summarised on ")  # paragraph 2
    rel = document.part.relate_to("https://example.org/screening", RELATIONSHIP_TYPE.HYPERLINK,
                                  is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "the screening page"
    run.append(text)
    link.append(run)
    paragraph._p.append(link)
    document.add_paragraph("The Delphi review is doi:10.1371/journal.pone.0020476.")  # 3
    document.add_paragraph("")  # 4
    document.add_heading("References", 1)  # 5
    document.add_paragraph(  # 6
        "Hamlin, A., Liu, Y., Nguyen, D. V., Tassone, F., Zhang, L., & Hagerman, R. J. (2011). "
        "Sleep apnea in fragile X premutation carriers with and without FXTAS. American Journal "
        "of Medical Genetics Part B: Neuropsychiatric Genetics, 156(8), 923–928.",
        style="List Number",
    )
    document.add_paragraph(  # 7
        "Sadasivan S, Pond BB, Pani AK, et al. Methylphenidate exposure induces dopamine neuron "
        "loss and activation of microglia in the basal ganglia of mice. PLoS One. "
        "2012;7(3):e33693.",
        style="List Number",
    )
    document.add_heading("Acknowledgements", 1)  # 8
    document.add_paragraph("We thank the librarians of the 2019 working group.")  # 9
    document.save(str(path))


def test_docx_end_to_end(run_evidence: RunEvidence, tmp_path: Path) -> None:
    note = tmp_path / "practice-note.docx"
    _word_document(note)
    _, report = _check(run_evidence, note)
    refs = _by_line(report)  # "line" is the paragraph number
    assert sorted(refs) == [3, 6, 7]  # paragraph 2 is only a link: left out under --no-urls
    assert _read(note)[2].cited.url == "https://example.org/screening"
    assert refs[3]["cited"]["doi"] == "10.1371/journal.pone.0020476"
    assert refs[6]["doi"] == "10.1002/ajmg.b.31237" and "doi-suggested" in _codes(refs[6])
    assert refs[7]["doi"] == "10.1371/journal.pone.0033693"
    assert refs[7]["id"] == f"{note}:7"


def test_ris_and_csl_json_end_to_end(run_evidence: RunEvidence) -> None:
    _, report = _check(run_evidence, DOCUMENTS / "library-export.ris",
                       DOCUMENTS / "library-export.json")
    refs = {ref["id"]: ref for ref in report["references"]}
    ris_generated = f"{DOCUMENTS / 'library-export.ris'}:23"
    assert set(refs) == {"hamlin2011", ris_generated, "sadasivan2012", "davitkov2016"}
    assert refs["hamlin2011"]["source"]["line"] == 1
    assert refs["hamlin2011"]["cited"]["pages"] == "923-928"
    assert refs["hamlin2011"]["doi"] == "10.1002/ajmg.b.31237"  # found by search
    assert refs[ris_generated]["status"] == "ok"
    assert refs["sadasivan2012"]["source"]["line"] == 2
    assert refs["davitkov2016"]["source"]["line"] == 18
    assert refs["davitkov2016"]["cited"]["volume"] == "11"  # a number in the export
    assert refs["davitkov2016"]["status"] == "ok"


def test_csl_json_items_object_and_ris_without_end(tmp_path: Path) -> None:
    items = tmp_path / "items.json"
    items.write_text('{"meta": {"n": 1},\n "items": [\n  {"id": "a", "title": "T",\n'
                     '   "issued": {"raw": "March 2020"}}\n ]}\n', encoding="utf-8")
    (ref,) = read_inputs([str(items)])
    assert (ref.id, ref.source.line, ref.cited.year) == ("a", 3, 2020)

    broken = tmp_path / "broken.ris"
    broken.write_text("TY  - JOUR\nTI  - One\nER  - \n\nTY  - JOUR\nTI  - Two\n", encoding="utf-8")
    # A record without its end is a finding on that record; the record before it is read.
    one, two = read_inputs([str(broken)])
    assert one.cited.title == "One"
    assert two.source.line == 5 and [p.code for p in two.problems] == ["input-error"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.docx", b"this is not a zip archive", "not a .docx file"),
        ("refs.json", b'[{"id": "a",\n  "title": }]', "not valid JSON"),
        ("page.html", b"<html>\x00\x01\x02</html>", "NUL byte"),
        ("refs.md", b"# References\n\n- caf\xe9 2011\n", "not valid UTF-8"),
    ],
)
def test_unreadable_input_exits_3_with_one_line(
    run_evidence: RunEvidence, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    target = tmp_path / name
    target.write_bytes(content)
    done = run_evidence("check", str(target), "--no-urls")
    assert done.returncode == 3
    assert message in done.stderr
    assert str(target) in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_docx_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        # 64 MiB of zeros compresses to ~64 KiB: a ratio no Word document has.
        archive.writestr("word/document.xml", b"\0" * (64 * 1024 * 1024))
    bomb.write_bytes(buffer.getvalue())
    with pytest.raises(InputError, match="zip bomb"):
        read_inputs([str(bomb)])

    not_word = tmp_path / "archive.docx"
    with zipfile.ZipFile(not_word, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match="not a Word document"):
        read_inputs([str(not_word)])


def test_markdown_lists_without_blank_lines_and_bold_heading(tmp_path: Path) -> None:
    page = tmp_path / "post.md"
    page.write_text(
        "Intro with a link to [the trial](https://example.org/trial).\n\n"
        "**Further reading**\n\n"
        "Hamlin A, Liu Y. Sleep apnea in fragile X carriers. Am J Med Genet B. 2011;156(8):923-8.\n"
        "Boulkedid R, Abdoul H. Using and reporting the Delphi method. PLoS One. "
        "2011;6(6):e20476.\n"
        "\n## Comments\n\nSee https://example.org/comments and https://example.org/rss here.\n",
        encoding="utf-8",
    )
    refs = read_inputs([str(page)])
    by_id = {ref.id: ref for ref in refs}
    assert by_id[f"{page}:1"].cited.url == "https://example.org/trial"
    assert by_id[f"{page}:5"].cited.pages == "923-928"  # "923-8" means 923 to 928
    assert by_id[f"{page}:6"].cited.container == "PLoS One"
    # Two bare links on one line keep distinct ids.
    assert by_id[f"{page}:10"].cited.url == "https://example.org/comments"
    assert by_id[f"{page}:10#2"].cited.url == "https://example.org/rss"
    assert len(refs) == 5


def test_folder_reads_every_supported_document(tmp_path: Path) -> None:
    folder = tmp_path / "issue-14"
    folder.mkdir()
    for name in ("newsletter.md", "evidence-page.html", "library-export.ris"):
        (folder / name).write_bytes((DOCUMENTS / name).read_bytes())
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not a supported suffix: skipped
    refs = read_inputs([str(folder)])
    assert {Path(ref.source.path).name for ref in refs} == \
        {"newsletter.md", "evidence-page.html", "library-export.ris"}


def test_html_br_separated_list_and_docx_line_breaks(tmp_path: Path) -> None:
    """CMS pages and Word documents often put a whole list in one paragraph, line by line."""
    page = tmp_path / "sources.html"
    page.write_text(
        "<html><body>\n<h2>Sources</h2>\n"
        "<p>Hamlin A, Liu Y. Sleep apnea in fragile X carriers. Am J Med Genet B. "
        "2011;156(8):923-8.<br>\n"
        "Boulkedid R, Abdoul H. Using and reporting the Delphi method. <i>PLoS One</i>. "
        "2011;6(6):e20476.<br/>\n"
        '<a href="https://doi.org/10.1371/journal.pone.0163945">Davitkov P et al. 2016</a></p>\n'
        "</body></html>\n",
        encoding="utf-8",
    )
    refs = read_inputs([str(page)])
    assert [(r.source.line, r.cited.year) for r in refs] == [(3, 2011), (4, 2011), (5, 2016)]
    assert refs[1].cited.container == "PLoS One"
    assert refs[2].cited.doi == "10.1371/journal.pone.0163945"

    import docx

    document = docx.Document()
    document.add_heading("Bibliography", 1)
    paragraph = document.add_paragraph(
        "Hamlin A, Liu Y. Sleep apnea in fragile X carriers. Am J Med Genet B. 2011;156(8):923-8.")
    paragraph.add_run().add_break()
    paragraph.add_run("Boulkedid R, Abdoul H. Using and reporting the Delphi method. PLoS One. "
                      "2011;6(6):e20476.")
    note = tmp_path / "list.docx"
    document.save(str(note))
    refs = read_inputs([str(note)])
    assert [r.id for r in refs] == [f"{note}:2", f"{note}:2#2"]
    assert [r.cited.pages for r in refs] == ["923-928", "e20476"]


def test_html_footer_ends_the_reference_section(tmp_path: Path) -> None:
    page = tmp_path / "post.html"
    page.write_text(
        "<html><body><article><h2>References</h2>\n"
        "<p>Hamlin A, Liu Y. Sleep apnea in fragile X carriers. Am J Med Genet B. "
        "2011;156(8):923-8.</p>\n</article>\n"
        '<footer><p>© 2026 Evidence Notes <a href="https://example.org/privacy">Privacy</a>'
        "</p></footer></body></html>\n",
        encoding="utf-8",
    )
    reference, footer_link = read_inputs([str(page)])
    assert reference.cited.year == 2011 and reference.cited.volume == "156"
    # The footer's link is a link to check, not a citation to look up.
    assert (footer_link.source.line, footer_link.raw) == (4, "https://example.org/privacy")
    assert footer_link.cited.title is None
