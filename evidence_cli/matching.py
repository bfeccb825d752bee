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

import html
import re
from dataclasses import dataclass, field
from typing import Any

from evidence_cli.checks.normalize import plain
from evidence_cli.models import CitedFields, Finding, Severity
from evidence_cli.records import family_names, first_text, registered_years

# Two passing candidates closer than this are reported as ambiguous rather than choosing one.
AMBIGUITY_MARGIN = 0.05
# Below this title similarity a candidate is another work, whatever else agrees.
MIN_TITLE_SIMILARITY = 0.8
# A field the reference does not give counts this much of its weight: unknown, neither for nor
# against. It is what keeps a title + year alone below the default threshold of 0.9.
_UNKNOWN = 0.5
_WEIGHTS = {"title": 0.55, "author": 0.2, "year": 0.1, "container": 0.08, "numbers": 0.07}

_TAG = re.compile(r"<[^>]+>")
_STOP = frozenset({"of", "the", "and", "for", "in", "on", "a", "an", "part", "section", "de",
                   "la", "und", "der", "die", "des", "et", "at"})


@dataclass(slots=True)
class MatchOutcome:
    """What matching decided for one reference."""

    kind: str  # "matched" | "ambiguous" | "none"
    record: dict[str, Any] | None  # the chosen Crossref message when matched
    confidence: float  # 0..1: the chosen (or best) candidate's confidence
    candidates: list[tuple[str, float]] = field(default_factory=list)  # (doi, confidence)


def normalize_text(text: str) -> str:
    """Lower-case, accent-free words: Crossref titles carry HTML (<i>, <scp>) and entities."""
    return plain(text)


def _ratio(a: str, b: str) -> float:
    from rapidfuzz import fuzz

    return float(fuzz.ratio(a, b)) / 100.0


def _candidate_titles(message: dict[str, Any]) -> list[str]:
    """Every form of the candidate's title a reference might cite, normalised."""
    titles = [t for t in message.get("title") or [] if isinstance(t, str) and t.strip()]
    subtitles = [s for s in message.get("subtitle") or [] if isinstance(s, str) and s.strip()]
    forms: list[str] = []
    for index, title in enumerate(titles):
        forms.append(normalize_text(title))
        if index < len(subtitles):
            forms.append(normalize_text(f"{title} {subtitles[index]}"))
    for short in message.get("short-title") or []:
        if isinstance(short, str) and short.strip():
            forms.append(normalize_text(short))
    return [f for f in dict.fromkeys(forms) if f]


def _main_title(normalized_raw_title: str, title: str) -> str | None:
    """The title before its subtitle ("Main: sub" -> "main"), when it is long enough to mean
    something on its own (not "Editorial: ...")."""
    head = re.split(r"[:?!]| [-–—] ", html.unescape(_TAG.sub(" ", title)), maxsplit=1)[0]
    normalized = normalize_text(head)
    if len(normalized.split()) >= 4 and normalized != normalized_raw_title:
        return normalized
    return None


def _foreign_words(cited: str, forms: list[str]) -> int:
    """How many significant words of the cited title have no counterpart in `forms` (the
    candidate's title forms), allowing a typo, a spelling variant ("apnoea"/"apnea") or an
    abbreviation ("robot." for "robotics"): a whole word replaced is how a companion paper
    ("... in mice" / "... in rats") differs from the cited one."""
    from rapidfuzz import fuzz, process

    known = {word for form in forms for word in form.split()}
    foreign = 0
    for word in set(cited.split()):
        if len(word) < 4 or word in _STOP or word in known:
            continue
        if any(other.startswith(word) for other in known):
            continue
        if process.extractOne(word, known, scorer=fuzz.ratio, score_cutoff=80) is None:
            foreign += 1
    return foreign


def _title_cap(foreign: int) -> float:
    """The most a title with `foreign` replaced words can score: with one such word, only
    authors, year, journal, volume, issue and pages all agreeing can still carry the match (then
    it is the same paper with its title miscited); with more, nothing can."""
    return 0.85 - 0.05 * (foreign - 1) if foreign else 1.0


def title_similarity(cited_title: str, message: dict[str, Any]) -> float:
    """0..1: how closely the cited title matches the candidate's title (or title + subtitle);
    below 0.85 whenever a significant cited word is not in the candidate's title at all."""
    cited = normalize_text(cited_title)
    if not cited:
        return 0.0
    forms = _candidate_titles(message)
    best = _character_similarity(cited, message)
    return min(best, _title_cap(_foreign_words(cited, forms)))


def _character_similarity(cited: str, message: dict[str, Any]) -> float:
    """Indel similarity of the normalised titles, the best over the candidate's title forms."""
    best = 0.0
    for form in _candidate_titles(message):
        best = max(best, _ratio(cited, form))
    # A reference that drops the subtitle ("Main." for "Main: sub") cites the main title only;
    # slightly discounted, since several works can share a main title.
    for title in message.get("title") or []:
        if isinstance(title, str):
            main = _main_title(normalize_text(title), title)
            if main:
                best = max(best, 0.97 * _ratio(cited, main))
    return best


def _raw_title_similarity(raw: str, message: dict[str, Any], cited_title: str = "") -> float:
    """Does the candidate's (long enough) title occur in the raw text? Short titles
    ("Depression") occur in too many references to count, and a title much shorter than the
    cited one may be a different work whose title the cited one extends."""
    from rapidfuzz import fuzz

    text = normalize_text(raw)
    cited_words = len(normalize_text(cited_title).split())
    best = 0.0
    for form in _candidate_titles(message):
        if len(form) >= 30 and len(form.split()) >= 0.75 * cited_words:
            best = max(best, float(fuzz.partial_ratio(form, text)) / 100.0)
    return 0.97 * best


def _families(message: dict[str, Any]) -> list[str]:
    return [normalize_text(name) for name in family_names(message)]


def _family_matches(cited: str, registered: str) -> bool:
    if not cited or not registered:
        return False
    if cited == registered:
        return True
    # "van der Berg" vs "Berg", "García Márquez" vs "García": one contains the other word-wise.
    cited_words, registered_words = set(cited.split()), set(registered.split())
    if cited_words <= registered_words or registered_words <= cited_words:
        return True
    # One typo (a swapped, missing or extra letter) in a name long enough not to be another.
    from rapidfuzz.distance import OSA

    return min(len(cited), len(registered)) >= 5 and OSA.distance(cited, registered) <= 1


def _author_score(cited: CitedFields, raw: str, message: dict[str, Any]) -> float | None:
    """1 when the first authors agree, 0.5 when the cited first author is another of the
    registered authors, 0 when they disagree, None when either side has no authors."""
    registered = _families(message)
    if not registered:
        return None
    if cited.authors:
        first = normalize_text(cited.authors[0])
        if _family_matches(first, registered[0]):
            return 1.0
        if any(_family_matches(first, other) for other in registered[1:]):
            return 0.5
        return 0.0
    # No parsed authors: the registered first author's name near the start of the raw text.
    head = f" {normalize_text(raw)[:120]} "
    return 1.0 if f" {registered[0]} " in head else None


def _year_score(cited: CitedFields, message: dict[str, Any]) -> float | None:
    years = registered_years(message)
    if cited.year is None or not years:
        return None
    if cited.year in years:
        return 1.0
    # Online-first articles are often cited by the year before or after their issue.
    return 0.5 if any(abs(cited.year - y) == 1 for y in years) else 0.0


def _is_abbreviation(short: str, full: str) -> bool:
    """"am j med genet b" abbreviates "american journal of medical genetics part b": each word is
    the start of the next significant word of the full title, in order."""
    short_words = short.split()
    full_words = [w for w in full.split() if w not in _STOP]
    if not short_words or len(short_words) > len(full_words):
        return False
    index = 0
    for word in short_words:
        while index < len(full_words) and not full_words[index].startswith(word):
            index += 1
        if index == len(full_words):
            return False
        index += 1
    return True


def _container_names(message: dict[str, Any]) -> list[str]:
    names = [
        normalize_text(name)
        for key in ("container-title", "short-container-title")
        for name in message.get(key) or []
        if isinstance(name, str)
    ]
    return [n for n in names if n]


def _container_score(cited: CitedFields, raw: str, message: dict[str, Any]) -> float | None:
    names = _container_names(message)
    if not cited.container or not names:
        return None
    cited_name = normalize_text(cited.container)
    cited_short = " ".join(w for w in cited_name.split() if w not in _STOP)
    for name in names:
        if _ratio(cited_name, name) >= 0.9 or _is_abbreviation(cited_short, name):
            return 1.0
        # "PLoS ONE" vs "PLOS ONE", "J Clin Psychiatry" vs "The Journal of Clinical Psychiatry"
        if name.startswith(cited_name) or cited_name.startswith(name):
            return 1.0
    # The parser may have split the journal wrongly ("IEEE Control Syst. Lett."): the registered
    # name found whole in the reference text still counts.
    text = f" {normalize_text(raw)} "
    if any(len(name) >= 4 and f" {name} " in text for name in names):
        return 1.0
    return 0.0


def _first_page(pages: str) -> str:
    return re.split(r"\s*[-–—‐‑,]+\s*", pages.strip(), maxsplit=1)[0].lstrip("0").lower()


def _numbers_score(cited: CitedFields, message: dict[str, Any]) -> float | None:
    """Volume, issue and first page (or article number) that both sides give: the share that
    agrees (negative when two or more are given and none agrees)."""
    checks: list[bool] = []
    volume = first_text(message.get("volume"))
    if cited.volume and volume:
        checks.append(normalize_text(cited.volume) == normalize_text(volume))
    issue = first_text(message.get("issue"))
    if cited.issue and issue:
        checks.append(normalize_text(cited.issue) == normalize_text(issue))
    page = first_text(message.get("page"))
    article = first_text(message.get("article-number"))
    if cited.pages and (page or article):
        first = _first_page(cited.pages)
        registered = {_first_page(p) for p in (page, article) if p}
        checks.append(first in registered)
    if not checks:
        return None
    if len(checks) >= 2 and not any(checks):
        # Volume and pages both wrong is how a companion paper ("Part 2") differs from the cited
        # one when the titles are all but equal: weigh it as evidence against, not just absent.
        return -0.7
    return sum(checks) / len(checks)


def candidate_confidence(cited: CitedFields, raw: str, message: dict[str, Any]) -> float:
    """0..1: how sure we are that the reference cites this Crossref record."""
    if cited.title:
        title = title_similarity(cited.title, message)
        if title < 0.95:
            # The parser may have cut the title in the wrong place ("... Sampling. IEEE Robot");
            # the registered title found whole in the reference counts, a little discounted,
            # unless it is much shorter than what was cited (then it may be another work).
            contained = _raw_title_similarity(raw, message, cited.title)
            # Words of the journal that the parser took for the end of the title are not
            # foreign; any other word the registered title lacks still is.
            forms = _candidate_titles(message) + _container_names(message)
            cap = _title_cap(_foreign_words(normalize_text(cited.title), forms))
            title = max(title, min(0.98 * contained, cap))
    else:
        title = _raw_title_similarity(raw, message)
    if title < MIN_TITLE_SIMILARITY:
        return round(title * _WEIGHTS["title"], 4)
    scores = {
        "title": title,
        "author": _author_score(cited, raw, message),
        "year": _year_score(cited, message),
        "container": _container_score(cited, raw, message),
        "numbers": _numbers_score(cited, message),
    }
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
        return MatchOutcome("none", None, best, listed)
    best_confidence, best_record = ranked[0][1]
    close = [
        doi for doi, (confidence, _) in ranked[1:]
        if confidence >= threshold and best_confidence - confidence < AMBIGUITY_MARGIN
    ]
    if close:
        passing = [(d, c) for d, c in listed if c >= threshold]
        return MatchOutcome("ambiguous", None, best_confidence, passing)
    return MatchOutcome("matched", best_record, best_confidence, listed)


def outcome_findings(outcome: MatchOutcome) -> list[Finding]:
    """The finding that reports a matching outcome for a reference that cited no DOI."""
    if outcome.kind == "matched" and outcome.record is not None:
        doi = str(outcome.record.get("DOI", "")).lower()
        return [
            Finding(
                code="doi-suggested",
                severity=Severity.INFO,
                field="doi",
                cited=None,
                registered=doi,
                message=(
                    f"The reference gives no DOI; Crossref holds a record that matches it "
                    f"(confidence {outcome.confidence:.2f}): {doi}"
                ),
                suggestion=doi,
            )
        ]
    if outcome.kind == "ambiguous":
        listed = ", ".join(f"{doi} ({confidence:.2f})" for doi, confidence in outcome.candidates)
        return [
            Finding(
                code="match-ambiguous",
                severity=Severity.WARNING,
                field="doi",
                message=(
                    f"Several Crossref records match this reference about equally well: {listed}. "
                    "Add the DOI of the work you mean."
                ),
            )
        ]
    return [
        Finding(
            code="no-match",
            severity=Severity.WARNING,
            field="doi",
            message=(
                "The reference gives no DOI and no Crossref record matches it convincingly; it "
                "could not be checked."
            ),
        )
    ]
