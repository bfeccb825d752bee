"""`evidence review new|list|show|validate|audit`: whole review files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evidence_cli.commands import common
from evidence_cli.commands import options as opt
from evidence_cli.errors import EXIT_FINDINGS, EXIT_OK
from evidence_cli.formats import count
from evidence_cli.models import FailOn, exit_code

if TYPE_CHECKING:
    from evidence_cli.models import ReferenceResult
    from evidence_cli.reviews.auditing import ClaimVerdict

review_app = typer.Typer(help="Create, list, show, validate and audit reviews.",
                         no_args_is_help=True)


@review_app.command("new")
def review_new(
    slug: str = opt.SLUG,
    title: str = typer.Option(..., "--title", help="The review's title."),
    question: str | None = opt.text("--question", "The question, in one sentence."),
    population: str | None = opt.text("--population", "Question: population."),
    intervention: str | None = opt.text("--intervention", "Question: intervention."),
    comparator: str | None = opt.text("--comparator", "Question: comparator."),
    outcome: str | None = opt.text("--outcome", "Question: outcome."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Create an empty review file."""
    from evidence_cli.reviews.catalogue import Question, create_review

    asked = Question(question, population, intervention, comparator, outcome)
    path = create_review(opt.store_for(reviews_dir), slug, title, asked)
    typer.echo(f"created {path}")
    return EXIT_OK


@review_app.command("list")
def review_list(
    output_json: bool = opt.flag("--json", "Print JSON."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """List the reviews in the reviews folder."""
    from evidence_cli.reviews.catalogue import entry_line, list_reviews

    store = opt.store_for(reviews_dir)
    entries = list_reviews(store)
    if output_json:
        typer.echo(json.dumps({"reviews_dir": str(store.directory), "reviews": entries},
                              ensure_ascii=False, indent=2))
        return EXIT_OK
    if not entries:
        typer.echo(f"no reviews in {store.directory}")
    for entry in entries:
        typer.echo(entry_line(entry))
    return EXIT_OK


@review_app.command("show")
def review_show(
    slug: str = opt.SLUG,
    output_json: bool = opt.flag("--json", "Print the whole review as JSON."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Show a review: its question, studies and claims."""
    from evidence_cli.reviews.catalogue import describe
    from evidence_cli.reviews.yamlio import to_plain

    review = opt.store_for(reviews_dir).load(slug)
    if output_json:
        typer.echo(json.dumps(to_plain(review.doc), ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(describe(review)))
    return EXIT_OK


@review_app.command("validate")
def review_validate(
    slug: str | None = typer.Argument(None, help="One review; all reviews when left out."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Check review files against the schema; exit 1 when any is invalid (for CI)."""
    from evidence_cli.reviews.catalogue import validate_reviews

    store = opt.store_for(reviews_dir)
    checked = validate_reviews(store, slug)
    if slug is None and not checked:
        typer.echo(f"no reviews in {store.directory}")
    for validation in checked:
        if validation.ok:
            typer.echo(f"ok: {validation.path}")
        for problem in validation.problems:
            typer.echo(problem, err=True)
    return EXIT_FINDINGS if any(not v.ok for v in checked) else EXIT_OK


@review_app.command("audit")
def review_audit(
    slug: str = opt.SLUG,
    output_json: bool = opt.flag("--json", "Print the check report as JSON."),
    fail_on: FailOn | None = typer.Option(
        None, "--fail-on", help="Exit 1 when findings reach this severity [default: error]."
    ),
    crossref_url: str | None = common.CROSSREF_URL,
    mailto: str | None = common.MAILTO,
    cache_dir: Path | None = common.CACHE_DIR,
    offline: bool | None = common.OFFLINE,
    refresh: bool | None = common.REFRESH,
    timeout: float | None = common.TIMEOUT,
    ncbi_url: str | None = common.NCBI_URL,
    ncbi_api_key: str | None = common.NCBI_API_KEY,
    datacite_url: str | None = common.DATACITE_URL,
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Check every study's citation against Crossref (and PubMed, DataCite), store the result,
    and flag claims."""
    from evidence_cli.audit import audit_references, build_report
    from evidence_cli.reviews import auditing
    from evidence_cli.reviews.yamlio import to_plain

    settings = opt.review_settings(
        reviews_dir, crossref_url=crossref_url, mailto=mailto, cache_dir=cache_dir,
        offline=offline, refresh=refresh, timeout=timeout, fail_on=fail_on, ncbi_url=ncbi_url,
        ncbi_api_key=ncbi_api_key, datacite_url=datacite_url,
    )
    done = auditing.audit_review(opt.review_store(settings), slug,
                                 lambda references: audit_references(references, settings))
    if output_json:
        claims = [{"id": v.claim_id, "statement": v.statement, "status": v.status,
                   "problems": v.problems} for v in done.verdicts]
        typer.echo(json.dumps({"review": slug, "report": build_report(done.results),
                               "claims": to_plain(claims)}, ensure_ascii=False, indent=2))
    else:
        _print_audit(done.results, done.verdicts)
    return exit_code(done.results, settings.fail_on,
                     also=[verdict.worst for verdict in done.verdicts])


def _print_audit(results: list[ReferenceResult], verdicts: list[ClaimVerdict]) -> None:
    for result in results:
        codes = [f.code for f in result.findings]
        alarm = "RETRACTED  " if "retracted" in codes else ""
        typer.echo(f"{result.reference.id}  {alarm}{result.status}"
                   + (f"  ({', '.join(codes)})" if codes else ""))
        for finding in result.findings:
            typer.echo(f"    {finding.severity.value}: {finding.code}: {finding.message}")
    for verdict in verdicts:
        if verdict.problems:
            typer.echo(f"claim {verdict.claim_id} FLAGGED: {'; '.join(verdict.problems)}")
        else:
            typer.echo(f"claim {verdict.claim_id} ok")
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no studies"
    flagged = sum(1 for v in verdicts if v.problems)
    sys.stderr.write(f"{count(len(results), 'study', 'studies')}: {summary}; {flagged} of "
                     f"{count(len(verdicts), 'claim')} flagged\n")


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")

