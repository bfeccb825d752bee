"""Outcome data on studies (`data:` entries): their checks, and parsing `study data` options."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from evidence_cli.reviews.effect import canonical_measure, parse_effect

DATA_TYPES = ("binary", "continuous", "effect")
DATA_KEYS = ("outcome", "type", "intervention", "control", "measure", "value", "ci_low",
             "ci_high", "se", "note")
BINARY_ARM_KEYS = ("events", "total")
CONTINUOUS_ARM_KEYS = ("mean", "sd", "n")
# Reported effects that can be pooled; Hedges g and Cohen d are pooled as SMD, r as Fisher's z.
EFFECT_MEASURES = ("SMD", "Hedges g", "Cohen d", "MD", "OR", "RR", "RD", "HR", "r")
RATIO_MEASURES = ("OR", "RR", "HR")

# A problem: (field relative to the entry, message).
Report = Callable[[str, str], None]


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def _is_count(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def check_entry(node: Any, report: Report) -> None:
    """Every problem of one `data` entry, reported as (field, message); node is a mapping."""
    kind = node.get("type")
    if kind not in DATA_TYPES:
        report("type", f"expected one of: {', '.join(DATA_TYPES)} (got {kind!r})")
        return
    outcome = node.get("outcome")
    if not isinstance(outcome, str) or not outcome.strip():
        report("outcome", "is required (the outcome's name)")
    allowed = {"binary": ("outcome", "type", "intervention", "control", "note"),
               "continuous": ("outcome", "type", "intervention", "control", "note"),
               "effect": ("outcome", "type", "measure", "value", "ci_low", "ci_high", "se",
                          "note")}[kind]
    for key in node:
        if key in DATA_KEYS and key not in allowed:
            report(str(key), f"does not belong in a {kind} entry (fields: {', '.join(allowed)})")
    if kind == "effect":
        _check_effect(node, report)
        return
    for arm in ("intervention", "control"):
        value = node.get(arm)
        if not isinstance(value, Mapping):
            report(arm, f"is required: a mapping of {', '.join(_arm_keys(kind))}")
            continue
        for key in value:
            if key not in _arm_keys(kind):
                report(f"{arm}.{key}", f"unknown field (allowed: {', '.join(_arm_keys(kind))})")
        if kind == "binary":
            _check_binary_arm(value, arm, report)
        else:
            _check_continuous_arm(value, arm, report)


def _arm_keys(kind: str) -> tuple[str, ...]:
    return BINARY_ARM_KEYS if kind == "binary" else CONTINUOUS_ARM_KEYS


def _check_binary_arm(arm: Mapping[str, Any], name: str, report: Report) -> None:
    events: Any = arm.get("events")
    total: Any = arm.get("total")
    if not _is_count(total, 1):
        report(f"{name}.total", f"expected a positive whole number (got {total!r})")
    if not _is_count(events, 0):
        report(f"{name}.events", f"expected a whole number, 0 or more (got {events!r})")
    elif _is_count(total, 1) and events > total:
        report(f"{name}.events", f"{events} events is more than the {total} participants")


def _check_continuous_arm(arm: Mapping[str, Any], name: str, report: Report) -> None:
    if not _is_number(arm.get("mean")):
        report(f"{name}.mean", f"expected a number (got {arm.get('mean')!r})")
    sd: Any = arm.get("sd")
    if not _is_number(sd) or sd <= 0:
        report(f"{name}.sd", f"expected a number above 0 (got {sd!r})")
    n = arm.get("n")
    if not _is_count(n, 2):
        report(f"{name}.n", f"expected a whole number, 2 or more (got {n!r})")


def _check_effect(node: Mapping[str, Any], report: Report) -> None:
    measure = node.get("measure")
    if not isinstance(measure, str) or canonical_measure(measure) not in EFFECT_MEASURES:
        report("measure", f"expected one of: {', '.join(EFFECT_MEASURES)} (got {measure!r})")
        measure = None
    else:
        measure = canonical_measure(measure)
    numbers = {}
    for key in ("value", "ci_low", "ci_high", "se"):
        if node.get(key) is not None:
            if not _is_number(node[key]):
                report(key, f"expected a number (got {node[key]!r})")
            else:
                numbers[key] = float(node[key])
    if node.get("value") is None:
        report("value", "is required")
    has_ci = node.get("ci_low") is not None or node.get("ci_high") is not None
    if has_ci and (node.get("ci_low") is None or node.get("ci_high") is None):
        report("ci_low", "ci_low and ci_high go together")
    if not has_ci and node.get("se") is None:
        report("se", "a reported effect needs its 95% CI (ci_low, ci_high) or its se")
    if "se" in numbers and numbers["se"] <= 0:
        report("se", f"expected a number above 0 (got {node['se']!r})")
    if measure in RATIO_MEASURES:
        for key in ("value", "ci_low", "ci_high"):
            if key in numbers and numbers[key] <= 0:
                report(key, f"a ratio ({measure}) must be above 0 (got {node[key]!r})")
    if measure == "r":
        for key in ("value", "ci_low", "ci_high"):
            if key in numbers and not -1 < numbers[key] < 1:
                report(key, f"a correlation must lie between -1 and 1 (got {node[key]!r})")
    if {"value", "ci_low", "ci_high"} <= numbers.keys():
        low, value, high = numbers["ci_low"], numbers["value"], numbers["ci_high"]
        if not low < high:
            report("ci_low", f"ci_low ({node['ci_low']}) must be below ci_high "
                   f"({node['ci_high']})")
        elif not low <= value <= high:
            report("value", f"{node['value']} lies outside its interval [{node['ci_low']}, "
                   f"{node['ci_high']}]")


def entry_problems(entry: Mapping[str, Any]) -> list[str]:
    """The problems of one entry as `field: message` lines (empty when it is valid)."""
    problems: list[str] = []
    check_entry(entry, lambda field, message: problems.append(f"{field}: {message}"))
    return problems


# --- options of `evidence study data` -----------------------------------------------------------

def parse_count_pair(text: str, option: str) -> dict[str, int]:
    """`A/N` (events/total) -> {"events": A, "total": N}; names the option when it is wrong."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None:
        raise ValueError(f"{option}: expected EVENTS/TOTAL like 4/123 (got {text!r})")
    events, total = int(match.group(1)), int(match.group(2))
    if total < 1:
        raise ValueError(f"{option}: the total must be at least 1 (got {text!r})")
    if events > total:
        raise ValueError(f"{option}: {events} events is more than the {total} participants")
    return {"events": events, "total": total}


def parse_number(text: str, option: str) -> float | int:
    try:
        value = float(text.strip().replace("\u2212", "-"))
    except ValueError:
        raise ValueError(f"{option}: expected a number (got {text!r})") from None
    if not math.isfinite(value):
        raise ValueError(f"{option}: expected a finite number (got {text!r})")
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() \
        else value


def parse_reported_effect(text: str, se: str | None) -> dict[str, Any]:
    """`SMD -0.85 [-1.40, -0.30]` (or a value with --se) -> the fields of an effect entry."""
    parsed = parse_effect(text)
    measure = parsed.get("measure")
    if measure not in EFFECT_MEASURES or parsed.get("value") is None:
        raise ValueError(f"--effect: expected MEASURE VALUE [LOW, HIGH] with a measure of "
                         f"{', '.join(EFFECT_MEASURES)}, e.g. 'SMD -0.85 [-1.40, -0.30]' "
                         f"(got {text!r})")
    entry: dict[str, Any] = {"measure": measure, "value": parsed["value"]}
    if "ci_low" in parsed:
        entry["ci_low"], entry["ci_high"] = parsed["ci_low"], parsed["ci_high"]
    if se is not None:
        entry["se"] = parse_number(se, "--se")
    return entry


def find_entry(data: Any, outcome: str) -> int | None:
    """Index of the entry for this outcome (names match case-insensitively), or None."""
    key = outcome_key(outcome)
    for index, entry in enumerate(data or []):
        if isinstance(entry, Mapping) and outcome_key(str(entry.get("outcome", ""))) == key:
            return index
    return None


def outcome_key(name: str) -> str:
    return " ".join(name.split()).casefold()
