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
from functools import cached_property

from evidence_cli import doi as doi_rules
from evidence_cli.checks.compare import STOP_WORDS, is_abbreviation, page_range
from evidence_cli.checks.normalize import normalize_dashes, plain, simple_token, title_key
from evidence_cli.checks.work import RegisteredWork

# A registered title is "in the text" when this much of it (partial indel similarity, 0-100)
# lines up with some stretch of the reference.
TITLE_IN_TEXT = 90.0
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_LIST_MARKER = re.compile(r"^\s*(?:\[\s*\d+\s*\]|\(\d+\)|\d+[.)])\s+")
_GLUED_YEAR = re.compile(r"(?<![\w])(\d{4})(?=[A-Z][a-z])")  # "2021Tradução": the year, a word
_IDENTIFIER = re.compile(r"\b(?:PMID|PMCID|ISSN|ISBN|arXiv)\s*:?\s*[\w.\-]+", re.I)
# Numbers as a style prints them: "47", "12A", "e1002", "S3"; a range is read as one token.
_NUMBER = re.compile(r"(?<![\w])([A-Za-z]{0,3}\d+[A-Za-z]?)(?:\s*[-–—‐‑]+\s*([A-Za-z]{0,3}\d+"
                     r"[A-Za-z]?))?(?![\w])")


def _without_identifiers(text: str) -> str:
    """The reference without its list marker, DOIs, URLs and database ids: the digits in those
    ("10.1016/j.x.2014.03.001") are not the year, volume or pages."""
    text = _LIST_MARKER.sub(" ", text, count=1)
    for found in doi_rules.find_all(text):
        text = text.replace(found, " ")
    text = _URL.sub(" ", text)
    text = re.sub(r"\bdoi\s*:?\s*(?=\s|$)", " ", text, flags=re.I)
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
        return self.authors_found(work) >= min(2, len(work.families))

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

    def has_year(self, years: frozenset[int], taken: dict[int, int] | None = None) -> bool:
        """A registered year stands in the text more often than the `taken` times other values
        claim that number (a volume "2013" of 2013, a conference "AFRICON 2009")."""
        taken = taken or {}
        return any(self.singles.get(str(year), 0) > taken.get(year, 0) for year in years)

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

    def has_pages(self, registered: tuple[str, ...]) -> bool:
        """The registered page range (its elided forms too) or article number is in the text; a
        range in the text must agree at both ends, a lone first page is enough when the
        reference prints only that."""
        for value in registered:
            expected = page_range(value)
            if expected is None:
                if simple_token(value) and simple_token(value) in {
                    simple_token(normalize_dashes(t.first)) for t in self.numbers
                }:
                    return True
                continue
            first, last = expected
            for token in self.numbers:
                found = page_range(f"{token.first}-{token.last}" if token.last else token.first)
                if found is None or found[0].lstrip("0") != first.lstrip("0"):
                    continue
                if not token.is_range or last is None or found[1] == last:
                    return True
                if token.last and token.last.isdecimal() and len(token.last) < len(last) and \
                        last.endswith(token.last):
                    return True  # elided further than the styles' rules ("5–9" for 5–19)
        return False


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
