"""Decide which Crossref record, if any, a reference without a DOI cites (pure, no network).

Crossref's search ranks candidates but its score "means nothing by itself", so every candidate is
validated here against the fields parsed from the reference: title similarity first, then first
author, year, container, volume and pages. A wrong DOI is the worst thing the tool can print, so
the rules prefer "no match" to a guess:

- the title must be close (typos, spelling variants and a dropped subtitle are tolerated; a
  significant word that the registered title does not have at all is not — that is how a
  companion paper's title differs);
- volume and pages that are both given and both wrong count against the candidate;
- the title alone is never enough: author, year and the other fields must corroborate it, and a
  disagreeing first author costs more than any other field can make up;
- two candidates that both pass and score within `AMBIGUITY_MARGIN` are "ambiguous", not a match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from evidence_cli.checks.compare import (
    container_agrees,
    first_page,
    foreign_words,
    is_abbreviation,
    names_agree,
    numbers_agree,
    page_range,
    title_cap,
    title_forms,
    title_similarity,
)
from evidence_cli.checks.normalize import plain, title_key
from evidence_cli.checks.work import RegisteredWork
from evidence_cli.codes import finding
from evidence_cli.models import CitedFields, Finding

# Two passing candidates closer than this are reported as ambiguous rather than choosing one.
AMBIGUITY_MARGIN = 0.05
# Below this title similarity a candidate is another work, whatever else agrees.
MIN_TITLE_SIMILARITY = 0.8
# A field the reference does not give counts this much of its weight: unknown, neither for nor
# against. It is what keeps a title + year alone below the default threshold of 0.9.
_UNKNOWN = 0.5
# A reference without a title whose author, journal, volume, first page and year are all the
# candidate's (_cited_by_locator): above the default threshold of 0.9, below a title match.
LOCATOR_CONFIDENCE = 0.92
_WEIGHTS = {"title": 0.55, "author": 0.2, "year": 0.1, "container": 0.08, "numbers": 0.07}


class MatchKind(StrEnum):
    MATCHED = "matched"
    AMBIGUOUS = "ambiguous"
    NONE = "none"


@dataclass(slots=True)
class MatchOutcome:
    """What matching decided for one reference."""

    kind: MatchKind
    record: dict[str, Any] | None  # the chosen Crossref message when matched
    confidence: float  # 0..1: the chosen (or best) candidate's confidence
    candidates: list[tuple[str, float]] = field(default_factory=list)  # (doi, confidence)


def _raw_title_similarity(raw: str, work: RegisteredWork, cited_title: str = "") -> float:
    """Does the candidate's (long enough) title occur in the raw text? Short titles
    ("Depression") occur in too many references to count, and a title much shorter than the
    cited one may be a different work whose title the cited one extends."""
    from rapidfuzz import fuzz

    text = plain(raw)
    cited_words = len(_without_journal_tail(title_key(cited_title).split(), work))
    best = 0.0
    for form in title_forms(work):
        if len(form) >= 30 and len(form.split()) >= 0.75 * cited_words:
            best = max(best, float(fuzz.partial_ratio(form, text)) / 100.0)
    # Fuzzy containment is discounted: the registered title may be only the start of a longer
    # cited one (another work). A title of four words or more standing whole between the
    # reference's full stops or quotes is bounded at both ends: that title as written, as good
    # as a parsed one.
    sentence = _title_sentence(raw, work)
    return max(0.97 * max(best, sentence), 1.0 if sentence and _title_sentence(raw, work, 4)
               else 0.0)


def _without_journal_tail(words: list[str], work: RegisteredWork) -> list[str]:
    """A cited title's words without the registered journal's name (and an "in" before it,
    numbers after it) that the parser ran on into its end ("... long transients, in
    «Theoretical Ecology»", "... Spaces. Journal of Function Spaces and Applications 2013"):
    they do not make the cited title a longer one than the registered (#11)."""
    end = len(words)
    while end and words[end - 1].isdecimal():
        end -= 1
    for name in work.containers:
        tail = plain(name).split()
        if tail and end > len(tail) and words[end - len(tail):end] == tail:
            start = end - len(tail)
            return words[:start - 1] if words[start - 1] == "in" else words[:start]
    return words


# Where a title ends in a rendered reference: a full stop, ?, ! or ; before a space (or before
# the comma of "The Widget., Programming ..."), or a quote, double or single ("‘The Widget’").
_SENTENCE_END = re.compile(r"(?<=[.?!;]),?\s+|[\"\u201c\u201d\u00ab\u00bb\u2018\u2019]")


def _title_sentence(raw: str, work: RegisteredWork, min_words: int = 2) -> float:
    """1 when a registered title of `min_words` words or more is a sentence of the reference on
    its own ("Learning to Learn. In Facilitating ..."): too short for the fuzzy containment
    test, but standing whole between the reference's full stops it is that title as written."""
    forms = {form for form in title_forms(work) if len(form.split()) >= min_words}
    if not forms:
        return 0.0
    return 1.0 if any(title_key(part) in forms for part in _SENTENCE_END.split(raw)) else 0.0


def _author_score(cited: CitedFields, raw: str, work: RegisteredWork) -> float | None:
    """1 when the first authors agree, 0.5 when the cited first author is another of the
    registered authors, 0 when they disagree, None when either side has no authors."""
    registered = work.families
    if not registered:
        return None
    lead = f" {plain(registered[0])} " in f" {' '.join(_lead_words(raw))} "
    if cited.authors:
        first = cited.authors[0]
        if names_agree(first, registered[0]):
            return 1.0
        if lead and not any(names_agree(name, registered[0]) for name in cited.authors):
            # The parser took initials or a given name for the family ("Massi MN, Abidin RS"
            # read as MN, RS): the registered first author's family name leading the
            # reference is the authorship as written, whatever the parse made of it.
            return 1.0
        if any(names_agree(first, other) for other in registered[1:]):
            return 0.5
        return 0.0
    # No parsed authors: the registered first author's name near the start of the raw text.
    head = f" {plain(raw)[:120]} "
    return 1.0 if f" {plain(registered[0])} " in head else None


def _lead_words(raw: str) -> list[str]:
    """The first words of the reference, past a list number ("1.", "[12]"): where every style
    puts the first author."""
    words = plain(raw).split()
    if words and words[0].isdecimal():
        words = words[1:]
    return words[:3]


def _year_score(cited: CitedFields, work: RegisteredWork) -> float | None:
    if cited.year is None or not work.years:
        return None
    if cited.year in work.years:
        return 1.0
    # Online-first articles are often cited by the year before or after their issue.
    return 0.5 if any(abs(cited.year - y) == 1 for y in work.years) else 0.0


def _container_score(cited: CitedFields, raw: str, work: RegisteredWork) -> float | None:
    names = [name for name in work.containers if plain(name)]
    if not cited.container or not names:
        return None
    cited_name = plain(cited.container)
    for name in names:
        if container_agrees(cited.container, name):
            return 1.0
        # "PLoS ONE" vs "PLOS ONE Journal": one name starts the other.
        key = plain(name)
        if key.startswith(cited_name) or cited_name.startswith(key):
            return 1.0
        if is_abbreviation(cited.container, name):
            return 1.0
    # The parser may have split the journal wrongly ("IEEE Control Syst. Lett."): the registered
    # name found whole in the reference text still counts.
    text = f" {plain(raw)} "
    if any(len(plain(name)) >= 4 and f" {plain(name)} " in text for name in names):
        return 1.0
    return 0.0


def _numbers_score(cited: CitedFields, work: RegisteredWork) -> float | None:
    """Volume, issue and first page (or article number) that both sides give: the share that
    agrees (negative when two or more are given and none agrees)."""
    checks: list[bool] = []
    if cited.volume and work.volume:
        checks.append(numbers_agree(cited.volume, work.volume))
    if cited.issue and work.issue:
        checks.append(numbers_agree(cited.issue, work.issue))
    if cited.pages and work.pages:
        checks.append(first_page(cited.pages) in {first_page(p) for p in work.pages})
    if not checks:
        return None
    if len(checks) >= 2 and not any(checks):
        # Volume and pages both wrong is how a companion paper ("Part 2") differs from the cited
        # one when the titles are all but equal: weigh it as evidence against, not just absent.
        return -0.7
    return sum(checks) / len(checks)


def _located_scores(scores: dict[str, float | None], raw: str, work: RegisteredWork,
                    cited: CitedFields) -> None:
    """A field the parser was not sure enough to give is still evidence when the candidate's
    registered value is in the text (checks/locate.py, the rules the field checks use): its
    authorship leading the reference, its year, its journal, its page range. Only an unknown
    becomes an agreement, and the title must already pass on its own; nothing the parser read
    is overruled, but for a "year" that is a number of the candidate's own title ("... PNLD
    2012. Rev Dig Ens Filo. 2021" for a work of 2021), which the field checks do not take for a
    cited year either (#11)."""
    from evidence_cli.checks.locate import ReferenceText, abbreviation_in_text, title_numbers

    text = ReferenceText(raw)
    if scores["author"] is None and text.has_authors(work):
        scores["author"] = 1.0
    misread = scores["year"] == 0.0 and str(cited.year) in title_numbers(work)
    if (scores["year"] is None or misread) and work.years and text.has_year(work.years):
        scores["year"] = 1.0
    if scores["container"] is None and work.containers and (
            text.has_container(work) or abbreviation_in_text(text, work)):
        scores["container"] = 1.0
    # The page range names one paper of an issue; a volume alone is shared by hundreds.
    pages = page_range(work.page) if work.page else None
    if scores["numbers"] is None and pages and pages[1] and text.has_pages((work.page or "",)):
        scores["numbers"] = 1.0


def _cited_by_locator(cited: CitedFields, raw: str, work: RegisteredWork) -> bool:
    """A reference that prints no title, as physics and chemistry styles do ("C. Boettiger,
    Theor Ecol 14, 663 (2021)"), names one paper by its locator: the first author, the journal,
    the volume, the first page (or article number) and the year all the candidate's. Every one
    must be there and agree; any one missing or different, and the locator names nothing."""
    from evidence_cli.checks.locate import ReferenceText, abbreviation_in_text

    first = first_page(work.page) if work.page else work.article_number
    if not (work.families and work.years and work.containers and work.volume and first):
        return False
    text = ReferenceText(raw)
    author = _author_score(cited, raw, work) == 1.0 or text.has_authors(work)
    # Each value as the parse gives it or, where the parse went wrong in a style it has not
    # seen ("663 (2021)" read as the year 663), standing in the text (checks/locate.py).
    year = cited.year in work.years or text.has_year(work.years)
    container = _container_score(cited, raw, work) == 1.0 or text.has_container(work) or \
        abbreviation_in_text(text, work)
    volume = bool(cited.volume and numbers_agree(cited.volume, work.volume)) or \
        text.has_number(work.volume)
    pages = bool(cited.pages and first_page(cited.pages) == first) or \
        text.has_pages((work.page,) if work.page else (first,))
    return author and year and container and volume and pages


def candidate_confidence(cited: CitedFields, raw: str, message: dict[str, Any] | RegisteredWork
                         ) -> float:
    """0..1: how sure we are that the reference cites this Crossref record."""
    work = message if isinstance(message, RegisteredWork) else RegisteredWork.from_record(message)
    if cited.title:
        title = title_similarity(cited.title, work)
        if title < 0.95:
            # The parser may have cut the title in the wrong place ("... Sampling. IEEE Robot");
            # the registered title found whole in the reference counts, a little discounted,
            # unless it is much shorter than what was cited (then it may be another work).
            contained = _raw_title_similarity(raw, work, cited.title)
            # Words of the journal that the parser took for the end of the title are not
            # foreign; any other word the registered title lacks still is.
            forms = title_forms(work) + [plain(name) for name in work.containers]
            cap = title_cap(foreign_words(title_key(cited.title), forms))
            title = max(title, min(0.98 * contained, cap))
    else:
        title = _raw_title_similarity(raw, work)
    if title < MIN_TITLE_SIMILARITY:
        if not cited.title and _cited_by_locator(cited, raw, work):
            return LOCATOR_CONFIDENCE
        return round(title * _WEIGHTS["title"], 4)
    scores = {
        "title": title,
        "author": _author_score(cited, raw, work),
        "year": _year_score(cited, work),
        "container": _container_score(cited, raw, work),
        "numbers": _numbers_score(cited, work),
    }
    _located_scores(scores, raw, work, cited)
    total = sum(
        weight * (_UNKNOWN if scores[name] is None else float(scores[name] or 0.0))
        for name, weight in _WEIGHTS.items()
    )
    return round(min(1.0, total), 4)


def choose(
    cited: CitedFields, raw: str, candidates: list[dict[str, Any]], threshold: float = 0.9
) -> MatchOutcome:
    """Pick the record the reference cites from Crossref's candidates, or say why not."""
    scored: dict[str, tuple[float, dict[str, Any]]] = {}
    for message in candidates:
        doi = message.get("DOI")
        if not isinstance(doi, str) or not doi:
            continue
        key = doi.lower()
        confidence = candidate_confidence(cited, raw, message)
        if key not in scored or confidence > scored[key][0]:
            scored[key] = (confidence, message)
    ranked = sorted(scored.items(), key=lambda item: item[1][0], reverse=True)
    listed = [(doi, confidence) for doi, (confidence, _) in ranked]
    if not ranked or ranked[0][1][0] < threshold:
        best = ranked[0][1][0] if ranked else 0.0
        return MatchOutcome(MatchKind.NONE, None, best, listed)
    best_confidence, best_record = ranked[0][1]
    close = [
        doi for doi, (confidence, _) in ranked[1:]
        if confidence >= threshold and best_confidence - confidence < AMBIGUITY_MARGIN
    ]
    if close:
        passing = [(d, c) for d, c in listed if c >= threshold]
        return MatchOutcome(MatchKind.AMBIGUOUS, None, best_confidence, passing)
    return MatchOutcome(MatchKind.MATCHED, best_record, best_confidence, listed)


def outcome_findings(outcome: MatchOutcome) -> list[Finding]:
    """The finding that reports a matching outcome for a reference that cited no DOI."""
    if outcome.kind is MatchKind.MATCHED and outcome.record is not None:
        doi = str(outcome.record.get("DOI", "")).lower()
        return [finding(
            "doi-suggested",
            f"The reference gives no DOI; Crossref holds a record that matches it "
            f"(confidence {outcome.confidence:.2f}): {doi}",
            field="doi", registered=doi, suggestion=doi,
        )]
    if outcome.kind is MatchKind.AMBIGUOUS:
        listed = ", ".join(f"{doi} ({confidence:.2f})" for doi, confidence in outcome.candidates)
        return [finding(
            "match-ambiguous",
            f"Several Crossref records match this reference about equally well: {listed}. "
            "Add the DOI of the work you mean.",
            field="doi",
        )]
    return [finding(
        "no-match",
        "The reference gives no DOI and no Crossref record matches it convincingly; it could not "
        "be checked.",
        field="doi",
    )]
