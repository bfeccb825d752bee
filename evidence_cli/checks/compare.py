"""The one rule set for comparing a cited value with a registered one, for checks and matching.

A check asks "do these agree?" and a match asks "how close are these?"; both must answer through
the same rules, or a reference that matching accepts as a work could then be reported as
miscited by the checks (or the other way round). Every rule here tolerates what people and
citation styles do to a value — case, accents, punctuation, subtitles, abbreviations, elided page
ranges — and nothing else.
"""

from __future__ import annotations

import functools
import re

from evidence_cli.checks.normalize import (
    main_title,
    normalize_dashes,
    plain,
    simple_token,
    title_key,
)
from evidence_cli.checks.work import RegisteredWork

TITLE_AGREEMENT = 90.0  # indel similarity (0-100) at which two title keys are the same title
NAME_SIMILARITY = 88.0
CONTAINER_SIMILARITY = 90.0
# Words that abbreviations and short forms leave out ("J Marital Fam Ther").
STOP_WORDS = frozenset({"of", "and", "the", "for", "in", "on", "a", "an", "to", "at", "de", "des",
                        "la", "le", "der", "die", "und", "y", "et"})
# Words NLM and ISO 4 abbreviations may drop from a journal's name ("... Genetics Part B ...").
_SKIPPABLE = frozenset({"part", "section", "series", "ser", "sect"})


def _ratio(a: str, b: str) -> float:
    """Indel similarity 0..100 (rapidfuzz imported on first use: start-up stays fast)."""
    from rapidfuzz import fuzz

    return float(fuzz.ratio(a, b))


# -- titles ---------------------------------------------------------------------------------

def title_forms(work: RegisteredWork) -> list[str]:
    """Every form of the registered title a reference might cite, normalised: each title, each
    title with its subtitle, each short title."""
    forms: list[str] = []
    for index, title in enumerate(work.titles):
        forms.append(title_key(title))
        if index < len(work.subtitles):
            forms.append(title_key(f"{title} {work.subtitles[index]}"))
    forms.extend(title_key(short) for short in work.short_titles)
    return [form for form in dict.fromkeys(forms) if form]


def titles_agree(cited: str, work: RegisteredWork) -> bool:
    """Same title, ignoring case, punctuation, tags, a "RETRACTED:" prefix and a subtitle."""
    cited_key = title_key(cited)
    if not cited_key:
        return True
    candidates = set(title_forms(work))
    candidates.update(title_key(main_title(title)) for title in work.titles)
    if work.title:
        candidates.add(title_key(work.title))
    candidates.discard("")
    if not candidates:
        return True
    cited_main = title_key(main_title(cited))
    for registered in candidates:
        if cited_key == registered or cited_main == registered:
            return True
        # One is the other plus a subtitle.
        if registered.startswith(cited_key + " ") or cited_key.startswith(registered + " "):
            return True
        if _ratio(cited_key, registered) >= TITLE_AGREEMENT:
            return True
    return False


def title_overlap(cited: str, work: RegisteredWork) -> float:
    """0..1: the share of words the titles have in common (token-set similarity); below 0.5 the
    titles name different works."""
    from rapidfuzz import fuzz

    return float(fuzz.token_set_ratio(title_key(cited), title_key(work.title or ""))) / 100


def _main_title_form(title: str) -> str | None:
    """The title before its subtitle, when it is long enough to mean something on its own (not
    "Editorial: ...")."""
    head = re.split(r"[:?!]| [-–—] ", title, maxsplit=1)[0]
    normalized = title_key(head)
    if len(normalized.split()) >= 4 and normalized != title_key(title):
        return normalized
    return None


def foreign_words(cited: str, forms: list[str]) -> int:
    """How many significant words of the cited title (normalised) have no counterpart in `forms`,
    allowing a typo, a spelling variant ("apnoea"/"apnea") or an abbreviation ("robot." for
    "robotics"): a whole word replaced is how a companion paper ("... in mice" / "... in rats")
    differs from the cited one."""
    from rapidfuzz import fuzz, process

    known = {word for form in forms for word in form.split()}
    foreign = 0
    for word in set(cited.split()):
        if len(word) < 4 or word in STOP_WORDS or word in known:
            continue
        if any(other.startswith(word) for other in known):
            continue
        if process.extractOne(word, known, scorer=fuzz.ratio, score_cutoff=80) is None:
            foreign += 1
    return foreign


def title_cap(foreign: int) -> float:
    """The most a title with `foreign` replaced words can score: with one such word, only every
    other field agreeing can still carry a match (the same paper with its title miscited); with
    more, nothing can."""
    return 0.85 - 0.05 * (foreign - 1) if foreign else 1.0


def title_similarity(cited_title: str, work: RegisteredWork) -> float:
    """0..1: how closely the cited title matches the registered title (or title + subtitle, or
    the main title slightly discounted); below 0.85 whenever a significant cited word is not in
    the registered title at all."""
    cited = title_key(cited_title)
    if not cited:
        return 0.0
    forms = title_forms(work)
    best = max((_ratio(cited, form) / 100 for form in forms), default=0.0)
    # A reference that drops the subtitle ("Main." for "Main: sub") cites the main title only;
    # discounted, since several works can share a main title.
    for title in work.titles:
        main = _main_title_form(title)
        if main:
            best = max(best, 0.97 * _ratio(cited, main) / 100)
    return min(best, title_cap(foreign_words(cited, forms)))


# -- names ----------------------------------------------------------------------------------

def names_agree(cited: str, registered: str) -> bool:
    """Family names match despite case, accents, particles ("van der"), a double-barrelled name
    cited by one part, transliteration, or one typo in a name long enough not to be another."""
    a, b = plain(cited), plain(registered)
    if not a or not b:
        return False
    if a == b:
        return True
    a_parts, b_parts = a.split(), b.split()
    if a_parts[-1] == b_parts[-1] or set(a_parts) <= set(b_parts) or set(b_parts) <= set(a_parts):
        return True
    a_compact, b_compact = a.replace(" ", ""), b.replace(" ", "")
    from rapidfuzz.distance import OSA

    if min(len(a_compact), len(b_compact)) >= 5 and OSA.distance(a_compact, b_compact) <= 1:
        return True
    return _ratio(a_compact, b_compact) >= NAME_SIMILARITY


def authors_problem(cited: list[str], registered: list[str] | tuple[str, ...]) -> str | None:
    """Why the cited authors disagree with the registered ones, or None when they agree.

    The first author must match the first registered author; every other cited author must be
    somewhere in the registered list. A shorter cited list ("et al.") is fine.
    """
    if not cited or not registered:
        return None
    if not names_agree(cited[0], registered[0]):
        return f"the first author is cited as {cited[0]!r} but registered as {registered[0]!r}"
    # The same name, normalised, agrees at once: a set test per cited name instead of a walk
    # of the registered list (authors cited in order made that quadratic in the list's length).
    same = {plain(name) for name in registered}
    same.discard("")
    missing = [name for name in cited[1:] if plain(name) not in same
               and not any(names_agree(name, r) for r in registered)]
    if missing:
        return f"cited author(s) {', '.join(missing)} are not among the registered authors"
    return None


# -- containers -----------------------------------------------------------------------------

def _abbreviates(short: str, word: str) -> bool:
    """ISO 4 style: same first letter, the rest in order ("ther" Therapy, "jpn" Japan)."""
    if not short or short[0] != word[0]:
        return False
    position = 0
    for letter in short:
        position = word.find(letter, position)
        if position < 0:
            return False
        position += 1
    return True


def is_abbreviation(short: str, full: str, truncated: bool = False) -> bool:
    """True when the words of `short` abbreviate the significant words of `full`, in order
    ("J Marital Fam Ther" for "Journal of Marital and Family Therapy"); NLM abbreviations may
    drop a filler word such as "Part" ("Am J Med Genet B Neuropsychiatr Genet"). With
    `truncated`, three or more words may abbreviate the start of the name only ("Am J Med Genet
    B" for "... Part B: Neuropsychiatric Genetics"), as people shorten long journal names."""
    short_words = [w for w in plain(short).split() if w not in STOP_WORDS]
    full_words = [w for w in plain(full).split() if w not in STOP_WORDS]
    if not short_words or len(short_words) > len(full_words):
        return False

    @functools.cache
    def aligned(i: int, j: int) -> bool:
        if i == len(short_words):
            return (truncated and i >= 3) or all(w in _SKIPPABLE for w in full_words[j:])
        if j == len(full_words):
            return False
        if _abbreviates(short_words[i], full_words[j]) and aligned(i + 1, j + 1):
            return True
        return full_words[j] in _SKIPPABLE and aligned(i, j + 1)

    return aligned(0, 0)


def container_agrees(cited: str, name: str) -> bool:
    """The cited journal or book names the registered one: the same name, its abbreviation, or
    the same words without the fillers ("The Journal of ...")."""
    cited_key, key = plain(cited), plain(name)
    if not cited_key or not key:
        return False
    if cited_key == key or cited_key.replace(" ", "") == key.replace(" ", ""):
        return True
    if is_abbreviation(cited, name, truncated=True) or is_abbreviation(name, cited):
        return True
    cited_words = [w for w in cited_key.split() if w not in STOP_WORDS]
    words = [w for w in key.split() if w not in STOP_WORDS]
    if cited_words == words:
        return True
    return _ratio(cited_key, key) >= CONTAINER_SIMILARITY


def containers_agree(cited: str, work: RegisteredWork) -> bool:
    """True when the cited container names any registered form; a record without one agrees."""
    if not work.containers:
        return True
    return any(container_agrees(cited, name) for name in work.containers)


# -- numbers --------------------------------------------------------------------------------

_RANGE = re.compile(r"^([a-z]*)(\d+)([a-z]*)(?:-([a-z]*)(\d+)([a-z]*))?$")


def page_range(text: str) -> tuple[str, str | None] | None:
    """(first, last) page with abbreviated ends expanded ("831-42" -> 831, 842)."""
    value = normalize_dashes(text).lower().replace(" ", "")
    value = re.sub(r"^(?:pp?\.?)", "", value)
    match = _RANGE.match(value)
    if not match:
        return None
    pre, first, post, pre2, last, post2 = match.groups()
    if last is None:
        return f"{pre}{first}{post}", None
    if len(last) < len(first) and not pre2:
        last = first[: len(first) - len(last)] + last
    return f"{pre}{first}{post}", f"{pre2 or pre}{last}{post2}"


def first_page(text: str) -> str:
    """The first page of a range, without leading zeros ("0923-8" -> "923")."""
    parsed = page_range(text)
    head = parsed[0] if parsed else re.split(r"\s*[-–—‐‑,]+\s*", text.strip(), maxsplit=1)[0]
    return head.lstrip("0").lower()


def pages_agree(cited: str, registered: list[str] | tuple[str, ...]) -> bool:
    """Same first page, and the same last page where both give one."""
    cited_range = page_range(cited)
    for value in registered:
        if normalize_dashes(cited).lower() == normalize_dashes(value).lower():
            return True
        reg_range = page_range(value)
        if cited_range is None or reg_range is None:
            continue
        if cited_range[0].lstrip("0") != reg_range[0].lstrip("0"):
            continue
        # A cited first page alone, or a registered first page alone, agrees on what it says.
        if cited_range[1] is None or reg_range[1] is None or cited_range[1] == reg_range[1]:
            return True
    return False


def numbers_agree(cited: str, registered: str) -> bool:
    """A volume or issue: the same token, ignoring case, spaces and leading zeros."""
    return simple_token(cited) == simple_token(registered)
