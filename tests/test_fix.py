"""`evidence fix`: the diff it shows, what --write does to the file, and what it never touches.

The entries cite real records held by the simulator (tests/fixtures/crossref/works.jsonl); their
errors (a wrong issue and pages, a missing DOI, another paper's DOI) are deliberate. The
Mahmoudpour et al. (2021) entry cites a real study whose record the simulator does not hold.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest

from evidence_cli.commands import common
from evidence_cli.fixing.edit import EditError, edit_bibtex_entry, edit_csl_item
from evidence_cli.sources import read_inputs
from tests.conftest import RunEvidence
from tests.simulator import CrossrefSimulator

DOCUMENTS = Path(__file__).parent / "fixtures" / "documents"

BIBTEX = """% Library exported for the June newsletter
@article{hamlin2011,
  author = {Hamlin, Alyssa and Liu, Ying and Nguyen, Danh V. and Tassone, Flora and Zhang, Lin and Hagerman, Randi J.},
  title = {Sleep apnea in fragile {X} premutation carriers with and without {FXTAS}},
  journal = {American Journal of Medical Genetics Part B: Neuropsychiatric Genetics},
  year = 2011,
  volume = {156},
  number = {6},
  pages = {823--828},
  x-reading-group = {week 3; see {notes}},
}

@article{boulkedid2011,
  author = "Boulkedid, Rym and Abdoul, Hendy and Loustau, Marine and Sibony, Olivier and Alberti, Corinne",
  title = "Using and reporting the {Delphi} method for selecting healthcare quality indicators: a systematic review",
  journal = "PLoS ONE", year = "2011", volume = "6", number = "6", pages = "e20476",
  doi = "10.1371/journal.pone.0163945"
}

@article{mahmoudpour2021,
  author = {Mahmoudpour, A. and Rayesh, N. and Ghanbarian, E. and Rezaee, M.},
  title = {Effectiveness of acceptance and commitment therapy ({ACT}) on emotional regulation and loneliness of divorced women in {Iran}},
  journal = {Journal of Marital and Family Therapy},
  year = {2021}, volume = {47}, number = {4}, pages = {831--842}
}
"""  # noqa: E501


def _fixed_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bibtex_diff_then_write(run_evidence: RunEvidence, tmp_path: Path) -> None:
    bib = _fixed_file(tmp_path, "refs.bib", BIBTEX)
    shown = run_evidence("fix", str(bib))
    assert shown.returncode == 0, shown.stderr
    diff = shown.stdout
    assert diff.startswith(f"--- {bib}\n+++ {bib}\n")
    assert "-  number = {6},\n" in diff and "+  number = {8},\n" in diff
    assert "-  pages = {823--828},\n" in diff and "+  pages = {923--928},\n" in diff
    assert "+  doi = {10.1002/ajmg.b.31237},\n" in diff
    # Another paper's DOI is replaced by the one the cited work has, inside its quotes.
    assert '+  doi = "10.1371/journal.pone.0020476"\n' in diff
    assert "mahmoudpour2021" in shown.stderr and "not changed" in shown.stderr
    assert bib.read_text(encoding="utf-8") == BIBTEX  # nothing written without --write
    # The diff is a real patch: applied with patch(1) it gives what --write writes.
    patched = _fixed_file(tmp_path, "patched.bib", BIBTEX)
    subprocess.run(["patch", "--quiet", str(patched)], input=diff, text=True, check=True)

    written = run_evidence("fix", str(bib), "--write")
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "refs.bib.bak").read_text(encoding="utf-8") == BIBTEX
    after = bib.read_text(encoding="utf-8")
    assert "x-reading-group = {week 3; see {notes}}," in after  # unknown field kept verbatim
    assert after.startswith("% Library exported for the June newsletter\n")
    assert BIBTEX.split("@article{mahmoudpour2021,")[1] in after  # untouched entry, byte for byte
    assert not list(tmp_path.glob(".refs.bib.*.tmp"))  # no temporary file left behind
    assert patched.read_text(encoding="utf-8") == after

    # The fixed file now checks clean where it was wrong.
    done = run_evidence("check", str(bib), "--format", "json", "--no-urls")
    refs = {r["id"]: r for r in json.loads(done.stdout)["references"]}
    assert refs["hamlin2011"]["status"] == "ok"
    assert refs["hamlin2011"]["doi"] == "10.1002/ajmg.b.31237"
    assert refs["boulkedid2011"]["status"] == "ok"
    assert refs["mahmoudpour2021"]["status"] == "unverifiable"

    again = run_evidence("fix", str(bib))
    assert again.stdout == "" and "Nothing to change" in again.stderr


def test_ris_write_keeps_every_other_tag(run_evidence: RunEvidence, tmp_path: Path) -> None:
    original = (DOCUMENTS / "library-export.ris").read_text(encoding="utf-8")
    wrong = original.replace("IS  - 8\n", "IS  - 6\n").replace("SP  - 923\nEP  - 928\n",
                                                                "SP  - 823\nEP  - 828\n")
    ris = _fixed_file(tmp_path, "export.ris", wrong)
    done = run_evidence("fix", str(ris), "--write")
    assert done.returncode == 0, done.stderr
    after = ris.read_text(encoding="utf-8")
    assert "IS  - 8\n" in after and "SP  - 923\nEP  - 928\n" in after
    assert "DO  - 10.1002/ajmg.b.31237\nER  - \n" in after
    for tag_line in ("KW  - FXTAS", "SN  - 1552-4841",
                     "J2  - Am J Med Genet B Neuropsychiatr Genet",
                     "N1  - Exported from a reference manager"):
        assert tag_line in after
    # Only the first record changed: the second is identical.
    assert after.split("TY  - JOUR")[2] == wrong.split("TY  - JOUR")[2]
    assert len(read_inputs([str(ris)])) == 2
    assert (tmp_path / "export.ris.bak").read_text(encoding="utf-8") == wrong


def test_csl_json_write_edits_values_in_place(run_evidence: RunEvidence, tmp_path: Path) -> None:
    original = (DOCUMENTS / "library-export.json").read_text(encoding="utf-8")
    wrong = original.replace('"issue": "3"', '"issue": "4"')
    path = _fixed_file(tmp_path, "export.json", wrong)
    done = run_evidence("fix", str(path), "--write")
    assert done.returncode == 0, done.stderr
    after = path.read_text(encoding="utf-8")
    items = json.loads(after)
    assert items[0]["issue"] == "3"
    assert items[0]["DOI"] == "10.1371/journal.pone.0033693"
    assert items[0]["note"].startswith("Constructed for evidence-cli tests")
    # The second item had nothing wrong: its text is unchanged, including its number volume.
    second = '"id": "davitkov2016"'
    assert after[after.index(second):] == wrong[wrong.index(second):]
    assert '    "DOI": "10.1371/journal.pone.0033693"\n  },' in after  # indented like its siblings


def test_ambiguous_match_is_never_applied(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path
) -> None:
    # Constructed: a second registration of the Hamlin article makes its match ambiguous.
    twin = copy.deepcopy(crossref_sim.record("10.1002/ajmg.b.31237"))
    assert twin is not None
    twin["DOI"] = "10.5555/evidence-cli.hamlin-twin"
    crossref_sim.add_record(twin)
    text = BIBTEX.split("@article{boulkedid2011")[0]
    bib = _fixed_file(tmp_path, "refs.bib", text)
    done = run_evidence("fix", str(bib), "--write")
    assert done.returncode == 0
    assert done.stdout == ""
    assert "hamlin2011" in done.stderr and "Nothing to change" in done.stderr
    assert bib.read_text(encoding="utf-8") == text
    assert not (tmp_path / "refs.bib.bak").exists()


def test_fix_refuses_documents_it_cannot_edit(run_evidence: RunEvidence) -> None:
    done = run_evidence("fix", str(DOCUMENTS / "newsletter.md"))
    assert done.returncode == 2
    assert "BibTeX, RIS and CSL-JSON" in done.stderr


def test_concatenated_bibtex_value_is_not_edited() -> None:
    with pytest.raises(EditError, match="concatenation"):
        edit_bibtex_entry('@article{k, title = "Sleep" # subtitle, year = 2011}', {"title": "S"})


def test_bibtex_entry_edits_keep_formatting() -> None:
    entry = "@article{k,\r\n\tjournal = jmft,\r\n\tyear = \"2011\",\r\n\tpages = 12\r\n}"
    edited = edit_bibtex_entry(entry, {"container": "Journal of Marital and Family Therapy",
                                       "year": "2012", "pages": "1–12", "doi": "10.1/x"})
    assert edited == ("@article{k,\r\n\tjournal = {Journal of Marital and Family Therapy},\r\n"
                      "\tyear = \"2012\",\r\n\tpages = {1--12},\r\n\tdoi = {10.1/x}\r\n}")
    one_line = edit_bibtex_entry("@misc{m, title={A}, year=2001}", {"doi": "10.1/y"})
    assert one_line == "@misc{m, title={A}, year=2001,\n  doi = {10.1/y}}"


def test_csl_item_year_keeps_month_and_day() -> None:
    item = '{"id": "a", "issued": {"date-parts": [[2011, 6, 9]]}, "volume": 6}'
    edited = edit_csl_item(item, {"year": "2012", "volume": "7"})
    assert json.loads(edited) == {"id": "a", "issued": {"date-parts": [[2012, 6, 9]]},
                                  "volume": 7}


def test_search_unavailable_changes_nothing(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path
) -> None:
    """Crossref's search failing (a 503 on every list query) is no licence to guess."""
    crossref_sim.add_fault("status", times=None, match="query.bibliographic", code=503)
    # One retry is enough to show the behaviour; the default four would only slow the test.
    (tmp_path / "evidence.toml").write_text("max-retries = 1\n", encoding="utf-8")
    bib = _fixed_file(tmp_path, "refs.bib", BIBTEX)
    done = run_evidence("fix", str(bib), "--write")
    # Exit 4 (issue 14): an entry could not be checked, so "done" would claim too much.
    assert done.returncode == 4, done.stderr
    assert "Could not check " in done.stderr
    # Only the entry whose DOI could be looked up directly may change: boulkedid2011's DOI is
    # another paper's, and with search down there is no confident replacement for it.
    assert "hamlin2011" in done.stderr and "no confident Crossref record" in done.stderr
    assert "boulkedid2011" in done.stderr and "no confident replacement" in done.stderr
    assert done.stdout == ""
    assert bib.read_text(encoding="utf-8") == BIBTEX


def test_windows_line_endings_and_bom_are_kept(run_evidence: RunEvidence, tmp_path: Path) -> None:
    text = (DOCUMENTS / "library-export.ris").read_text(encoding="utf-8").replace("IS  - 8",
                                                                                 "IS  - 6")
    original = ("\ufeff" + text).replace("\n", "\r\n").encode("utf-8")
    ris = tmp_path / "endnote.ris"
    ris.write_bytes(original)
    done = run_evidence("fix", str(ris), "--write")
    assert done.returncode == 0, done.stderr
    after = ris.read_bytes()
    assert after.startswith(b"\xef\xbb\xbfTY  - JOUR\r\n")
    assert after.count(b"\r\n") == after.count(b"\n")
    assert b"IS  - 8\r\n" in after and b"DO  - 10.1002/ajmg.b.31237\r\nER  - \r\n" in after
    assert (tmp_path / "endnote.ris.bak").read_bytes() == original


def test_service_options_reach_a_command_as_one_value() -> None:
    """`common.service_options` puts the named options where `services` stands, and typer
    hands the command what was given as one ServiceOptions (None: not given)."""
    import inspect

    import typer
    from typer.testing import CliRunner

    seen: list[common.ServiceOptions] = []

    @common.service_options("mailto", "timeout")
    def command(name: str = typer.Option("x", "--name"),
                services: common.ServiceOptions = common.NOT_GIVEN,
                last: int = typer.Option(0, "--last")) -> None:
        seen.append(services)

    assert list(inspect.signature(command).parameters) == ["name", "mailto", "timeout", "last"]
    app = typer.Typer()
    app.command()(command)
    app.command("other")(lambda: None)  # two commands: typer then needs the command's name
    result = CliRunner().invoke(app, ["command", "--mailto", "me@example.org", "--last", "2"])
    assert result.exit_code == 0, result.output
    assert seen == [common.ServiceOptions(mailto="me@example.org")]
    assert seen[0].given()["timeout"] is None and seen[0].given()["crossref_url"] is None
    assert "--crossref-url" not in CliRunner().invoke(app, ["command", "--help"]).output
