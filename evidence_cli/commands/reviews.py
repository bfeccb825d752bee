"""`evidence review|study|claim|table`: keep studies and claims in review files, render tables."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from evidence_cli.commands import common
from evidence_cli.errors import EXIT_FINDINGS, EXIT_OK, EvidenceError, ServiceError, UsageError
from evidence_cli.formats import count

if TYPE_CHECKING:
    from evidence_cli.reviews.store import ReviewStore
    from evidence_cli.settings import Settings

review_app = typer.Typer(help="Create, list, show, validate and audit reviews.",
                         no_args_is_help=True)
study_app = typer.Typer(help="Add, edit, remove and list the studies of a review.",
                        no_args_is_help=True)
claim_app = typer.Typer(help="Claims you want to make, tied to the studies behind them.",
                        no_args_is_help=True)

REVIEWS_DIR = typer.Option(
    None, "--reviews-dir", help="Folder of review files [env: EVIDENCE_REVIEWS_DIR].",
    show_default="./reviews",
)
SLUG = typer.Argument(..., help="The review's slug (its file is <reviews-dir>/<slug>.yaml).")
TABLE_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".csv": "csv", ".html": "html",
                  ".htm": "html", ".json": "json", ".tex": "latex"}


class RefusedError(EvidenceError):
    """A study the checks say should not be added (a DOI that no agency knows)."""

    exit_code = EXIT_FINDINGS


def _settings(reviews_dir: Path | None, **crossref: Any) -> Settings:
    from evidence_cli.settings import resolve_settings

    return resolve_settings({"reviews_dir": reviews_dir, **crossref})


def _store(settings: Settings) -> ReviewStore:
    from evidence_cli.reviews.store import ReviewStore

    return ReviewStore(settings.reviews_dir)


def _parsed(option: str, parse: Any, text: Any) -> Any:
    """Run an option's parser; a bad value becomes a usage error naming the option."""
    try:
        return parse(text)
    except ValueError as error:
        raise UsageError(f"{option}: {error}") from None


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# --- review -------------------------------------------------------------------------------------


@review_app.command("new")
def review_new(
    slug: str = SLUG,
    title: str = typer.Option(..., "--title", help="The review's title."),
    question: str | None = typer.Option(None, "--question", help="The question, in one sentence."),
    population: str | None = typer.Option(None, "--population", help="Question: population."),
    intervention: str | None = typer.Option(None, "--intervention",
                                            help="Question: intervention."),
    comparator: str | None = typer.Option(None, "--comparator", help="Question: comparator."),
    outcome: str | None = typer.Option(None, "--outcome", help="Question: outcome."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Create an empty review file."""
    from ruamel.yaml.comments import CommentedMap

    from evidence_cli.reviews.store import check_slug

    check_slug(slug)
    if not title.strip():
        raise UsageError("--title cannot be empty")
    store = _store(_settings(reviews_dir))
    parts = {"text": question, "population": population, "intervention": intervention,
             "comparator": comparator, "outcome": outcome}
    doc = CommentedMap()
    doc["slug"] = slug
    doc["title"] = title.strip()
    if any(value and value.strip() for value in parts.values()):
        doc["question"] = {key: value.strip() for key, value in parts.items()
                           if value and value.strip()}
    today = _today()
    doc["created"] = today
    doc["updated"] = today
    doc["studies"] = []
    doc["claims"] = []
    doc.yaml_set_start_comment(
        "Evidence review kept by evidence-cli. Edit by hand or with `evidence study add`;\n"
        "`evidence review validate` checks the file, `evidence table` renders it."
    )
    path = store.create(slug, doc)
    typer.echo(f"created {path}")
    return EXIT_OK


@review_app.command("list")
def review_list(
    output_json: bool = typer.Option(False, "--json", help="Print JSON."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """List the reviews in the reviews folder."""
    store = _store(_settings(reviews_dir))
    entries: list[dict[str, Any]] = []
    for slug in store.slugs():
        try:
            review = store.read(slug)
        except EvidenceError as error:
            entries.append({"slug": slug, "valid": False, "problem": error.message})
            continue
        doc = review.doc if isinstance(review.doc, dict) else {}
        entries.append({
            "slug": slug, "valid": not review.problems, "title": str(doc.get("title", "")),
            "studies": len(doc.get("studies") or []), "claims": len(doc.get("claims") or []),
            "path": str(review.path),
        })
    if output_json:
        typer.echo(json.dumps({"reviews_dir": str(store.directory), "reviews": entries},
                              ensure_ascii=False, indent=2))
        return EXIT_OK
    if not entries:
        typer.echo(f"no reviews in {store.directory}")
    for entry in entries:
        if "problem" in entry:
            typer.echo(f"{entry['slug']}  UNREADABLE  {entry['problem']}")
        else:
            flag = "" if entry["valid"] else "  (INVALID: run `evidence review validate`)"
            typer.echo(f"{entry['slug']}  {count(entry['studies'], 'study', 'studies')}  "
                       f"{count(entry['claims'], 'claim')}  {entry['title']}{flag}")
    return EXIT_OK


@review_app.command("show")
def review_show(
    slug: str = SLUG,
    output_json: bool = typer.Option(False, "--json", help="Print the whole review as JSON."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Show a review: its question, studies and claims."""
    from evidence_cli.reviews.studies import first_author_label
    from evidence_cli.reviews.tables import is_retracted, to_plain

    review = _store(_settings(reviews_dir)).load(slug)
    doc = review.doc
    if output_json:
        typer.echo(json.dumps(to_plain(doc), ensure_ascii=False, indent=2))
        return EXIT_OK
    lines = [f"{doc['slug']}: {doc['title']}", f"file: {review.path}"]
    question = doc.get("question")
    if isinstance(question, str):
        lines.append(f"question: {question}")
    elif question:
        lines.extend(f"{key}: {value}" for key, value in question.items())
    lines.append(f"created {to_plain(doc.get('created'))}, updated {to_plain(doc.get('updated'))}")
    lines.extend(f"caveat: {caveat}" for caveat in doc.get("caveats") or [])
    studies = doc.get("studies") or []
    lines.append(f"studies ({len(studies)}):")
    for study in studies:
        lines.append("  " + _study_line(study, first_author_label, is_retracted))
    claims = doc.get("claims") or []
    lines.append(f"claims ({len(claims)}):")
    for claim in claims:
        lines.append("  " + _claim_line(claim))
    typer.echo("\n".join(lines))
    return EXIT_OK


def _audit_text(audit: Any) -> str:
    if not audit:
        return "not audited"
    codes = ", ".join(audit.get("findings") or audit.get("problems") or [])
    text = f"{audit.get('status')}: {codes}" if codes else str(audit.get("status"))
    return f"{text} ({audit.get('date')})"


def _study_line(study: Any, label_of: Any, is_retracted: Any) -> str:
    citation = study.get("citation") or {}
    label = label_of(citation.get("authors") or []) or citation.get("title") or "(no author)"
    year = citation.get("year") or "n.d."
    where = f"doi:{citation['doi']}" if citation.get("doi") else (citation.get("url") or "no DOI")
    n = (study.get("population") or {}).get("n")
    alarm = "RETRACTED  " if is_retracted(study) else ""
    parts = [str(study.get("id")), f"{alarm}{label} {year}", where,
             str(study.get("design") or "design?"), f"n={n}" if n else "n=?",
             f"audit: {_audit_text(study.get('audit'))}"]
    return "  ".join(parts)


def _claim_line(claim: Any) -> str:
    studies = ", ".join(claim.get("studies") or [])
    return f"{claim.get('id')}  \"{claim.get('statement')}\"  [{studies}]  " \
           f"audit: {_audit_text(claim.get('audit'))}"


@review_app.command("validate")
def review_validate(
    slug: str | None = typer.Argument(None, help="One review; all reviews when left out."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Check review files against the schema; exit 1 when any is invalid (for CI)."""
    from evidence_cli.reviews.schema import dangling_references

    store = _store(_settings(reviews_dir))
    slugs = [slug] if slug is not None else store.slugs()
    if slug is None and not slugs:
        typer.echo(f"no reviews in {store.directory}")
        return EXIT_OK
    invalid = 0
    for name in slugs:
        try:
            review = store.read(name)
        except EvidenceError as error:
            if slug is not None and not store.exists(name):
                raise  # an explicitly named review that is not there: exit 3
            invalid += 1
            typer.echo(f"evidence: invalid: {error.message}", err=True)
            continue
        problems = review.problems + dangling_references(review.doc)
        if problems:
            invalid += 1
            for problem in problems:
                typer.echo(problem.render(review.display_path), err=True)
        else:
            typer.echo(f"ok: {review.path}")
    return EXIT_FINDINGS if invalid else EXIT_OK


@review_app.command("audit")
def review_audit(
    slug: str = SLUG,
    output_json: bool = typer.Option(False, "--json", help="Print the check report as JSON."),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 when findings reach this severity: error, warning, "
        "never [default: error]."
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
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Check every study's citation against Crossref (and PubMed, DataCite), store the result,
    and flag claims."""
    from evidence_cli.audit import audit_references, build_report
    from evidence_cli.reviews import auditing
    from evidence_cli.reviews.tables import to_plain

    if fail_on is not None and fail_on not in ("error", "warning", "never"):
        raise UsageError(f"--fail-on must be error, warning or never (got {fail_on!r})")
    settings = _settings(
        reviews_dir, crossref_url=crossref_url, mailto=mailto, cache_dir=cache_dir,
        offline=offline, refresh=refresh, timeout=timeout, fail_on=fail_on, ncbi_url=ncbi_url,
        ncbi_api_key=ncbi_api_key, datacite_url=datacite_url,
    )
    store = _store(settings)
    review = store.load(slug)
    studies = list(review.doc.get("studies") or [])
    references = auditing.references_of(studies, review.display_path)
    # The network part runs without the lock; the results are merged under it afterwards, into
    # whatever the file holds then, for the studies whose citation did not change meanwhile.
    results = audit_references(references, settings) if references else []
    today = _today()
    audited = {ref.id: (ref, result) for ref, result in zip(references, results, strict=True)}
    statuses: dict[str, tuple[str, list[str]]] = {}
    with store.edit(slug) as current:
        for study in current.doc.get("studies") or []:
            entry = audited.get(study.get("id"))
            if entry is not None:
                ref, result = entry
                now = auditing.reference_of(study, ref.source.path, ref.source.line)
            if entry is None or now.cited != ref.cited:
                # Added or edited while we were checking: it is in the review, but this audit
                # did not check it (its stored audit, if any, is left as it was).
                statuses[str(study.get("id"))] = ("unverifiable", [])
                continue
            study["audit"] = auditing.study_audit(result, today)
            statuses[str(study["id"])] = (result.status, list(study["audit"]["findings"]))
        verdicts = auditing.judge_claims(current.doc.get("claims") or [], statuses)
        for claim, verdict in zip(current.doc.get("claims") or [], verdicts, strict=True):
            claim["audit"] = auditing.claim_audit(verdict, today)
    if output_json:
        report = build_report(results)
        claims = [{"id": v.claim_id, "statement": v.statement, "status": v.status,
                   "problems": v.problems} for v in verdicts]
        typer.echo(json.dumps({"review": slug, "report": report, "claims": to_plain(claims)},
                              ensure_ascii=False, indent=2))
    else:
        _print_audit(results, verdicts)
    return auditing.exit_code(results, verdicts, settings.fail_on)


def _print_audit(results: list[Any], verdicts: list[Any]) -> None:
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


# --- study --------------------------------------------------------------------------------------


@study_app.command("add")
def study_add(
    slug: str = SLUG,
    doi: str | None = typer.Option(None, "--doi", help="The study's DOI; the citation is filled "
                                   "from Crossref."),
    pmid: str | None = typer.Option(None, "--pmid", help="The study's PubMed id; the citation "
                                    "(and DOI) is filled from PubMed."),
    unverified: bool = typer.Option(False, "--unverified", help="Add the study even when "
                                    "Crossref cannot confirm the DOI (a caveat records it)."),
    allow_retracted: bool = typer.Option(False, "--allow-retracted", help="Add a retracted "
                                         "study, or one with an expression of concern (it is "
                                         "marked in the review)."),
    study_id: str | None = typer.Option(None, "--id", help="Citation key [default: "
                                        "author-year]."),
    design: str | None = typer.Option(None, "--design", help="rct, quasi-experimental, cohort, "
                                      "case-control, cross-sectional, survey, qualitative, "
                                      "systematic-review, meta-analysis or other."),
    population: str | None = typer.Option(None, "--population", help="Who was studied."),
    n: str | None = typer.Option(None, "--n", help="Number of participants."),
    age: str | None = typer.Option(None, "--age", help="Participants' age (text)."),
    sex: str | None = typer.Option(None, "--sex", help="Participants' sex (text)."),
    setting: str | None = typer.Option(None, "--setting", help="Where it took place."),
    country: str | None = typer.Option(None, "--country", help="Country."),
    intervention: str | None = typer.Option(None, "--intervention", help="Intervention."),
    comparator: str | None = typer.Option(None, "--comparator", help="Comparator."),
    outcome: list[str] = typer.Option([], "--outcome", help="NAME[; INSTRUMENT[; TIMEPOINT]] "
                                      "(repeatable)."),
    effect: list[str] = typer.Option([], "--effect", help="E.g. 'SMD -0.85 [-1.40, -0.30]', "
                                     "'OR 2.82 (95% CI 1.18-6.75)', '6.5%', or free text "
                                     "(repeatable)."),
    follow_up: str | None = typer.Option(None, "--follow-up", help="Follow-up period."),
    risk_of_bias: str | None = typer.Option(None, "--risk-of-bias", help="low, some concerns "
                                            "or high, optionally ': note'."),
    caveat: list[str] = typer.Option([], "--caveat", help="A caveat (repeatable)."),
    note: str | None = typer.Option(None, "--note", help="Notes."),
    title: str | None = typer.Option(None, "--title", help="Citation title (without a DOI, or "
                                     "to override Crossref's)."),
    author: list[str] = typer.Option([], "--author", help="Citation author (repeatable)."),
    year: str | None = typer.Option(None, "--year", help="Citation year."),
    container: str | None = typer.Option(None, "--container", help="Journal or book."),
    volume: str | None = typer.Option(None, "--volume", help="Volume."),
    issue: str | None = typer.Option(None, "--issue", help="Issue."),
    pages: str | None = typer.Option(None, "--pages", help="Pages or article number."),
    url: str | None = typer.Option(None, "--url", help="URL (for a study without a DOI)."),
    crossref_url: str | None = common.CROSSREF_URL,
    mailto: str | None = common.MAILTO,
    cache_dir: Path | None = common.CACHE_DIR,
    offline: bool | None = common.OFFLINE,
    refresh: bool | None = common.REFRESH,
    timeout: float | None = common.TIMEOUT,
    ncbi_url: str | None = common.NCBI_URL,
    ncbi_api_key: str | None = common.NCBI_API_KEY,
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Add a study; with --doi the citation comes from Crossref, with --pmid from PubMed (unknown
    ids and retracted works are refused)."""
    from evidence_cli.reviews import studies as st
    from evidence_cli.reviews.effect import parse_effect
    from evidence_cli.reviews.schema import STUDY_KEYS

    # Every option is checked before anything is looked up or written.
    manual: dict[str, Any] = {}
    if title is not None and title.strip():
        manual["title"] = title.strip()
    if author:
        manual["authors"] = [a.strip() for a in author if a.strip()]
    if year is not None:
        manual["year"] = _parsed("--year", st.parse_year, year)
    for key, value in (("container", container), ("volume", volume), ("issue", issue),
                       ("pages", pages), ("url", url)):
        if value is not None and value.strip():
            manual[key] = value.strip()
    if "url" in manual and not manual["url"].startswith(("http://", "https://")):
        raise UsageError(f"--url: expected an http:// or https:// URL (got {url!r})")
    cited_doi = _parsed("--doi", st.parse_doi, doi) if doi is not None else None
    cited_pmid = _parsed("--pmid", st.parse_pmid, pmid) if pmid is not None else None
    if cited_doi is not None and cited_pmid is not None:
        raise UsageError("give --doi or --pmid, not both")
    if cited_doi is None and cited_pmid is None and not (manual.get("title") or manual.get("url")):
        raise UsageError("give --doi or --pmid, or describe the citation with --title (and "
                         "--author, "
                         "--year, --container, --url ...)")
    study: dict[str, Any] = {}
    if study_id is not None:
        study["id"] = _parsed("--id", st.parse_id, study_id)
    if design is not None:
        study["design"] = _parsed("--design", st.parse_design, design)
    for key, value in (("setting", setting), ("country", country),
                       ("intervention", intervention), ("comparator", comparator),
                       ("follow_up", follow_up), ("notes", note)):
        if value is not None and value.strip():
            study[key] = value.strip()
    people: dict[str, Any] = {}
    if population is not None and population.strip():
        people["description"] = population.strip()
    if n is not None:
        people["n"] = _parsed("--n", st.parse_n, n)
    if age is not None and age.strip():
        people["age"] = age.strip()
    if sex is not None and sex.strip():
        people["sex"] = sex.strip()
    if people:
        study["population"] = people
    if outcome:
        study["outcomes"] = [_parsed("--outcome", st.parse_outcome, o) for o in outcome]
    if effect:
        parsed = [_parsed("--effect", parse_effect, e) for e in effect]
        study["effect"] = parsed[0] if len(parsed) == 1 else parsed
    if risk_of_bias is not None:
        study["risk_of_bias"] = _parsed("--risk-of-bias", st.parse_risk_of_bias, risk_of_bias)
    caveats = [c.strip() for c in caveat if c.strip()]

    settings = _settings(
        reviews_dir, crossref_url=crossref_url, mailto=mailto, cache_dir=cache_dir,
        offline=offline, refresh=refresh, timeout=timeout, ncbi_url=ncbi_url,
        ncbi_api_key=ncbi_api_key,
    )
    store = _store(settings)
    store.load(slug)  # fail before the network when the review is missing or broken

    citation: dict[str, Any] = {}
    if cited_pmid is not None:
        citation, pmid_caveats = _citation_for_pmid(settings, cited_pmid, unverified,
                                                    allow_retracted)
        caveats.extend(pmid_caveats)
        if citation.get("doi"):
            cited_doi = str(citation["doi"])
    elif cited_doi is not None:
        citation, caveat_text, notices = _citation_for_doi(settings, cited_doi, unverified)
        if caveat_text:
            caveats.append(caveat_text)
        if notices:
            # A retracted study is not evidence: refused unless asked for, and then marked as
            # `review audit` would mark it (tables and lists show RETRACTED).
            codes = list(dict.fromkeys(f.code for f in notices))
            said = " ".join(f.message for f in notices)
            if not allow_retracted:
                raise RefusedError(f"{cited_doi}: {said} Not added; add it anyway with "
                                   "--allow-retracted (it is then marked in the review)")
            study["audit"] = {"date": _today(), "findings": codes,
                              "status": "error" if "retracted" in codes else "warning"}
            caveats.append(f"Added with --allow-retracted ({_today()}): {said}")
    citation.update(manual)
    study["citation"] = citation
    if caveats:
        study["caveats"] = caveats

    with store.edit(slug) as review:
        doc = review.doc
        if doc.get("studies") is None:
            doc["studies"] = []
        existing = doc["studies"]
        taken = [str(s.get("id")) for s in existing]
        if cited_doi is not None:
            for other in existing:
                other_doi = (other.get("citation") or {}).get("doi")
                if other_doi and st.parse_doi(str(other_doi)) == cited_doi:
                    raise UsageError(f"{cited_doi} is already in review '{slug}' as study "
                                     f"'{other.get('id')}'")
        if cited_pmid is not None:
            for other in existing:
                if str((other.get("citation") or {}).get("pmid") or "") == cited_pmid:
                    raise UsageError(f"PMID {cited_pmid} is already in review '{slug}' as "
                                     f"study '{other.get('id')}'")
        if "id" in study:
            if study["id"] in taken:
                raise UsageError(f"review '{slug}' already has a study with id '{study['id']}'")
        else:
            study["id"] = st.generate_id(citation, taken)
        ordered = {key: study[key] for key in STUDY_KEYS if key in study}
        existing.append(ordered)
    shown = st.first_author_label(citation.get("authors") or []) or citation.get("title", "")
    where = f", doi:{cited_doi}" if cited_doi else ""
    where += f", pmid:{cited_pmid}" if cited_pmid else ""
    typer.echo(f"added {ordered['id']} to {review.path}: {shown} {citation.get('year', 'n.d.')}"
               f"{where}")
    return EXIT_OK


def _citation_for_doi(
    settings: Settings, cited_doi: str, unverified: bool
) -> tuple[dict[str, Any], str | None, list[Any]]:
    """The citation Crossref registers for a DOI, a caveat when it could not be confirmed, and
    the retraction or expression-of-concern findings Crossref records for it."""
    from evidence_cli.checks.updates import check_updates
    from evidence_cli.records import registered_fields
    from evidence_cli.reviews.studies import citation_from_fields
    from evidence_cli.services.session import lookup_works

    lookup = lookup_works(settings, [cited_doi])[cited_doi]
    if lookup.outcome == "found" and lookup.record is not None:
        citation = citation_from_fields(registered_fields(lookup.record))
        citation["doi"] = cited_doi
        notices = [f for f in check_updates(lookup.record)
                   if f.code in ("retracted", "expression-of-concern")]
        return citation, None, notices
    if lookup.outcome == "other-agency":
        typer.echo(f"note: {cited_doi} is registered with {lookup.agency or 'another agency'}, "
                   "not Crossref: describe the citation with --title, --author, --year ...",
                   err=True)
        return {"doi": cited_doi}, None, []
    if lookup.outcome == "not-found":
        if not unverified:
            raise RefusedError(f"no registration agency knows the DOI {cited_doi}: check it, "
                               "or add the study anyway with --unverified")
        return {"doi": cited_doi}, (f"Unverified: no registration agency knew the DOI "
                                    f"{cited_doi} when the study was added ({_today()})."), []
    if not unverified:
        raise ServiceError(f"Crossref could not be asked about {cited_doi} "
                           f"({lookup.detail or 'unavailable'}); try again later, or add the "
                           "study with --unverified")
    return {"doi": cited_doi}, (f"Unverified: Crossref could not be asked about the DOI when the "
                                f"study was added ({_today()})."), []


def _citation_for_pmid(
    settings: Settings, pmid: str, unverified: bool, allow_retracted: bool
) -> tuple[dict[str, Any], list[str]]:
    """The citation PubMed holds for a PMID (its DOI from the ArticleIdList), and caveats.

    A work PubMed (or Crossref, for its DOI) records as retracted is refused unless
    --allow-retracted, which records the retraction as a caveat.
    """
    from evidence_cli.checks.notices import check_pubmed_notices
    from evidence_cli.checks.updates import check_updates
    from evidence_cli.records import registered_fields
    from evidence_cli.reviews.studies import citation_from_fields, retraction_in
    from evidence_cli.services.session import lookup_articles, lookup_works

    lookup = lookup_articles(settings, [pmid])[pmid]
    if lookup.outcome == "not-found":
        if not unverified:
            raise RefusedError(f"PubMed holds no record for PMID {pmid}: check it, or add the "
                               "study anyway with --unverified")
        return {"pmid": pmid, "title": f"PMID {pmid}"}, [
            f"Unverified: PubMed held no record for PMID {pmid} when the study was added "
            f"({_today()})."]
    if lookup.outcome != "found" or lookup.record is None:
        if not unverified:
            raise ServiceError(f"PubMed could not be asked about PMID {pmid} "
                               f"({lookup.detail or 'unavailable'}); try again later, or add the "
                               "study with --unverified")
        return {"pmid": pmid, "title": f"PMID {pmid}"}, [
            f"Unverified: PubMed could not be asked about the PMID when the study was added "
            f"({_today()})."]
    record = lookup.record
    findings = check_pubmed_notices(record)
    doi = str(record.get("DOI") or "").lower() or None
    if doi:
        # The same refusal as --doi: Crossref may know of a retraction PubMed does not show yet.
        crossref = lookup_works(settings, [doi]).get(doi)
        if crossref is not None and crossref.outcome == "found" and crossref.record:
            findings.extend(check_updates(crossref.record))
    retraction = retraction_in(findings)
    caveats: list[str] = []
    if retraction is not None:
        if not allow_retracted:
            raise RefusedError(f"PMID {pmid} is retracted: {retraction.message} Add it anyway "
                               "with --allow-retracted.")
        caveats.append(f"Retracted: {retraction.message} (added with --allow-retracted, "
                       f"{_today()}).")
    citation = citation_from_fields(registered_fields(record))
    citation.pop("url", None)
    citation["pmid"] = pmid
    pmcid = (record.get("pubmed") or {}).get("pmcid")
    if pmcid:
        citation["pmcid"] = pmcid
    if doi:
        citation["doi"] = doi
    return citation, caveats


@study_app.command("edit")
def study_edit(
    slug: str = SLUG,
    study_id: str = typer.Argument(..., help="The study's id."),
    assignments: list[str] = typer.Option(..., "--set", help="FIELD=VALUE (FIELD+=VALUE "
                                          "appends to caveats, outcomes, effect; an empty "
                                          "VALUE removes the field). Repeatable."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Change fields of a study."""
    from evidence_cli.reviews import studies as st

    changes = [_parsed("--set", st.parse_assignment, text) for text in assignments]
    store = _store(_settings(reviews_dir))
    with store.edit(slug) as review:
        studies = review.doc.get("studies") or []
        index = st.find_study(studies, study_id)
        if index is None:
            raise UsageError(f"review '{slug}' has no study '{study_id}'")
        study = studies[index]
        before = dict(study.get("citation") or {})
        for field, operator, value in changes:
            try:
                st.apply_assignment(study, field, operator, value)
            except ValueError as error:
                raise UsageError(f"--set {field}: {error}") from None
        new_id = study.get("id")
        if new_id != study_id:
            if sum(1 for s in studies if s.get("id") == new_id) > 1:
                raise UsageError(f"review '{slug}' already has a study with id '{new_id}'")
            for claim in review.doc.get("claims") or []:
                cited = claim.get("studies") or []
                for position, cited_id in enumerate(cited):
                    if cited_id == study_id:
                        cited[position] = new_id
        if dict(study.get("citation") or {}) != before:
            study.pop("audit", None)  # the last audit checked another citation
    typer.echo(f"updated {study.get('id')} in {review.path}")
    return EXIT_OK


@study_app.command("remove")
def study_remove(
    slug: str = SLUG,
    study_id: str = typer.Argument(..., help="The study's id."),
    force: bool = typer.Option(False, "--force", help="Remove it even when claims cite it "
                               "(they are then flagged by `review audit`)."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Remove a study from a review."""
    from evidence_cli.reviews.studies import find_study

    store = _store(_settings(reviews_dir))
    with store.edit(slug) as review:
        studies = review.doc.get("studies") or []
        index = find_study(studies, study_id)
        if index is None:
            raise UsageError(f"review '{slug}' has no study '{study_id}'")
        citing = [str(c.get("id")) for c in review.doc.get("claims") or []
                  if study_id in (c.get("studies") or [])]
        if citing and not force:
            raise UsageError(f"study '{study_id}' supports claim(s) {', '.join(citing)}; edit "
                             "them first, or use --force")
        del studies[index]
    typer.echo(f"removed {study_id} from {review.path}")
    return EXIT_OK


@study_app.command("list")
def study_list(
    slug: str = SLUG,
    output_json: bool = typer.Option(False, "--json", help="Print the studies as JSON."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """List a review's studies."""
    from evidence_cli.reviews.studies import first_author_label
    from evidence_cli.reviews.tables import is_retracted

    review = _store(_settings(reviews_dir)).load(slug)
    return _print_items(review.doc.get("studies") or [], "studies", review.path, output_json,
                        lambda study: _study_line(study, first_author_label, is_retracted))


# --- claim --------------------------------------------------------------------------------------


@claim_app.command("add")
def claim_add(
    slug: str = SLUG,
    statement: str = typer.Argument(..., help="The claim, in your words."),
    study: list[str] = typer.Option(..., "--study", help="Id of a study behind the claim "
                                    "(repeatable)."),
    quote: str | None = typer.Option(None, "--quote", help="The passage that supports it."),
    page: str | None = typer.Option(None, "--page", help="Where the passage is."),
    claim_id: str | None = typer.Option(None, "--id", help="Claim id [default: claim-N]."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Record a claim and the studies that support it."""
    from evidence_cli.reviews.studies import parse_id

    if not statement.strip():
        raise UsageError("the claim's statement cannot be empty")
    chosen_id = _parsed("--id", parse_id, claim_id) if claim_id is not None else None
    store = _store(_settings(reviews_dir))
    with store.edit(slug) as review:
        doc = review.doc
        known = {s.get("id") for s in doc.get("studies") or []}
        missing = [s for s in study if s not in known]
        if missing:
            raise UsageError(f"review '{slug}' has no study {', '.join(map(repr, missing))}")
        if doc.get("claims") is None:
            doc["claims"] = []
        claims = doc["claims"]
        taken = {str(c.get("id")) for c in claims}
        if chosen_id is None:
            number = len(claims) + 1
            while f"claim-{number}" in taken:
                number += 1
            chosen_id = f"claim-{number}"
        elif chosen_id in taken:
            raise UsageError(f"review '{slug}' already has a claim '{chosen_id}'")
        claim: dict[str, Any] = {"id": chosen_id, "statement": statement.strip(),
                                 "studies": list(dict.fromkeys(study))}
        if quote is not None and quote.strip():
            claim["quote"] = quote.strip()
        if page is not None and page.strip():
            claim["page"] = page.strip()
        claims.append(claim)
    typer.echo(f"added {chosen_id} to {review.path}")
    return EXIT_OK


@claim_app.command("list")
def claim_list(
    slug: str = SLUG,
    output_json: bool = typer.Option(False, "--json", help="Print the claims as JSON."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """List a review's claims and their last audit."""
    review = _store(_settings(reviews_dir)).load(slug)
    return _print_items(review.doc.get("claims") or [], "claims", review.path, output_json,
                        _claim_line)


def _print_items(items: list[Any], noun: str, path: Path, as_json: bool,
                 line: Callable[[Any], str]) -> int:
    """A review's studies or claims: as JSON, or one line each."""
    from evidence_cli.reviews.tables import to_plain

    if as_json:
        typer.echo(json.dumps(to_plain(items), ensure_ascii=False, indent=2))
        return EXIT_OK
    if not items:
        typer.echo(f"no {noun} in {path}")
    for item in items:
        typer.echo(line(item))
    return EXIT_OK


# --- table --------------------------------------------------------------------------------------


def table(
    slug: str = SLUG,
    output_format: str | None = typer.Option(
        None, "--format", "-f", help="markdown, csv, html, json or latex (default: markdown, or "
        "from --output's suffix)."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    columns: list[str] = typer.Option([], "--columns", help="Columns, comma-separated: study, "
                                      "design, population, comparison, outcome, effect, caveats, "
                                      "audit, id, authors, year, title, container, doi, setting, "
                                      "country, n, age, sex, intervention, comparator, follow_up, "
                                      "risk_of_bias, notes."),
    sort: list[str] = typer.Option([], "--sort", help="Sort by a column, e.g. year or year:desc "
                                   "(repeatable)."),
    reviews_dir: Path | None = REVIEWS_DIR,
) -> int:
    """Render a review's evidence table."""
    from evidence_cli.reviews import tables

    if output_format is not None:
        chosen = output_format.lower()
    elif output is not None:
        implied = TABLE_SUFFIXES.get(output.suffix.lower())
        if implied is None:
            raise UsageError(f"--output {output}: the suffix {output.suffix or '(none)'} names no "
                             f"table format; use one of {' '.join(sorted(TABLE_SUFFIXES))}, or "
                             "say which with --format")
        chosen = implied
    else:
        chosen = "markdown"
    if chosen not in tables.FORMATS:
        raise UsageError(f"--format must be one of {', '.join(tables.FORMATS)} (got "
                         f"{output_format!r})")
    keys = _parsed("--columns", tables.parse_columns, columns)
    order = _parsed("--sort", tables.parse_sort, sort)
    review = _store(_settings(reviews_dir)).load(slug)
    from evidence_cli.formats import neutral

    # Files too: a table is read on a terminal or in a CI log as often as in a browser.
    text = neutral(tables.render(review.doc, chosen, keys, order))
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    from evidence_cli.atomic import write_atomic

    try:
        write_atomic(output, text)
    except OSError as error:
        from evidence_cli.errors import InputError

        raise InputError(str(output), f"cannot write: {error.strerror}") from None
    typer.echo(f"wrote {output}", err=True)
    return EXIT_OK


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
    app.add_typer(study_app, name="study")
    app.add_typer(claim_app, name="claim")
    app.command("table")(table)
