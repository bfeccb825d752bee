"""Effect sizes: parse compact forms people write (`SMD -0.85 [-1.40, -0.30]`), and format them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Canonical measure names, as stored in review files, and the spellings accepted for each.
MEASURES: dict[str, tuple[str, ...]] = {
    "SMD": ("smd",),
    "Hedges g": ("hedges g", "hedges' g", "hedges’ g", "hedges'g", "hedges-g", "g"),
    "Cohen d": ("cohen d", "cohen's d", "cohen’s d", "cohens d", "cohen-d", "d"),
    "MD": ("md", "mean difference"),
    "OR": ("or", "odds ratio"),
    "RR": ("rr", "risk ratio", "relative risk"),
    "RD": ("rd", "risk difference"),
    "HR": ("hr", "hazard ratio"),
    "percent": ("percent", "%"),
    "r": ("r",),
    "other": ("other",),
}
_ALIASES = {alias: name for name, aliases in MEASURES.items() for alias in aliases}


def canonical_measure(text: str) -> str | None:
    """The canonical name for a measure spelling (case-insensitive), or None when unknown."""
    key = re.sub(r"\s+", " ", text.strip().lower())
    if key in _ALIASES:
        return _ALIASES[key]
    for name in MEASURES:
        if name.lower() == key:
            return name
    return None


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_MEASURE_ALT = "|".join(
    sorted((re.escape(a) for a in _ALIASES if a != "%"), key=len, reverse=True)
)
# Ranges are written "1.18-6.75", "1.18 to 6.75", "-1.40, -0.30" or with an en dash; a leading
# "95% CI" inside the brackets is optional.
_CI = (
    rf"[\[(]\s*(?:\d{{2}}\s*%\s*CI\s*[:,]?\s*)?(?P<lo>{_NUM})\s*(?:,|;|to|–|—|-)\s*"
    rf"(?P<hi>{_NUM})\s*[\])]"
)
_STRUCTURED = re.compile(
    rf"^(?:(?P<measure>{_MEASURE_ALT})\s*(?:=|:)?\s*)?(?P<value>{_NUM})\s*(?P<pct>%)?"
    rf"\s*(?:{_CI})?"
    rf"\s*(?:[,;]?\s*p\s*(?P<pop>=|<|≤|<=)\s*(?P<p>{_NUM}))?\s*$",
    re.IGNORECASE,
)
_LABELLED = re.compile(r"^(?P<label>[^:\[\]()]{1,80}?)\s*:\s+(?P<rest>.+)$")
_MENTIONS_P = re.compile(r"\bp\s*(?:=|<|≤|<=)", re.IGNORECASE)
_LEADING_P = re.compile(rf"^p\s*(?P<pop>=|<|≤|<=)\s*(?P<p>{_NUM})\b", re.IGNORECASE)
# Minus signs and dashes people paste from papers; normalised before parsing.
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2010": "-", "\u2011": "-",
                        "\ufe63": "-", "\uff0d": "-"})


def _number(text: str) -> float:
    return float(text)


def _p_value(op: str, number: str) -> float | str:
    value = float(number)
    return value if op == "=" else f"<{number}"


def _parse_structured(text: str) -> dict[str, Any] | None:
    match = _STRUCTURED.match(text)
    if match is None:
        return None
    measure_text, pct = match.group("measure"), match.group("pct")
    if measure_text is None and pct is None:
        return None  # a bare number says nothing about what it measures
    measure = "percent" if pct else canonical_measure(measure_text or "")
    if pct and measure_text and canonical_measure(measure_text) not in (None, "percent"):
        return None
    effect: dict[str, Any] = {"measure": measure, "value": _number(match.group("value"))}
    if match.group("lo") is not None:
        effect["ci_low"] = _number(match.group("lo"))
        effect["ci_high"] = _number(match.group("hi"))
    if match.group("p") is not None:
        effect["p"] = _p_value(match.group("pop"), match.group("p"))
    return effect


def parse_effect(text: str) -> dict[str, Any]:
    """Parse one compact effect; what is not a recognised form is kept whole as `text`.

    `SMD -0.85 [-1.40, -0.30]`, `OR 2.82 (95% CI 1.18-6.75)`, `6.5%`, `g = 0.4`,
    `sample 1: OR 3.52 (95% CI 1.33-9.29)` (a label before a colon), `p = 0.001, no effect size
    reported` (kept as text, with p taken from its start).
    """
    original = text.strip()
    if not original:
        raise ValueError("an effect cannot be empty")
    normalised = original.translate(_MINUS)
    effect = _parse_structured(normalised)
    if effect is not None:
        return effect
    labelled = _LABELLED.match(normalised)
    if labelled is not None:
        effect = _parse_structured(labelled.group("rest"))
        if effect is not None:
            return {"label": labelled.group("label").strip(), **effect}
    free: dict[str, Any] = {"text": original}
    leading_p = _LEADING_P.match(normalised)
    if leading_p is not None:
        free["p"] = _p_value(leading_p.group("pop"), leading_p.group("p"))
    return free


def effects_of(value: Any) -> list[Mapping[str, Any]]:
    """A study's `effect` field as a list (it may hold one mapping or a list of them)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    return [item for item in value if isinstance(item, Mapping)]


def _decimals(number: Any) -> int:
    text = repr(float(number))
    if "e" in text or "." not in text:
        return 0
    decimals = len(text.split(".")[1].rstrip("0"))
    return decimals


def format_number(number: Any, decimals: int) -> str:
    """A number with a real minus sign (U+2212), as typeset in papers."""
    value = float(number)
    body = f"{abs(value):.{decimals}f}"
    return f"\u2212{body}" if value < 0 and float(body) != 0 else body


def _format_p(p: Any) -> str:
    if isinstance(p, str):
        text = p.strip()
        return f"p {text[0]} {text[1:].strip()}" if text[:1] in "<≤" else f"p = {text}"
    return f"p = {format_number(p, max(_decimals(p), 1))}"


def format_effect(effect: Mapping[str, Any]) -> str:
    """`SMD −0.85 [−1.40, −0.30]`, `6.5%`, `OR 2.82 [1.18, 6.75], p = 0.01`, or the free text."""
    value = effect.get("value")
    measure = effect.get("measure")
    text = effect.get("text")
    parts: list[str] = []
    if value is not None:
        numbers = [n for n in (value, effect.get("ci_low"), effect.get("ci_high")) if n is not None]
        decimals = max(_decimals(n) for n in numbers)
        shown = format_number(value, decimals)
        if measure == "percent":
            core = f"{shown}%"
        elif measure in (None, "other"):
            core = shown
        else:
            core = f"{measure} {shown}"
        if effect.get("ci_low") is not None and effect.get("ci_high") is not None:
            low = format_number(effect["ci_low"], decimals)
            high = format_number(effect["ci_high"], decimals)
            suffix = "%" if measure == "percent" else ""
            core += f" [{low}{suffix}, {high}{suffix}]"
        if effect.get("p") is not None:
            core += f", {_format_p(effect['p'])}"
        parts.append(core)
        if text:
            parts.append(f"({text})")
    elif text and effect.get("p") is not None and not _MENTIONS_P.search(str(text)):
        parts.append(f"{_format_p(effect['p'])}, {text}")
    elif text:
        parts.append(str(text))  # the text already says what p was
    elif effect.get("p") is not None:
        parts.append(_format_p(effect["p"]))
    shown_text = " ".join(parts)
    label = effect.get("label")
    return f"{label}: {shown_text}" if label and shown_text else shown_text


def format_effects(value: Any) -> str:
    """Every effect of a study, one a line (tables turn the line breaks into their own)."""
    return "\n".join(filter(None, (format_effect(e) for e in effects_of(value))))
