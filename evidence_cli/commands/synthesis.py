"""`evidence study data|meta|grade|sof`: outcome data, pooled effects, plots and GRADE tables."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from evidence_cli.commands import options as opt
from evidence_cli.commands.study import study_app
from evidence_cli.errors import EXIT_OK, NotPoolableError, UsageError


@study_app.command("data")
def study_data(
    slug: str = opt.SLUG,
    study_id: str = opt.STUDY_ID,
    outcome: str = typer.Option(..., "--outcome", help="The outcome's name (matched "
                                "case-insensitively), e.g. Tuberculosis."),
    events: str | None = opt.text("--events", "Intervention arm: EVENTS/TOTAL, e.g. 4/123."),
    control_events: str | None = opt.text("--control-events", "Control arm: EVENTS/TOTAL."),
    mean: str | None = opt.text("--mean", "Intervention arm: mean."),
    sd: str | None = opt.text("--sd", "Intervention arm: standard deviation."),
    n: str | None = opt.text("--n", "Intervention arm: participants."),
    control_mean: str | None = opt.text("--control-mean", "Control arm: mean."),
    control_sd: str | None = opt.text("--control-sd", "Control arm: SD."),
    control_n: str | None = opt.text("--control-n", "Control arm: participants."),
    effect: str | None = opt.text("--effect", "A reported effect with its 95% CI, e.g. 'SMD "
                                  "-0.85 [-1.40, -0.30]' or 'OR 2.82 (95% CI 1.18-6.75)'."),
    se: str | None = opt.text("--se", "The reported effect's standard error (log scale for OR, "
                              "RR, HR), instead of a CI."),
    note: str | None = opt.text("--note", "Where the numbers come from."),
    remove: bool = opt.flag("--remove", "Remove the outcome's data instead."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Add or replace a study's data for one outcome (what `evidence meta` pools)."""
    from evidence_cli.reviews.recording import DataOptions, set_data

    given = None if remove else DataOptions(events, control_events, mean, sd, n, control_mean,
                                            control_sd, control_n, effect, se, note)
    action, path = set_data(opt.store_for(reviews_dir), slug, study_id, outcome, given)
    typer.echo(f"{action} {study_id}'s data for '{outcome.strip()}' in {path}")
    return EXIT_OK


META_SUFFIXES = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".csv": "csv",
                 ".html": "html", ".htm": "html", ".tex": "latex", ".txt": "table"}


def _emit(text: str, output: Path | None, is_json: bool) -> None:
    """Print or write a report; control characters from the review never reach a terminal."""
    from evidence_cli.formats import inert, json_safe

    text = json_safe(text) if is_json else inert(text, keep="\n\t")
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        opt.write_output(output, text)


def meta(
    slug: str = opt.SLUG,
    outcome: str = typer.Option(..., "--outcome", help="The outcome to pool (as in the studies' "
                                "data entries, case-insensitive)."),
    measure: str | None = opt.text("--measure", "RR, OR, RD (counts), SMD, MD (means), ZCOR "
                                   "(r), HR (reported) [default: the one most studies' data "
                                   "give: RR for counts, SMD for means]."),
    method: str = opt.method("τ² estimator: REML, DL, PM, ML, or FE (fixed effect)."),
    hksj: bool = opt.flag("--hksj", "Hartung–Knapp–Sidik–Jonkman CI and test (t with k−1 df; "
                          "metafor's test=\"knha\")."),
    include_flagged: bool = opt.flag("--include-flagged", "Keep studies whose audit found a "
                                     "retraction or could not verify them."),
    output_format: str | None = opt.output_format("table, json, markdown, csv, html or latex "
                                                  "(default: table, or from --output's "
                                                  "suffix)."),
    output: Path | None = opt.OUTPUT,
    forest: Path | None = opt.text("--forest", "Write a forest plot (.svg, .png or .pdf)."),
    funnel: Path | None = opt.text("--funnel", "Write a funnel plot (.svg, .png or .pdf)."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Pool one outcome's data across a review's studies (random effects by default)."""
    from evidence_cli.synthesis import effects, outcomes, pooling, report

    chosen = opt.choose_format(output_format, output, report.FORMATS, META_SUFFIXES, "table")
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
    review = opt.store_for(reviews_dir).load(slug)
    result = outcomes.pool(review.doc, outcome, chosen_measure, include_flagged, chosen_method,
                           hksj)
    _emit(report.render(result, chosen, slug), output, chosen == "json")
    if forest is not None or funnel is not None:
        from evidence_cli.synthesis import plots

        for path, kind in ((forest, "forest"), (funnel, "funnel")):
            if path is not None:
                opt.write_output(path, plots.render(result, path, kind))
    return EXIT_OK


def grade(
    slug: str = opt.SLUG,
    outcome: str = typer.Option(..., "--outcome", help="The outcome being rated."),
    start: str | None = opt.text("--start", "Starting certainty: high (randomised trials) or "
                                 "low (observational) [default: high when every study with "
                                 "data is an rct, else low]."),
    risk_of_bias: str | None = opt.text("--risk-of-bias", "not serious, serious or very "
                                        "serious, optionally ': reason'."),
    inconsistency: str | None = opt.text("--inconsistency", "As --risk-of-bias."),
    indirectness: str | None = opt.text("--indirectness", "As --risk-of-bias."),
    imprecision: str | None = opt.text("--imprecision", "As --risk-of-bias."),
    publication_bias: str | None = opt.text("--publication-bias", "As --risk-of-bias."),
    large_effect: str | None = opt.text("--large-effect", "no, large or very large, optionally "
                                        "': reason' (rates up)."),
    dose_response: str | None = opt.text("--dose-response", "no or yes (rates up)."),
    plausible_confounding: str | None = opt.text("--plausible-confounding", "no or yes: "
                                                 "confounding would have reduced the effect "
                                                 "(rates up)."),
    reason: str | None = opt.text("--reason", "The reason, when one domain is rated in this "
                                  "command."),
    assumed_risk: str | None = opt.text("--assumed-risk", "Control risk for the summary of "
                                        "findings, e.g. 0.05 [default: the control arms' "
                                        "pooled risk]."),
    note: str | None = opt.text("--note", "A comment shown in the table."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Rate the certainty of an outcome's evidence with GRADE (stored in the review)."""
    from evidence_cli.reviews.recording import Rating, rate_outcome

    domains = {"risk_of_bias": risk_of_bias, "inconsistency": inconsistency,
               "indirectness": indirectness, "imprecision": imprecision,
               "publication_bias": publication_bias, "large_effect": large_effect,
               "dose_response": dose_response, "plausible_confounding": plausible_confounding}
    name, judgement = rate_outcome(opt.store_for(reviews_dir), slug, outcome,
                                   Rating(domains, reason, start, assumed_risk, note))
    typer.echo(f"{name}: certainty {judgement.certainty.label} {judgement.certainty.symbols} "
               f"(starting {judgement.start})")
    for line in judgement.reasons:
        typer.echo(f"  {line}")
    return EXIT_OK


def sof(
    slug: str = opt.SLUG,
    output_format: str | None = opt.output_format("markdown, csv, html, json or latex "
                                                  "(default: markdown, or from --output's "
                                                  "suffix)."),
    output: Path | None = opt.OUTPUT,
    method: str = opt.method("τ² estimator for the pooled effects."),
    hksj: bool = opt.flag("--hksj", "Hartung–Knapp–Sidik–Jonkman intervals."),
    include_flagged: bool = opt.flag("--include-flagged", "Keep studies the audit flagged "
                                     "(retracted, unverifiable)."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Summary of findings (GRADEpro-like): each outcome's effect and certainty."""
    from evidence_cli.synthesis import outcomes, pooling
    from evidence_cli.synthesis import sof as sof_table

    chosen = opt.choose_format(output_format, output, sof_table.FORMATS, opt.DOCUMENT_SUFFIXES,
                               "markdown")
    try:
        chosen_method = pooling.parse_method(method)
    except ValueError as error:
        raise UsageError(f"--method: {error}") from None
    review = opt.store_for(reviews_dir).load(slug)
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
