"""`evidence study add|edit|remove|list`: the studies of a review."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from evidence_cli.commands import common
from evidence_cli.commands import options as opt
from evidence_cli.errors import EXIT_OK

if TYPE_CHECKING:
    from evidence_cli.services.crossref import WorkLookup
    from evidence_cli.services.pubmed import ArticleLookup
    from evidence_cli.settings import Settings

study_app = typer.Typer(help="Add, edit, remove and list the studies of a review.",
                        no_args_is_help=True)


class SessionRegistries:
    """Crossref and PubMed lookups (cache-aware) on the run's settings, for `add_study`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def works(self, dois: list[str]) -> Mapping[str, WorkLookup]:
        from evidence_cli.services.session import lookup_works

        return lookup_works(self.settings, dois)

    def articles(self, pmids: list[str]) -> Mapping[str, ArticleLookup]:
        from evidence_cli.services.session import lookup_articles

        return lookup_articles(self.settings, pmids)


@study_app.command("add")
def study_add(
    slug: str = opt.SLUG,
    doi: str | None = opt.text("--doi", "The study's DOI; the citation is filled from Crossref."),
    pmid: str | None = opt.text("--pmid", "The study's PubMed id; the citation (and DOI) is "
                                "filled from PubMed."),
    unverified: bool = opt.flag("--unverified", "Add the study even when Crossref cannot "
                                "confirm the DOI (a caveat records it)."),
    allow_retracted: bool = opt.flag("--allow-retracted", "Add a retracted study, or one with "
                                     "an expression of concern (it is marked in the review)."),
    study_id: str | None = opt.text("--id", "Citation key [default: author-year]."),
    design: str | None = opt.text("--design", "rct, quasi-experimental, cohort, case-control, "
                                  "cross-sectional, survey, qualitative, systematic-review, "
                                  "meta-analysis or other."),
    population: str | None = opt.text("--population", "Who was studied."),
    n: str | None = opt.text("--n", "Number of participants."),
    age: str | None = opt.text("--age", "Participants' age (text)."),
    sex: str | None = opt.text("--sex", "Participants' sex (text)."),
    setting: str | None = opt.text("--setting", "Where it took place."),
    country: str | None = opt.text("--country", "Country."),
    intervention: str | None = opt.text("--intervention", "Intervention."),
    comparator: str | None = opt.text("--comparator", "Comparator."),
    outcome: list[str] = opt.texts("--outcome", "NAME[; INSTRUMENT[; TIMEPOINT]] (repeatable)."),
    effect: list[str] = opt.texts("--effect", "E.g. 'SMD -0.85 [-1.40, -0.30]', 'OR 2.82 (95% "
                                  "CI 1.18-6.75)', '6.5%', or free text (repeatable)."),
    follow_up: str | None = opt.text("--follow-up", "Follow-up period."),
    risk_of_bias: str | None = opt.text("--risk-of-bias", "low, some concerns or high, "
                                        "optionally ': note'."),
    caveat: list[str] = opt.texts("--caveat", "A caveat (repeatable)."),
    note: str | None = opt.text("--note", "Notes."),
    title: str | None = opt.text("--title", "Citation title (without a DOI, or to override "
                                 "Crossref's)."),
    author: list[str] = opt.texts("--author", "Citation author (repeatable)."),
    year: str | None = opt.text("--year", "Citation year."),
    container: str | None = opt.text("--container", "Journal or book."),
    volume: str | None = opt.text("--volume", "Volume."),
    issue: str | None = opt.text("--issue", "Issue."),
    pages: str | None = opt.text("--pages", "Pages or article number."),
    url: str | None = opt.text("--url", "URL (for a study without a DOI)."),
    crossref_url: str | None = common.CROSSREF_URL,
    mailto: str | None = common.MAILTO,
    cache_dir: Path | None = common.CACHE_DIR,
    offline: bool | None = common.OFFLINE,
    refresh: bool | None = common.REFRESH,
    timeout: float | None = common.TIMEOUT,
    ncbi_url: str | None = common.NCBI_URL,
    ncbi_api_key: str | None = common.NCBI_API_KEY,
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Add a study; with --doi the citation comes from Crossref, with --pmid from PubMed (unknown
    ids and retracted works are refused)."""
    from evidence_cli.reviews.studies import StudyOptions, add_study, first_author_label

    given = StudyOptions(
        doi=doi, pmid=pmid, unverified=unverified, allow_retracted=allow_retracted,
        study_id=study_id, design=design, population=population, n=n, age=age, sex=sex,
        setting=setting, country=country, intervention=intervention, comparator=comparator,
        outcomes=tuple(outcome), effects=tuple(effect), follow_up=follow_up,
        risk_of_bias=risk_of_bias, caveats=tuple(caveat), note=note, title=title,
        authors=tuple(author), year=year, container=container, volume=volume, issue=issue,
        pages=pages, url=url,
    )
    settings = opt.review_settings(
        reviews_dir, crossref_url=crossref_url, mailto=mailto, cache_dir=cache_dir,
        offline=offline, refresh=refresh, timeout=timeout, ncbi_url=ncbi_url,
        ncbi_api_key=ncbi_api_key,
    )
    added = add_study(opt.review_store(settings), slug, given, SessionRegistries(settings),
                      warn=lambda line: typer.echo(line, err=True))
    citation = added.citation
    shown = first_author_label(citation.get("authors") or []) or citation.get("title", "")
    where = f", doi:{added.doi}" if added.doi else ""
    where += f", pmid:{added.pmid}" if added.pmid else ""
    typer.echo(f"added {added.study_id} to {added.path}: {shown} "
               f"{citation.get('year', 'n.d.')}{where}")
    return EXIT_OK


@study_app.command("edit")
def study_edit(
    slug: str = opt.SLUG,
    study_id: str = opt.STUDY_ID,
    assignments: list[str] = typer.Option(..., "--set", help="FIELD=VALUE (FIELD+=VALUE "
                                          "appends to caveats, outcomes, effect; an empty "
                                          "VALUE removes the field). Repeatable."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Change fields of a study."""
    from evidence_cli.reviews.studies import edit_study, parse_assignment
    from evidence_cli.reviews.values import parsed

    changes = [parsed("--set", parse_assignment, text) for text in assignments]
    new_id, path = edit_study(opt.store_for(reviews_dir), slug, study_id, changes)
    typer.echo(f"updated {new_id} in {path}")
    return EXIT_OK


@study_app.command("remove")
def study_remove(
    slug: str = opt.SLUG,
    study_id: str = opt.STUDY_ID,
    force: bool = opt.flag("--force", "Remove it even when claims cite it (they are then "
                           "flagged by `review audit`)."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Remove a study from a review."""
    from evidence_cli.reviews.studies import remove_study

    path = remove_study(opt.store_for(reviews_dir), slug, study_id, force=force)
    typer.echo(f"removed {study_id} from {path}")
    return EXIT_OK


@study_app.command("list")
def study_list(
    slug: str = opt.SLUG,
    output_json: bool = opt.flag("--json", "Print the studies as JSON."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """List a review's studies."""
    from evidence_cli.reviews.catalogue import study_line

    return print_items(slug, reviews_dir, "studies", output_json, study_line)


def print_items(slug: str, reviews_dir: Path | None, part: str, as_json: bool,
                line: Callable[[Any], str]) -> int:
    """A review's studies or claims (`part`): as JSON, or one line each."""
    from evidence_cli.reviews.yamlio import to_plain

    review = opt.store_for(reviews_dir).load(slug)
    items = review.doc.get(part) or []
    if as_json:
        typer.echo(json.dumps(to_plain(items), ensure_ascii=False, indent=2))
        return EXIT_OK
    if not items:
        typer.echo(f"no {part} in {review.path}")
    for item in items:
        typer.echo(line(item))
    return EXIT_OK


def register(app: typer.Typer) -> None:
    app.add_typer(study_app, name="study")
