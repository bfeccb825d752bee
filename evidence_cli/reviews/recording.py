"""What synthesis pools and rates, recorded in a review: `study data` entries, `grade` ratings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_cli.errors import UsageError
from evidence_cli.reviews import grading
from evidence_cli.reviews import outcome_data as od
from evidence_cli.reviews.schema import STUDY_KEYS
from evidence_cli.reviews.store import ReviewStore
from evidence_cli.reviews.studies import study_in

# Which option sets each field of a `data` entry, so an error names what the user typed.
OPTION_OF = {
    "intervention.events": "--events", "intervention.total": "--events",
    "control.events": "--control-events", "control.total": "--control-events",
    "intervention.mean": "--mean", "intervention.sd": "--sd", "intervention.n": "--n",
    "control.mean": "--control-mean", "control.sd": "--control-sd", "control.n": "--control-n",
    "measure": "--effect", "value": "--effect", "ci_low": "--effect", "ci_high": "--effect",
    "se": "--se", "outcome": "--outcome",
}


@dataclass(frozen=True, slots=True)
class DataOptions:
    """What `study data` was told about one outcome, as typed: counts, means or an effect."""

    events: str | None = None
    control_events: str | None = None
    mean: str | None = None
    sd: str | None = None
    n: str | None = None
    control_mean: str | None = None
    control_sd: str | None = None
    control_n: str | None = None
    effect: str | None = None
    se: str | None = None
    note: str | None = None

    def continuous(self) -> dict[str, str | None]:
        """The means options by the name the user typed."""
        return {"--mean": self.mean, "--sd": self.sd, "--n": self.n,
                "--control-mean": self.control_mean, "--control-sd": self.control_sd,
                "--control-n": self.control_n}


def _option_error(option: str, error: ValueError) -> UsageError:
    message = str(error)
    return UsageError(message if message.startswith("--") else f"{option}: {message}")


def data_entry(outcome: str, options: DataOptions) -> dict[str, Any]:
    """The `data` entry the options describe; bad values raise UsageError naming the option."""
    o = options
    continuous = o.continuous()
    given_binary = o.events is not None or o.control_events is not None
    given_continuous = any(value is not None for value in continuous.values())
    given_effect = o.effect is not None or o.se is not None
    if sum((given_binary, given_continuous, given_effect)) != 1:
        raise UsageError("give one kind of data: --events A/N --control-events C/M, or "
                         "--mean --sd --n --control-mean --control-sd --control-n, or "
                         "--effect 'SMD -0.85 [-1.40, -0.30]' (or --effect 'OR 2.1' --se 0.3)")
    entry: dict[str, Any] = {"outcome": " ".join(outcome.split())}
    try:
        if given_binary:
            if o.events is None or o.control_events is None:
                raise UsageError("binary data needs both --events A/N and --control-events C/M")
            entry["type"] = "binary"
            entry["intervention"] = od.parse_count_pair(o.events, "--events")
            entry["control"] = od.parse_count_pair(o.control_events, "--control-events")
        elif given_continuous:
            missing = [option for option, value in continuous.items() if value is None]
            if missing:
                raise UsageError(f"continuous data needs {', '.join(missing)} as well")
            entry["type"] = "continuous"
            for arm, prefix in (("intervention", "--"), ("control", "--control-")):
                entry[arm] = {key: od.parse_number(str(continuous[f"{prefix}{key}"]),
                                                   f"{prefix}{key}")
                              for key in ("mean", "sd", "n")}
        else:
            if o.effect is None:
                raise UsageError("--se goes with --effect 'MEASURE VALUE'")
            entry["type"] = "effect"
            entry.update(od.parse_reported_effect(o.effect, o.se))
    except ValueError as error:
        raise _option_error("--effect", error) from None
    if o.note is not None and o.note.strip():
        entry["note"] = o.note.strip()
    problems: list[str] = []
    od.check_entry(entry, lambda field, message: problems.append(
        f"{OPTION_OF.get(field, field)} ({field}): {message}"))
    if problems:
        raise UsageError("; ".join(problems))
    return entry


def set_data(store: ReviewStore, slug: str, study_id: str, outcome: str,
             options: DataOptions | None) -> tuple[str, Path]:
    """Add or replace a study's data for one outcome, or remove it (`options` None).

    Returns what was done ("added", "replaced", "removed") and the review's file.
    """
    if not outcome.strip():
        raise UsageError("--outcome cannot be empty")
    entry = None if options is None else data_entry(outcome, options)
    with store.edit(slug) as review:
        study = study_in(review.doc, slug, study_id)
        data = study.get("data")
        position = od.find_entry(data, outcome)
        if entry is None:
            if position is None:
                raise UsageError(f"study '{study_id}' has no data for outcome '{outcome}'")
            del data[position]
            if not data:
                del study["data"]
            action = "removed"
        elif data is None:
            _insert_data(study, [entry])
            action = "added"
        elif position is None:
            data.append(entry)
            action = "added"
        else:
            entry["outcome"] = data[position].get("outcome")  # the name as first written
            data[position] = entry
            action = "replaced"
    return action, review.path


def _insert_data(study: Any, data: list[dict[str, Any]]) -> None:
    """Put `data` where the schema lists it (after effect), keeping the other keys in order."""
    after = STUDY_KEYS[STUDY_KEYS.index("data") + 1:]
    keys = list(study.keys())
    position = next((i for i, key in enumerate(keys) if key in after), len(keys))
    if hasattr(study, "insert"):
        study.insert(position, "data", data)
    else:
        study["data"] = data


# --- GRADE --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rating:
    """What `grade` was told about one outcome, as typed: domain ratings (`RATING[: REASON]`
    by domain), a lone reason, the starting level, the assumed risk and a note."""

    domains: Mapping[str, str | None]
    reason: str | None = None
    start: str | None = None
    assumed_risk: str | None = None
    note: str | None = None


def domain_rating(domain: str, text: str, reason: str | None) -> dict[str, str]:
    """`RATING[: REASON]` for one GRADE domain (a lone --reason applies when no ': ' is given)."""
    rating, _, inline = text.partition(":")
    rating = grading.normalise_rating(rating)
    option = "--" + domain.replace("_", "-")
    if rating not in grading.choices(domain):
        raise UsageError(f"{option}: expected one of: {', '.join(grading.choices(domain))}, "
                         f"optionally followed by ': reason' (got {text!r})")
    node = {"rating": rating}
    why = inline.strip() or (reason.strip() if reason else "")
    if why:
        node["reason"] = why
    for _, message in grading.check_rating(domain, node):
        raise UsageError(f"{option}: {message} (write '{rating}: why', or add --reason)")
    return node


def _assumed_risk(text: str) -> float:
    try:
        risk = float(text)
    except ValueError:
        risk = -1.0
    if not 0 < risk < 1:
        raise UsageError(f"--assumed-risk: expected a proportion between 0 and 1, e.g. 0.05 "
                         f"(got {text!r})")
    return risk


def rate_outcome(store: ReviewStore, slug: str, outcome: str,
                 given: Rating) -> tuple[str, grading.Judgement]:
    """Store an outcome's GRADE ratings (or, with nothing to change, read them without
    rewriting the file); returns the outcome's name and its certainty."""
    rated = {domain: text for domain, text in given.domains.items() if text is not None}
    if given.reason is not None and len(rated) != 1:
        raise UsageError("--reason goes with exactly one rated domain; write several as "
                         "--inconsistency 'serious: why'")
    changes = {domain: domain_rating(domain, text, given.reason) for domain, text in rated.items()}
    start = given.start
    if start is not None and start.strip().lower() not in grading.STARTS:
        raise UsageError(f"--start: expected high or low (got {start!r})")
    risk = _assumed_risk(given.assumed_risk) if given.assumed_risk is not None else None
    name = " ".join(outcome.split())
    if not name:
        raise UsageError("--outcome cannot be empty")
    if not changes and start is None and risk is None and given.note is None:
        doc = store.load(slug).doc
        index = od.find_entry(doc.get("grade") or [], name)
        if index is None:
            raise UsageError(f"review '{slug}' has no GRADE rating for '{name}'; rate a domain, "
                             "e.g. --risk-of-bias 'serious: why'")
        return name, judgement_of(doc, name, dict(doc["grade"][index]))
    with store.edit(slug) as review:
        doc = review.doc
        if doc.get("grade") is None:
            doc["grade"] = []
        entries = doc["grade"]
        index = od.find_entry(entries, name)
        if index is None:
            entries.append({"outcome": name})
            index = len(entries) - 1
        entry = entries[index]
        if start is not None:
            entry["start"] = start.strip().lower()
        for domain in (*grading.DOWN_DOMAINS, *grading.UP_DOMAINS):
            if domain in changes:
                entry[domain] = changes[domain]
        if risk is not None:
            entry["assumed_risk"] = risk
        if given.note is not None:
            if given.note.strip():
                entry["note"] = given.note.strip()
            else:
                entry.pop("note", None)
        snapshot = dict(entry)
    return name, judgement_of(doc, name, snapshot)


def judgement_of(doc: Any, name: str, entry: Mapping[str, Any]) -> grading.Judgement:
    """An outcome's certainty: it starts high when every study with data for it is an rct."""
    key = od.outcome_key(name)
    studies = [s for s in doc.get("studies") or []
               if any(od.outcome_key(str(d.get("outcome", ""))) == key
                      for d in s.get("data") or [])]
    all_rct = bool(studies) and all(s.get("design") == "rct" for s in studies)
    return grading.judge(entry, "high" if all_rct else "low")
