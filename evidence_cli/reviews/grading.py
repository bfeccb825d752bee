"""GRADE certainty ratings kept in a review (`grade:` entries): domains, checks, the verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

# The five reasons to rate certainty down, and what each rating costs.
DOWN_DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision",
                "publication_bias")
DOWN_RATINGS = {"not serious": 0, "serious": 1, "very serious": 2}
# The three reasons to rate up (used for observational evidence), and what each is worth.
UP_DOMAINS = {"large_effect": {"no": 0, "large": 1, "very large": 2},
              "dose_response": {"no": 0, "yes": 1},
              "plausible_confounding": {"no": 0, "yes": 1}}
DOMAIN_LABELS = {"risk_of_bias": "risk of bias", "inconsistency": "inconsistency",
                 "indirectness": "indirectness", "imprecision": "imprecision",
                 "publication_bias": "publication bias", "large_effect": "large effect",
                 "dose_response": "dose-response gradient",
                 "plausible_confounding": "plausible confounding"}
STARTS = ("high", "low")
GRADE_KEYS = ("outcome", "start", *DOWN_DOMAINS, *UP_DOMAINS, "assumed_risk", "note")
RATING_KEYS = ("rating", "reason")


class Certainty(IntEnum):
    """GRADE's four levels of certainty."""

    VERY_LOW = 1
    LOW = 2
    MODERATE = 3
    HIGH = 4

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")

    @property
    def symbols(self) -> str:
        """GRADEpro's circles: ⊕⊕⊕⊕ high ... ⊕◯◯◯ very low."""
        return "⊕" * int(self) + "◯" * (4 - int(self))


def normalise_rating(text: str) -> str:
    return " ".join(text.strip().lower().replace("-", " ").replace("_", " ").split())


def choices(domain: str) -> tuple[str, ...]:
    if domain in DOWN_DOMAINS:
        return tuple(DOWN_RATINGS)
    return tuple(UP_DOMAINS[domain])


def check_rating(domain: str, node: Any) -> list[tuple[str, str]]:
    """Problems of one domain's `{rating, reason}` as (field suffix, message)."""
    if not isinstance(node, Mapping):
        return [("", "expected a mapping with rating and reason")]
    problems = []
    for key in node:
        if key not in RATING_KEYS:
            problems.append((f".{key}", f"unknown field (allowed: {', '.join(RATING_KEYS)})"))
    rating = node.get("rating")
    if not isinstance(rating, str) or normalise_rating(rating) not in choices(domain) \
            or normalise_rating(rating) != rating:
        problems.append((".rating", f"expected one of: {', '.join(choices(domain))} "
                         f"(got {rating!r})"))
    reason = node.get("reason")
    if reason is not None and (not isinstance(reason, str) or not reason.strip()):
        problems.append((".reason", "expected non-empty text"))
    down = domain in DOWN_DOMAINS and rating in ("serious", "very serious")
    up = domain in UP_DOMAINS and rating not in (None, "no")
    if (down or up) and not (isinstance(reason, str) and reason.strip()):
        problems.append((".reason", f"rating {domain.replace('_', ' ')} '{rating}' needs a "
                         "reason"))
    return problems


@dataclass(frozen=True, slots=True)
class Judgement:
    """The certainty of one outcome and the reasons it was rated down or up."""

    certainty: Certainty
    start: str
    reasons: tuple[str, ...]  # "serious risk of bias: ...", shown as footnotes


def judge(entry: Mapping[str, Any] | None, start: str) -> Judgement:
    """Certainty from the starting level (high for randomised trials) and the ratings."""
    entry = entry or {}
    start = str(entry.get("start") or start)
    level = 4 if start == "high" else 2
    reasons = []
    for domain in DOWN_DOMAINS:
        node = entry.get(domain) or {}
        rating = str(node.get("rating") or "not serious")
        cost = DOWN_RATINGS.get(rating, 0)
        if cost:
            level -= cost
            reasons.append(_reason(rating, domain, node))
    for domain, scale in UP_DOMAINS.items():
        node = entry.get(domain) or {}
        rating = str(node.get("rating") or "no")
        worth = scale.get(rating, 0)
        if worth:
            level += worth
            label = DOMAIN_LABELS[domain] if rating == "yes" else f"{rating} effect"
            reasons.append(f"rated up for {label}" + (f": {node['reason']}"
                                                     if node.get("reason") else ""))
    return Judgement(Certainty(min(4, max(1, level))), start, tuple(reasons))


def _reason(rating: str, domain: str, node: Mapping[str, Any]) -> str:
    text = f"{rating} {DOMAIN_LABELS[domain]}"
    return f"{text}: {node['reason']}" if node.get("reason") else text
