"""Reviews, piece by piece: effect parsing, YAML screening, schema errors, cell escaping, ids."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence_cli.errors import UsageError
from evidence_cli.reviews import yamlio
from evidence_cli.reviews.effect import format_effect, format_effects, parse_effect
from evidence_cli.reviews.schema import validate
from evidence_cli.reviews.store import check_slug, write_atomic
from evidence_cli.reviews.studies import (
    apply_assignment,
    family_name,
    first_author_label,
    generate_id,
    parse_assignment,
)
from evidence_cli.reviews.tables import neutralise_csv, render

# --- effects ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed", "shown"),
    [
        ("SMD -0.85 [-1.40, -0.30]",
         {"measure": "SMD", "value": -0.85, "ci_low": -1.4, "ci_high": -0.3},
         "SMD −0.85 [−1.40, −0.30]"),
        ("SMD −0.85 [−1.40, −0.30]",
         {"measure": "SMD", "value": -0.85, "ci_low": -1.4, "ci_high": -0.3},
         "SMD −0.85 [−1.40, −0.30]"),
        ("OR 2.82 (95% CI 1.18-6.75)",
         {"measure": "OR", "value": 2.82, "ci_low": 1.18, "ci_high": 6.75},
         "OR 2.82 [1.18, 6.75]"),
        ("OR 3.52 (95% CI 1.33–9.29)",
         {"measure": "OR", "value": 3.52, "ci_low": 1.33, "ci_high": 9.29},
         "OR 3.52 [1.33, 9.29]"),
        ("6.5%", {"measure": "percent", "value": 6.5}, "6.5%"),
        ("g = 0.4", {"measure": "Hedges g", "value": 0.4}, "Hedges g 0.4"),
        ("Cohen's d 0.52 (0.10 to 0.94), p = 0.02",
         {"measure": "Cohen d", "value": 0.52, "ci_low": 0.1, "ci_high": 0.94, "p": 0.02},
         "Cohen d 0.52 [0.10, 0.94], p = 0.02"),
        ("HR 0.71 [0.55; 0.92] p<0.01",
         {"measure": "HR", "value": 0.71, "ci_low": 0.55, "ci_high": 0.92, "p": "<0.01"},
         "HR 0.71 [0.55, 0.92], p < 0.01"),
        ("MD -3.2 [-5.1, -1.3]",
         {"measure": "MD", "value": -3.2, "ci_low": -5.1, "ci_high": -1.3},
         "MD −3.2 [−5.1, −1.3]"),
        ("sample 2: OR 3.52 (95% CI 1.33-9.29)",
         {"label": "sample 2", "measure": "OR", "value": 3.52, "ci_low": 1.33, "ci_high": 9.29},
         "sample 2: OR 3.52 [1.33, 9.29]"),
        ("p = 0.001, no effect size reported",
         {"text": "p = 0.001, no effect size reported", "p": 0.001},
         "p = 0.001, no effect size reported"),
        ("loneliness fell significantly", {"text": "loneliness fell significantly"},
         "loneliness fell significantly"),
        ("0.5", {"text": "0.5"}, "0.5"),  # a bare number says nothing about what it measures
        ("SMD about half", {"text": "SMD about half"}, "SMD about half"),
    ],
)
def test_effect_forms(text: str, parsed: dict[str, Any], shown: str) -> None:
    assert parse_effect(text) == parsed
    assert format_effect(parse_effect(text)) == shown


def test_effect_shows_p_with_free_text_and_several_effects() -> None:
    assert format_effect({"label": "Loneliness", "p": 0.001, "text": "no effect size"}) == \
        "Loneliness: p = 0.001, no effect size"
    assert format_effects([{"measure": "percent", "value": 6.5},
                           {"measure": "percent", "value": 2.6}]) == "6.5%\n2.6%"
    assert format_effects(None) == ""
    with pytest.raises(ValueError):
        parse_effect("   ")


_numbers = st.decimals(min_value=-50, max_value=50, places=2, allow_nan=False)


@given(value=_numbers, low_delta=_numbers.map(abs), high_delta=_numbers.map(abs))
def test_effect_formatting_round_trips(value: Any, low_delta: Any, high_delta: Any) -> None:
    effect = {"measure": "SMD", "value": float(value), "ci_low": float(value - low_delta),
              "ci_high": float(value + high_delta)}
    shown = format_effect(effect)
    assert "-" not in shown  # real minus signs only
    assert parse_effect(shown) == effect


# --- YAML screening -----------------------------------------------------------------------------


def test_billion_laughs_is_refused_before_expansion() -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for depth in range(1, 12):
        previous = chr(ord("a") + depth - 1)
        name = chr(ord("a") + depth)
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    with pytest.raises(yamlio.YamlProblem) as caught:
        yamlio.load("\n".join(levels) + "\n")
    assert "aliases" in caught.value.message and caught.value.line == 2


@pytest.mark.parametrize(
    "text",
    ["x: !!python/object/apply:os.system ['true']\n", "x: !!python/name:os.system\n",
     "x: !custom {a: 1}\n", "x: !!str 12\n", "--- !!map\nx: 1\n"],
)
def test_every_explicit_tag_is_refused(text: str) -> None:
    with pytest.raises(yamlio.YamlProblem) as caught:
        yamlio.load(text)
    assert "tag" in caught.value.message


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(yamlio.YamlProblem) as caught:
        yamlio.load("slug: x\ntitle: T\nstudies:\n  - id: a\n   bad: indent\n")
    assert caught.value.line == 5


def test_dump_never_writes_aliases() -> None:
    shared = {"k": 1}
    text = yamlio.dump({"a": shared, "b": shared})
    assert "&" not in text and "*" not in text
    assert yamlio.load(text) == {"a": {"k": 1}, "b": {"k": 1}}


# --- schema -------------------------------------------------------------------------------------


def _problems(text: str, slug: str = "r") -> list[str]:
    return [p.render("r.yaml") for p in validate(yamlio.load(text), slug)]


def test_schema_errors_name_line_and_field() -> None:
    text = (
        "slug: r\n"
        "title: R\n"
        "colour: blue\n"
        "studies:\n"
        "  - id: a\n"
        "    citation:\n"
        "      doi: not-a-doi\n"
        "      year: 'twenty'\n"
        "    effect:\n"
        "      measure: SMD\n"
        "      value: 0.5\n"
        "      ci_low: 0.9\n"
        "      ci_high: 1.2\n"
        "    risk_of_bias: {level: medium}\n"
        "  - id: a\n"
        "    citation: {title: T}\n"
        "claims:\n"
        "  - id: c1\n"
        "    statement: S\n"
    )
    assert _problems(text) == [
        "r.yaml:3: colour: unknown field (allowed: slug, title, question, created, updated, "
        "caveats, notes, studies, claims, grade)",
        "r.yaml:7: studies[0].citation.doi: not a well-formed DOI (got 'not-a-doi')",
        "r.yaml:8: studies[0].citation.year: expected a four-digit year (got 'twenty')",
        "r.yaml:10: studies[0].effect: value (0.5) lies outside its interval [0.9, 1.2]",
        "r.yaml:14: studies[0].risk_of_bias.level: expected one of: low, some concerns, high "
        "(got 'medium')",
        "r.yaml:15: studies[1].id: duplicate id 'a'",
        "r.yaml:18: claims[0].studies: a claim needs at least one study",
    ]


def test_schema_accepts_a_minimal_review_and_checks_the_slug() -> None:
    assert _problems("slug: r\ntitle: R\n") == []
    assert _problems("slug: r\ntitle: R\n", slug="other") == [
        "r.yaml:1: slug: 'r' does not match the file name ('other.yaml')"
    ]
    assert _problems("- a\n- b\n") == ["r.yaml:1: expected a mapping, got a list"]


@pytest.mark.parametrize("slug", ["../x", "a/b", "", "A", "-a", "a" * 65, "a\x00b", "a.b"])
def test_bad_slugs(slug: str) -> None:
    with pytest.raises(UsageError):
        check_slug(slug)


def test_good_slugs() -> None:
    assert check_slug("act-loneliness") == "act-loneliness"
    assert check_slug("a" * 64) == "a" * 64


# --- studies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("author", "family"),
    [("Mahmoudpour A", "Mahmoudpour"), ("Wallin EEK", "Wallin"), ("Morency L-P", "Morency"),
     ("Bolook Sahragard S", "Bolook Sahragard"), ("Smith, John", "Smith"),
     ("Sadasivan", "Sadasivan"), ("van der Berg, A.", "van der Berg")],
)
def test_family_name(author: str, family: str) -> None:
    assert family_name(author) == family


def test_first_author_label_and_ids() -> None:
    assert first_author_label(["Lucas GM", "Gratch J", "King A"]) == "Lucas et al."
    assert first_author_label(["Lucas GM", "Gratch J"]) == "Lucas & Gratch"
    assert first_author_label([]) is None
    citation = {"authors": ["Domínguez, Á"], "year": 2019}
    assert generate_id(citation, []) == "dominguez2019"
    assert generate_id(citation, ["dominguez2019", "dominguez2019a"]) == "dominguez2019b"
    assert generate_id({"doi": "10.5555/abc.123"}, []) == "abc-123-nd"


def test_assignments() -> None:
    study: dict[str, Any] = {"id": "s", "citation": {"title": "T"}}
    for text in ("n=30", "population=adults", "caveat+=one", "caveats+=two",
                 "effect=6.5%", "effect+=OR 2 [1, 4]", "risk_of_bias=high: no blinding"):
        apply_assignment(study, *parse_assignment(text))
    assert study["population"] == {"n": 30, "description": "adults"}
    assert study["caveats"] == ["one", "two"]
    assert study["effect"] == [{"measure": "percent", "value": 6.5},
                               {"measure": "OR", "value": 2.0, "ci_low": 1.0, "ci_high": 4.0}]
    assert study["risk_of_bias"] == {"level": "high", "note": "no blinding"}
    apply_assignment(study, *parse_assignment("n="))
    apply_assignment(study, *parse_assignment("population="))
    assert "population" not in study
    with pytest.raises(ValueError):
        parse_assignment("colour=blue")
    with pytest.raises(ValueError):
        apply_assignment(study, *parse_assignment("design+=rct"))


# --- tables -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "safe"),
    [("=1+1", "'=1+1"), ("+44 20", "'+44 20"), ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
     ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("  =1", "'  =1"),
     ("-0.85", "-0.85"), ("+3", "+3"), ("SMD −0.85", "SMD −0.85"), ("plain", "plain"),
     ("", "")],
)
def test_csv_neutralisation(cell: str, safe: str) -> None:
    assert neutralise_csv(cell) == safe


def test_markdown_cells_cannot_break_the_table_or_inject_links() -> None:
    review = {"slug": "r", "title": "R", "studies": [{
        "id": "s", "citation": {"title": "T", "authors": ["A B"], "year": 2020},
        "caveats": ["a | b", "line\nbreak", "[click](http://evil.example)", "p < 0.05"],
    }]}
    text = render(review, "markdown", ["id", "caveats"])
    row = text.splitlines()[2]
    assert row == (r"| s | a \| b<br>line<br>break<br>[click\](http://evil.example)<br>p < 0.05 |")


def test_empty_review_renders_every_format() -> None:
    review = {"slug": "r", "title": "R", "studies": []}
    for fmt in ("markdown", "csv", "html", "json", "latex"):
        assert render(review, fmt).strip()


# --- atomic writes ------------------------------------------------------------------------------


def test_write_atomic_keeps_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("old", encoding="utf-8")
    os.chmod(path, 0o640)
    write_atomic(path, "new")
    assert path.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["r.yaml"]
