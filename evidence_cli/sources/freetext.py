"""Parse one free-text reference (APA, Vancouver/AMA, Harvard, Chicago) into its cited fields.

The parser looks for anchors that these styles share — the year, a quoted title, the block of
volume, issue and pages at the end — and reads authors, title and container from what lies between
them. It never invents a field: whatever it cannot place with some confidence stays None, because a
wrongly parsed field would later be reported as a citation error that is not there.
"""

from __future__ import annotations

import re
import unicodedata

from evidence_cli import doi as doi_rules
from evidence_cli.models import CitedFields

MAX_REFERENCE_CHARS = 3000
_YEARS = r"(?:1[5-9]\d\d|20\d\d)"
_URL = re.compile(r"https?://[^\s<>\"'\]\[{}|\\^`]+|\bwww\.[^\s<>\"'\]\[{}|\\^`]+", re.I)
_DOI_EXPR = re.compile(
    r"(?:\bdoi\s*:?\s*|https?://(?:dx\.)?doi\.org/)?\b10\.\d{1,9}/[^\s\"'<>{}\[\]|\\^`]+", re.I
)
# Trailers that carry no bibliographic field: access dates, identifiers, "Available at:".
_TRAILERS = (
    re.compile(r"\b(?:available\s+(?:at|from|online)|retrieved\s+from|accessed|viewed|"
               r"cited)\b[^.\]]*[.\]]?", re.I),
    re.compile(r"\[(?:internet|online|cited[^\]]*|accessed[^\]]*)\]", re.I),
    re.compile(r"\b(?:PMID|PMCID|ISSN|ISBN|arXiv)\s*:?\s*[\w.\-]+", re.I),
    re.compile(r"\bEpub\s+(?:ahead\s+of\s+print\s*)?(?:" + _YEARS + r")?[^.;]*[.;]?", re.I),
    re.compile(r"\bhttps?:?/*\s*$", re.I),
)
_LIST_MARKER = re.compile(r"^\s*(?:\[\d+\]|\(\d+\)|\d+[.)]|[-*•+])\s+")
_MARKUP = re.compile(r"(?<![\w*])[*_]{1,2}|[*_]{1,2}(?![\w*])")
_SPACES = re.compile(r"\s+")

_PAGE = r"[A-Za-z]{0,3}\d+[A-Za-z]?"
_PAGES = rf"(?P<pages>{_PAGE}(?:\s*[-–—‐‑]+\s*{_PAGE})?)"
# The numbers that close an article reference, tried against the end of the text after the title.
# Each pattern's text before the match is the container.
_NUMBER_BLOCKS = (
    # MLA/IEEE: "vol. 156, no. 8, 2011, pp. 923-928" (year optional, anywhere in the block)
    re.compile(
        rf"[,.]?\s*vol(?:ume)?\.?\s*(?P<volume>\w+)(?:,?\s*(?:no|issue|iss|nr)\.?\s*"
        rf"(?P<issue>[\w\-–/]+))?(?:,?\s*\(?(?:\w{{3,9}}\.?\s+)?{_YEARS}\)?)?"
        rf"(?:[,:]?\s*(?:pp?\.|pages?|art(?:icle)?\.?(?:\s*no\.)?)?\s*{_PAGES})?\s*$",
        re.I,
    ),
    # Chicago notes: "156, no. 8 (2011): 923–28" or "156, no. 8 (August 2011): 923–28"
    re.compile(
        rf"[,.]?\s+(?P<volume>\d+[A-Za-z]?)(?:,?\s*(?:no|issue)\.?\s*(?P<issue>[\w\-–/]+))?"
        rf"\s*\((?:[A-Za-z]+\.?\s+)?(?:\d{{1,2}},?\s+)?(?P<year>{_YEARS})\)"
        rf"(?:\s*:\s*{_PAGES})?\s*$"
    ),
    # APA/Harvard/Chicago author-date: "47(3), 1–12", "156 (8): 923–28", "47, 1-12",
    # "156(8), pp. 923–928", "7(3), Article e33693"
    re.compile(
        rf"[,.]?\s+(?P<volume>\d+[A-Za-z]?)\s*(?:\((?P<issue>[^()]{{1,24}})\))?"
        rf"(?:\s*[,:]\s*(?:(?:pp?\.|pages?|art(?:icle)?\.?(?:\s*(?:no\.|number))?|e-?locator)"
        rf"\s*)?{_PAGES})?\s*$",
        re.I,
    ),
)
# Vancouver/AMA: "Am J Med Genet B. 2011 Dec;156(8):923-8" -> the part after the year.
_VANCOUVER_TAIL = re.compile(
    rf"(?P<year>{_YEARS})(?:\s+[A-Z][a-z]{{2}}(?:[-/][A-Z][a-z]{{2}})?(?:\s+\d{{1,2}})?)?"
    rf"(?:\s*;\s*(?P<volume>\w+)?\s*(?:\((?P<issue>[^()]{{1,24}})\))?(?:\s*:\s*{_PAGES})?"
    rf"|\s*[:.]\s*(?:p{{1,2}}\.\s*)?(?P<pages2>{_PAGE}(?:\s*[-–—‐‑]+\s*{_PAGE})?))\s*$"
)
# The end of a Vancouver author list: initials ("Hamlin A.", "Nguyen DV.") or "et al.".
_VANCOUVER_AUTHORS_END = re.compile(r"^.*?(?:\s[A-Z]{1,4}|\bet\.?\s*al)\.\s+(?=\S)")
# A run of abbreviated words ("IEEE Trans. Veh. Technol.") that belongs to the journal.
_ABBREVIATED_RUN = re.compile(r"^(?:[A-Z][\w&'-]{0,7}\.?\s+)+$")
_INITIALS = re.compile(r"^(?:[A-Z][a-z]?\.?\s?-?\s?){1,4}$")
_VANCOUVER_NAME = re.compile(r"^(?P<family>[^\s,].*?)\s+(?P<initials>[A-Z]{1,4})$")
_ET_AL = re.compile(r"\s*(?:,?\s*\bet\.?\s*al\b\.?|,?\s*\band\s+others\b|…|\.\.\.)\s*", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,\s*&\s*|,\s*and\s+|\s+&\s+|\s+and\s+|;\s*|,\s*)\s*")
_CORPORATE = re.compile(
    r"\b(?:Institute|Organi[sz]ation|Association|Society|Council|Agency|Department|Ministry|"
    r"Cent(?:re|er)|Foundation|Committee|Group|University|College|Office|Board|Service|"
    r"Collaboration|Network|Commission|Federation|Alliance|Trust|Authority|Excellence)\b"
)
_QUOTED = re.compile(
    r"(?:^|(?<=[\s(.,:]))(?:\"(?P<dq>[^\"]{3,}?)[,.?!]?\"|“(?P<cq>[^”]{3,}?)”"
    r"|‘(?P<sq>.{3,}?)’(?=[,.;:\s]|$)|'(?P<aq>.{3,}?)'(?=[,.;:]|\s+[A-Z(]|$))"
)
# A sentence boundary: ". ", "? ", "! " not closing an initial ("J. Smith") or an abbreviation.
_BOUNDARY = re.compile(r"(?<=[^\s.][^\s.])([.?!])\s+(?=\S)|(?<=\d)([.?!])\s+(?=\S)")
_EDITION = re.compile(r"\s*\((?:\d+\w*\s+ed\.?|rev\.\s+ed\.?|vol\.\s*\d+)\)", re.I)
_IN_BOOK = re.compile(
    r"^In\s*:?\s+(?:(?P<eds>.*?)\s*\((?:Eds?|eds?)\.?\)\s*,?\s*)?(?P<book>.+?)"
    r"(?:\s*\((?:pp?\.\s*)" + _PAGES + r"\))?\s*[.,]",
    re.S,
)


def _clean(text: str) -> str:
    value = unicodedata.normalize("NFC", text)
    value = _SPACES.sub(" ", value).strip()
    value = _LIST_MARKER.sub("", value)
    value = _MARKUP.sub("", value)
    return value.strip()


def _strip_identifiers(text: str) -> str:
    value = _DOI_EXPR.sub(" ", text)
    value = _URL.sub(" ", value)
    for pattern in _TRAILERS:
        value = pattern.sub(" ", value)
    value = _SPACES.sub(" ", value).strip()
    # Leftover separators where identifiers were: "…, 1–12.  ." -> "…, 1–12"
    return value.strip(" .,;:")


def _expand_pages(pages: str) -> str:
    """"923-8" -> "923-928": Vancouver and Chicago shorten the last page; the record does not."""
    match = re.fullmatch(r"(\d+)(\s*[-–—‐‑]+\s*)(\d+)", pages)
    if not match:
        return pages
    first, dash, last = match.groups()
    if (len(last) < len(first) and int(last) < int(first[-len(last):])) or len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return f"{first}{dash}{last}"


def _tidy(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip(" .,;:")
    text = re.sub(r"^(?:In\s*:\s*)", "", text)
    return text or None


def _family_names(segment: str) -> list[str]:
    """Family names from an author segment, first author first; [] when it does not look like
    a list of personal names (a corporate author is kept whole)."""
    text = _ET_AL.sub(" ", segment).strip(" .,;:")
    text = re.sub(r"\((?:eds?|Eds?)\.?\)", "", text).strip(" .,;:")
    if not text or re.search(r"\d", text) or len(text) > 600:
        return []
    if _CORPORATE.search(text) and "," not in text:
        return [text]  # "National Institute for Health and Care Excellence" is one author
    parts = [p.strip(" .:") for p in _AUTHOR_SPLIT.split(text) if p and p.strip(" .:")]
    if not parts:
        return []
    # Vancouver/AMA: "Hamlin A, Liu Y, Nguyen DV"
    if all(_VANCOUVER_NAME.match(p) for p in parts):
        return [_VANCOUVER_NAME.match(p).group("family") for p in parts]  # type: ignore[union-attr]
    # APA/Harvard: "Hamlin, A., Liu, Y., & Nguyen, D. V." — family, initials, family, initials
    if len(parts) >= 2 and _INITIALS.match(parts[1] + "."):
        # Strict alternation: "Li, Y." has a family name that could pass for initials.
        names: list[str] = []
        index = 0
        while index < len(parts):
            names.append(parts[index])
            index += 1
            if index < len(parts) and _INITIALS.match(parts[index] + "."):
                index += 1
        return [n for n in names if _plausible_family(n)]
    # Chicago/MLA: "Hamlin, Alyssa, Ying Liu, and Danh V. Nguyen" — inverted first name only.
    if "," in text and len(parts) >= 2:
        names = [parts[0]]
        names.extend(p.split()[-1] for p in parts[2:] if p.split())
        return [n for n in names if _plausible_family(n)]
    # "Alyssa Hamlin" or a corporate author: keep whole when it is one name.
    if len(parts) == 1:
        return [parts[0]] if _plausible_family(parts[0]) else []
    return []


def _plausible_family(name: str) -> bool:
    words = name.split()
    return bool(words) and len(words) <= 6 and name[:1].isalpha() and not name.islower()


def _year_of(text: str) -> int | None:
    match = re.search(rf"\b({_YEARS})[a-z]?\b", text)
    return int(match.group(1)) if match else None


def _split_numbers(tail: str) -> tuple[str, dict[str, str | None]] | None:
    """(container, numbers) when the tail ends in a volume/issue/pages block."""
    for pattern in _NUMBER_BLOCKS:
        match = pattern.search(tail)
        if match and match.start() > 0:
            groups = match.groupdict()
            container = tail[: match.start()]
            if not container.strip(" .,;:"):
                continue
            return container, groups
    return None


# After the authors, a single capital also ends a sentence: "... for hepatitis C. PLOS ONE".
_LOOSE_BOUNDARY = re.compile(r"(?<=[^\s.])([.?!])\s+(?=\S)")


def _boundaries(text: str, loose: bool = False) -> list[int]:
    """Positions just after each sentence boundary (". ", "? ", "! "), in order."""
    return [m.end() for m in (_LOOSE_BOUNDARY if loose else _BOUNDARY).finditer(text)]


def _title_and_rest(text: str) -> tuple[str | None, str]:
    """Split "Title. Container, 1(2), 3-4" into title and rest.

    The title runs to the last sentence boundary after which the rest still reads as
    container + numbers; without a numbers block, to the first boundary.
    """
    quoted = _QUOTED.search(text)
    if quoted and quoted.start() <= 2:
        title = next(g for g in quoted.groups() if g)
        return title.strip(" ,."), text[quoted.end():]
    points = _boundaries(text, loose=True)
    for point in reversed(points):
        rest = text[point:]
        if _split_numbers(rest) or _VANCOUVER_TAIL.search(rest):
            return text[:point], rest
    if points:
        return text[: points[0]], text[points[0]:]
    return text, ""  # the title is all that follows the year (a web page, a report)


def _fill_tail(fields: CitedFields, tail: str) -> None:
    """Container, volume, issue and pages from what follows the title."""
    tail = _EDITION.sub("", tail).strip(" .,;:")
    if not tail:
        return
    book = _IN_BOOK.match(tail)
    if book:
        fields.container = _tidy(book.group("book"))
        if book.group("pages"):
            fields.pages = _expand_pages(book.group("pages"))
        return
    split = _split_numbers(tail)
    if split is None:
        return  # a publisher or a site name: not a container we can name with confidence
    container, numbers = split
    fields.container = _tidy(container)
    fields.volume = numbers.get("volume")
    issue = numbers.get("issue")
    fields.issue = issue.strip() if issue else None
    if numbers.get("pages"):
        fields.pages = _expand_pages(numbers["pages"] or "")
    if fields.year is None and numbers.get("year"):
        fields.year = int(numbers["year"] or 0) or None


def _parse_author_date(text: str, fields: CitedFields) -> bool:
    """APA/Harvard "Authors (2011). Title. ..." and Chicago author-date "Authors. 2011. ..."."""
    match = re.match(
        rf"^(?P<authors>[^()\"“‘]+?)[.,]?\s*\((?P<year>{_YEARS})[a-z]?(?:,[^)]*)?\)[.,:]?\s+"
        rf"(?P<rest>.+)$|^(?P<authors2>[^()\"“‘\d]+?)[.,]\s+(?P<year2>{_YEARS})[a-z]?\.\s+"
        rf"(?P<rest2>.+)$",
        text,
    )
    if not match:
        return False
    authors = match.group("authors") or match.group("authors2") or ""
    year = match.group("year") or match.group("year2")
    rest = match.group("rest") or match.group("rest2") or ""
    fields.authors = _family_names(authors)
    fields.year = int(year) if year else None
    title, tail = _title_and_rest(rest)
    fields.title = _tidy(title)
    _fill_tail(fields, tail)
    return True


def _parse_quoted_title(text: str, fields: CitedFields) -> bool:
    """Chicago notes/MLA/Harvard: Authors. "Title." Container 156, no. 8 (2011): 923–28."""
    quoted = _QUOTED.search(text)
    if not quoted or quoted.start() == 0:
        return False
    head = text[: quoted.start()].strip(" .,")
    head_year = re.search(rf"\(?({_YEARS})[a-z]?\)?\s*$", head)
    if head_year:
        fields.year = int(head_year.group(1))
        head = head[: head_year.start()].strip(" .,")
    fields.authors = _family_names(head)
    fields.title = _tidy(next(g for g in quoted.groups() if g))
    tail = text[quoted.end():]
    _fill_tail(fields, tail)
    if fields.year is None:
        fields.year = _year_of(tail)
    return True


def _parse_vancouver(text: str, fields: CitedFields) -> bool:
    """Vancouver/AMA: Authors. Title. Container. 2011;156(8):923-8."""
    tail = _VANCOUVER_TAIL.search(text)
    if not tail:
        year_end = re.search(rf"[.]\s*(?P<year>{_YEARS})(?:\s+[A-Z][a-z]{{2}}(?:\s+\d{{1,2}})?)?$",
                             text)
        if not year_end:
            return False
        tail = year_end
    head = text[: tail.start()].strip(" .") + " "
    points = _boundaries(head)
    authors = _VANCOUVER_AUTHORS_END.match(head)
    authors_end = authors.end() if authors else (points[0] if points else 0)
    points = [p for p in points if p > authors_end and p < len(head)]
    if not authors_end:
        return False
    if not points:
        container_start = len(head)  # "Authors. Title. 2016." names no container
    else:
        container_start = points[-1]
        # Abbreviated journals have periods of their own: "IEEE Trans. Veh. Technol."
        earlier = [p for p in points if p < container_start]
        while earlier and _ABBREVIATED_RUN.match(head[earlier[-1]:container_start]):
            container_start = earlier.pop()
    fields.authors = _family_names(head[:authors_end])
    fields.title = _tidy(head[authors_end:container_start])
    fields.container = _tidy(head[container_start:])
    fields.year = int(tail.group("year"))
    groups = tail.groupdict()
    fields.volume = groups.get("volume")
    fields.issue = groups.get("issue")
    pages = groups.get("pages") or groups.get("pages2")
    if pages:
        fields.pages = _expand_pages(pages)
    return True


def parse_reference(text: str) -> CitedFields:
    """The cited fields of one reference written in free text; unknown fields stay None."""
    cleaned = _clean(text)
    dois = [d for d in doi_rules.find_all(cleaned) if doi_rules.is_valid(d)]
    urls = [
        doi_rules.strip_trailing_punctuation(m.group(0))
        for m in _URL.finditer(cleaned)
        if not doi_rules.is_doi_url(m.group(0))
    ]
    fields = CitedFields(doi=dois[0] if dois else None, url=urls[0] if urls else None)
    # No reference runs to thousands of characters: a longer text is a paragraph of prose, and
    # bounding it bounds the regular expressions' work.
    body = _EDITION.sub("", _strip_identifiers(cleaned[:MAX_REFERENCE_CHARS]))
    if not body:
        return fields
    for parser in (_parse_author_date, _parse_vancouver, _parse_quoted_title):
        attempt = CitedFields(doi=fields.doi, url=fields.url)
        if parser(body, attempt) and attempt.title and len(attempt.title) >= 3:
            return attempt
    fields.year = _year_of(body)
    return fields
