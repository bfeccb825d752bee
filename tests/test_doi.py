"""Unit tests of DOI finding, normalising and validation (evidence_cli/doi.py)."""

from __future__ import annotations

import random

import pytest

from evidence_cli import doi

PONE = "10.1371/journal.pone.0033693"
# Real DOIs in the old forms Crossref's regex advice covers besides the main pattern.
WILEY_SICI = "10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-o"
AMS_SICI = "10.1175/1520-0485(2002)032<0870:ct>2.0.co;2"


@pytest.mark.parametrize(
    "written",
    [
        PONE,
        f"doi:{PONE}",
        f"DOI: {PONE}",
        f"doi : {PONE}",
        f"https://doi.org/{PONE}",
        f"http://doi.org/{PONE}",
        f"http://dx.doi.org/{PONE}",
        f"https://dx.doi.org/{PONE}",
        f"doi.org/{PONE}",
        f"info:doi/{PONE}",
        f"urn:doi:{PONE}",
        "10.1371%2Fjournal.pone.0033693",
        "https://doi.org/10.1371%2Fjournal.pone.0033693",
        f"  {PONE}  ",
        f"{PONE}.",
        f"{PONE},",
        f"{PONE};",
        f"{PONE}).",
        f'{PONE}"',
        "10.1371/JOURNAL.PONE.0033693",
        "HTTPS://DOI.ORG/10.1371/Journal.Pone.0033693",
    ],
)
def test_normalize_strips_prefixes_encoding_punctuation_and_case(written: str) -> None:
    assert doi.normalize(written) == PONE
    assert doi.is_valid(doi.normalize(written))


def test_comparison_is_case_insensitive() -> None:
    assert doi.normalize("10.1111/2041-210X.12469") == doi.normalize("10.1111/2041-210x.12469")
    assert doi.is_valid("10.1111/2041-210X.12469")


def test_balanced_brackets_inside_a_doi_are_kept() -> None:
    # Elsevier's old DOIs carry parentheses; a closing bracket that opens nothing is prose.
    assert doi.normalize("10.1016/0091-3057(84)90081-9") == "10.1016/0091-3057(84)90081-9"
    assert doi.normalize("10.1016/0091-3057(84)90081-9)") == "10.1016/0091-3057(84)90081-9"
    assert doi.normalize("10.1016/0091-3057(84)90081-9).") == "10.1016/0091-3057(84)90081-9"


def test_percent_encoded_sici_is_decoded() -> None:
    encoded = (
        "https://doi.org/10.1002%2F%28SICI%291097-4571%28199806%2949%3A8%3C693%3A%3A"
        "AID-ASI4%3E3.0.CO%3B2-O"
    )
    assert doi.normalize(encoded) == WILEY_SICI
    assert doi.is_valid(WILEY_SICI)


@pytest.mark.parametrize(
    "value",
    [
        PONE,
        "10.1016/0091-3057(84)90081-9",
        "10.1002/ajmg.b.31237",
        "10.5555/evidence-cli.retracted-publisher",
        "10.1007/978-3-658-17671-6_18-1",
        "10.1200/jco.2021.39.15_suppl.4068",
        "10.3847/1538-4357/adb8ca",
        "10.5281/zenodo.1234567",
        "10.123456789/x",  # registrant codes have 4 to 9 digits
        WILEY_SICI,  # the older 10.1002 form
        "10.1002/1097-0142(19960401)77:7<1356::aid-cncr20>3.0.co;2-#",
        "10.1021/ac0354342",  # old ACS
        "10.1207/s15327752jpa8701&1_05",  # old Lawrence Erlbaum
    ],
)
def test_valid_dois(value: str) -> None:
    assert doi.is_valid(value)


def test_sici_dois_outside_10_1002_are_valid() -> None:
    assert doi.is_valid(AMS_SICI)
    assert doi.is_valid("10.1175/1520-0469(1993)050<1205:trotsa>2.0.co;2")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "10.1371",
        "10.1371/",
        "10.137/journal.pone.0033693",  # three-digit registrant
        "10.1234567890/x",  # ten digits
        "11.1371/journal.pone.0033693",
        "10.abcd/x",
        "10.1371 journal.pone.0033693",
        "10.1371/journal pone",
        "journal.pone.0033693",
        "https://example.org/10.1371/journal.pone.0033693",
        "10.5555/a<b>",
    ],
)
def test_malformed_dois_are_invalid(value: str) -> None:
    assert not doi.is_valid(doi.normalize(value))


def test_find_all_in_running_text() -> None:
    text = (
        "Sadasivan S et al. PLoS One. 2012;7(3):e33693. doi:10.1371/journal.pone.0033693. "
        "Also https://doi.org/10.5555/EVIDENCE-CLI.CLEAN, and (see 10.1016/0091-3057(84)90081-9) "
        "[10.1002/ajmg.b.31237] and again DOI: 10.1371/journal.pone.0033693;"
    )
    assert doi.find_all(text) == [
        PONE,
        "10.5555/evidence-cli.clean",
        "10.1016/0091-3057(84)90081-9",
        "10.1002/ajmg.b.31237",
    ]


def test_find_all_keeps_malformed_candidates_for_reporting() -> None:
    found = doi.find_all("cited as doi:10.12/abc in the text")
    assert found == ["10.12/abc"]
    assert not doi.is_valid(found[0])


def test_find_all_of_text_without_dois() -> None:
    assert doi.find_all("Smith J. A title. J Stuff. 2020;1:1-10. https://example.org/x") == []


def test_find_all_decodes_a_percent_encoded_doi_link_in_text() -> None:
    assert doi.find_all("See https://doi.org/10.5555%2Fevidence-cli.corrected.") == [
        "10.5555/evidence-cli.corrected"
    ]


def test_find_all_keeps_a_sici_doi_whole_in_text() -> None:
    text = "Smith (1998). doi:10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O"
    assert doi.find_all(text) == [WILEY_SICI]


def test_looks_like_doi_attempt_and_doi_urls() -> None:
    assert doi.looks_like_doi_attempt("doi:10.1/x")
    assert doi.looks_like_doi_attempt("10.12/abc")
    assert doi.looks_like_doi_attempt("https://doi.org/10.1371/x")
    assert not doi.looks_like_doi_attempt("https://example.org/10.1371/x")
    assert doi.is_doi_url("https://dx.doi.org/10.1371/journal.pone.0033693")
    assert not doi.is_doi_url("https://example.org/doi.org/10.1371/x")
    assert doi.url_of(PONE) == f"https://doi.org/{PONE}"


def _plain_find_all(text: str) -> list[str]:
    """find_all as it was before #12: the scan from the start of the text."""
    found: list[str] = []
    for match in doi._IN_TEXT.finditer(text):
        value = doi.normalize(match.group(1))
        if value and value not in found:
            found.append(value)
    return found


def test_find_all_from_the_first_10_finds_what_the_whole_scan_does() -> None:
    """find_all scans from the first "10." (#12): texts made of DOI pieces, prefixes and word
    characters glued to them find the same DOIs as a scan from the start."""
    rng = random.Random(2)
    pieces = ["doi:", "DOI : ", "https://doi.org/", "http://dx.doi.org/", "10.", "10.1234/ab",
              "x10.5/q", "İ", " ", "ab", ".", "(", ")", "1", "/"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 15)))
        assert doi.find_all(text) == _plain_find_all(text), text
