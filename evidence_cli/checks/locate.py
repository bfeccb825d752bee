"""Find a registered work's values in the text of a reference, whatever its citation style.

A parser can misplace a field in a style it has not seen, and a field check built on a misplaced
field reports an error that is not there. When the registered record is known, the text itself is
the better witness: a registered title, name, year, volume, issue or page range that occurs in the
reference is cited correctly, wherever the style put it (issue #11). Only a value that does not
occur can be miscited, and then only where the parser is sure what the reference gives instead.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

from evidence_cli import doi as doi_rules
from evidence_cli.checks.compare import STOP_WORDS, first_page, is_abbreviation, page_range
from evidence_cli.checks.normalize import normalize_dashes, plain, simple_token, title_key
from evidence_cli.checks.work import RegisteredWork

# A registered title is "in the text" when this much of it (partial indel similarity, 0-100)
# lines up with some stretch of the reference.
TITLE_IN_TEXT = 90.0
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
# "[1]", "(1)", "1.", "1)", "〔1〕", "【1】", and the bare "1 Davis MC." of some numbered styles.
_LIST_MARKER = re.compile(r"^\s*(?:(?:\[\s*\d+\s*\]|\(\d+\)|\d+[.)]|\d{1,3}(?=\s+[^\W\d_a-z]))\s+|"
                          r"〔\s*\d+\s*〕\s*|【\s*\d+\s*】\s*)")
_GLUED_YEAR = re.compile(r"(?<![\w])(\d{4})(?=[A-Z][a-z])")  # "2021Tradução": the year, a word
# A number beside Chinese or Japanese characters ("2028年", "第5卷", "》2024"): these are word
# characters to a regular expression, so the number stood in no token of its own (#11).
_CJK_BESIDE_DIGIT = re.compile(r"(?<=\d)(?=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])|"
                               r"(?<=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])(?=\d)")
# "doi:" and a token with a digit and a slash in it, whatever became of its periods.
_MANGLED_DOI = re.compile(r"\bdoi\s*:\s*(?=[^\s/]*\d)[^\s/]+/\S+", re.I)
# A date with periods, day or month first: "24.05.2022", "04.2026".
_DOTTED_DATE = re.compile(r"(?<![\w.])(\d{1,2})\.(?:(\d{1,2})\.)?((?:1[5-9]|20)\d\d)(?![\w]|\.\d)")
_IDENTIFIER = re.compile(r"\b(?:PMID|PMCID|ISSN|ISBN|arXiv)\s*:?\s*[\w.\-]+", re.I)
# Numbers as a style prints them: "47", "12A", "e1002", "S3"; a range is read as one token.
# Not a piece of a decimal ("604.4").
# (An English ordinal is its number: "Theoretical Ecology, 14th volume", #11.)
# A letter glued to a number makes it a word, but Chinese, Japanese and Korean write the unit
# right after it ("2015年", "第3卷", "12页"): their characters are no letters here (#11).
_GLUING = r"[^\W\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]"
_NUMBER = re.compile(rf"(?<!{_GLUING})(?<!\d\.)([A-Za-z]{{0,3}}\d+[A-Za-z]?)"
                     r"(?:(?<=\d)(?:st|nd|rd|th))?"
                     rf"(?:\s*[-–—‐‑]+\s*([A-Za-z]{{0,3}}\d+[A-Za-z]?))?(?!{_GLUING})(?!\.\d)")


# How far into the text a sole registered author's name may stand and still lead the list.
_SOLE_AUTHOR_WORDS = 8


def _without_identifiers(text: str) -> str:
    """The reference without its list marker, DOIs, URLs and database ids: the digits in those
    ("10.1016/j.x.2014.03.001") are not the year, volume or pages."""
    text = _LIST_MARKER.sub(" ", text, count=1)
    for found in doi_rules.find_all(text):
        text = text.replace(found, " ")
    text = _URL.sub(" ", text)
    text = re.sub(r"\bdoi\s*:?\s*(?=\s|$)", " ", text, flags=re.I)
    # A DOI a style printed without its periods ("doi:101016/jeng201604010", #11): no DOI to
    # find, but its digits are still no issue or volume.
    text = _MANGLED_DOI.sub(" ", text)
    return _IDENTIFIER.sub(" ", text)


@dataclass(frozen=True)
class NumberToken:
    """A number or a number range as it occurs in the reference."""

    first: str
    last: str | None

    @property
    def is_range(self) -> bool:
        return self.last is not None


class ReferenceText:
    """A reference's text, prepared once for locating every registered value in it."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        text = _GLUED_YEAR.sub(r"\1 ", _without_identifiers(raw))
        if not text.isascii():
            text = _CJK_BESIDE_DIGIT.sub(" ", text)
        self.text = " ".join(text.split())

    @cached_property
    def plain(self) -> str:
        return plain(self.text)

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(self.plain.split())

    @cached_property
    def numbers(self) -> list[NumberToken]:
        return [NumberToken(m.group(1), m.group(2)) for m in _NUMBER.finditer(self.text)]

    @cached_property
    def singles(self) -> Counter[str]:
        """How often each number stands alone (not as either end of a range)."""
        return Counter(simple_token(t.first) for t in self.numbers if not t.is_range)

    def lone_spans(self, number: str) -> list[tuple[int, int]]:
        """Where `number` stands alone (not as an end of a range) in `self.text`."""
        key = simple_token(number)
        return [(m.start(1), m.end(1)) for m in _NUMBER.finditer(self.text)
                if m.group(2) is None and simple_token(m.group(1)) == key]

    def _title_span(self, work: RegisteredWork) -> tuple[int, int] | None:
        """Where in `self.text` the registered title stands, when it is there."""
        from rapidfuzz import fuzz

        haystack = self.text.lower()
        for title in work.titles:
            needle = " ".join(title.lower().split())
            if len(needle) < 12:
                continue
            found = fuzz.partial_ratio_alignment(needle, haystack)
            if found is not None and found.score >= TITLE_IN_TEXT:
                return int(found.dest_start), int(found.dest_end)
        return None

    def title_start(self, work: RegisteredWork) -> int | None:
        """Where in `self.text` the registered title begins, when it is there (None if not)."""
        span = self._title_span(work)
        return span[0] if span else None

    def title_end(self, work: RegisteredWork) -> int:
        """Where in `self.text` the registered title ends, when it is there (0 if not)."""
        span = self._title_span(work)
        return span[1] if span else 0

    def glued_after_volume(self, work: RegisteredWork) -> tuple[str, str | None] | None:
        """(issue, pages) printed glued to the registered volume after the title: "7:13.1704–1706"
        and "28.6 (2009)" give the issue 13 or 6 (and the pages 1704–1706); None when the
        volume stands in no such token, in more than one, or before a colon and one number
        only (Vancouver's pages)."""
        volume = work.volume or ""
        if not volume.isdecimal():
            return None
        pattern = re.compile(rf"(?<![\w.]){re.escape(volume)}([.:])([^\W_]+(?:[-–/][^\W_]+)?)"
                             r"(?:\.(\d+(?:[-–]\d+)?))?(?![\w])(?!\.\d)")
        found = list(pattern.finditer(self.text, self.title_end(work)))
        if len(found) != 1:
            return None
        separator, issue, pages = found[0].groups()
        first, slash, day = issue.partition("/")
        end = found[0].end(2)
        if slash and pages is None and _month_beside(self.text, end - len(day), end):
            # The issue and then the day of its date: "Andrologia 28:6/27. apríl 2009" (ritid,
            # #11) gives the issue 6.
            return first, None
        if separator == ":" and pages is None:
            return None  # Vancouver's "2019;28:4" gives the pages after the colon, not an issue
        return issue, pages

    def volume_glued_to_issue(self, work: RegisteredWork) -> str | None:
        """The number glued before the registered issue after the title ("70.10", "299.6673",
        "6/4-6"), when one token holds it: the volume as the style prints it (#11)."""
        issue = work.issue or ""
        if not any(ch.isdigit() for ch in issue):
            return None
        written = "[-–—‐‑]".join(re.escape(piece) for piece in re.split(r"[-–—‐‑]", issue))
        pattern = re.compile(rf"(?<![\w.])(\d+)[./]{written}(?![\w])(?!\.\d)(?![-–—‐‑]\d)")
        found = list(pattern.finditer(self.text, self.title_end(work)))
        return found[0].group(1) if len(found) == 1 else None

    def in_dotted_date(self, number: str) -> bool:
        """`number` is the day or month of a date written with periods ("24.05.2022",
        "04.2026") somewhere in the text (#11)."""
        key = simple_token(number)
        return any(key in (simple_token(day), simple_token(month or ""))
                   for day, month, _ in self.dotted_dates)

    @cached_property
    def dotted_dates(self) -> list[tuple[str, str | None, str]]:
        """(day or month, month or None, year) of each date written with periods (#11)."""
        return [(match.group(1), match.group(2), match.group(3))
                for match in _DOTTED_DATE.finditer(self.text)]

    def days(self, number: str) -> int:
        """How often `number` stands alone beside a month: a day of a date ("1 ianuarie 2009",
        "2009 Jan 1;2(2)"), whatever else it may be."""
        return sum(_month_beside(self.text, start, end) for start, end in self.lone_spans(number))

    @property
    def word_count(self) -> int:
        return len(self.plain.split())

    # -- what the text contains ----------------------------------------------------------

    def has_title(self, work: RegisteredWork) -> bool:
        """A registered title (or the main title before its subtitle) occurs in the text."""
        from rapidfuzz import fuzz

        forms: list[str] = []
        for title in work.titles:
            forms.append(title_key(title))
            head = re.split(r"[:?!.]\s| [-–—] ", title, maxsplit=1)[0]
            if len(head.split()) >= 3:
                forms.append(title_key(head))
        forms.extend(title_key(short) for short in work.short_titles if len(short.split()) >= 3)
        for form in dict.fromkeys(forms):
            if not form:
                continue
            if len(form) < 12:
                # A short title ("Depression") must stand as its own words.
                if f" {form} " in f" {self.plain} ":
                    return True
                continue
            if fuzz.partial_ratio(form, self.plain) >= TITLE_IN_TEXT:
                return True
        return False

    def has_name(self, family: str) -> bool:
        """A family name (every word of it, or its last word for "van der Berg") is in the text."""
        words = plain(family).split()
        if not words:
            return False
        return all(w in self.words for w in words) or words[-1] in self.words

    def authors_found(self, work: RegisteredWork, first: int = 3) -> int:
        """How many of the first registered authors are named in the text."""
        return sum(self.has_name(name) for name in work.families[:first])

    def has_authors(self, work: RegisteredWork) -> bool:
        """The registered authorship is in the text: the first author leading it, as nearly
        every style puts it, or two of the first three authors anywhere. One shared common
        surname elsewhere in the list ("Zhang") does not make two works one."""
        if not work.families:
            return False
        lead = f" {' '.join(self.plain.split()[:4])} "
        first = plain(work.families[0])
        if first and f" {first} " in lead:
            return True
        if len(work.families) == 1:
            # A work of one author is that author's when the name leads the list (given names
            # first: "Maria Fernanda de Souza Silva"); the same surname as the sixth author of
            # another paper ("..., Daniel Cox, and Pedro Lomonaco") is not it (#11).
            lead = f" {' '.join(self.plain.split()[:_SOLE_AUTHOR_WORDS])} "
            return bool(first) and f" {first} " in lead
        return self.authors_found(work) >= 2

    def has_container(self, work: RegisteredWork) -> bool:
        """A registered container name, its short form or an abbreviation of it is in the text."""
        padded = f" {self.plain} "
        for name in work.containers:
            key = plain(name)
            if len(key) >= 3 and f" {key} " in padded:
                return True
            # A short form written without its dots and spaces ("intjoursciresmana").
            if " " in key and len(key) >= 8 and key.replace(" ", "") in self.words:
                return True
        return False

    def has_number(self, value: str, taken: int = 0) -> bool:
        """The volume or issue `value` stands as a number of its own in the text more often than
        the `taken` times other fields claim the same number ("12(12)")."""
        key = simple_token(value)
        if not key:
            return False
        words = plain(value).split()
        if len(words) > 1 or not value.strip().isdecimal():
            # "15_suppl", "1/2", "4-6", "Suppl 2": the value's own words, in order.
            return f" {' '.join(words)} " in f" {self.plain} "
        return self.singles.get(key, 0) > taken

    @cached_property
    def roman_volumes(self) -> Counter[int]:
        """The values of the Roman numerals that stand where a volume goes: before "/" and the
        issue ("v/1", "xxxviii/4", as the Journal of Ecclesiastical History prints them) or
        after "vol."."""
        found: Counter[int] = Counter()
        for match in _ROMAN_VOLUME.finditer(self.text):
            numeral = match.group(1) or match.group(2) or match.group(3) or match.group(4)
            value = roman_value(numeral)
            if value:
                found[value] += 1
        return found

    @cached_property
    def issues_after_roman(self) -> list[tuple[int, str]]:
        """(the Roman volume's value, the issue) of each "ii/2" the text prints: the issue
        after a Roman volume and its slash (#11)."""
        return [(value, match.group(2)) for match in _ROMAN_SLASH_ISSUE.finditer(self.text)
                if (value := roman_value(match.group(1)))]

    def has_roman(self, value: str) -> bool:
        """The volume `value` ("5") is printed as a Roman numeral in a volume's place ("v/1")."""
        return value.isdecimal() and self.roman_volumes.get(int(value), 0) > 0

    def has_joined(self, volume: str | None, issue: str | None) -> bool:
        """The volume and issue printed as one token, "5.4-6", "23.1/2", "5:4-6", which no
        number of the text reads on its own."""
        if not volume or not issue:
            return False
        pattern = (rf"(?<![\w.]){re.escape(normalize_dashes(volume))}\s?[.:]\s?"
                   rf"{re.escape(normalize_dashes(issue))}(?![^\W_])(?!\.?\d)")
        return re.search(pattern, normalize_dashes(self.text)) is not None

    def stands(self, value: str) -> bool:
        """`value` is a number the text prints on its own or as an end of a range, not a piece
        of a decimal or of another token ("4" of "604.4–604")."""
        key = simple_token(value)
        if not key:
            return False
        for token in self.numbers:
            if simple_token(token.first) == key or \
                    (token.last is not None and simple_token(token.last) == key):
                return True
        words = plain(value).split()
        if len(words) > 1 and f" {' '.join(words)} " in f" {self.plain} ":
            return True
        # Glued to what follows it: the volume of "15.4 (2021)" or "12.95–100".
        return re.search(rf"(?<![\w.]){re.escape(value.strip())}[.:](?=[^\W_])",
                         self.text) is not None

    def volume_before_pages(self, work: RegisteredWork) -> str | None:
        """The number glued before the registered pages, "Engineering 12.95–100", "PeerJ
        11.e13492": the volume a style printed there (None when there is no such number, or
        more than one)."""
        numbers: set[str] = set()
        for value in work.pages:
            expected = page_range(value)
            if expected is None:
                continue
            first, last = expected
            ends = r"(?:\s?-\s?[^\W_]+)?" if last else ""
            pattern = rf"(?<![\w.])(\d+)[.:]{re.escape(first)}{ends}(?![\w])(?!\.\d)"
            numbers |= set(re.findall(pattern, normalize_dashes(self.text)))
        return numbers.pop() if len(numbers) == 1 else None

    def has_year(self, years: frozenset[int], taken: dict[int, int] | None = None) -> bool:
        """A registered year stands in the text more often than the `taken` times other values
        claim that number (a volume "2013" of 2013, a conference "AFRICON 2009")."""
        taken = taken or {}
        return any(self.singles.get(str(year), 0) + self.dotted_years.get(str(year), 0) >
                   taken.get(year, 0) for year in years)

    @cached_property
    def dotted_years(self) -> Counter[str]:
        """The years of the dates written with periods ("04.03.1989"), which no number of the
        text reads on its own (#11)."""
        return Counter(year for _, _, year in self.dotted_dates)

    def occurrences_in_located(self, number: str, work: RegisteredWork) -> int:
        """How many times `number` stands in the registered title and container names that are
        in the text: those occurrences are theirs, not the field's."""
        count = 0
        padded = f" {self.plain} "
        for name in work.containers:
            key = plain(name)
            if len(key) >= 3 and f" {key} " in padded and number in key.split():
                count += 1
                break
        if any(number in plain(title).split() for title in work.titles) and self.has_title(work):
            count += 1
        return count

    def has_pages(self, registered: tuple[str, ...], taken: int = 0) -> bool:
        """The registered page range (its elided forms too) or article number is in the text; a
        range in the text must agree at both ends, a lone first page is enough when the
        reference prints only that, and stands alone more often than the `taken` times the
        volume or issue claim that number ("91: 94–105" for volume 91, pages 91–102)."""
        for value in registered:
            # An article number with its letter ("e23765") is unmistakable even glued to
            # the issue before it ("6:8.e23765").
            if re.fullmatch(r"[A-Za-z]{1,3}\d{3,}", value.strip()) and re.search(
                    rf"(?<![^\W_]){re.escape(value.strip())}(?![^\W_])", self.text):
                return True
            expected = page_range(value)
            if expected is None:
                if simple_token(value) and simple_token(value) in {
                    simple_token(normalize_dashes(t.first)) for t in self.numbers
                }:
                    return True
                # Pages no range reads ("604.4-604"): as written, between non-digits.
                written = re.escape(normalize_dashes(value))
                if re.search(rf"(?<![\w])(?<!\d\.){written}(?![\w]|\.\d)",
                             normalize_dashes(self.text)):
                    return True
                # Or its first page as written, with the range left open ("604.4–"), as some
                # styles print a range they cannot read.
                head = re.escape(re.split(r"\s*[-–—‐‑]\s*", value.strip(), maxsplit=1)[0])
                if "." in head and re.search(rf"(?<![\w.]){head}-(?!\d)",
                                             normalize_dashes(self.text)):
                    return True
                # Or its first page alone, as a style that prints first pages gives it
                # ("BMJ 1989, 298 (6673), 604.4.", #11).
                if "." in head and re.search(rf"(?<![\w.]){head}(?![\w-]|\.\d)", self.text):
                    return True
                continue
            first, last = expected
            if last is not None and _range_written(first, last, self.text):
                return True
            lone = 0
            for token in self.numbers:
                found = page_range(f"{token.first}-{token.last}" if token.last else token.first)
                if found is None or found[0].lstrip("0") != first.lstrip("0"):
                    continue
                if not token.is_range:
                    lone += 1
                    if lone > taken:
                        return True
                    continue
                if last is None or found[1] == last:
                    return True
                if token.last and token.last.isdecimal() and len(token.last) < len(last) and \
                        last.endswith(token.last):
                    return True  # elided further than the styles' rules ("5–9" for 5–19)
        return False


def _range_written(first: str, last: str, text: str) -> bool:
    """The page range first-last (or its last page elided, "293–7") is written in the text
    between non-digits, even glued to the issue before it ("5:4-6.293–297")."""
    if not (first.isdecimal() and last.isdecimal()):
        return False
    lasts = [last[-k:] for k in range(1, len(last) + 1)
             if first[:len(first) - k] + last[-k:] == last or k == len(last)]
    ends = "|".join(sorted(set(lasts), key=len, reverse=True))
    pattern = rf"(?<!\d){first}\s?-\s?(?:{ends})(?!\d)"
    return re.search(pattern, normalize_dashes(text)) is not None


_ROMAN = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
# A Roman numeral where a volume goes: after a space and before "/" and the issue ("v/1"), in
# lower case before the year in brackets ("Coastal Engineering ccvii (2026)"; in capitals that
# is an author's initials, "Fenner M (2017)") or between commas before an issue's "no."
# ("Theoretical Ecology, xiv, no. 4 (2021)", as Irish Historical Studies prints it, #11), or
# after "vol." ("Vol. XII").
_ROMAN_VOLUME = re.compile(r"(?<=\s)([ivxlcdm]+|[IVXLCDM]+)(?=/\d)|"
                           r"(?<=\s)([ivxlcdm]+)(?=,?\s\((?:1[5-9]|20)\d\d\))|"
                           r"(?<=,\s)([ivxlcdm]+)(?=,\sno\.\s?\d)|"
                           r"(?<![^\W\d_])(?i:vol|volume)\.?\s*([ivxlcdm]+|[IVXLCDM]+)(?![\w])")
_ROMAN_SLASH_ISSUE = re.compile(r"(?<=\s)([ivxlcdm]+|[IVXLCDM]+)/(\d+)(?![\w/.-])")
_ROMAN_DIGITS = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


def roman_value(numeral: str) -> int | None:
    """The value of a well-formed Roman numeral, one case throughout ("xxxviii" → 38)."""
    if not numeral or not (numeral.islower() or numeral.isupper()) or \
            not _ROMAN.match(numeral.upper()):
        return None
    digits = [_ROMAN_DIGITS[ch] for ch in numeral.lower()]
    total = 0
    for here, after in zip(digits, [*digits[1:], 0], strict=True):
        total += -here if here < after else here
    return total


# Beside a number, these say it is no volume, issue or page: a day of a month ("7 mar."), a
# count of pages ("210 pp.", "210 s."), a price, an ISBN, an edition or a part; nor is a number
# before a colon and a pages label ("38:pp. .", the volume printed again by one Italian style,
# #11). A label followed by a number labels that number: "Engineering Structures 199 s. 109531"
# (Swedish "sidor") is volume 199, page 109531.
_NOT_A_LOCATOR_AFTER = re.compile(r"\s*:?\s*(?:pp?\b(?!\.?\s*\d)|pages\b(?!\s*\d)|s\.(?!\s*\d)|"
                                  r"ed\b|edn\b|th\b|st\b|nd\b|rd\b|%)", re.I)
# The word of a volume or an issue after its number ("14th volume").
_LOCATOR_WORD = re.compile(r"\s+(?:volume|vol|issue|number|no)\b", re.I)
# The words as words: the "ed" of "Med." or "Limited;" is no edition.
_NOT_A_LOCATOR_BEFORE = re.compile(r"(?:[$€£#]|(?<![^\W\d_])(?:isbn|issn|part|pt|ed|edn))\W{0,2}$",
                                   re.I)


# Month names the parser's features lack, in the languages styles print access and issue
# dates in ("consultado el 8 de junio de 2007", "8 iunie 2007", "3 stycznia 2018").
_MONTHS_MORE = frozenset({
    "fev", "abr", "maio", "ago", "set", "out", "dez", "ene", "dic", "setiembre",
    "janeiro", "fevereiro", "março", "marco", "junho", "julho", "setembro", "outubro",
    "novembro", "dezembro",
    "gennaio", "febbraio", "aprile", "maggio", "giugno", "luglio", "settembre", "ottobre",
    "dicembre",
    # Icelandic, Danish, Norwegian and Swedish (ritid prints "27. apríl 2009").
    "janúar", "febrúar", "apríl", "maí", "júní", "júlí", "ágúst", "október", "nóvember",
    "desember", "marts", "maj", "augusti",
    "ianuarie", "februarie", "martie", "aprilie", "iunie", "iulie", "septembrie", "octombrie",
    "noiembrie", "decembrie",
    "stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
    "września", "października", "listopada", "grudnia",
    "januari", "februari", "maart", "mei", "augustus",
})
# The small word between a day and its month: "8 de junio", "8 di giugno", "the 8th of June".
_DATE_LINK = frozenset({"de", "del", "di", "of"})


def _month_beside(text: str, start: int, end: int) -> bool:
    from evidence_cli.sources.refparser.features import MONTHS

    # Only a month written right beside it: "7 mar.", "June 23", "8 de junio"; not
    # "2 (January 2008)". And only a number a date has, a day or a year: not the volume 207 of
    # "Coastal Engineering, April 207" (diplo prints the issue's month before the volume, #11),
    # nor a volume with its issue in brackets glued to it ("Engineering, May 8(5)").
    number = text[start:end]
    if (number.isdecimal() and int(number) > 31 and not YEAR_LIKE.match(number)) or \
            text[end:end + 1] == "(":
        return False
    before = re.findall(r"([^\W\d_]+)\.?\s*$", text[max(0, start - 12):start])
    # "27. apríl 2009": the day's period of German and Nordic dates before the month (ritid).
    after = re.findall(r"^\.?\s*([^\W\d_]+)(?:\s+([^\W\d_]+))?", text[end:end + 24])
    months = MONTHS | _MONTHS_MORE
    if before and before[-1].lower() in months:
        # A date has one day: after "23 June" a number that is no year is not the day
        # ("REFilo, 23 June 8" for volume 8: diplo, #11).
        return bool(YEAR_LIKE.match(number)) or not re.search(
            r"(?<![\w.])\d{1,2}\.?\s+[^\W\d_]+\.?\s*$", text[max(0, start - 20):start])
    if not after:
        return False
    first, second = (word.lower() for word in after[0])
    return first in months or (first in _DATE_LINK and second in months)


def only_beside_months(text: ReferenceText, number: str) -> bool:
    """Every time `number` stands alone in the text, a month is written beside it: a day of a
    date ("consultado el 8 de junio de 2007"), not a volume or an issue."""
    spans = text.lone_spans(number)
    return bool(spans) and all(_month_beside(text.text, start, end) for start, end in spans)


def value_pieces(value: str) -> set[str]:
    """Every alphanumeric piece of a registered value: "604" and "4" of "604.4-604"."""
    return {simple_token(piece) for piece in re.findall(r"[^\W_]+", value)}


def title_numbers(work: RegisteredWork, names: tuple[str, ...] = ()) -> set[str]:
    """The numbers in the registered titles and container names (and in `names`)."""
    words = (word for name in (*work.titles, *work.subtitles, *work.short_titles,
                               *work.containers, *names) for word in plain(name).split())
    return {simple_token(word) for word in words if word[:1].isdigit()}


def _numbers_of(name: str) -> Counter[str]:
    """The numbers the text's scan finds in a name, as it finds them ("6.3" is none)."""
    counts: Counter[str] = Counter()
    for match in _NUMBER.finditer(name):
        counts[simple_token(match.group(1))] += 1
        if match.group(2) is not None:
            counts[simple_token(match.group(2))] += 1
    return counts


def title_number_counts(work: RegisteredWork, names: tuple[str, ...] = ()) -> Counter[str]:
    """How many times each number stands in the title and in the container name as a
    reference prints them once each: the most of any one form of the title (with or without
    its subtitle, short, or as parsed: `names`) and of any one form of the container."""
    titles = [*work.titles, *(f"{title} {subtitle}" for title in work.titles
                              for subtitle in work.subtitles), *work.short_titles, *names]
    # A style that strips the periods of titles (CSL's strip-periods) prints "Target 6.3" as
    # "Target 63" (biochimica-et-biophysica-acta, #11).
    titles.extend([title.replace(".", "") for title in titles if "." in title])
    counts: Counter[str] = Counter()
    for group in (titles, work.containers):
        most: Counter[str] = Counter()
        for name in group:
            most |= _numbers_of(name)  # the larger count of each number
        counts.update(most)
    return counts


def unexplained_numbers(text: ReferenceText, work: RegisteredWork, names: tuple[str, ...] = ()
                        ) -> tuple[list[str], list[str]]:
    """(single numbers, page ranges) of the text that no registered value accounts for: not the
    year, volume, issue, pages or article number, not a number of the registered titles and
    container names or of the other `names` (the title as parsed), not a day, a page count or
    a price. Where the text gives every registered number but one, a lone unexplained number is
    what it cites instead.

    A year may stand any number of times (some styles print the year twice); a volume, issue,
    page or article number accounts for one occurrence each, so in "5, 5" for volume 5, issue 4
    the second 5 is unexplained: it is the issue cited as 5. A number of the title accounts for
    as many as the title has: in "More than Target 6.3 ... Engineering 3(4)" for volume 2, the
    second 3 is the volume cited (#11)."""
    unlimited = {str(year) for year in work.years}
    allowance: Counter[str] = Counter(
        simple_token(v) for v in (work.volume, work.issue, work.article_number) if v)
    allowance.update(title_number_counts(work, names))
    for value in work.pages:  # both ends of a range, and every piece of "604.4-604"
        allowance.update(value_pieces(value))
    issue_key = plain(work.issue or "")
    issue_whole = bool(issue_key) and any(
        token.last is not None and plain(f"{token.first} {token.last}") == issue_key
        for token in text.numbers)
    ends = value_pieces(work.issue or "") - {simple_token(work.issue or "")}
    if work.issue and not work.issue.isdecimal() and not issue_whole and \
            all(re.search(rf"(?<![^\W_]){re.escape(end)}(?![^\W_])", text.text, re.I)
                for end in ends):
        # Both ends of an issue "4-6" printed apart (#11); printed whole ("(4–6)"), or not at
        # all, its ends explain no other number ("6 (4–6)", "1981 6 293–297" for 5(4-6): the
        # 6 is the volume cited).
        allowance.update(ends)
    first_pages = {simple_token(first_page(value)) for value in work.pages}
    first_pages |= title_numbers(work, names)
    joined_pair = plain(f"{work.volume} {work.issue}") if work.volume and work.issue else None
    # The volume joined to the first end of an issue range: "5‑4-6" for 5(4-6) scans as "5‑4".
    issue_head = re.split(r"[^\w]+", work.issue or "", maxsplit=1)[0]
    joined_head = plain(f"{work.volume} {issue_head}") \
        if work.volume and issue_head and issue_head != work.issue else None
    singles: list[str] = []
    ranges: list[str] = []
    for match in _NUMBER.finditer(text.text):
        first, last = match.group(1), match.group(2)
        # An ordinal ("2nd ed.", "4th Conference") is no locator but before the word of one
        # ("14th volume", #11): its suffix is looked at as what follows the number.
        after = match.end() if last is not None or \
            _LOCATOR_WORD.match(text.text, match.end()) else match.end(1)
        if _month_beside(text.text, match.start(), match.end()) or \
                _NOT_A_LOCATOR_AFTER.match(text.text, after) or \
                _NOT_A_LOCATOR_BEFORE.search(text.text[max(0, match.start() - 6):match.start()]):
            continue
        if last is None:
            key = simple_token(first)
            if key in unlimited or not first.isdecimal():
                continue
            if allowance[key] > 0:
                allowance[key] -= 1
                continue
            singles.append(first)
        elif simple_token(first) not in first_pages and \
                plain(f"{first} {last}") not in (issue_key, joined_pair, joined_head):
            # A range is explained by a registered first page, by an issue "1-2" or by the
            # volume and issue joined by a dash ("28‑5", #11), not by a number that happens to
            # be a last page ("4–7" for pages 1–4).
            ranges.append(f"{first}-{last}")
    return singles, ranges


def abbreviation_in_text(text: ReferenceText, work: RegisteredWork) -> bool:
    """Some run of three or more of the text's words abbreviates a registered container name
    (ISO 4 / NLM, or the start of a long name: "Am. J. Med. Genet. B")."""
    words = text.plain.split()
    for name in work.containers:
        significant = [w for w in plain(name).split() if w not in STOP_WORDS]
        if len(significant) < 2:
            continue
        for start, word in enumerate(words):
            if word[:1] != significant[0][:1]:
                continue
            for length in range(min(len(significant), len(words) - start), 1, -1):
                chunk = " ".join(words[start:start + length])
                if is_abbreviation(chunk, name, truncated=True):
                    return True
    return False


class Place(Enum):
    """What a number's place in a reference says it is, whatever the parser made of it."""

    DATE = "date"
    VOLUME = "volume"
    ISSUE = "issue"  # after an issue's label ("no. 6", "fasc. 2"): a number, no date


# The places of a number that a volume or an issue is cited in.
NUMBERED = frozenset({Place.VOLUME, Place.ISSUE})


YEAR_LIKE = re.compile(r"^(?:1[5-9]|20)\d\d$")
# "(2011)", "(January 2003)", "(Jan. 5, 2003)": a number alone in brackets, or after a month
# and day, is a date.
_IN_BRACKETS_BEFORE = re.compile(r"\(\s*(?:[^\W\d_]+\.?\s+)?(?:\d{1,2},?\s+)?$")
_IN_BRACKETS_AFTER = re.compile(r"^\s*\)")
_VOLUME_LABEL = re.compile(r"(?<![^\W\d_])(?:vol|volume|v|bd|t)\.?\s*$", re.I)
# "2004:2157", "2004(34): 2157": the number before an issue in brackets or before the colon
# of the pages is the volume (Vancouver's "2003;2004(34):2157-76").
_VOLUME_PLACE_AFTER = re.compile(r"^\s*(?:\(\s*[^\W_]+\s*\)\s*)?:")
# "no. 6", "nr 6674", "issue 3", "fasc. 2" (Italian fascicolo); in brackets too, "(6)", where an
# issue may stand.
# The "o" of "n.º", "n°" and "nᵒ" is written with any of three characters (French styles).
_ISSUE_WORD_TEXT = r"(?<![^\W\d_])(?:no|n|nr|issue|num|h|fasc)\.?[º°ᵒ]?\s*"
_ISSUE_WORD = re.compile(rf"{_ISSUE_WORD_TEXT}$", re.I)
_ISSUE_LABEL = re.compile(rf"(?:{_ISSUE_WORD_TEXT}|\(\s*)$", re.I)


def places(text: ReferenceText, number: str, work: RegisteredWork, strong_only: bool
           ) -> set[Place]:
    """What the places where `number` stands alone say it is: in brackets alone (or with a
    month) a date, after "vol." a volume, after "no." an issue (the strong cues); before the
    title, where
    author-date styles put the year, a date, and before an issue in brackets or the colon of
    the pages a volume (the weak ones)."""
    found: set[Place] = set()
    title_start = None if strong_only else text.title_start(work)
    for start, end in text.lone_spans(number):
        before, after = text.text[max(0, start - 24):start], text.text[end:end + 24]
        if _marked_as_a_date(before, after):
            found.add(Place.DATE)
        elif _VOLUME_LABEL.search(before):
            found.add(Place.VOLUME)
        elif _ISSUE_WORD.search(before):
            found.add(Place.ISSUE)
        elif strong_only:
            continue
        elif title_start is not None and end <= title_start:
            # Before the title: an author-date year, even before a colon ("Doe 2015 : ...").
            found.add(Place.DATE)
        elif _VOLUME_PLACE_AFTER.match(after):
            found.add(Place.VOLUME)
    return found


# A bracket right after a year and its full stop: GOST's "2016. № 4 (2)" and, with no issue,
# "Applications. 2013. (2013)." give the volume there, not a date (#11).
_AFTER_A_YEAR = re.compile(r"(?<![\d.])\d{4}\.\s*\(\s*$")


# "2015年": the number of years, in Chinese and Japanese (#11).
_YEAR_UNIT = re.compile(r"^\s?年")


def _marked_as_a_date(before: str, after: str) -> bool:
    """A number between `before` and `after` stands alone in brackets (or with a month), where
    a date goes, or is marked as a year ("2015年")."""
    in_brackets = bool(_IN_BRACKETS_BEFORE.search(before) and _IN_BRACKETS_AFTER.match(after))
    return (in_brackets and not _AFTER_A_YEAR.search(before)) or bool(_YEAR_UNIT.match(after))


def date_places(text: ReferenceText, number: str, work: RegisteredWork) -> int:
    """How often `number` stands alone where a date goes: in brackets (or with a month), marked
    as a year, or before the registered title, where author-date styles put the year."""
    title_start = text.title_start(work)
    return sum(1 for start, end in text.lone_spans(number)
               if _marked_as_a_date(text.text[max(0, start - 24):start],
                                    text.text[end:end + 24]) or
               (title_start is not None and end <= title_start))


def _after_label(text: ReferenceText, number: str, label: re.Pattern[str], width: int) -> bool:
    """`number` stands alone somewhere right after `label` (looked for in the `width`
    characters before it)."""
    return any(label.search(text.text[max(0, start - width):start])
               for start, _ in text.lone_spans(number))


def labelled_volumes(text: ReferenceText, numbers: list[str]) -> list[str]:
    """The `numbers` that stand after a volume's label ("vol. 14", "t. 2014") somewhere."""
    return [number for number in numbers if _after_label(text, number, _VOLUME_LABEL, 24)]


# "p. 4", "pp. 4", "S. 4" (Seite), "bls. 4", "s. 4", "str. 4", "page 4": a page's label.
_PAGE_LABEL = re.compile(r"(?<![^\W\d_])(?:p|pp|s|bls|str|page|pages)\.?\s*$", re.I)


def labelled_as_page(text: ReferenceText, number: str) -> bool:
    """The number stands right after a page's label somewhere ("S. 4 ff.")."""
    return _after_label(text, number, _PAGE_LABEL, 8)


def labelled_as_issue(text: ReferenceText, number: str) -> bool:
    """The number stands after an issue's label ("no. 6", "nr 6674", "issue 3"), not only in
    brackets."""
    return _after_label(text, number, _ISSUE_WORD, 12)


def marked_as_issue(text: ReferenceText, number: str) -> bool:
    """The number stands after "no.", "n.º", "issue" or in brackets somewhere: an issue's place."""
    return _after_label(text, number, _ISSUE_LABEL, 12)
