"""What the references of one list show of their style, for a reference whose parse alone cannot
tell its fields apart: which of two years side by side is the volume, and whether a year before
the pages is the volume or the year (#11).

The references of one list are written in one style. A journal whose volumes are years
(Hindawi's volume 2013 of 2013) prints two years side by side, "Applications 2014, 2013, 1–5":
German and Nordic styles print the volume first, ACS's and others the year first. The parser,
one reference at a time, reads the first as the year (most of its training styles put it there)
and the second as nothing, so a wrong volume was reported as a wrong year. The list's other
references, whose volumes are not years ("Andrologia 28, 1996, 245–246"), show which comes
first; where nearly all that show it agree, the pair is read in that order. So with one such
number before the pages: Swedish legal citations print the volume there ("Andrologia 28 s.
245–246"), German legal ones the year ("NJW 2019, 123"), and the list shows which.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from typing import TypeVar

from evidence_cli.sources.refparser.parser import ParsedReference

_YEAR = r"(?:1[5-9]|20)\d\d"
# Two years side by side: one space, comma, semicolon or slash between them, neither an end of
# a range nor part of a longer number, and the pages next (perhaps after their label: "s.",
# "pp.", "bls."), as a volume and year stand: "2019, 2020 IEEE Conference" is no such pair.
_TWO_YEARS = re.compile(rf"(?<![\d.–-])({_YEAR})\s?[,;/]?\s?({_YEAR})(?![\d–-])"
                        r"(?=\s?[,;:.]?\s?(?:[^\W\d]{1,3}\.\s?)?\d)")
# What may stand between a volume and a year side by side.
_BETWEEN = re.compile(r"\s?[,;/]?\s?")
# What may stand between a number and the pages after it: a separator, the pages' label.
_BEFORE_PAGES = re.compile(r"\s?[,;:]?\s?(?:[^\W\d]{1,3}\.\s?)?")
# A year standing alone: not an end of a range nor part of a longer number.
_A_YEAR = re.compile(rf"(?<![\d.–/-]){_YEAR}(?![\d–/-])")
_YEAR_LIKE = re.compile(_YEAR)
# References that must show the order before a list's order is trusted, and the share of them
# that may show the other (a list pasted together from two styles shows both).
_FEWEST_SHOWING = 3
_MOST_AGAINST = 0.1


class Order(Enum):
    VOLUME_FIRST = "volume first"
    YEAR_FIRST = "year first"


class BeforePages(Enum):
    """The field a list prints just before the pages."""

    VOLUME = "volume"
    YEAR = "year"


Shown = TypeVar("Shown", Order, BeforePages)


def _consensus(shown: list[Shown]) -> Shown | None:
    """What nearly all the references that show something show, if enough do."""
    if len(shown) < _FEWEST_SHOWING:
        return None
    for candidate in set(shown):
        against = sum(other is not candidate for other in shown)
        if against <= _MOST_AGAINST * len(shown):
            return candidate
    return None


def volume_year_order(parses: Sequence[ParsedReference | None]) -> Order | None:
    """The order in which the list's references print a volume and a year side by side, if
    enough of them show it and nearly all agree; else None."""
    return _consensus([order for order in map(_shown_order, parses) if order is not None])


def before_pages(parses: Sequence[ParsedReference | None]) -> BeforePages | None:
    """The field the list's references print just before the pages (a volume that is no year,
    or a year), if enough show it and nearly all agree; else None."""
    return _consensus([field for field in map(_shown_before_pages, parses) if field is not None])


def _of_a_book(parse: ParsedReference) -> bool:
    """A book or a chapter (a publisher or an editor read): a style prints its year before the
    pages where it prints an article's volume there ("Elsevier 2022, s. 427–455" beside
    "Theoretical Ecology 14 s. 663–671": swedish-legal)."""
    return "publisher" in parse.labels or "editor" in parse.labels


def _shown_before_pages(parse: ParsedReference | None) -> BeforePages | None:
    if parse is None or (pages := parse.field("pages")) is None or _of_a_book(parse):
        return None
    start = pages.spans[0][0]
    for field, name in ((BeforePages.VOLUME, "volume"), (BeforePages.YEAR, "year")):
        found = parse.field(name)
        if found is None:
            continue
        end = found.spans[0][1]
        if end <= start and _BEFORE_PAGES.fullmatch(parse.text[end:start]):
            if field is BeforePages.VOLUME and _YEAR_LIKE.fullmatch(found.value):
                return None  # a volume that is a year: the parser may have mistaken it
            return field
    return None


def year_before_pages_read(parse: ParsedReference, field: BeforePages
                           ) -> tuple[str | None, int | None] | None:
    """(volume, year) of a reference with one year just before its pages, read as the field
    the list prints there, where the parser read it otherwise (as the other field, or as
    nothing) and found no other volume and year; None where its reading agrees or there is no
    such number."""
    pages, volume, year = parse.field("pages"), parse.field("volume"), parse.field("year")
    if pages is None or (volume is not None and not _YEAR_LIKE.fullmatch(volume.value)) or \
            _of_a_book(parse) or _TWO_YEARS.search(parse.text):
        return None  # (a volume that is no year was read: most references)
    head = parse.text[:pages.spans[0][0]]
    years = list(_A_YEAR.finditer(head))
    if not years or not _BEFORE_PAGES.fullmatch(head[years[-1].end():]):
        return None
    number, at = years[-1].group(0), years[-1].start()
    for other in (volume, year):
        if other is not None and other.spans[0][0] != at:
            return None  # the parser found that field elsewhere: not for the list to undo
    if field is BeforePages.VOLUME:
        if volume is not None:
            return None
        return number, None
    if year is not None:
        return None
    return None, int(number)


def _shown_order(parse: ParsedReference | None) -> Order | None:
    """The order of a parse's volume and year where they stand side by side and the volume is
    no year (so the parser could tell them apart)."""
    if parse is None:
        return None
    volume, year = parse.field("volume"), parse.field("year")
    if volume is None or year is None or _YEAR_LIKE.fullmatch(volume.value):
        return None
    (volume_start, volume_end), (year_start, year_end) = volume.spans[0], year.spans[0]
    if volume_end <= year_start and _BETWEEN.fullmatch(parse.text[volume_end:year_start]):
        return Order.VOLUME_FIRST
    if year_end <= volume_start and _BETWEEN.fullmatch(parse.text[year_end:volume_start]):
        return Order.YEAR_FIRST
    return None


def two_years_read(parse: ParsedReference, order: Order) -> tuple[str, int] | None:
    """(volume, year) of a reference that prints two years side by side, read in the list's
    order, where the parser read them otherwise (one as the year, the other as no volume);
    None where there is no such pair or the parser's reading already agrees."""
    year, volume = parse.field("year"), parse.field("volume")
    if year is None or (volume is not None and not _YEAR_LIKE.fullmatch(volume.value)):
        return None  # (a volume that is no year: not of the pair; most references, #12's speed)
    pairs = list(_TWO_YEARS.finditer(parse.text))
    if len(pairs) != 1:
        return None
    pair = pairs[0]
    first, second = pair.group(1), pair.group(2)
    if first == second:
        return None  # the same number twice: either reading gives the same fields
    at = year.spans[0][0]
    first_start, second_start = pair.start(1), pair.start(2)
    if order is Order.VOLUME_FIRST and at == second_start:
        return None  # read as the list writes it
    if order is Order.YEAR_FIRST and at == first_start:
        return None
    if at not in (first_start, second_start):
        return None  # the parser's year is elsewhere: this pair is something else
    if volume is not None and volume.spans[0][0] not in (first_start, second_start):
        return None  # the parser found the volume elsewhere
    if order is Order.VOLUME_FIRST:
        return first, int(second)
    return second, int(first)
