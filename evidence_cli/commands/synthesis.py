"""`evidence study data|meta|grade|sof`: outcome data, pooled effects, plots and GRADE tables."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from evidence_cli.commands.reviews import REVIEWS_DIR, SLUG, _settings, _store, study_app
from evidence_cli.errors import EXIT_OK, EvidenceError, InputError, UsageError

# Exit code when there is nothing to pool (fewer than two studies with data for the outcome):
# the review is readable and the command was right, but the answer is "no number", which a
# script must not mistake for a result.
EXIT_NOT_POOLABLE = 1

# Which option sets each field of a `data` entry, so an error names what the user typed.
OPTION_OF = {
    "intervention.events": "--events", "intervention.total": "--events",
    "control.events": "--control-events", "control.total": "--control-events",
    "intervention.mean": "--mean", "intervention.sd": "--sd", "intervention.n": "--n",
    "control.mean": "--control-mean", "control.sd": "--control-sd", "control.n": "--control-n",
    "measure": "--effect", "value": "--effect", "ci_low": "--effect", "ci_high": "--effect",
    "se": "--se", "outcome": "--outcome",
}


class NotPoolableError(EvidenceError):
    """Fewer than two studies can be pooled for the outcome: a message, not a number."""

    exit_code = EXIT_NOT_POOLABLE


def _option_error(option: str, error: ValueError) -> UsageError:
    message = str(error)
    return UsageError(message if message.startswith("--") else f"{option}: {message}")


def _data_entry(outcome: str, events: str | None, control_events: str | None,
                continuous: dict[str, str | None], effect: str | None, se: str | None,
                note: str | None) -> dict[str, Any]:
    """The `data` entry the options describe; bad values raise UsageError naming the option."""
    from evidence_cli.reviews import outcome_data as od

    given_binary = events is not None or control_events is not None
    given_continuous = any(value is not None for value in continuous.values())
    given_effect = effect is not None or se is not None
    if sum((given_binary, given_continuous, given_effect)) != 1:
        raise UsageError("give one kind of data: --events A/N --control-events C/M, or "
                         "--mean --sd --n --control-mean --control-sd --control-n, or "
                         "--effect 'SMD -0.85 [-1.40, -0.30]' (or --effect 'OR 2.1' --se 0.3)")
    entry: dict[str, Any] = {"outcome": " ".join(outcome.split())}
    try:
        if given_binary:
            if events is None or control_events is None:
                raise UsageError("binary data needs both --events A/N and --control-events C/M")
            entry["type"] = "binary"
            entry["intervention"] = od.parse_count_pair(events, "--events")
            entry["control"] = od.parse_count_pair(control_events, "--control-events")
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
            if effect is None:
                raise UsageError("--se goes with --effect 'MEASURE VALUE'")
            entry["type"] = "effect"
            entry.update(od.parse_reported_effect(effect, se))
    except ValueError as error:
        raise _option_error("--effect", error) from None
    if note is not None and note.strip():
        entry["note"] = note.strip()
    problems: list[str] = []
    od.check_entry(entry, lambda field, message: problems.append(
        f"{OPTION_OF.get(field, field)} ({field}): {message}"))
    if problems:
        raise UsageError("; ".join(problems))
    return entry


@study_app.command("data")
def study_data(
    slug: str = SLUG,
    study_id: str = typer.Argument(..., help="The study's id."),
    outcome: str = typer.Option(..., "--outcome", help="The outcome's name (matched "
                                "case-insensitively), e.g. Tuberculosis."),
    events: str | None = typer.Option(None, "--events", help="Intervention arm: EVENTS/TOTAL, "
                                      "e.g. 4/123."),
    control_events: str | None = typer.Option(None, "--control-events", help="Control arm: "
                                              "EVENTS/TOTAL."),
    mean: str | None = typer.Option(None, "--mean", help="Intervention arm: mean."),
    sd: str | None = typer.Option(None, "--sd", help="Intervention arm: standard deviation."),
    n: str | None = typer.Option(None, "--n", help="Intervention arm: participants."),
    control_mean: str | None = typer.Option(None, "--control-mean", help="Control arm: mean."),
    control_sd: str | None = typer.Option(None, "--control-sd", help="Control arm: SD."),
    control_n: str | None = typer.Option(None, "--control-n", help="Control arm: "
                                         "participants."),
    effect: str | None = typer.Option(None, "--effect", help="A reported effect with its 95% "
                                      "CI, e.g. 'SMD -0.85 [-1.40, -0.30]' or 'OR 2.82 (95% CI "
                                      "1.18-6.75)'."),
    se: str | None = typer.Option(None, "--se", help="The reported effect's standard error "
                                  "(log scale for OR, RR, HR), instead of a CI."),
    note: str | None = typer.Option(None, "--note", help="Where the numbers come from."),
    remove: bool = typer.Option(False, "--remove", help="Remove the outcome's data instead."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Add or replace a study's data for one outcome (what `evidence meta` pools)."""
    from evidence_cli.reviews import outcome_data as od
    from evidence_cli.reviews.studies import find_study

    continuous = {"--mean": mean, "--sd": sd, "--n": n, "--control-mean": control_mean,
                  "--control-sd": control_sd, "--control-n": control_n}
    if not outcome.strip():
        raise UsageError("--outcome cannot be empty")
    entry = None if remove else _data_entry(outcome, events, control_events, continuous,
                                            effect, se, note)
    store = _store(_settings(reviews_dir))
    with store.edit(slug) as review:
        studies = review.doc.get("studies") or []
        index = find_study(studies, study_id)
        if index is None:
            raise UsageError(f"review '{slug}' has no study '{study_id}'")
        study = studies[index]
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
    typer.echo(f"{action} {study_id}'s data for '{outcome.strip()}' in {review.path}")
    return EXIT_OK


def _insert_data(study: Any, data: list[dict[str, Any]]) -> None:
    """Put `data` where the schema lists it (after effect), keeping the other keys in order."""
    from evidence_cli.reviews.schema import STUDY_KEYS

    after = STUDY_KEYS[STUDY_KEYS.index("data") + 1:]
    keys = list(study.keys())
    position = next((i for i, key in enumerate(keys) if key in after), len(keys))
    if hasattr(study, "insert"):
        study.insert(position, "data", data)
    else:
        study["data"] = data


META_SUFFIXES = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".csv": "csv",
                 ".html": "html", ".htm": "html", ".tex": "latex", ".txt": "table"}


def _write(path: Path, content: str | bytes) -> None:
    from evidence_cli.atomic import write_atomic

    try:
        write_atomic(path, content)
    except OSError as error:
        raise InputError(str(path), f"cannot write: {error.strerror}") from None
    typer.echo(f"wrote {path}", err=True)


def _choose_format(output_format: str | None, output: Path | None, formats: tuple[str, ...],
                   suffixes: dict[str, str], default: str) -> str:
    if output_format is not None:
        chosen = output_format.lower()
    elif output is not None:
        chosen = suffixes.get(output.suffix.lower(), default)
    else:
        chosen = default
    if chosen not in formats:
        raise UsageError(f"--format must be one of {', '.join(formats)} (got {output_format!r})")
    return chosen


def _emit(text: str, output: Path | None, is_json: bool) -> None:
    """Print or write a report; control characters from the review never reach a terminal."""
    from evidence_cli.formats import inert, json_safe

    text = json_safe(text) if is_json else inert(text, keep="\n\t")
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        _write(output, text)


def meta(
    slug: str = SLUG,
    outcome: str = typer.Option(..., "--outcome", help="The outcome to pool (as in the studies' "
                                "data entries, case-insensitive)."),
    measure: str | None = typer.Option(None, "--measure", help="RR, OR, RD (counts), SMD, MD "
                                       "(means), ZCOR (r), HR (reported) [default: the one "
                                       "most studies' data give: RR for counts, SMD for means]."),
    method: str = typer.Option("REML", "--method", help="τ² estimator: REML, DL, PM, ML, or FE "
                               "(fixed effect)."),
    hksj: bool = typer.Option(False, "--hksj", help="Hartung–Knapp–Sidik–Jonkman CI and test "
                              "(t with k−1 df; metafor's test=\"knha\")."),
    include_flagged: bool = typer.Option(False, "--include-flagged", help="Keep studies whose "
                                         "audit found a retraction or could not verify them."),
    output_format: str | None = typer.Option(None, "--format", "-f", help="table, json, "
                                             "markdown, csv, html or latex (default: table, or "
                                             "from --output's suffix)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    forest: Path | None = typer.Option(None, "--forest", help="Write a forest plot (.svg, .png "
                                       "or .pdf)."),
    funnel: Path | None = typer.Option(None, "--funnel", help="Write a funnel plot (.svg, .png "
                                       "or .pdf)."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Pool one outcome's data across a review's studies (random effects by default)."""
    from evidence_cli.synthesis import effects, outcomes, pooling, report

    chosen = _choose_format(output_format, output, report.FORMATS, META_SUFFIXES, "table")
    try:
        chosen_method = pooling.parse_method(method)
        chosen_measure = effects.parse_measure(measure) if measure is not None else None
    except ValueError as error:
        raise UsageError(f"{'--method' if 'method' in str(error) else '--measure'}: "
                         f"{error}") from None
    for option, path in (("--forest", forest), ("--funnel", funnel)):
        if path is not None:
            from evidence_cli.synthesis.plots import plot_format

            try:
                plot_format(path)
            except ValueError as error:
                raise UsageError(f"{option}: {error}") from None
    review = _store(_settings(reviews_dir)).load(slug)
    try:
        data = outcomes.collect(review.doc, outcome, chosen_measure, include_flagged)
        result = outcomes.meta_analyse(data, chosen_method, hksj)
    except outcomes.NoData as error:
        raise NotPoolableError(str(error)) from None
    except ArithmeticError as error:
        raise NotPoolableError(f"outcome '{outcome}': {error}") from None
    _emit(report.render(result, chosen, slug), output, chosen == "json")
    if forest is not None or funnel is not None:
        from evidence_cli.synthesis import plots

        for path, kind in ((forest, "forest"), (funnel, "funnel")):
            if path is not None:
                _write(path, plots.render(result, path, kind))
    return EXIT_OK


def _rating(domain: str, text: str, reason: str | None) -> dict[str, str]:
    """`RATING[: REASON]` for one GRADE domain (a lone --reason applies when no ': ' is given)."""
    from evidence_cli.reviews import grading

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


def grade(
    slug: str = SLUG,
    outcome: str = typer.Option(..., "--outcome", help="The outcome being rated."),
    start: str | None = typer.Option(None, "--start", help="Starting certainty: high "
                                     "(randomised trials) or low (observational) [default: "
                                     "high when every study with data is an rct, else low]."),
    risk_of_bias: str | None = typer.Option(None, "--risk-of-bias", help="not serious, serious "
                                            "or very serious, optionally ': reason'."),
    inconsistency: str | None = typer.Option(None, "--inconsistency", help="As --risk-of-bias."),
    indirectness: str | None = typer.Option(None, "--indirectness", help="As --risk-of-bias."),
    imprecision: str | None = typer.Option(None, "--imprecision", help="As --risk-of-bias."),
    publication_bias: str | None = typer.Option(None, "--publication-bias",
                                                help="As --risk-of-bias."),
    large_effect: str | None = typer.Option(None, "--large-effect", help="no, large or very "
                                            "large, optionally ': reason' (rates up)."),
    dose_response: str | None = typer.Option(None, "--dose-response", help="no or yes (rates "
                                             "up)."),
    plausible_confounding: str | None = typer.Option(None, "--plausible-confounding",
                                                     help="no or yes: confounding would have "
                                                     "reduced the effect (rates up)."),
    reason: str | None = typer.Option(None, "--reason", help="The reason, when one domain is "
                                      "rated in this command."),
    assumed_risk: str | None = typer.Option(None, "--assumed-risk", help="Control risk for the "
                                            "summary of findings, e.g. 0.05 [default: the "
                                            "control arms' pooled risk]."),
    note: str | None = typer.Option(None, "--note", help="A comment shown in the table."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Rate the certainty of an outcome's evidence with GRADE (stored in the review)."""
    from evidence_cli.reviews import grading
    from evidence_cli.reviews.outcome_data import find_entry

    given = {"risk_of_bias": risk_of_bias, "inconsistency": inconsistency,
             "indirectness": indirectness, "imprecision": imprecision,
             "publication_bias": publication_bias, "large_effect": large_effect,
             "dose_response": dose_response, "plausible_confounding": plausible_confounding}
    rated = {domain: text for domain, text in given.items() if text is not None}
    if reason is not None and len(rated) != 1:
        raise UsageError("--reason goes with exactly one rated domain; write several as "
                         "--inconsistency 'serious: why'")
    changes = {domain: _rating(domain, text, reason) for domain, text in rated.items()}
    if start is not None and start.strip().lower() not in grading.STARTS:
        raise UsageError(f"--start: expected high or low (got {start!r})")
    risk = None
    if assumed_risk is not None:
        try:
            risk = float(assumed_risk)
        except ValueError:
            risk = -1.0
        if not 0 < risk < 1:
            raise UsageError(f"--assumed-risk: expected a proportion between 0 and 1, e.g. 0.05 "
                             f"(got {assumed_risk!r})")
    name = " ".join(outcome.split())
    if not name:
        raise UsageError("--outcome cannot be empty")
    store = _store(_settings(reviews_dir))
    if not changes and start is None and risk is None and note is None:
        # Nothing to change: show the outcome's rating without rewriting the file.
        doc = store.load(slug).doc
        index = find_entry(doc.get("grade") or [], name)
        if index is None:
            raise UsageError(f"review '{slug}' has no GRADE rating for '{name}'; rate a domain, "
                             "e.g. --risk-of-bias 'serious: why'")
        _show_judgement(doc, name, dict(doc["grade"][index]))
        return EXIT_OK
    with store.edit(slug) as review:
        doc = review.doc
        if doc.get("grade") is None:
            doc["grade"] = []
        entries = doc["grade"]
        index = find_entry(entries, name)
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
        if note is not None:
            if note.strip():
                entry["note"] = note.strip()
            else:
                entry.pop("note", None)
        snapshot = dict(entry)
    _show_judgement(doc, name, snapshot)
    return EXIT_OK


def _show_judgement(doc: Any, name: str, entry: dict[str, Any]) -> None:
    from evidence_cli.reviews import grading
    from evidence_cli.reviews.outcome_data import outcome_key

    key = outcome_key(name)
    studies = [s for s in doc.get("studies") or []
               if any(outcome_key(str(d.get("outcome", ""))) == key for d in s.get("data") or [])]
    all_rct = bool(studies) and all(s.get("design") == "rct" for s in studies)
    judgement = grading.judge(entry, "high" if all_rct else "low")
    typer.echo(f"{name}: certainty {judgement.certainty.label} {judgement.certainty.symbols} "
               f"(starting {judgement.start})")
    for line in judgement.reasons:
        typer.echo(f"  {line}")


SOF_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".csv": "csv", ".html": "html",
                ".htm": "html", ".json": "json", ".tex": "latex"}


def sof(
    slug: str = SLUG,
    output_format: str | None = typer.Option(None, "--format", "-f", help="markdown, csv, "
                                             "html, json or latex (default: markdown, or from "
                                             "--output's suffix)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    method: str = typer.Option("REML", "--method", help="τ² estimator for the pooled effects."),
    hksj: bool = typer.Option(False, "--hksj", help="Hartung–Knapp–Sidik–Jonkman intervals."),
    include_flagged: bool = typer.Option(False, "--include-flagged", help="Keep studies the "
                                         "audit flagged (retracted, unverifiable)."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Summary of findings (GRADEpro-like): each outcome's effect and certainty."""
    from evidence_cli.synthesis import outcomes, pooling
    from evidence_cli.synthesis import sof as sof_table

    chosen = _choose_format(output_format, output, sof_table.FORMATS, SOF_SUFFIXES, "markdown")
    try:
        chosen_method = pooling.parse_method(method)
    except ValueError as error:
        raise UsageError(f"--method: {error}") from None
    review = _store(_settings(reviews_dir)).load(slug)
    try:
        rows = sof_table.build(review.doc, chosen_method, hksj, include_flagged)
    except outcomes.NoData as error:
        raise NotPoolableError(str(error)) from None
    _emit(sof_table.render(review.doc, rows, chosen), output, chosen == "json")
    return EXIT_OK


def register(app: typer.Typer) -> None:
    """`study data` is registered on the study group when this module is imported."""
    app.command("meta")(meta)
    app.command("grade")(grade)
    app.command("sof")(sof)
