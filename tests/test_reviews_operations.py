"""The reviews layer in-process: creating, adding, editing, removing, claims, audits, tables.

The operations behind `evidence review|study|claim|table` take a ReviewStore and the services
(here a fake registry holding the simulator's recorded records), so each rule is checked here
without a process; tests/test_reviews.py keeps the command contracts end to end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from evidence_cli.codes import CODES
from evidence_cli.commands.options import DOCUMENT_SUFFIXES, choose_format
from evidence_cli.errors import (
    EvidenceError,
    InputError,
    RefusedError,
    ServiceError,
    UsageError,
)
from evidence_cli.formats import neutral
from evidence_cli.models import Finding, Reference, ReferenceResult
from evidence_cli.reviews import tables
from evidence_cli.reviews.auditing import audit_review
from evidence_cli.reviews.catalogue import (
    Question,
    claim_line,
    create_review,
    describe,
    list_reviews,
    study_line,
    validate_reviews,
)
from evidence_cli.reviews.claims import NewClaim, add_claim
from evidence_cli.reviews.store import ReviewStore, today
from evidence_cli.reviews.studies import (
    AddedStudy,
    StudyOptions,
    add_study,
    edit_study,
    parse_assignment,
    remove_study,
)
from evidence_cli.reviews.values import parsed
from evidence_cli.services.crossref import WorkLookup
from evidence_cli.services.pubmed import ArticleLookup
from tests.simulator import CrossrefSimulator

SADASIVAN = "10.1371/journal.pone.0033693"
CLEAN = "10.5555/evidence-cli.clean"
RETRACTED = "10.5555/evidence-cli.retracted-publisher"
UNKNOWN = "10.5555/evidence-cli.never-registered-xyz"


class Registry:
    """Crossref answers from the simulator's records, in memory; counts what it is asked."""

    def __init__(self, sim: CrossrefSimulator | None = None, *, unavailable: bool = False) -> None:
        self.sim = sim
        self.unavailable = unavailable
        self.asked: list[str] = []

    def works(self, dois: list[str]) -> dict[str, WorkLookup]:
        self.asked.extend(dois)
        answers = {}
        for doi in dois:
            record = self.sim.record(doi) if self.sim is not None else None
            if self.unavailable:
                answers[doi] = WorkLookup(doi, "unavailable", detail="offline: not in the cache")
            elif record is not None:
                answers[doi] = WorkLookup(doi, "found", record)
            else:
                answers[doi] = WorkLookup(doi, "not-found")
        return answers

    def articles(self, pmids: list[str]) -> dict[str, ArticleLookup]:
        raise AssertionError(f"PubMed was not to be asked ({pmids})")


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture
def store(tmp_path: Path) -> ReviewStore:
    return ReviewStore(tmp_path / "reviews")


@pytest.fixture
def act(store: ReviewStore) -> Path:
    """An empty review 'act'."""
    return create_review(store, "act", "ACT for loneliness",
                         Question(text="Does ACT reduce loneliness?"))


def add(store: ReviewStore, registry: Registry | None = None, slug: str = "act",
        **options: Any) -> AddedStudy:
    """`study add SLUG ...`, options named as StudyOptions names them."""
    return add_study(store, slug, StudyOptions(**options), registry or Registry(),
                     warn=lambda line: None)


def claim(store: ReviewStore, statement: str, *studies: str, **rest: Any) -> str:
    return add_claim(store, "act", NewClaim(statement, studies, **rest))[0]


# --- review new / list / show / validate --------------------------------------------------------


def test_new_review_lists_shows_and_validates(store: ReviewStore, act: Path) -> None:
    data = _load(act)
    assert data["slug"] == "act" and data["title"] == "ACT for loneliness"
    assert data["question"] == {"text": "Does ACT reduce loneliness?"}
    assert data["studies"] == [] and data["claims"] == []
    assert str(data["created"]) == str(data["updated"]) == str(today())
    [entry] = list_reviews(store)
    assert entry == {"slug": "act", "valid": True, "title": "ACT for loneliness", "studies": 0,
                     "claims": 0, "path": str(act)}
    shown = "\n".join(describe(store.load("act")))
    assert "ACT for loneliness" in shown and "Does ACT reduce loneliness?" in shown
    assert [v.ok for v in validate_reviews(store, None)] == [True]
    with pytest.raises(UsageError, match="already exists"):
        create_review(store, "act", "Other", Question())
    assert _load(act)["title"] == "ACT for loneliness"


SLUG_TRICKS = ["../escape", "a/b", ".hidden", "Upper", "-dash", "x" * 65, "/tmp/abs", "a..b/c",
               "act.yaml", "..", "sp ace"]


@pytest.mark.parametrize("slug", SLUG_TRICKS)
def test_path_trick_slugs_are_refused(store: ReviewStore, tmp_path: Path, slug: str) -> None:
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(UsageError, match="invalid review slug") as refused:
        create_review(store, slug, "T", Question())
    assert refused.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    if slug.startswith("."):
        for read in (store.load, lambda s: validate_reviews(store, s)):  # study list, table
            with pytest.raises(UsageError):
                read(slug)


def test_validate_reports_claims_citing_missing_studies(store: ReviewStore) -> None:
    store.directory.mkdir()
    (store.directory / "dangling.yaml").write_text(
        "slug: dangling\ntitle: D\nstudies: []\nclaims:\n  - id: c1\n    statement: S\n"
        "    studies:\n      - ghost\n", encoding="utf-8")
    [checked] = validate_reviews(store, "dangling")
    assert not checked.ok
    assert any(":8: claims[0].studies[0]: no study with id 'ghost'" in p for p in checked.problems)


# --- study add ----------------------------------------------------------------------------------


def test_the_same_doi_twice_is_refused(store: ReviewStore, act: Path,
                                       crossref_sim: CrossrefSimulator) -> None:
    registry = Registry(crossref_sim)
    add(store, registry, doi=f"https://doi.org/{SADASIVAN.upper()}")
    before = act.read_bytes()
    with pytest.raises(UsageError, match="already in review") as refused:
        add(store, registry, doi=SADASIVAN)
    assert refused.value.exit_code == 2
    assert act.read_bytes() == before


def test_unknown_doi_is_refused_unless_unverified(store: ReviewStore, act: Path,
                                                 crossref_sim: CrossrefSimulator) -> None:
    registry = Registry(crossref_sim)
    before = act.read_bytes()
    with pytest.raises(RefusedError, match="no registration agency knows the DOI") as refused:
        add(store, registry, doi=UNKNOWN)
    assert refused.value.exit_code == 1
    assert act.read_bytes() == before
    add(store, registry, doi=UNKNOWN, unverified=True, title="A study we could not verify",
        authors=("Doe J",), year="2019")
    study = _load(act)["studies"][0]
    assert study["id"] == "doe2019"
    assert study["citation"]["doi"] == UNKNOWN
    assert study["citation"]["title"] == "A study we could not verify"
    assert any("Unverified" in caveat for caveat in study["caveats"])


def test_unavailable_registry_is_no_answer_unless_unverified(store: ReviewStore,
                                                             act: Path) -> None:
    registry = Registry(unavailable=True)
    before = act.read_bytes()
    with pytest.raises(ServiceError, match="could not be asked") as refused:
        add(store, registry, doi=CLEAN)
    assert refused.value.exit_code == 4
    assert act.read_bytes() == before
    add(store, registry, doi=CLEAN, unverified=True)
    study = _load(act)["studies"][0]
    assert study["citation"] == {"doi": CLEAN}
    assert "could not be asked" in study["caveats"][0]


def test_study_without_doi_gets_author_year_ids(store: ReviewStore, act: Path) -> None:
    for _ in range(2):
        add(store, title="Effect of ACT", authors=("Namazi R",), year="2022",
            url="http://jcbr.goums.ac.ir/article-1-343-en.html")
    studies = store.load("act").doc["studies"]
    assert [s["id"] for s in studies] == ["namazi2022", "namazi2022a"]
    assert study_line(studies[1]).startswith("namazi2022a  Namazi 2022  http://jcbr")


def test_a_retracted_doi_is_refused_unless_allowed_and_then_marked(
    store: ReviewStore, act: Path, crossref_sim: CrossrefSimulator
) -> None:
    registry = Registry(crossref_sim)
    with pytest.raises(RefusedError, match="--allow-retracted"):
        add(store, registry, doi=RETRACTED)
    add(store, registry, doi=RETRACTED, allow_retracted=True)
    study = store.load("act").doc["studies"][0]
    assert study["audit"]["status"] == "error" and "retracted" in study["audit"]["findings"]
    assert "RETRACTED" in study_line(study)
    assert study["caveats"][0].startswith("Added with --allow-retracted")


# --- every refusal leaves the file as it was ------------------------------------------------------


ONE_STUDY_ONE_CLAIM = """\
slug: act
title: ACT for loneliness
studies:
  - id: s1
    citation:
      title: First
      year: 2020
claims:
  - id: c1
    statement: First says so
    studies: [s1]
"""


def _set(*texts: str) -> list[tuple[str, str, str]]:
    return [parsed("--set", parse_assignment, text) for text in texts]


def _table_options(fmt: str | None = None, columns: Iterable[str] = (),
                   sort: Iterable[str] = ()) -> None:
    """What `table` checks before it reads the review."""
    choose_format(fmt, None, tables.FORMATS, DOCUMENT_SUFFIXES, "markdown", strict_suffix=True)
    parsed("--columns", tables.parse_columns, list(columns))
    parsed("--sort", tables.parse_sort, list(sort))


Operation = Callable[[ReviewStore], object]
REFUSALS: list[tuple[str, Operation, int, str]] = [
    ("study add --n thirty", lambda s: add(s, title="T", n="thirty"), 2, "--n"),
    ("study add --n 0", lambda s: add(s, title="T", n="0"), 2, "--n"),
    ("study add --design", lambda s: add(s, title="T", design="anecdote"), 2, "--design"),
    ("study add --year", lambda s: add(s, title="T", year="20x"), 2, "--year"),
    ("study add --risk-of-bias", lambda s: add(s, title="T", risk_of_bias="medium"), 2,
     "--risk-of-bias"),
    ("study add --url", lambda s: add(s, title="T", url="ftp://x"), 2, "--url"),
    ("study add --id space", lambda s: add(s, title="T", study_id="has space"), 2, "--id"),
    ("study add --id taken", lambda s: add(s, title="T", study_id="s1"), 2,
     "already has a study"),
    ("study add --doi", lambda s: add(s, doi="11.1/not-a-doi"), 2, "--doi"),
    ("study add nothing", lambda s: add(s), 2, "give --doi"),
    ("study add --outcome", lambda s: add(s, title="T", outcomes=(";x",)), 2, "--outcome"),
    ("study edit n=-3", lambda s: edit_study(s, "act", "s1", _set("n=-3")), 2, "--set"),
    ("study edit colour", lambda s: edit_study(s, "act", "s1", _set("colour=blue")), 2,
     "unknown field"),
    ("study edit design", lambda s: edit_study(s, "act", "s1", _set("design=anecdote")), 2,
     "design"),
    ("study edit effect", lambda s: edit_study(s, "act", "s1", _set("effect=OR 3 [5, 9]")), 2,
     "outside"),
    ("study edit title=", lambda s: edit_study(s, "act", "s1", _set("title=")), 2,
     "needs at least"),
    ("study edit nobody", lambda s: edit_study(s, "act", "nobody", _set("n=3")), 2, "no study"),
    ("study remove nobody", lambda s: remove_study(s, "act", "nobody", force=False), 2,
     "no study"),
    ("study remove cited", lambda s: remove_study(s, "act", "s1", force=False), 2,
     "supports claim"),
    ("claim add ghost", lambda s: add_claim(s, "act", NewClaim("Says so", ("ghost",))), 2,
     "no study"),
    ("claim add --id taken", lambda s: add_claim(s, "act", NewClaim("Says so", ("s1",),
                                                                     claim_id="c1")), 2,
     "already has"),
    ("table --columns", lambda s: _table_options(columns=["study,colour"]), 2, "unknown column"),
    ("table --sort", lambda s: _table_options(sort=["colour"]), 2, "cannot sort"),
    ("table --format", lambda s: _table_options("pdf"), 2, "--format"),
]


@pytest.mark.parametrize(("name", "operation", "code", "message"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_invalid_input_leaves_the_file_unchanged(store: ReviewStore, act: Path, name: str,
                                                 operation: Operation, code: int,
                                                 message: str) -> None:
    act.write_text(ONE_STUDY_ONE_CLAIM, encoding="utf-8")
    before = act.read_bytes()
    with pytest.raises(EvidenceError) as refused:
        operation(store)
    assert refused.value.exit_code == code, refused.value.message
    assert message in refused.value.message
    assert len(refused.value.message.splitlines()) <= 3
    assert act.read_bytes() == before
    assert not [p for p in act.parent.iterdir() if p.name.endswith(".tmp")]


BROKEN_FILES = {
    "syntax": ("slug: act\ntitle: [unclosed\n", "not valid YAML"),
    "alias bomb": (
        "slug: act\ntitle: T\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c]\n",
        "aliases",
    ),
    "python tag": ("slug: act\ntitle: !!python/object/apply:os.system ['touch PWNED']\n", "tag"),
    "local tag": ("slug: act\ntitle: !secret T\n", "tag"),
    "two documents": ("slug: act\ntitle: T\n---\nslug: act\n", "one YAML document"),
    "not utf-8": ("slug: act\ntitle: caf\xe9\n", "UTF-8"),
    "schema": ("slug: act\ntitle: T\nstudies:\n  - id: s1\n    citation: {title: T}\n"
               "    population: {n: many}\n", "population.n"),
    "wrong slug": ("slug: other\ntitle: T\n", "does not match"),
}


def write_broken(reviews: Path, kind: str) -> Path:
    """A review 'act' broken in the way BROKEN_FILES names."""
    text, _ = BROKEN_FILES[kind]
    path = reviews / "act.yaml"
    path.write_bytes(text.encode("latin-1") if kind == "not utf-8" else text.encode("utf-8"))
    return path


@pytest.mark.parametrize("kind", list(BROKEN_FILES))
def test_broken_review_file_is_refused_and_left_alone(store: ReviewStore, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      kind: str) -> None:
    monkeypatch.chdir(tmp_path)
    store.directory.mkdir()
    path = write_broken(store.directory, kind)
    message = BROKEN_FILES[kind][1]
    before = path.read_bytes()
    registry = Registry()
    for operation in (lambda: add(store, registry, title="T"), lambda: store.load("act")):
        with pytest.raises(InputError) as refused:  # study add, table
            operation()
        assert refused.value.exit_code == 3
        assert message in refused.value.message and str(path) in refused.value.message
        assert path.read_bytes() == before
    assert registry.asked == []
    [checked] = validate_reviews(store, "act")
    assert not checked.ok and message in "\n".join(checked.problems)
    assert not (tmp_path / "PWNED").exists()


# --- round trip, edit, remove, claims -----------------------------------------------------------


HAND_WRITTEN = """\
# My review: kept by hand and by evidence-cli.
slug: act
title: ACT for loneliness   # working title
question: Does ACT reduce loneliness?
created: 2026-01-05
updated: 2026-01-05
studies:
  # The first study we found.
  - id: first2020
    citation:
      title: First study
      year: 2020
    design: rct  # randomised, per the abstract
    caveats:
      - small sample
claims: []
"""


def test_comments_and_key_order_survive_a_write(store: ReviewStore) -> None:
    store.directory.mkdir()
    path = store.directory / "act.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    add(store, title="Second study", year="2021")
    edit_study(store, "act", "first2020", _set("caveats+=no follow-up"))
    text = path.read_text(encoding="utf-8")
    for comment in ("# My review: kept by hand and by evidence-cli.", "# working title",
                    "# The first study we found.", "# randomised, per the abstract"):
        assert comment in text
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()]
    assert keys == ["slug", "title", "question", "created", "updated", "studies", "claims"]
    data = _load(path)
    assert str(data["created"]) == "2026-01-05"
    assert str(data["updated"]) == str(today())
    assert [s["id"] for s in data["studies"]] == ["first2020", "secondstudy2021"]
    assert data["studies"][0]["caveats"] == ["small sample", "no follow-up"]


def test_study_edit_remove_and_claims(store: ReviewStore, act: Path) -> None:
    add(store, study_id="s1", title="First", year="2020")
    add(store, study_id="s2", title="Second", year="2021")
    assert claim(store, "ACT helps", "s1", "s2", quote="loneliness fell", page="834") == \
        "claim-1"
    renamed, _ = edit_study(store, "act", "s1", _set(
        "n=40", "design=cohort", "effect=OR 2.82 (95% CI 1.18-6.75)",
        "effect+=p = 0.001, no effect size reported", "id=first2020"))
    assert renamed == "first2020"
    data = _load(act)
    first = data["studies"][0]
    assert first["id"] == "first2020"
    assert first["population"]["n"] == 40 and first["design"] == "cohort"
    assert first["effect"] == [
        {"measure": "OR", "value": 2.82, "ci_low": 1.18, "ci_high": 6.75},
        {"text": "p = 0.001, no effect size reported", "p": 0.001},
    ]
    assert data["claims"][0] == {"id": "claim-1", "statement": "ACT helps",
                                 "studies": ["first2020", "s2"], "quote": "loneliness fell",
                                 "page": "834"}
    assert "claim-1" in claim_line(data["claims"][0])
    assert "first2020, s2" in claim_line(data["claims"][0])
    edit_study(store, "act", "first2020", _set("design="))
    assert "design" not in _load(act)["studies"][0]
    remove_study(store, "act", "s2", force=True)
    assert [s["id"] for s in _load(act)["studies"]] == ["first2020"]


def test_claim_ids_skip_taken_ones(store: ReviewStore, act: Path) -> None:
    add(store, study_id="s1", title="First", year="2020")
    assert claim(store, "One", "s1", claim_id="claim-2") == "claim-2"
    assert claim(store, "Two", "s1") == "claim-3"
    with pytest.raises(UsageError, match="cannot be empty"):
        claim(store, "  ", "s1")


# --- audit --------------------------------------------------------------------------------------


def _result(ref: Reference, *codes: str) -> ReferenceResult:
    findings = [Finding(code, CODES[code].severity, CODES[code].summary) for code in codes]
    return ReferenceResult(ref, ref.cited.doi, None, findings)


def test_audit_merges_results_and_flags_claims(store: ReviewStore, act: Path) -> None:
    add(store, study_id="clean", title="Clean", year="2020")
    add(store, study_id="gone", title="Gone", year="2019")
    add(store, study_id="moved", title="Moved", year="2018")
    claim(store, "Stands", "clean")
    claim(store, "Rests on a retraction", "gone", "clean")
    claim(store, "Its study changed meanwhile", "moved")

    def check(references: list[Reference]) -> list[ReferenceResult]:
        # While the checks run, another command edits one study's citation.
        edit_study(store, "act", "moved", _set("title=Moved elsewhere"))
        return [_result(ref, *(("retracted",) if ref.id == "gone" else ())) for ref in references]

    done = audit_review(store, "act", check)
    assert [r.status for r in done.results] == ["ok", "error", "ok"]
    assert [v.status for v in done.verdicts] == ["ok", "flagged", "flagged"]
    data = _load(act)
    audits = {s["id"]: s.get("audit") for s in data["studies"]}
    assert audits["clean"] == {"date": today(), "status": "ok", "findings": []}
    assert audits["gone"]["findings"] == ["retracted"]
    assert audits["moved"] is None  # this audit did not check the citation it now holds
    problems = {c["id"]: c["audit"].get("problems") for c in data["claims"]}
    assert problems["claim-2"] == ["study 'gone' is RETRACTED"]
    assert problems["claim-3"] == ["study 'moved' could not be verified"]


# --- tables -------------------------------------------------------------------------------------


def write_tricky_review(reviews_dir: Path) -> Path:
    """A review 'act' whose cells hold pipes, newlines, markup and formula-like text."""
    store = ReviewStore(reviews_dir)
    create_review(store, "act", "Tricky", Question())
    add(store, study_id="tricky", title="Pipes | and <b>tags</b>",
        authors=("O'Brien K", "Doe J", "Roe R"), year="2019", design="rct",
        population="adults | older", n="12", effects=("SMD -0.85 [-1.40, -0.30]",),
        caveats=("=HYPERLINK(\"http://x\")", "line one\nline two | piped",
                 "<script>alert(1)</script>", "50% & $5 #1 _x_ {y}"),
        url="https://example.org/a_(b)")
    add(store, study_id="later", title="Later", authors=("Able A",), year="2023", n="300",
        effects=("6.5%",), caveats=("-5 points", "@mention"))
    return reviews_dir


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> ReviewStore:
    return ReviewStore(write_tricky_review(tmp_path_factory.mktemp("tricky") / "reviews"))


def render(store: ReviewStore, fmt: str, columns: Iterable[str] = (),
           sort: Iterable[str] = (), slug: str = "act") -> str:
    """What `evidence table SLUG --format FMT --columns ... --sort ...` prints."""
    keys = parsed("--columns", tables.parse_columns, list(columns))
    order = parsed("--sort", tables.parse_sort, list(sort))
    return neutral(tables.render(store.load(slug).doc, fmt, keys, order))


def test_table_markdown_survives_pipes_and_newlines(tricky: ReviewStore) -> None:
    lines = render(tricky, "markdown").strip().splitlines()
    assert len(lines) == 4  # header, rule, two rows: no cell broke a row
    header_cells = lines[0].count(" | ")
    for line in lines:
        # Unescaped pipes separate cells: the same count on every line.
        assert line.replace("\\|", "").count(" | ") == header_cells
    row = lines[2]
    assert "SMD −0.85 [−1.40, −0.30]" in row
    assert "line one<br>line two \\| piped" in row
    assert "<script>" not in row and "&lt;script>" in row
    assert "O'Brien et al. 2019" in row and "(https://example.org/a_%28b%29)" in row


def test_table_html_is_escaped(tricky: ReviewStore) -> None:
    from html.parser import HTMLParser

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.links: list[str] = []
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)
            if tag == "a":
                self.links.extend(value or "" for name, value in attrs if name == "href")

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    parser = Cells()
    parser.feed(render(tricky, "html"))
    assert "script" not in parser.tags and "b" not in parser.tags
    assert "<script>alert(1)</script>" in "".join(parser.text)
    assert "https://example.org/a_(b)" in parser.links
    assert parser.tags.count("tr") == 3


def test_table_json_carries_every_field(tricky: ReviewStore) -> None:
    document = json.loads(render(tricky, "json"))
    assert document["schema"] == "evidence-cli/table/v1"
    first = document["rows"][0]
    assert first["id"] == "tricky"
    assert first["population"] == {"description": "adults | older", "n": 12}
    assert first["effect"] == {"measure": "SMD", "value": -0.85, "ci_low": -1.4, "ci_high": -0.3}
    assert first["citation"]["authors"] == ["O'Brien K", "Doe J", "Roe R"]
    assert first["cells"]["effect"] == "SMD −0.85 [−1.40, −0.30]"
    assert first["retracted"] is False


def test_table_columns_and_sort(tricky: ReviewStore) -> None:
    import csv
    import io

    text = render(tricky, "csv", ["id,year", "n"], ["year:desc"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["Id", "Year", "n"], ["later", "2023", "300"], ["tricky", "2019", "12"]]
    text = render(tricky, "csv", ["id"], ["n"])
    assert [r[0] for r in csv.reader(io.StringIO(text))] == ["Id", "tricky", "later"]


EXAMPLES = Path(__file__).resolve().parent.parent / "reviews"


@pytest.mark.parametrize("fmt", ["markdown", "csv", "html", "json", "latex"])
def test_example_reviews_render(fmt: str) -> None:
    examples = ReviewStore(EXAMPLES)  # read only: rendering takes no lock
    for slug in ("act-loneliness", "therapy-format-preferences"):
        text = render(examples, fmt, slug=slug)
        assert text.strip()
        if fmt == "json":
            assert len(json.loads(text)["rows"]) == 2
