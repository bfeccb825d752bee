"""A reference list's own style read from its references: two years side by side are volume and
year in the order the list's other references print them (sources/liststyle.py, #11).

The Hindawi record is real (tests/fixtures/crossref/works.jsonl: volume 2013 of 2013, pages
1-5). The other references of each list only show the style (they are checked against nothing):
those of the first two lists are constructed; SWEDISH_LEGAL's and GERMAN_LEGAL's are real
recorded Crossref records rendered by citeproc-py in the CSL styles swedish-legal and
juristische-zitierweise (benchmarks/styles_e2e.py's development renderings, training styles).
"""

from __future__ import annotations

import json
from pathlib import Path

from evidence_cli.checks import check_record
from evidence_cli.checks.work import RegisteredWork
from evidence_cli.models import Reference
from evidence_cli.sources import read_one

WORKS = Path(__file__).parent / "fixtures" / "crossref" / "works.jsonl"
HINDAWI = "10.1155/2013/753153"  # Chacón 2013, J Funct Spaces Appl volume 2013, 1-5

# A German style (zeitschrift-fur-kunstgeschichte): "Journal Volume, Year, Pages".
VOLUME_FIRST = [
    "Schirren, Carl, Congratulatory Address, in: Andrologia 28, 1996, 245–246.",
    "Doe, Jane, A study of tests, in: Journal of Constructed Tests 12, 2019, 1–9.",
    "Roe, Richard, Another study, in: Archives of Constructed Results 7, 2001, 33–40.",
    "Poe, Edgar, Yet another study, in: Annals of Constructed Medicine 154, 2011, 12–19.",
]
# ACS's order: "Journal Year, Volume, Pages".
YEAR_FIRST = [
    "Schirren, C. Congratulatory Address. Andrologia 1996, 28, 245–246.",
    "Doe, J. A study of tests. J. Constr. Tests 2019, 12, 1–9.",
    "Roe, R. Another study. Arch. Constr. Results 2001, 7, 33–40.",
    "Poe, E. Yet another study. Ann. Constr. Med. 2011, 154, 12–19.",
]

# swedish-legal prints an article's volume just before its pages, German legal citations the year.
SWEDISH_LEGAL = [
    "Boettiger, C., Ecological management of stochastic systems with long transients, "
    "Theoretical Ecology 14 s. 663–671",
    "Yang, X., Steck, J., Yang, J., Wang, Y., Suo, Z., Degradable Plastics Are Vulnerable to "
    "Cracks, Engineering 7 s. 624–629",
    "Langan, S. M., Ravindra, D., Mann, A. B., Mitigation of damage during surface finishing of "
    "sapphire using laser-assisted machining, Precision Engineering 56 s. 1–7",
    "Skantze, F., Adaptive estimation of discrete-time systems with nonlinear parameterization, "
    "Automatica 36 s. 1879–1887",
    # A chapter prints its year there: a book's, which says nothing of an article's place.
    "Zonta, D., Sensor data analysis, reduction, and fusion for assessing and monitoring civil "
    "infrastructures, I: Sensor Technologies for Civil Infrastructures., Elsevier 2022, s. "
    "427–455",
]
GERMAN_LEGAL = [
    "Boettiger, Carl, Ecological management of stochastic systems with long transients, Theor "
    "Ecol 2021, 663–671.",
    "Yang, Xuxu/ Steck, Jason/ Yang, Jiawei/ Wang, Yecheng/ Suo, Zhigang, Degradable Plastics "
    "Are Vulnerable to Cracks, Engineering 2021, 624–629.",
    "Langan, Sean M./ Ravindra, Deepak/ Mann, Adrian B., Mitigation of damage during surface "
    "finishing of sapphire using laser-assisted machining, Precision Engineering 2019, 1–7.",
]


def _hindawi() -> RegisteredWork:
    for line in WORKS.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)["message"]
        if message["DOI"].lower() == HINDAWI:
            return RegisteredWork.from_record(message)
    raise KeyError(HINDAWI)


def _codes(reference: Reference) -> list[str]:
    found = check_record(reference.cited, _hindawi(), reference.text, reference.query)
    return [f.code for f in found]


def _last_of_list(others: list[str], entry: str) -> Reference:
    data = "\n\n".join([*others, entry]).encode()
    references = read_one(data, "references.txt", "text")
    assert len(references) == len(others) + 1
    return references[-1]


def test_two_years_read_in_the_order_the_list_prints_volume_and_year() -> None:
    wrong_volume = ("Chacón, Gerardo R., Toeplitz Operators on Weighted Bergman Spaces, in: "
                    "Journal of Function Spaces and Applications 2014, 2013, 1–5.")
    wrong_year = ("Chacón, Gerardo R., Toeplitz Operators on Weighted Bergman Spaces, in: "
                  "Journal of Function Spaces and Applications 2013, 2015, 1–5.")
    reference = _last_of_list(VOLUME_FIRST, wrong_volume)
    assert (reference.cited.volume, reference.cited.year) == ("2014", 2013)
    assert _codes(reference) == ["volume-mismatch"]
    assert _codes(_last_of_list(VOLUME_FIRST, wrong_year)) == ["year-mismatch"]
    # The same pair in a list that prints the year first is year, then volume.
    acs_wrong_year = ("Chacón, G. R. Toeplitz Operators on Weighted Bergman Spaces. J. Funct. "
                      "Spaces Appl. 2014, 2013, 1–5.")
    assert _codes(_last_of_list(YEAR_FIRST, acs_wrong_year)) == ["year-mismatch"]
    # A clean reference stays clean in either list.
    clean = ("Chacón, Gerardo R., Toeplitz Operators on Weighted Bergman Spaces, in: "
             "Journal of Function Spaces and Applications 2013, 2013, 1–5.")
    assert _codes(_last_of_list(VOLUME_FIRST, clean)) == []


def test_a_list_that_shows_no_clear_order_leaves_the_parsers_reading() -> None:
    entry = ("Chacón, Gerardo R., Toeplitz Operators on Weighted Bergman Spaces, in: "
             "Journal of Function Spaces and Applications 2014, 2013, 1–5.")
    alone = read_one(entry.encode(), "references.txt", "text")[0]
    # Too few references show the order, or they disagree (a list pasted from two styles):
    # the parser's own reading, as for a reference alone.
    for others in (VOLUME_FIRST[:2], VOLUME_FIRST[:2] + YEAR_FIRST[:2]):
        reference = _last_of_list(others, entry)
        assert (reference.cited.volume, reference.cited.year) == \
            (alone.cited.volume, alone.cited.year)
        assert _codes(reference) == _codes(alone)


def test_a_year_before_the_pages_is_the_field_the_list_prints_there() -> None:
    # Volume 2014 cited for 2013, in a style that prints the volume before the pages and no year:
    # a volume-mismatch, where the parser alone reads the year (or nothing).
    swedish = ("Chacón, G. R., Toeplitz Operators on Weighted Bergman Spaces, Journal of "
               "Function Spaces and Applications 2014 s. 1–5")
    reference = _last_of_list(SWEDISH_LEGAL, swedish)
    assert (reference.cited.volume, reference.cited.year) == ("2014", None)
    assert _codes(reference) == ["volume-mismatch"]
    # The year 2015 cited for 2013 where the style prints the year there and no volume.
    german = ("Chacón, Gerardo R., Toeplitz Operators on Weighted Bergman Spaces, Journal of "
              "Function Spaces and Applications 2015, 1–5.")
    reference = _last_of_list(GERMAN_LEGAL, german)
    assert (reference.cited.volume, reference.cited.year) == (None, 2015)
    assert _codes(reference) == ["year-mismatch"]
    for others, clean in ((SWEDISH_LEGAL, swedish.replace("2014", "2013")),
                          (GERMAN_LEGAL, german.replace("2015", "2013"))):
        assert _codes(_last_of_list(others, clean)) == []
