"""Family names from the text the parser labelled as the authors, first author first."""

from __future__ import annotations

import re

_ET_AL = re.compile(r"\s*(?:,?\s*\bet\.?\s*al\b\.?|,?\s*\band\s+others\b|…|\.\.\.)\s*", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,\s*&\s*|,\s*and\s+|\s+&\s+|\s+and\s+|;\s*|,\s*)\s*")
_INITIALS = re.compile(r"^(?:[A-Z][a-z]?\.?\s?-?\s?){1,4}$")
# Vancouver/AMA "Nguyen DV"; also capitals-only "NGUYEN DV".
_VANCOUVER_NAME = re.compile(r"^(?P<family>[^\s,].*?)\s+(?P<initials>[A-Z]{1,4})$")
# First name first, as IEEE and Nature write co-authors: "D. V. Nguyen", "Danh V. Nguyen".
_GIVEN_FIRST = re.compile(
    r"^(?:(?:[A-Z]\.\s*-?\s*)+|[A-Z][a-z]+(?:\s+[A-Z]\.)*\s+)(?P<family>(?:[a-z]+\s+)*"
    r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)$"
)
_CORPORATE = re.compile(
    r"\b(?:Institute|Organi[sz]ation|Association|Society|Council|Agency|Department|Ministry|"
    r"Cent(?:re|er)|Foundation|Committee|Group|University|College|Office|Board|Service|"
    r"Collaboration|Network|Commission|Federation|Alliance|Trust|Authority|Excellence)\b"
)
_MARKUP = re.compile(r"[*_]+")
_EDITORS = re.compile(r"\((?:eds?|Eds?)\.?\)")
_DIGIT = re.compile(r"\d")


def family_names(segment: str) -> list[str]:
    """Family names from an author segment, first author first; [] when it does not read as a
    list of personal names (a corporate author is kept whole)."""
    # Each pattern only where it can match (#12: a parse reads the authors of every reference).
    text = _MARKUP.sub("", segment) if "*" in segment or "_" in segment else segment
    # _ET_AL needs "et", "and oth..." (in some case: no other code point stands for e, t, o or
    # h under IGNORECASE), "…" or "...", and tries at every character of the text else.
    lower = text.lower()
    if "et" in lower or "oth" in lower or "…" in text or "..." in text:
        text = _ET_AL.sub(", ", text)
    text = text.strip(" .,;:")  # a separator: names stay substrings
    text = (_EDITORS.sub("", text) if "(" in text else text).strip(" .,;:")
    if not text or _DIGIT.search(text) or len(text) > 600:
        return []
    if "," not in text and _CORPORATE.search(text):
        return [text]  # "National Institute for Health and Care Excellence" is one author
    parts = [q for p in _AUTHOR_SPLIT.split(text) if p and (q := p.strip(" .:"))]
    if not parts:
        return []
    vancouver = []
    for part in parts:
        match = _VANCOUVER_NAME.match(part)
        if match is None:
            break
        vancouver.append(match.group("family"))
    else:
        return vancouver
    given_first = [_GIVEN_FIRST.match(p) for p in parts]
    if all(given_first) and not (len(parts) >= 2 and _INITIALS.match(parts[1] + ".")):
        return [m.group("family") for m in given_first if m]
    # APA/Harvard: "Hamlin, A., Liu, Y., & Nguyen, D. V." — family, initials, family, initials
    if len(parts) >= 2 and _INITIALS.match(parts[1] + "."):
        # Strict alternation: "Li, Y." has a family name that could pass for initials.
        names: list[str] = []
        index = 0
        while index < len(parts):
            match = _GIVEN_FIRST.match(parts[index]) if names else None
            names.append(match.group("family") if match else parts[index])
            index += 1
            if index < len(parts) and _INITIALS.match(parts[index] + "."):
                index += 1
        return [n for n in names if _plausible_family(n)]
    # Chicago/MLA: "Hamlin, Alyssa, Ying Liu, and Danh V. Nguyen" — inverted first name only.
    if "," in text and len(parts) >= 2:
        names = [parts[0]]
        names.extend(p.split()[-1] for p in parts[2:] if p.split())
        return [n for n in names if _plausible_family(n)]
    if len(parts) == 1:
        match = _GIVEN_FIRST.match(parts[0])
        if match:
            return [match.group("family")]
        return [parts[0]] if _plausible_family(parts[0]) else []
    return []


def _plausible_family(name: str) -> bool:
    words = name.split()
    return bool(words) and len(words) <= 6 and name[:1].isalpha() and not name.islower()
