"""Field checks: cited title, authors, year, container, volume, issue, pages against the record.

Two kinds of reference reach these checks. A structured one (BibTeX, RIS, CSL-JSON, a review's
citation) says what each field is, so each field's own value is searched for the registered value.
A free-text one was parsed, and a parser can misplace a field in a style it has not seen: its text
is searched for each registered value first (see checks/locate.py), and a field is reported only
when the registered value does not occur in the text and the parser is sure of a different cited
value (issue #11). A field the reference does not give is never a finding.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from evidence_cli.checks.compare import (
    authors_problem,
    containers_agree,
    first_page,
    names_agree,
    numbers_agree,
    page_range,
    pages_agree,
    title_overlap,
    titles_agree,
)
from evidence_cli.checks.locate import (
    NUMBERED,
    YEAR_LIKE,
    Place,
    ReferenceText,
    abbreviation_in_text,
    date_places,
    labelled_as_issue,
    labelled_as_page,
    labelled_volumes,
    marked_as_issue,
    only_beside_months,
    places,
    title_number_counts,
    title_numbers,
    unexplained_numbers,
    value_pieces,
)
from evidence_cli.checks.normalize import normalize_dashes, plain, simple_token
from evidence_cli.checks.work import RegisteredWork, as_work
from evidence_cli.codes import finding
from evidence_cli.models import CitedFields, Finding

UNRELATED_TITLE = 0.5  # token-set similarity below which two titles name different works
# A free-text reference with fewer words than this (identifiers aside) cites nothing to compare;
# one the parser found neither title nor authors in needs more words than a label ("Expression of
# concern, doi: ...") before the absence of the registered title and authors means anything.
_MIN_TEXT_WORDS = 3
_MIN_UNPARSED_WORDS = 8


def _finding(code: str, field: str | None, cited: Any, registered: Any, message: str,
             suggestion: str | None = None) -> Finding:
    return finding(code, message, field=field, cited=cited, registered=registered,
                   suggestion=suggestion)


def _doi_mismatch(cited: CitedFields, work: RegisteredWork) -> Finding:
    authors = ", ".join(work.families[:3]) + (" et al." if len(work.families) > 3 else "")
    what = f"the cited {cited.title!r}" if cited.title else "the cited reference"
    return _finding(
        "doi-mismatch", "doi", cited.title, work.title,
        f"The DOI names a different work: {work.title!r} by {authors}, not {what}.",
    )


def _number_taken(value: str, others: list[tuple[str | None, str | None]]) -> int:
    """How many other cited numbers (volume, issue, a single page) are this same number and are
    themselves cited right, so that the number in the text is theirs ("12(12)")."""
    key = simple_token(value)
    return sum(1 for cited, registered in others
               if cited and registered and simple_token(cited) == key
               and simple_token(registered) == key)


def _misplaced(value: str, field: str, cited: CitedFields, work: RegisteredWork) -> bool:
    """The cited value is the registered value of another numeric field that the parse does not
    already give it to: the parser put that field here ("156" read as the issue), so it says
    nothing about this one."""
    key = simple_token(value)
    if field != "pages" and not cited.pages and work.pages and \
            any(dash in value for dash in "-–—‐‑") and pages_agree(value, work.pages):
        # The registered page range read as the issue ("Ecology. 2: 5–19, 2009", #11).
        return True
    others: dict[str, tuple[str | None, list[str | None]]] = {
        "volume": (cited.volume, [work.volume]),
        "issue": (cited.issue, [work.issue]),
        "pages": (first_page(cited.pages) if cited.pages else None,
                  [first_page(p) for p in work.pages]),
        "year": (str(cited.year) if cited.year else None, [str(y) for y in work.years]),
    }
    for other, (cited_value, registered_values) in others.items():
        if other == field or (cited_value and simple_token(cited_value) == key):
            continue
        if any(v and simple_token(v) == key for v in registered_values):
            return True
    return False


def _number_located(field: str, work: RegisteredWork, text: ReferenceText, taken: int) -> bool:
    """The registered volume or issue is in the text: as a number of its own (more often than
    `taken` other fields claim it), as a Roman volume ("v/1"), or glued to its partner
    ("5.4-6", "23.1/2")."""
    registered: str | None = getattr(work, field)
    if not registered:
        return False
    return text.has_number(registered, taken) or \
        (field == "volume" and text.has_roman(registered)) or \
        text.has_joined(work.volume, work.issue)


def _only_in_located_names(number: str, work: RegisteredWork, text: ReferenceText) -> bool:
    """Every time the number stands in the text, it is in the registered title or journal
    found there: a year read from "... Didático – PNLD 2012" of an undated reference is the
    title's, not a cited year (#11)."""
    return text.singles.get(number, 0) <= text.occurrences_in_located(number, work)


def _years_taken(cited: CitedFields, work: RegisteredWork, text: ReferenceText,
                 confident: CitedFields | None = None) -> dict[int, int]:
    """For each registered year, how often its number in the text is another value's: a volume
    or issue cited as that same number ("2013, 1–5" for volume 2013 of 2013), a title or a
    container name that carries it ("AFRICON 2009"). A volume that is its year printed once
    beside another year the parser is sure of ("Applications 2013, 2015, 1–5" for volume 2013
    of 2013, the year read as 2015) is the volume: the year cited is the other."""
    taken: dict[int, int] = {}
    # The year the parser is sure of, where it is not also sure of a volume.
    sure = confident.year if confident is not None and not confident.volume else None
    for year in work.years:
        number = str(year)
        others = [(cited.volume, work.volume), (cited.issue, work.issue)]
        count = _number_taken(number, others) + text.occurrences_in_located(number, work)
        if sure is not None and sure not in work.years and work.volume == number and \
                not count and text.singles.get(str(sure), 0) and \
                not _placed_otherwise(text, str(sure), number, work):
            count = 1
        if count:
            taken[year] = count
    return taken


def _placed_otherwise(text: ReferenceText, sure: str, shared: str, work: RegisteredWork
                      ) -> bool:
    """The places say otherwise than the parser: the year it is sure of stands after "vol.",
    or the shared number stands alone in brackets, a date's place ("2014 (2013)")."""
    return Place.VOLUME in places(text, sure, work, True) or \
        Place.DATE in places(text, shared, work, True)


def _page_taken(cited: CitedFields, work: RegisteredWork) -> int:
    """How often the registered first page's number is the volume's or the issue's."""
    if not work.pages:
        return 0
    return _number_taken(first_page(work.pages[0]), [(cited.volume, work.volume),
                                                     (cited.issue, work.issue)])


def _single_page(pages: str | None) -> str | None:
    return pages if pages and not any(c in pages for c in "-–—‐‑") else None


def check_fields(cited: CitedFields, record: dict[str, Any] | RegisteredWork,
                 text: str | None = None, guess: CitedFields | None = None) -> list[Finding]:
    """Field findings; one doi-mismatch instead of the pile when title and authors both disagree.

    `text` is the reference as written when its fields were parsed from free text; without it
    the fields are taken as the reference gives them (structured sources). `guess` is the
    parser's best reading of every field of that text, confident or not (Reference.query).
    """
    work = as_work(record)
    if text is None:
        return _check_structured(cited, work)
    return _check_text(cited, work, ReferenceText(text), guess)


_NUMERIC = ("volume", "issue", "pages", "year")


def _numbers_read(cited: CitedFields, guess: CitedFields | None, work: RegisteredWork
                  ) -> CitedFields:
    """The cited numbers: the confident ones, and where the parser was unsure, its best reading.
    A number is only ever reported when the registered value is nowhere in the text: the style
    did not print it right, so the number the parser reads there, sure or not, is what the
    reference gives instead, unless it is another field's registered value (see _misplaced)."""
    if guess is None:
        return cited
    # A number of the registered title or journal ("Article Nov 16, 2006 11:51") is theirs,
    # however the parser, unsure, labelled it.
    theirs = title_numbers(work)
    read = replace(cited)
    for name in _NUMERIC:
        value = getattr(guess, name)
        if getattr(read, name) is None and value is not None and \
                simple_token(str(value)) not in theirs:
            setattr(read, name, value)
    return read


def _check_structured(cited: CitedFields, work: RegisteredWork) -> list[Finding]:
    title_bad = bool(cited.title and work.title and not titles_agree(cited.title, work))
    authors_absent = bool(cited.authors) and bool(work.families) and not any(
        names_agree(name, registered) for name in cited.authors for registered in work.families
    )
    # Without cited authors to compare, a title that shares almost nothing with the registered
    # one is evidence enough that the DOI names another work.
    unrelated_title = title_bad and not cited.authors and \
        title_overlap(cited.title or "", work) < UNRELATED_TITLE
    if title_bad and (authors_absent or unrelated_title):
        return [_doi_mismatch(cited, work)]
    findings: list[Finding] = []
    if title_bad:
        findings.append(_title_mismatch(cited, work))
    problem = authors_problem(cited.authors, work.families)
    if problem:
        findings.append(_author_mismatch(cited, work, problem))
    if cited.year is not None and work.years and cited.year not in work.years:
        findings.append(_year_mismatch(cited.year, work))
    if cited.container and not containers_agree(cited.container, work):
        findings.append(_container_mismatch(cited.container, work))
    # A structured field may carry more than its value ("12 (3)", "Suppl 2"): the registered
    # value found in the field's own text is cited.
    others = {"volume": [(cited.issue, work.issue)], "issue": [(cited.volume, work.volume)]}
    for field in ("volume", "issue"):
        value: str | None = getattr(cited, field)
        registered: str | None = getattr(work, field)
        if value and registered and not numbers_agree(value, registered) and \
                not ReferenceText(value).has_number(registered,
                                                    _number_taken(registered, others[field])):
            findings.append(_number_mismatch(field, value, registered))
    if cited.pages and work.pages and not pages_agree(cited.pages, work.pages):
        findings.append(_pages_mismatch(cited.pages, work))
    return findings


def _check_text(cited: CitedFields, work: RegisteredWork, text: ReferenceText,
                guess: CitedFields | None = None) -> list[Finding]:
    if text.word_count < _MIN_TEXT_WORDS:
        return []
    title_found = text.has_title(work)
    # A first author who agrees only as near spelling ("Zhuang" for "Zhang") names the
    # authorship only if the other cited authors are registered too: "J. Zhuang, F. E.
    # Löffler, G. S. Sayler" is not "Zhang, Zhang, Li, ..." (#11).
    authors_found = text.has_authors(work) or bool(
        cited.authors and work.families and names_agree(cited.authors[0], work.families[0])
        and (len(cited.authors) < 2 or plain(cited.authors[0]) == plain(work.families[0])
             or authors_problem(cited.authors, work.families) is None))
    says_something = bool(cited.title or cited.authors) or text.word_count >= _MIN_UNPARSED_WORDS
    if not title_found and not authors_found and says_something:
        # Neither the registered title nor any of its first authors is in the text: the DOI
        # names another work. A record that lacks one of the two is judged on the other, and
        # only when the parser is sure what the reference cites instead.
        if work.titles and work.families:
            return [_doi_mismatch(cited, work)]
        if work.titles and cited.title and title_overlap(cited.title, work) < UNRELATED_TITLE:
            return [_doi_mismatch(cited, work)]
        if work.families and cited.authors and authors_problem(cited.authors, work.families):
            return [_doi_mismatch(cited, work)]
    if not title_found and work.titles and says_something and _one_name_only(work, text) and \
            _no_number_located(work, text):
        # The title is not there, and neither is the registered year, volume or page range:
        # one surname shared ("Sharma", "Wang"), or the journal, is all the text has of the
        # registered work, and that is another paper by someone of that name. Two of the
        # registered authors named are the authorship, and then no doi-mismatch.
        return [_doi_mismatch(cited, work)]
    findings: list[Finding] = []
    title_is_container = bool(not title_found and cited.title and
                              _title_is_container(cited.title, work, text))
    if not title_found and cited.title and work.title and not titles_agree(cited.title, work) \
            and not title_is_container:
        findings.append(_title_mismatch(cited, work))
    if work.families and cited.authors and not text.has_name(work.families[0]) and \
            not names_agree(cited.authors[0], work.families[0]):
        problem = authors_problem(cited.authors[:1], work.families)
        if problem:
            findings.append(_author_mismatch(cited, work, problem))
    if cited.container and work.containers and not containers_agree(cited.container, work) \
            and not text.has_container(work) and not abbreviation_in_text(text, work) \
            and not (title_found and _piece_of_title(cited.container, work)):
        findings.append(_container_mismatch(cited.container, work))
    # Numbers in the title and journal as parsed are theirs, not a volume or a page; where the
    # registered title or journal is in the text, its own numbers are known, and a parsed one
    # that runs on past it ("... Bergman Spaces. Journal of ... Applications 2014") has taken
    # in numbers that are not its own. So has a "title" that is the journal the text prints
    # with a number run on ("(2013) Journal of Function Spaces and Applications 2014, 1–5",
    # a style without article titles, for volume 2013: journal-of-aoac-international, #11).
    names = tuple(name for name, located in ((cited.title, title_found or title_is_container),
                                             (cited.container, text.has_container(work)))
                  if name and not located)
    findings.extend(_numbers_text(_numbers_read(cited, guess, work), work, text, cited, names))
    found = {f.code for f in findings}
    if "title-mismatch" in found and len(found & _NUMBER_CODES) >= 2:
        # The title is another work's and so are two or more of its year, volume and pages: a
        # surname the two works share ("Wang", "Zhang") kept the authorship test from seeing
        # it, but nothing else of the registered work is cited. The DOI names another work.
        return [_doi_mismatch(cited, work)]
    return findings


def _piece_of_title(value: str, work: RegisteredWork) -> bool:
    """A parsed field that is a piece of the registered title the text prints ("term
    Saccharum monoculture" of "... under long-term Saccharum monoculture", where a style
    prints no journal): the title's words, misread, not another container cited (#11)."""
    key = plain(value)
    return len(key.split()) >= 2 and \
        any(f" {key} " in f" {plain(title)} " for title in work.titles)


def _title_is_container(title: str, work: RegisteredWork, text: ReferenceText) -> bool:
    """The "title" the parser read is the registered journal or book, or a piece of the one the
    text prints: a style that prints no article title ("C. May, Health & Social Care in the
    Community, 2007, 5, 55") or the book's title alone for a chapter ("“Sensor Technologies
    for Civil Infrastructures”, ed., Elsevier") cites no other title (#11)."""
    if containers_agree(title, work):
        return True
    words = plain(title).split()
    # The year or volume run on into it ("Social Care in the Community 2007", its author given
    # first, "Carl May Health & ...": electrophoresis, #11) is not the title's; whether that
    # number is the registered one is for the number checks to say.
    while len(words) > 1 and words[-1].isdecimal():
        words.pop()
    key = " ".join(words)
    return bool(key) and text.has_container(work) and \
        any(f" {key} " in f" {plain(container)} " for container in work.containers)


def _year_as_volume(value: str, work: RegisteredWork, text: ReferenceText) -> bool:
    """A volume the parser read that is a registered year printed once, where the registered
    volume is nowhere: a style that gives the year in the volume's place (German legal
    citations: "J. of Syst. Eng. Electron. 2011, 314–321" for volume 22 of 2011) cites no
    volume (#11). Hindawi's volumes that are years are judged elsewhere (_shared_number)."""
    return value.isdecimal() and int(value) in work.years and not _volume_is_a_year(work) and \
        text.singles.get(simple_token(value), 0) == 1 and \
        not _number_located("volume", work, text, 0)


def _volume_and_issue(value: str, work: RegisteredWork) -> bool:
    """A "volume" that is the registered volume and issue joined by a dash ("2-1", "523-3"):
    the two cited right (#11)."""
    if not work.volume or not work.issue:
        return False
    return "".join(normalize_dashes(value).split()).lower() == \
        "".join(f"{work.volume}-{work.issue}".split()).lower()


def _volume_number_as_issue(field: str, value: str, work: RegisteredWork,
                            text: ReferenceText) -> bool:
    """An issue cited as the registered volume's number where the text prints the volume in
    Roman ("ii, no. 2" for 2(1)): not the volume misread, which stands as "ii" (#11)."""
    volume = work.volume or ""
    return field == "issue" and bool(volume) and simple_token(value) == simple_token(volume) \
        and text.has_roman(volume)


def _joined_pair(value: str) -> tuple[str, str] | None:
    """The two numbers of a volume and issue joined by a dash ("33-4"), or None."""
    first, dash, last = normalize_dashes(value).replace(" ", "").partition("-")
    return (first, last) if dash and first.isdecimal() and last.isdecimal() else None


def _pair_disagreement(first: str, last: str, work: RegisteredWork,
                       absent: tuple[str, ...] = ("volume", "issue")) -> Finding | None:
    """A volume and issue joined by a dash of which one half is the registered one and the
    other is not: the other is the field cited wrong ("33-4" for 33(3): issue 4; "34-3": volume
    34). Both halves other than registered: nothing, as which is which is unknown (#11)."""
    volume, issue = simple_token(work.volume or ""), simple_token(work.issue or "")
    if not volume or not issue or not volume.isdecimal() or not issue.isdecimal():
        return None
    if first == volume and last != issue and "issue" in absent:
        return _number_mismatch("issue", last, work.issue or "")
    if last == issue and first != volume and "volume" in absent:
        return _number_mismatch("volume", first, work.volume or "")
    return None


def _joined_pair_disagreement(value: str, work: RegisteredWork) -> Finding | None:
    """A parsed "volume" that is a volume and issue joined by a dash, one of them wrong."""
    pair = _joined_pair(value)
    return _pair_disagreement(*pair, work) if pair is not None else None


def _wrong_year_as_volume(value: str, cited: CitedFields, work: RegisteredWork,
                         text: ReferenceText) -> bool:
    """A "volume" that is a year, where the registered volume is no year, no registered year
    is in the text and the parser read no other year: the year printed in the volume's place
    (see _year_as_volume), another than the registered one; styles print years for volumes,
    nobody a volume 2013 for 22 (#11)."""
    return bool(YEAR_LIKE.match(value)) and not YEAR_LIKE.match(work.volume or "") and \
        bool(work.years) and cited.year in (None, int(value)) and \
        text.singles.get(simple_token(value), 0) == 1 and not text.has_year(work.years) and \
        not _number_located("volume", work, text, 0)


def _not_pages_cited(pages: str, work: RegisteredWork, text: ReferenceText) -> bool:
    """A single "page" the parser read that is no page: a day or month of a date with periods
    that the text prints nowhere else (the "05" of "24.05.2022"), a number after a volume's
    label ("t. 206"), or the registered volume printed once (#11)."""
    single = _single_page(pages)
    if single is None:
        return False
    key = simple_token(single)
    in_date = not text.stands(single) and text.in_dotted_date(single)
    return in_date or bool(labelled_volumes(text, [single])) or \
        (bool(work.volume) and key == simple_token(work.volume or "") and
         text.singles.get(key, 0) == 1)


def _days_of(field: str, value: str, registered: str, text: ReferenceText,
             work: RegisteredWork) -> int:
    """How often the registered issue stands in the text only as the day of a date, when the
    text gives another number in an issue's place ("vol. 2, nr. 2, 1 ianuarie 2009" for issue
    1): the day is no issue."""
    if field != "issue" or not _in_issue_place(text, value, work):
        return 0
    return text.days(simple_token(registered))


def _in_issue_place(text: ReferenceText, number: str, work: RegisteredWork) -> bool:
    """The number stands where an issue goes: after an issue's label or in brackets, or right
    after the registered volume and a colon or comma where the registered pages stand elsewhere
    ("Ecology 2:2 (January 1, 2009): 5–19": the 2 after "2:" can be no page, #11)."""
    if marked_as_issue(text, number):
        return True
    if not work.volume or not work.pages or not text.has_pages(work.pages):
        return False
    after_volume = (rf"(?<![^\W_]){re.escape(work.volume)}\s*[:,]\s*{re.escape(number)}"
                    r"(?![^\W_]|[-–])")
    return re.search(after_volume, text.text) is not None


def _glued_numbers(cited: CitedFields, work: RegisteredWork, text: ReferenceText,
                   findings: list[Finding]) -> list[Finding]:
    """The issue and pages printed glued to the volume ("7:13.1704–1706", "28.6 (2009)") that
    disagree with the record, where the registered issue or pages are nowhere else."""
    found = {f.code for f in findings}
    glued = text.glued_after_volume(work)
    if glued is None:
        volume = text.volume_before_pages(work) or text.volume_glued_to_issue(work)
        if work.volume and volume and "volume-mismatch" not in found and \
                not numbers_agree(volume, work.volume) and \
                not _number_located("volume", work, text, _volume_as_date(work, text)) and \
                not _misplaced(volume, "volume", CitedFields(), work):
            return [_number_mismatch("volume", volume, work.volume)]
        return []
    issue, pages = glued
    if _is_page_piece(issue, work) or (work.pages and pages_agree(issue, work.pages)):
        # "298:604.4–604", "2.481–489": the pages glued to the volume, no issue.
        return []
    out: list[Finding] = []
    if work.issue and "issue-mismatch" not in found and any(ch.isdigit() for ch in issue) and \
            not numbers_agree(issue, work.issue) and not text.has_number(work.issue) and \
            not text.has_joined(work.volume, work.issue):
        out.append(_number_mismatch("issue", issue, work.issue))
    if pages and work.pages and "pages-mismatch" not in found and \
            not pages_agree(pages, work.pages) and not text.has_pages(work.pages):
        out.append(_pages_mismatch(pages, work))
    return out


def _is_page_piece(value: str, work: RegisteredWork) -> bool:
    """`value` is the first page or a piece of the registered pages ("604.4")."""
    key = simple_token(value)
    return any(key in value_pieces(registered) for registered in work.pages)


def _roman_volume_cited(work: RegisteredWork, text: ReferenceText) -> str | None:
    """The volume a style that prints Roman volumes gives ("xv/4" for volume 14): the one Roman
    numeral in a volume's place, when the registered volume is in the text in no form."""
    volume = work.volume or ""
    if not volume.isdecimal() or len(text.roman_volumes) != 1:
        return None
    # Hindawi's volume 2013 of 2013: its number in brackets is the year's, not the volume's,
    # when the volume stands in Roman ("mmxiv (2013)", #11).
    if _number_located("volume", work, text, _volume_as_date(work, text)):
        return None
    (value,) = text.roman_volumes
    return str(value) if str(value) != volume.lstrip("0") else None


def _volume_is_a_year(work: RegisteredWork) -> bool:
    """The registered volume is a number that is also a registered year (Hindawi's 2013)."""
    volume = work.volume or ""
    return volume.isdecimal() and int(volume) in work.years


def _volume_as_date(work: RegisteredWork, text: ReferenceText) -> int:
    """How often the registered volume's number stands as the date: Hindawi's volume 2013 of
    2013 in "(2013)" or in an author-date "Doe 2013." is the year's, not the volume's, when
    the volume is printed in another form ("mmxiv (2013)", "2014.1–5": #11)."""
    return date_places(text, work.volume or "", work) if _volume_is_a_year(work) else 0


def _year_in_volume_place(year: int, work: RegisteredWork, text: ReferenceText) -> bool:
    """The "year" the parser read stands only where a volume goes ("2015:1–7, 2014"), and the
    registered volume is its year (Hindawi's 2014 of 2014) printed elsewhere: it is the volume
    cited, for _shared_number to report, not a year (#11)."""
    # (After an issue's label too: mimesis-edizioni labels the volume "fasc.", #11.)
    return _volume_is_a_year(work) and \
        places(text, str(year), work, False) in ({Place.VOLUME}, {Place.ISSUE}) and \
        places(text, work.volume or "", work, False) != {Place.VOLUME}


def _issue_after_roman(work: RegisteredWork, text: ReferenceText) -> str | None:
    """The issue a style that prints Roman volumes gives ("ii/2" for volume 2, issue 1): the
    one issue after the registered volume in Roman, when the registered issue is not in the
    text (#11)."""
    volume, issue = work.volume or "", work.issue or ""
    if not volume.isdecimal() or not issue or _number_located("issue", work, text, 0):
        return None
    cited = {number for value, number in text.issues_after_roman
             if str(value) == volume.lstrip("0")}
    if len(cited) != 1:
        return None
    (number,) = cited
    return None if numbers_agree(number, issue) else number


def _volume_by_its_label(work: RegisteredWork, text: ReferenceText, lone: list[str],
                         absent: list[str]) -> list[Finding] | None:
    """A registered volume not in the text ("t. 207" for 206), or one that is its year
    (Hindawi's 2013 of 2013) where the text gives the year, and after a volume's label another
    number no registered value explains ("2013, t. 2014"): that number is the volume cited,
    whatever the rest of the text omits (#11)."""
    volume = work.volume or ""
    if not volume or labelled_volumes(text, [volume]) or \
            not (_volume_is_a_year(work) or "volume" in absent):
        return None
    labelled = labelled_volumes(text, lone)
    if len(labelled) != 1:
        return None
    return [_number_mismatch("volume", labelled[0], volume)]


def _is_registered_issue(pages: str, work: RegisteredWork, text: ReferenceText) -> bool:
    """Cited "pages" that are the registered issue, or an end of an issue range the text
    prints ("t. 5, nr 4-6" of an issue 4-6): the issue misread, not pages cited."""
    if not work.issue:
        return False
    if plain(normalize_dashes(pages)) == plain(normalize_dashes(work.issue)):
        return True
    pieces = value_pieces(work.issue)
    return len(pieces) > 1 and simple_token(pages) in pieces and \
        text.has_number(work.issue)


def _piece_of_located_pages(value: str, work: RegisteredWork, pages_absent: bool) -> bool:
    """A number the parser read from the registered pages printed in the text: "604" or "4" of
    BMJ's "604.4-604" is the pages, not a volume or an issue."""
    if pages_absent or not work.pages:
        return False
    key = simple_token(value)
    return any(key in value_pieces(registered) and not page_range(registered)
               for registered in work.pages)


_NUMBER_CODES = frozenset({"year-mismatch", "volume-mismatch", "pages-mismatch"})


def _one_name_only(work: RegisteredWork, text: ReferenceText) -> bool:
    """The record has two or more authors and the text names at most one of the first three."""
    first = list(dict.fromkeys(plain(name) for name in work.families[:3] if plain(name)))
    if len(set(plain(name) for name in work.families)) < 2:
        return False
    return sum(text.has_name(name) for name in first) < 2


def _no_number_located(work: RegisteredWork, text: ReferenceText) -> bool:
    """The record has at least two of a year, a volume and pages, none of them stands in the
    text, however the numbers there are read (no number is taken by another field), and the
    text gives numbers of its own: a reference that prints no numbers says nothing by lacking
    them."""
    registered = [bool(work.years), bool(work.volume), bool(work.pages)]
    if sum(registered) < 2 or not any(unexplained_numbers(text, work)):
        return False
    return not ((work.years and text.has_year(work.years)) or
                _number_located("volume", work, text, 0) or
                (work.pages and text.has_pages(work.pages)))


def _numbers_text(cited: CitedFields, work: RegisteredWork, text: ReferenceText,
                  confident: CitedFields, names: tuple[str, ...]) -> list[Finding]:
    """Year, volume, issue and pages: reported only when the registered value is not in the
    text, and the cited value is no other field's registered value."""
    findings: list[Finding] = []
    # A work cited "in press" is cited before its year: no year it gives is a wrong one (#11).
    if cited.year is not None and work.years and cited.year not in work.years and \
            not _IN_PRESS.search(text.text) and \
            not text.has_year(work.years, _years_taken(cited, work, text, confident)) and \
            not _misplaced(str(cited.year), "year", cited, work) and \
            not _only_in_located_names(str(cited.year), work, text) and \
            not _year_in_volume_place(cited.year, work, text):
        findings.append(_year_mismatch(cited.year, work))
    single = (_single_page(cited.pages), work.page or work.article_number)
    year = (str(cited.year) if cited.year else None,
            str(cited.year) if cited.year in work.years else None)
    others = {"volume": [(cited.issue, work.issue), single, year],
              "issue": [(cited.volume, work.volume), single, year]}
    pages_absent = bool(work.pages) and not text.has_pages(work.pages, _page_taken(cited, work))
    for field in ("volume", "issue"):
        value = getattr(cited, field)
        registered = getattr(work, field)
        if field == "issue" and value and value != confident.issue and pages_absent and \
                not marked_as_issue(text, value):
            # An issue the parser only guessed, in no issue's place, where the registered pages
            # are not in the text either ("2019;28:4" for 28(6):1): the number is the pages
            # cited, for _lone_number to judge.
            continue
        # A cited "number" without a digit ("º" of "n.º") is a word the parser misread. A
        # volume the parser is sure of stands where the volume goes even when it is the
        # registered issue ("2020;12:1707-15" for volume 11, issue 12): styles omit issues, not
        # volumes; an issue that is the registered volume is the volume misread.
        if value and (not text.stands(value) or only_beside_months(text, value) or
                      _piece_of_located_pages(value, work, pages_absent)):
            # Not a number the text prints on its own ("4" of the pages "604.4–604"), or a day
            # beside its month ("consultado el 8 de junio de 2007"): nothing cited as the field.
            continue
        if field == "volume" and value and (_year_as_volume(value, work, text) or
                                            _volume_and_issue(value, work)):
            continue
        joined = _joined_pair_disagreement(value, work) if field == "volume" and value else None
        if joined is not None:
            findings.append(joined)
            continue
        if field == "volume" and value and _wrong_year_as_volume(value, cited, work, text):
            # The year in the volume's place, and not the registered one (#11).
            findings.append(_year_mismatch(int(value), work))
            continue
        if value and registered and any(ch.isdigit() for ch in value) and \
                not numbers_agree(value, registered) and \
                ((field == "volume" and value == confident.volume) or
                 not _misplaced(value, field, cited, work) or
                 _volume_number_as_issue(field, value, work, text)) and \
                not _number_located(field, work, text, _number_taken(registered, others[field])
                                    + text.occurrences_in_located(registered, work)
                                    + _days_of(field, value, registered, text, work)):
            findings.append(_pages_mismatch(value, work)
                            if field == "issue" and _issue_read_is_page(value, cited, work, text)
                            else _number_mismatch(field, value, registered))
    findings.extend(_glued_numbers(cited, work, text, findings))
    roman = _roman_volume_cited(work, text)
    if roman is not None and not any(f.code == "volume-mismatch" for f in findings):
        findings.append(_number_mismatch("volume", roman, work.volume or ""))
    issue = _issue_after_roman(work, text)
    if issue is not None and not any(f.code == "issue-mismatch" for f in findings):
        findings.append(_number_mismatch("issue", issue, work.issue or ""))
    if cited.pages and work.pages and not pages_agree(cited.pages, work.pages) and \
            not text.has_pages(work.pages, _page_taken(cited, work)) and \
            not _is_registered_issue(cited.pages, work, text) and \
            not _not_pages_cited(cited.pages, work, text):
        findings.append(_pages_mismatch(cited.pages, work))
    if not findings:
        findings.extend(_lone_number(cited, work, text, others, names))
    return findings


# What styles print for the date of a work not yet published.
_IN_PRESS = re.compile(r"\b(?:in press|forthcoming|im druck|sous presse|en prensa|in stampa|"
                       r"no prelo|w druku|ter perse)\b", re.I)


def _issue_read_is_page(value: str, cited: CitedFields, work: RegisteredWork,
                        text: ReferenceText) -> bool:
    """The parser read as the issue an unmarked number ("Community 5, 58 (2007)") where the
    reference gives no pages and the registered pages are not there, and the number is nearer
    the registered first page than the registered issue: it is the first page cited (styles
    that print a volume and a first page, as physics journals do), not an issue (#11)."""
    if cited.pages or not work.pages or not value.isdecimal() or \
            not (work.issue or "").isdecimal() or text.has_pages(work.pages) or \
            marked_as_issue(text, value):
        return False
    return _nearer(value, first_page(work.pages[0]), work.issue or "")


def _nearer(number: str, one: str, other: str, times: int = 1) -> bool:
    """`number` is nearer `one` than `other`, `times` over (all three whole numbers)."""
    if not (number.isdecimal() and one.isdecimal() and other.isdecimal()):
        return False
    return abs(int(number) - int(one)) * times < abs(int(number) - int(other))


def _nearer_than_the_pages(number: str, field: str, work: RegisteredWork) -> bool:
    """`number` is of the registered volume's or issue's order (`field`), not of the first
    page's: ten times nearer the one than the other (6674 for issue 6673, page 604; but 4 of
    Vancouver's "2019;28:4" is the page cited for 28(6) 1)."""
    if not work.pages:
        return False
    page = first_page(work.pages[0]).split(".", 1)[0]  # BMJ's "604.4": 604
    return _nearer(number, getattr(work, field) or "", page, 10)


def _prints_a_year(text: ReferenceText, work: RegisteredWork, names: tuple[str, ...]) -> bool:
    """Whether the text gives a year at all. One with no year-like number but the title's
    prints none (swedish-legal: "Engineering Structures 199 s. 109531"), nor does one that says
    "in press" where the year goes ("Skantze, F. (in press). ... Automatica. 36(12):1882–1890"):
    a year absent there is not cited wrong, and the other numbers are judged as if the style had
    no year field (#11)."""
    if _IN_PRESS.search(text.text):
        return False
    in_names = title_number_counts(work, names)
    return any(YEAR_LIKE.match(number) and simple_token(number) not in in_names
               for token in text.numbers for number in (token.first, token.last) if number)


def _lone_number(cited: CitedFields, work: RegisteredWork, text: ReferenceText,
                 others: dict[str, list[tuple[str | None, str | None]]], names: tuple[str, ...]
                 ) -> list[Finding]:
    """The text gives every registered number but one, and one number no registered value
    accounts for: that number is what it cites for the missing one, wherever the style put it
    and whatever the parser made of it ("(2023) 187 Coastal Engineering 104399" for volume 186)."""
    absent: list[str] = []
    singles, ranges = unexplained_numbers(text, work, names)
    # A range printed twice is one range cited ("p.430-458, Págs. 430-458", #11).
    ranges = list(dict.fromkeys(ranges))
    if work.years and _prints_a_year(text, work, names) and \
            not text.has_year(work.years, _years_taken(cited, work, text)):
        absent.append("year")
    for field in ("volume", "issue"):
        registered = getattr(work, field)
        # A registered issue that stands only as the day of a date, where an unexplained
        # number stands after an issue's label ("2, nᵒ 2 (1 janvier 2009)" for 2(1)), is not
        # there: the day is no issue (as _days_of, for an issue the parser read, #11).
        days = text.days(simple_token(registered)) if field == "issue" and registered and \
            any(_in_issue_place(text, number, work) for number in set(singles)) else 0
        if registered and not _number_located(
                field, work, text, _number_taken(registered, others[field])
                + text.occurrences_in_located(registered, work) + days):
            absent.append(field)
    if work.pages and not text.has_pages(work.pages, _page_taken(cited, work)):
        absent.append("pages")
    lone = sorted(set(singles))
    labelled = _volume_by_its_label(work, text, lone, absent)
    if labelled is not None:
        return labelled
    if {"year", "volume"} <= set(absent) and len(lone) == 1 and not ranges and \
            YEAR_LIKE.match(lone[0]) and (
                not YEAR_LIKE.match(work.volume or "") or
                places(text, lone[0], work, strong_only=True) == {Place.DATE}):
        # Neither the registered year nor the volume is there, and the one number no registered
        # value explains is a year where the registered volume is no year ("Rev. Dig. Ens.
        # Filo. 2023." for volume 5 of 2022): the year cited; styles print years without
        # volumes, not years for volumes (#11). Where the volume is a year too (Hindawi's),
        # only a number marked as a date is the year ("载《Case Reports in Dentistry》2016年。"
        # for 2014: law-citation-manual, #11).
        return [_year_mismatch(int(lone[0]), work)]
    if "pages" in absent or ranges or len(lone) != 1:
        return _lone_range_or_page(absent, singles, ranges, work, text)
    number = lone[0]
    shared = _shared_number(cited, work, text, number, absent)
    if shared is not None:
        return shared
    if not absent:
        return []
    if "year" in absent:
        # The registered year is nowhere, the volume and pages are there, and the one number
        # no registered value accounts for is a year: that is the year cited ("62, 715–725
        # (2027)", "Apress; 2014:549–585" for a chapter of 2012).
        if "volume" not in absent and YEAR_LIKE.match(number):
            return [_year_mismatch(int(number), work)]
        return []
    if set(absent) == {"volume", "issue"} and len(singles) == 1 and \
            not marked_as_issue(text, number) and (work.volume or "").isdecimal():
        # Neither registered number is there and one number is: styles omit issues, not
        # volumes, so a number not in an issue's place is the volume cited (";5 ." for 4(2)).
        return [_number_mismatch("volume", number, work.volume or "")]
    if len(absent) != 1 or len(singles) != 1:
        return []
    field = absent[0]
    registered = getattr(work, field)
    if not registered.isdecimal():
        return []
    return [_number_mismatch(field, number, registered)]


def _lone_range_or_page(absent: list[str], singles: list[str], ranges: list[str],
                        work: RegisteredWork, text: ReferenceText) -> list[Finding]:
    """The pages absent: the one unexplained range (or number) is the pages cited."""
    if "year" in absent:
        return []
    if "pages" not in absent and set(absent) & {"volume", "issue"} and len(ranges) == 1 and \
            not singles and (pair := _joined_pair(ranges[0])) is not None:
        # The registered pages are there, and the one unexplained "range" is a volume and
        # issue joined by a dash ("Neurobiology of Aging, 34-3, 2012, p. 588-602" for 33(3)):
        # the half that is not the registered one is cited wrong (#11).
        found = _pair_disagreement(*pair, work, tuple(absent))
        return [found] if found is not None else []
    if set(absent) == {"pages", "issue"} and len(ranges) == 1 and not singles:
        # A range is a page range: a style that omits the issue ("70, 1900–1915 (2024)").
        return [_pages_mismatch(ranges[0], work)]
    if set(absent) == {"pages", "issue"} and len(singles) == 1 and not ranges and \
            not marked_as_issue(text, singles[0]):
        # So is a lone number that stands in no issue's place: styles omit the issue far more
        # often than the pages or article number ("Sci Rep 5, 16699 (2015)" for 16696), unless
        # it is nearer the registered issue than the first page: a style that prints no pages
        # ("BMJ, 298:6674" for 298(6673) 604: intellect-newgen-books, #11).
        if _nearer_than_the_pages(singles[0], "issue", work):
            return [_number_mismatch("issue", singles[0], work.issue or "")]
        return [_pages_mismatch(singles[0], work)]
    if set(absent) == {"pages", "volume"} and len(singles) == 1 and not ranges and \
            not labelled_as_page(text, singles[0]) and \
            _nearer_than_the_pages(singles[0], "volume", work):
        # The same style's volume: "BMJ, 299:6673" for 298(6673) 604, "Journal of Function
        # Spaces and Applications, 2014" for Hindawi's 2013 of 2013, 1-5 (#11).
        return [_number_mismatch("volume", singles[0], work.volume or "")]
    if set(absent) == {"pages", "issue"} and len(singles) == 1 and not ranges and \
            labelled_as_issue(text, singles[0]) and (work.issue or "").isdecimal():
        # A number after an issue's label ("t. 298, nr 6674" for issue 6673) where the style
        # prints no pages is the issue cited (#11).
        return [_number_mismatch("issue", singles[0], work.issue or "")]
    if {"pages", "volume"} <= set(absent) <= {"pages", "volume", "issue"} and \
            len(singles) == 1 and not ranges and labelled_as_page(text, singles[0]):
        # The same with the first page alone after its label ("Precision Engineering 2019
        # S. 4 ff." for 56, 1–7): the pages cited (#11).
        return [_pages_mismatch(singles[0], work)]
    if {"pages", "volume"} <= set(absent) <= {"pages", "volume", "issue"} and \
            len(ranges) == 1 and not singles:
        # A style that prints no volume ("Automatica 2000, 1882–1890" for 36(12) 1879–1887):
        # the one range no registered value explains is the pages cited (#11).
        return [_pages_mismatch(ranges[0], work)]
    if absent != ["pages"]:
        return []
    lone = ranges if ranges else singles
    if len(lone) + len(ranges and singles) != 1:
        return []
    return [_pages_mismatch(lone[0], work)]


def _numbered(found: set[Place]) -> bool:
    """Places that all say a volume or an issue (none says a date)."""
    return bool(found) and found <= NUMBERED


def _shared_number(cited: CitedFields, work: RegisteredWork, text: ReferenceText, number: str,
                   absent: list[str]) -> list[Finding] | None:
    """One number of the text stands for two registered fields that share it, and another
    number no registered value explains stands beside it: which field it is cited for.

    - A volume that is its year (Hindawi's volume 2011 of 2011): "Radiology 2012, 1–4 (2011)"
      gives the year in brackets, so 2012 is the volume; "Radiology 2013; 2011:1–4" gives the
      volume before the pages' colon, so 2013 is the year. Without such a cue, nothing.
    - A volume that is its issue (4(4)) printed once: "Engineering 5, 4" is volume 5, issue 4
      if the parser reads 5 as the volume, or by order (the volume comes first)."""
    volume = work.volume or ""
    if not volume.isdecimal() or "pages" in absent:
        return None
    key = simple_token(volume)
    if YEAR_LIKE.match(number) and any(str(year) == key for year in work.years) and \
            key != number and text.lone_spans(key):
        for strong_only in (True, False):
            mine = places(text, number, work, strong_only)
            theirs = places(text, key, work, strong_only)
            # A volume's or an issue's label says a number (mimesis-edizioni labels the volume
            # "fasc.": "fasc. 2014, 2013", #11).
            if (mine == {Place.DATE} and theirs != {Place.DATE}) or \
                    (not mine and _numbered(theirs)):
                return [_year_mismatch(int(number), work)]
            if (_numbered(mine) and not _numbered(theirs)) or \
                    (not mine and theirs == {Place.DATE}):
                return [_number_mismatch("volume", number, volume)]
        # No cue in the text ("Case Reports in Dentistry 2014, 2015, 1–7" for volume 2014 of
        # 2014): one of the two is cited wrong for sure, and silence would pass it as ok. The
        # parser's reading of the style, sure or not, says which field (#11); without one,
        # nothing.
        read_volume = simple_token(cited.volume) if cited.volume else None
        read_year = str(cited.year) if cited.year else None
        if (read_volume == number or read_year == key) and number not in (read_year, None) and \
                read_volume != key:
            # The parser read the number as the volume, or the registered one as the year.
            return [_number_mismatch("volume", number, volume)]
        if (read_year == number or read_volume == key) and read_year != key:
            return [_year_mismatch(int(number), work)]
        return []
    if work.issue and simple_token(work.issue) == key and "year" not in absent and \
            text.singles.get(key, 0) == 1:
        # `cited` holds the parser's reading of the numbers, sure or not (_numbers_read).
        if cited.volume and simple_token(cited.volume) == number:
            field = "volume"
        elif cited.issue and simple_token(cited.issue) == number:
            field = "issue"
        else:
            field = "volume" if text.lone_spans(number)[0] < text.lone_spans(key)[0] else "issue"
        return [_number_mismatch(field, number, getattr(work, field))]
    return None


# -- the findings ---------------------------------------------------------------------------

def _title_mismatch(cited: CitedFields, work: RegisteredWork) -> Finding:
    return _finding(
        "title-mismatch", "title", cited.title, work.title,
        f"The cited title differs from the registered title {work.title!r}.", work.title,
    )


def _author_mismatch(cited: CitedFields, work: RegisteredWork, problem: str) -> Finding:
    return _finding(
        "author-mismatch", "authors", cited.authors, list(work.families),
        f"Authors disagree: {problem}.", ", ".join(work.families),
    )


def _year_mismatch(year: int, work: RegisteredWork) -> Finding:
    shown = ", ".join(str(y) for y in sorted(work.years))
    return _finding(
        "year-mismatch", "year", year, min(work.years),
        f"The cited year {year} matches no registered publication date ({shown}).",
        str(min(work.years)),
    )


def _container_mismatch(container: str, work: RegisteredWork) -> Finding:
    registered = work.to_fields().container or work.container
    return _finding(
        "container-mismatch", "container", container, registered,
        f"The cited journal or book {container!r} differs from the registered {registered!r}.",
        registered,
    )


def _number_mismatch(field: str, cited: str, registered: str) -> Finding:
    return _finding(
        f"{field}-mismatch", field, cited, registered,
        f"The cited {field} {cited} differs from the registered {field} {registered}.",
        registered,
    )


def _pages_mismatch(pages: str, work: RegisteredWork) -> Finding:
    registered = work.pages[0]
    return _finding(
        "pages-mismatch", "pages", pages, registered,
        f"The cited pages {pages} differ from the registered pages {registered}.", registered,
    )
