"""Matching a reference without a DOI to a Crossref record: the three outcomes, unit and end to end.

Candidates are real recorded Crossref records (tests/fixtures/crossref/works.jsonl). Where a test
needs a record that does not exist — a second registration of the same work, to make the match
ambiguous — it builds one from a real record and says so.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from evidence_cli.checks.matching import choose, outcome_findings
from evidence_cli.models import CitedFields, Severity
from evidence_cli.sources.freetext import parse_reference
from tests.conftest import RunEvidence
from tests.simulator import CrossrefSimulator

WORKS = Path(__file__).parent / "fixtures" / "crossref" / "works.jsonl"


@pytest.fixture(scope="module")
def records() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for line in WORKS.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)["message"]
        out[message["DOI"].lower()] = message
    return out


DELPHI = "10.1371/journal.pone.0020476"
HAMLIN = "10.1002/ajmg.b.31237"
DELPHI_APA = (
    "Boulkedid, R., Abdoul, H., Loustau, M., Sibony, O., & Alberti, C. (2011). Using and "
    "reporting the Delphi method for selecting healthcare quality indicators: A systematic "
    "review. PLoS ONE, 6(6), e20476."
)


def _candidates(records: dict[str, dict[str, Any]], *dois: str) -> list[dict[str, Any]]:
    return [records[doi] for doi in dois]


def test_clear_winner_is_matched(records: dict[str, dict[str, Any]]) -> None:
    # Listed after two other works, as a search might rank it: the order does not decide.
    outcome = choose(parse_reference(DELPHI_APA), DELPHI_APA,
                     _candidates(records, HAMLIN, "10.1371/journal.pone.0163945", DELPHI))
    assert outcome.kind == "matched"
    assert outcome.record is not None and outcome.record["DOI"] == DELPHI
    assert outcome.confidence >= 0.95
    assert outcome.candidates[0][0] == DELPHI
    assert all(confidence < 0.6 for _, confidence in outcome.candidates[1:])
    (finding,) = outcome_findings(outcome)
    assert finding.code == "doi-suggested" and finding.severity is Severity.INFO
    assert finding.suggestion == DELPHI and DELPHI in finding.message
    assert f"{outcome.confidence:.2f}" in finding.message


def test_degraded_reference_still_matches(records: dict[str, dict[str, Any]]) -> None:
    """Typos, an abbreviated journal, no issue, a wrong page: the title and authors carry it."""
    text = ("Hamiln A, Liu Y, Nguyen DV, et al. Sleep apnoea in fragile X premutation carriers "
            "with and without FXTAS. Am J Med Genet B. 2011;156:823-8.")
    outcome = choose(parse_reference(text), text, _candidates(records, HAMLIN, DELPHI))
    assert outcome.kind == "matched" and outcome.record is not None
    assert outcome.record["DOI"] == HAMLIN


def test_two_registrations_of_the_same_work_are_ambiguous(
    records: dict[str, dict[str, Any]],
) -> None:
    # Constructed: the Delphi review registered a second time under a test-prefix DOI.
    twin = copy.deepcopy(records[DELPHI])
    twin["DOI"] = "10.5555/evidence-cli.delphi-twin"
    outcome = choose(parse_reference(DELPHI_APA), DELPHI_APA, [records[DELPHI], twin])
    assert outcome.kind == "ambiguous"
    assert outcome.record is None
    assert {doi for doi, _ in outcome.candidates} == {DELPHI, "10.5555/evidence-cli.delphi-twin"}
    (finding,) = outcome_findings(outcome)
    assert finding.code == "match-ambiguous" and finding.severity is Severity.WARNING
    assert DELPHI in finding.message and "10.5555/evidence-cli.delphi-twin" in finding.message
    assert finding.suggestion is None


def test_same_title_by_other_authors_is_no_match(records: dict[str, dict[str, Any]]) -> None:
    """A title alone never earns a DOI: other authors, year and numbers mean another work."""
    text = ("Okonkwo, C., & Lindqvist, M. (2019). Using and reporting the Delphi method for "
            "selecting healthcare quality indicators: A systematic review. Nursing Open, 3(1), "
            "11–19.")
    outcome = choose(parse_reference(text), text, _candidates(records, DELPHI))
    assert outcome.kind == "none"
    assert outcome.record is None
    (finding,) = outcome_findings(outcome)
    assert finding.code == "no-match"
    assert finding.makes_unverifiable


def test_companion_papers_are_no_match(records: dict[str, dict[str, Any]]) -> None:
    """Same authors, year and journal: one word of the title, or all the numbers, differ."""
    sadasivan = "10.1371/journal.pone.0033693"
    rats = ("Sadasivan S, Pond BB, Pani AK, et al. Methylphenidate exposure induces dopamine "
            "neuron loss and activation of microglia in the basal ganglia of rats. PLoS One. "
            "2012;8(5):e61452.")
    assert choose(parse_reference(rats), rats, _candidates(records, sadasivan)).kind == "none"
    # With the paper's own volume, issue and article number, it is the same paper with a word
    # of its title miscited: matched (and the audit then reports title-mismatch).
    miscited = rats.replace("2012;8(5):e61452", "2012;7(3):e33693")
    assert choose(parse_reference(miscited), miscited, _candidates(records, sadasivan)).kind == \
        "matched"
    other_numbers = ("Sadasivan S, Pond BB, Pani AK, et al. Methylphenidate exposure induces "
                     "dopamine neuron loss and activation of microglia in the basal ganglia of "
                     "mice. PLoS One. 2012;9(11):e41120.")
    outcome = choose(parse_reference(other_numbers), other_numbers,
                     _candidates(records, sadasivan))
    assert outcome.kind == "none"
    # The same reference with its own numbers matches: the numbers made the difference.
    right = other_numbers.replace("2012;9(11):e41120", "2012;7(3):e33693")
    assert choose(parse_reference(right), right, _candidates(records, sadasivan)).kind == \
        "matched"


def test_unrelated_candidates_and_no_candidates_are_no_match(
    records: dict[str, dict[str, Any]],
) -> None:
    text = ("Mahmoudpour, A., Rayesh, N., Ghanbarian, E., & Rezaee, M. (2021). Effectiveness of "
            "acceptance and commitment therapy (ACT) on emotional regulation and loneliness of "
            "divorced women in Iran. Journal of Marital and Family Therapy, 47(4), 831–842.")
    outcome = choose(parse_reference(text), text, _candidates(records, HAMLIN, DELPHI))
    assert outcome.kind == "none" and outcome.confidence < 0.5
    assert choose(parse_reference(text), text, []).kind == "none"


def test_threshold_is_respected(records: dict[str, dict[str, Any]]) -> None:
    # Title, authors and year agree but nothing else is cited: confident, not certain.
    text = ("Boulkedid R, Abdoul H, Loustau M, Sibony O, Alberti C. Using and reporting the "
            "Delphi method for selecting healthcare quality indicators: a systematic review. 2011.")
    cited = parse_reference(text)
    outcome = choose(cited, text, _candidates(records, DELPHI))
    assert outcome.kind == "matched" and outcome.confidence < 0.95
    assert choose(cited, text, _candidates(records, DELPHI), threshold=0.95).kind == "none"


def test_records_without_title_or_authors_never_match(records: dict[str, dict[str, Any]]) -> None:
    # Real component and journal-issue records with no title, no author and no date.
    bare = [records[d] for d in ("10.1371/journal.pmed.0030277.g001",
                                 "10.1002/humu.2018.39.issue-6")]
    text = "Figure 1. Human Mutation 2018;39(6)."
    assert choose(parse_reference(text), text, bare).kind == "none"


# -- real dev-set misses (benchmarks/styles_e2e.py's dev mode: training records rendered by
# citeproc-py in validation styles, with no DOI; the texts are those renderings) ---------------

PEERJ_WASPS = "10.7717/peerj.3223"
# european-journal-of-ophthalmology: "Madden AA, Boyden SD, Soriano J-AN" is parsed as the authors
# AA, SD, J-AN (the initials taken for the family names), so the first author "disagreed".
WASPS_EJO = ("1. Madden AA, Boyden SD, Soriano J-AN, et al. The emerging contribution of social "
             "wasps to grape rot disease ecology. PeerJ. 2017; 5: e3223.")


def test_registered_first_author_leading_the_text_overrules_a_misparsed_author(
    records: dict[str, dict[str, Any]],
) -> None:
    cited = parse_reference(WASPS_EJO)
    assert cited.authors and cited.authors[0] != "Madden"  # the misparse this test is about
    outcome = choose(cited, WASPS_EJO, _candidates(records, PEERJ_WASPS, DELPHI))
    assert outcome.kind == "matched" and outcome.record is not None
    assert outcome.record["DOI"] == PEERJ_WASPS
    # Other people written in the same shape: the authorship still disagrees, no match.
    others = WASPS_EJO.replace("Madden AA, Boyden SD, Soriano J-AN",
                               "Okonkwo CA, Lindqvist MB, Sorensen J-AN")
    assert choose(parse_reference(others), others, _candidates(records, PEERJ_WASPS)).kind == \
        "none"


DAC_IMAGES = "10.12681/dac.39266"
# association-for-computing-machinery: the parser gives neither title nor authors, and the title
# (28 characters) is too short for the fuzzy containment test.
IMAGES_ACM = ("[1] Sónia Díaz and Gabriel Martinez. 2025. Ways Of Depropriating Images. DAC 5, 1 "
              "(March 2025), 110–125.")


def test_a_short_title_standing_as_a_sentence_of_the_reference_counts(
    records: dict[str, dict[str, Any]],
) -> None:
    # The parse without its title, as an earlier model read it (unsure of a short title): the
    # matching must find the title in the text itself.
    cited = replace(parse_reference(IMAGES_ACM), title=None)
    outcome = choose(cited, IMAGES_ACM, _candidates(records, DAC_IMAGES, DELPHI))
    assert outcome.kind == "matched" and outcome.record is not None
    assert outcome.record["DOI"] == DAC_IMAGES
    # The short title inside a longer sentence is another title: not that work.
    longer = IMAGES_ACM.replace("Ways Of Depropriating Images.",
                                "Ways Of Depropriating Images of War in Cinema.")
    assert choose(parse_reference(longer), longer, _candidates(records, DAC_IMAGES)).kind == "none"


def test_a_short_chapter_title_merged_with_its_book_title_still_matches(
    records: dict[str, dict[str, Any]],
) -> None:
    """The known miss: the parser reads a short chapter title and the book's as one title
    ("Learning to Learn. In Facilitating ..."). The parse is constructed here (the shipped
    parser reads this training record right); the text is the record rendered in APA."""
    widget = "10.1007/978-1-4612-2954-4_3"
    text = ("Gregory, K. (1992). Widget Resources. In Programming with Motif™ (pp. 11–26). "
            "Springer New York.")
    merged = CitedFields(title="Widget Resources. In Programming with Motif™",
                         authors=["Gregory"], year=1992, pages="11–26")
    outcome = choose(merged, text, _candidates(records, widget))
    assert outcome.kind == "matched" and outcome.record is not None
    assert outcome.record["DOI"] == widget
    # A word that is in neither the chapter's title nor its book's still means another work.
    other = replace(merged, title="Widget Resources. In Programming with Python")
    assert choose(other, text.replace("Motif™", "Python"), _candidates(records, widget)).kind == \
        "none"



@pytest.mark.parametrize(("doi", "text", "title", "other"), [
    # mimesis-edizioni: 'in «Journal»' after the title.
    ("10.1007/s12080-020-00477-4",
     "C. Boettiger, Ecological management of stochastic systems with long transients, in "
     "«Theoretical Ecology», fasc. 14, 4 2021, pp. 663–671",
     "Ecological management of stochastic systems with long transients, in «Theoretical Ecology",
     ("Ecology", "Physics")),
    # systematic-and-applied-microbiology: the journal and Hindawi's volume 2013 after it.
    ("10.1155/2013/753153",
     "[1] Chacón, G.R. (2013) Toeplitz Operators on Weighted Bergman Spaces. Journal of "
     "Function Spaces and Applications 2013, 1–5.",
     "Toeplitz Operators on Weighted Bergman Spaces. Journal of Function Spaces and "
     "Applications 2013", ("Applications", "Methods")),
])
def test_a_title_run_on_into_its_journal_still_matches(
    records: dict[str, dict[str, Any]], doi: str, text: str, title: str,
    other: tuple[str, str],
) -> None:
    """The parser runs the title on into the journal's name (the texts rendered from the
    records; the parses as the parser reads them): the journal's words, and the numbers after
    them, make the cited title no longer one than the registered."""
    merged = CitedFields(title=title, authors=[text.split(",")[0].split()[-1]],
                         pages=text.rsplit(" ", 1)[-1].strip("."))
    outcome = choose(merged, text, _candidates(records, doi))
    assert outcome.kind == "matched" and outcome.record is not None
    assert outcome.record["DOI"] == doi
    # Words that are not the journal's still make it another, longer title.
    longer = replace(merged, title=title.replace(*other))
    assert choose(longer, text.replace(*other), _candidates(records, doi)).kind == "none"


def test_a_year_read_from_the_title_is_no_cited_year(records: dict[str, dict[str, Any]]
                                                     ) -> None:
    """The parser takes the year in the title ("... PNLD 2012") for the cited year: the
    registered year (2021) in the text is the year cited (the text rendered from the record,
    the parse as the parser reads it, year and all)."""
    silva = "10.5902/2448065761350"
    title = ("O ‘não lugar’ epistemológico da Filosofia Africana nos livros didáticos de "
             "filosofia para o ensino médio aprovados pelo Programa Nacional do Livro e Material "
             "Didático – PNLD 2012")
    text = (f"Silva, J.M., « {title} », Revista Digital de Ensino de Filosofia - REFilo, vol. 7, "
            "2021, p. .")
    misread = CitedFields(authors=["Silva"], year=2012, volume="7")
    outcome = choose(misread, text, _candidates(records, silva))
    assert outcome.kind == "matched" and outcome.record is not None
    assert outcome.record["DOI"] == silva
    # Without the registered year in the text, 2012 is a year cited and it disagrees.
    assert choose(misread, text.replace("2021, ", ""), _candidates(records, silva)).kind == "none"


@pytest.mark.parametrize("text", [
    "Gregory, KD, \u2018Widget Resources\u2019 in Programming with Motif\u2122 (Springer New York, "
    "1992) 11\u201326",
    "[1] Gregory, K.D. (1992). Widget Resources., Programming with Motif\u2122, Springer New York, "
    "pp. 11\u201326.",
])
def test_a_short_title_in_single_quotes_or_before_a_comma_is_found_unparsed(
    records: dict[str, dict[str, Any]], text: str,
) -> None:
    """A title too short for the fuzzy containment test, standing whole between single quotes
    or before ".,": the text (written here in two more styles) names it even when the parser
    gives nothing with confidence (constructed: an empty parse)."""
    widget = "10.1007/978-1-4612-2954-4_3"
    outcome = choose(CitedFields(), text, _candidates(records, widget))
    assert outcome.kind == "matched" and outcome.record is not None
    assert outcome.record["DOI"] == widget
    # Another title in the same place is not that work.
    other = text.replace("Widget Resources", "Widget Factories")
    assert choose(CitedFields(), other, _candidates(records, widget)).kind == "none"

def test_a_whole_title_between_full_stops_counts_in_a_reference_without_year_or_numbers(
    records: dict[str, dict[str, Any]],
) -> None:
    """A reference typed without year, volume or pages (constructed from Hamlin et al.), whose
    parse gives no title (constructed: the authors and journal only): the registered title
    standing whole between its full stops is that title as written, so authors and journal
    agreeing make the match."""
    text = ("Hamlin A, Liu Y, Nguyen DV, Tassone F, Zhang L, Hagerman RJ. Sleep apnea in fragile X "
            "premutation carriers with and without FXTAS. American Journal of Medical Genetics "
            "Part B: Neuropsychiatric Genetics.")
    cited = CitedFields(authors=["Hamlin", "Liu"],
                        container="American Journal of Medical Genetics Part B")
    outcome = choose(cited, text, _candidates(records, HAMLIN, DELPHI))
    assert outcome.kind == "matched" and outcome.record is not None
    assert outcome.record["DOI"] == HAMLIN
    # The registered title only the start of a longer one: perhaps another work, no match.
    longer = text.replace("with and without FXTAS.", "with and without FXTAS in two cohorts.")
    assert choose(cited, longer, _candidates(records, HAMLIN)).kind == "none"
    # Nor in the middle of a sentence that says more.
    inside = text.replace("Sleep apnea", "Follow-up of sleep apnea")
    assert choose(cited, inside, _candidates(records, HAMLIN)).kind == "none"


# -- end to end: `evidence check` against the simulator ----------------------------------------

def test_three_outcomes_end_to_end(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path,
    records: dict[str, dict[str, Any]],
) -> None:
    # Constructed: a second registration of the Hamlin article, so its references are ambiguous.
    twin = copy.deepcopy(records[HAMLIN])
    twin["DOI"] = "10.5555/evidence-cli.hamlin-twin"
    crossref_sim.add_record(twin)
    references = tmp_path / "references.txt"
    references.write_text(
        DELPHI_APA + "\n\n"
        "Hamlin A, Liu Y, Nguyen DV, Tassone F, Zhang L, Hagerman RJ. Sleep apnea in fragile X "
        "premutation carriers with and without FXTAS. Am J Med Genet B Neuropsychiatr Genet. "
        "2011;156(8):923-8.\n\n"
        "Mahmoudpour, A., Rayesh, N., Ghanbarian, E., & Rezaee, M. (2021). Effectiveness of "
        "acceptance and commitment therapy (ACT) on emotional regulation and loneliness of "
        "divorced women in Iran. Journal of Marital and Family Therapy, 47(4), 831–842.\n",
        encoding="utf-8",
    )
    done = run_evidence("check", str(references), "--format", "json", "--no-urls")
    report = json.loads(done.stdout)
    delphi, hamlin, unheld = report["references"]

    assert delphi["status"] == "info" and delphi["doi"] == DELPHI
    assert [f["code"] for f in delphi["findings"]] == ["doi-suggested"]

    assert hamlin["status"] == "warning" and hamlin["doi"] is None
    (ambiguous,) = hamlin["findings"]
    assert ambiguous["code"] == "match-ambiguous"
    assert HAMLIN in ambiguous["message"] and "10.5555/evidence-cli.hamlin-twin" in \
        ambiguous["message"]

    assert unheld["status"] == "unverifiable" and unheld["doi"] is None
    assert [f["code"] for f in unheld["findings"]] == ["no-match"]
    assert done.returncode == 4
    # Every search was a list query on the simulator, never a guessed DOI lookup.
    searched = [e for e in crossref_sim.stats.log if "query.bibliographic" in e.path]
    assert len(searched) == 3


def test_a_reference_without_a_title_is_matched_by_its_whole_locator(
        records: dict[str, dict[str, Any]]) -> None:
    # Physics styles print no title: author, journal, volume, first page and year name the
    # paper, and all five must be the candidate's (#11). Texts in that shape, for recorded works.
    aps = "[1] A. Hamlin, Y. Liu, and D. V. Nguyen, Am. J. Med. Genet. B 156, 923 (2011)."
    outcome = choose(parse_reference(aps), aps, _candidates(records, DELPHI, HAMLIN))
    assert outcome.kind == "matched" and outcome.record is not None
    assert outcome.record["DOI"] == HAMLIN
    # One of the five different, and the locator names nothing.
    for other in (aps.replace("923", "925"), aps.replace("156", "157"),
                  aps.replace("(2011)", "(2013)"),
                  aps.replace("A. Hamlin, Y. Liu, and D. V. Nguyen", "B. Hamlet and C. Lee"),
                  aps.replace("Am. J. Med. Genet. B", "Phys. Rev. B")):
        assert choose(parse_reference(other), other,
                      _candidates(records, DELPHI, HAMLIN)).kind == "none", other
    # A reference with a title of its own is judged by that title, as before.
    titled = ("[1] A. Hamlin, Y. Liu, and D. V. Nguyen, A study of something else entirely, "
              "Am. J. Med. Genet. B 156, 923 (2011).")
    assert choose(parse_reference(titled), titled, _candidates(records, HAMLIN)).kind == "none"


def test_a_matcher_that_raises_leaves_that_reference_unverifiable(
        tmp_path: Path, run_evidence: RunEvidence, monkeypatch: pytest.MonkeyPatch) -> None:
    """A defect in choosing among search results costs one reference its match (check-failed,
    unverifiable), not the whole run its report."""
    import evidence_cli.checks.matching as matching

    real = matching.choose

    def failing(cited: CitedFields, raw: str, *args: Any) -> Any:
        if "Delphi" in raw:
            raise ZeroDivisionError("division by zero")
        return real(cited, raw, *args)

    monkeypatch.setattr(matching, "choose", failing)
    references = tmp_path / "references.txt"
    references.write_text(DELPHI_APA + "\n\n" + (
        "Mahmoudpour, A., Rayesh, N., Ghanbarian, E., & Rezaee, M. (2021). Effectiveness of "
        "acceptance and commitment therapy (ACT) on emotional regulation and loneliness of "
        "divorced women in Iran. Journal of Marital and Family Therapy, 47(4), 831–842.\n"),
        encoding="utf-8")
    done = run_evidence("check", str(references), "--format", "json", "--no-urls")
    assert "Traceback" not in done.stderr, done.stderr
    delphi, unheld = json.loads(done.stdout)["references"]
    assert delphi["status"] == "unverifiable" and delphi["doi"] is None
    assert [f["code"] for f in delphi["findings"]] == ["check-failed"]
    assert "ZeroDivisionError" in delphi["findings"][0]["message"]
    assert [f["code"] for f in unheld["findings"]] == ["no-match"]
    assert done.returncode == 4
