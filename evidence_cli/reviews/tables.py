"""Evidence tables: one row per study, as Markdown, CSV, HTML, JSON or LaTeX, built with pandas."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from evidence_cli import doi as doi_rules
from evidence_cli.formats.escaping import spreadsheet_safe as neutralise_csv
from evidence_cli.models import Status
from evidence_cli.reviews.effect import format_effects
from evidence_cli.reviews.studies import first_author_label, is_retracted
from evidence_cli.reviews.yamlio import to_plain

TABLE_SCHEMA = "evidence-cli/table/v1"
FORMATS = ("markdown", "csv", "html", "json", "latex")
DEFAULT_COLUMNS = ("study", "design", "population", "comparison", "outcome", "effect", "caveats",
                   "audit")


@dataclass(frozen=True, slots=True)
class Cell:
    """A table cell as plain text, with an optional link and an optional loud warning."""

    text: str
    link_text: str | None = None
    url: str | None = None
    alarm: str | None = None  # e.g. "RETRACTED": shown first and emphasised

    def plain(self, *, link_as_url: bool = False) -> str:
        parts = [self.alarm] if self.alarm else []
        body = self.text
        if self.url:
            shown = self.url if link_as_url or not self.link_text else self.link_text
            body = f"{body}, {shown}" if body else shown
        if body:
            parts.append(body)
        return " — ".join(parts)


def _citation(study: Mapping[str, Any]) -> Mapping[str, Any]:
    citation = study.get("citation")
    return citation if isinstance(citation, Mapping) else {}


def _study_cell(study: Mapping[str, Any]) -> Cell:
    citation = _citation(study)
    label = first_author_label(citation.get("authors") or []) or str(study.get("id", ""))
    year = citation.get("year")
    text = f"{label} {year}" if year else label
    alarm = "RETRACTED" if is_retracted(study) else None
    doi = citation.get("doi")
    if doi:
        normalised = doi_rules.normalize(str(doi))
        # Brackets and spaces would end a Markdown link early; percent-encode all but DOI-safe.
        url = "https://doi.org/" + quote(normalised, safe="/:;.-_")
        return Cell(text, f"doi:{normalised}", url, alarm)
    if citation.get("url"):
        return Cell(text, "link", str(citation["url"]), alarm)
    return Cell(text, alarm=alarm)


def _population(study: Mapping[str, Any]) -> str:
    population = study.get("population") or {}
    description = str(population.get("description") or "")
    n = population.get("n")
    if n is not None:
        if not description:
            return f"n = {n}"
        # A description that already gives the groups' sizes gets the total after it.
        if re.search(r"\bn\s*=", description):
            return f"{description}; total n = {n}"
        return f"{description} (n = {n})"
    return description


def _comparison(study: Mapping[str, Any]) -> str:
    intervention, comparator = study.get("intervention"), study.get("comparator")
    if intervention and comparator:
        return f"{intervention} vs {comparator}"
    if comparator:
        return f"vs {comparator}"
    return str(intervention or "")


def _outcomes(study: Mapping[str, Any]) -> str:
    shown = []
    for outcome in study.get("outcomes") or []:
        text = str(outcome.get("name", ""))
        if outcome.get("instrument"):
            text += f" ({outcome['instrument']})"
        if outcome.get("timepoint"):
            text += f", {outcome['timepoint']}"
        shown.append(text)
    return "; ".join(shown)


def _risk_of_bias(study: Mapping[str, Any]) -> str:
    risk = study.get("risk_of_bias") or {}
    if not risk:
        return ""
    return f"{risk.get('level')}: {risk['note']}" if risk.get("note") else str(risk.get("level"))


def _audit(study: Mapping[str, Any]) -> Cell:
    audit = study.get("audit")
    if not audit:
        return Cell("not audited")
    status, codes = str(audit.get("status")), list(audit.get("findings") or [])
    date = audit.get("date")
    text = f"{status}: {', '.join(codes)}" if codes else status
    if date:
        text += f" ({to_plain(date)})"
    return Cell(text, alarm="RETRACTED" if "retracted" in codes else None)


def _field(*path: str) -> Callable[[Mapping[str, Any]], str]:
    def get(study: Mapping[str, Any]) -> str:
        node: Any = study
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is None:
            return ""
        if isinstance(node, list):
            return "; ".join(str(item) for item in node)
        return str(to_plain(node))

    return get


def _lines(key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda study: "\n".join(str(item) for item in study.get(key) or [])


# Column key -> (header, cell builder). Builders return text or a Cell.
COLUMNS: dict[str, tuple[str, Callable[[Mapping[str, Any]], str | Cell]]] = {
    "study": ("Study", _study_cell),
    "id": ("Id", _field("id")),
    "authors": ("Authors", _field("citation", "authors")),
    "year": ("Year", _field("citation", "year")),
    "title": ("Title", _field("citation", "title")),
    "container": ("Journal", _field("citation", "container")),
    "doi": ("DOI", _field("citation", "doi")),
    "design": ("Design", _field("design")),
    "setting": ("Setting", _field("setting")),
    "country": ("Country", _field("country")),
    "population": ("Population", _population),
    "n": ("n", _field("population", "n")),
    "age": ("Age", _field("population", "age")),
    "sex": ("Sex", _field("population", "sex")),
    "intervention": ("Intervention", _field("intervention")),
    "comparator": ("Comparator", _field("comparator")),
    "comparison": ("Intervention vs comparator", _comparison),
    "outcome": ("Outcome", _outcomes),
    "effect": ("Effect", lambda study: format_effects(study.get("effect"))),
    "follow_up": ("Follow-up", _field("follow_up")),
    "risk_of_bias": ("Risk of bias", _risk_of_bias),
    "caveats": ("Caveats", _lines("caveats")),
    "notes": ("Notes", _field("notes")),
    "audit": ("Audit", _audit),
}


def _sort_value(study: Mapping[str, Any], key: str) -> Any:
    """What a column sorts by: numbers for year and n, the audit's severity, else the text."""
    if key == "year":
        return _citation(study).get("year")
    if key == "n":
        return (study.get("population") or {}).get("n")
    if key == "audit":
        audit = study.get("audit") or {}
        status = Status.of(audit.get("status"))
        return status.rank if status is not None else None
    if key == "study":
        cell = _study_cell(study)
        return cell.text.lower()
    value = COLUMNS[key][1](study)
    text = value.plain() if isinstance(value, Cell) else value
    return text.lower() or None


def parse_columns(values: Sequence[str] | None) -> list[str]:
    """Column keys from `--columns a,b --columns c`; unknown keys raise ValueError."""
    if not values:
        return list(DEFAULT_COLUMNS)
    keys = [key.strip() for value in values for key in value.split(",") if key.strip()]
    unknown = [key for key in keys if key not in COLUMNS]
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)} (columns: "
                         f"{', '.join(COLUMNS)})")
    if not keys:
        raise ValueError("no columns given")
    return list(dict.fromkeys(keys))


def parse_sort(values: Sequence[str] | None) -> list[tuple[str, bool]]:
    """`--sort year:desc --sort study` -> [("year", False), ("study", True)] (key, ascending)."""
    order: list[tuple[str, bool]] = []
    for value in values or []:
        for part in value.split(","):
            key, _, direction = part.strip().partition(":")
            if key not in COLUMNS:
                raise ValueError(f"cannot sort by {key!r} (columns: {', '.join(COLUMNS)})")
            if direction not in ("", "asc", "desc"):
                raise ValueError(f"sort direction is asc or desc (got {direction!r})")
            order.append((key, direction != "desc"))
    return order


# --- rendering -----------------------------------------------------------------------------

def _markdown_escape(text: str) -> str:
    """A cell that cannot break the table: pipes escaped, line breaks as <br>, no raw tags."""
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    # Only a "<" that could open a tag or comment is escaped, so "p < 0.001" stays readable.
    text = re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)
    # Brackets only form a link as "[text](url)" or "[text][ref]"; escaping just those joins
    # keeps intervals like "[−1.40, −0.30]" readable in the raw file.
    text = text.replace("](", "\\](").replace("][", "\\][")
    return "<br>".join(line.strip() for line in text.replace("\r\n", "\n").split("\n"))


def _markdown_cell(cell: str | Cell) -> str:
    if isinstance(cell, str):
        return _markdown_escape(cell)
    parts = [f"**{cell.alarm}**"] if cell.alarm else []
    body = _markdown_escape(cell.text)
    if cell.url:
        url = cell.url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
        link = f"[{_markdown_escape(cell.link_text or cell.url)}]({url})"
        body = f"{body}, {link}" if body else link
    if body:
        parts.append(body)
    return " ".join(parts)


def _html_cell(cell: str | Cell) -> str:
    if isinstance(cell, str):
        return "<br>".join(html.escape(line) for line in cell.split("\n"))
    parts = [f"<strong>{html.escape(cell.alarm)}</strong>"] if cell.alarm else []
    body = html.escape(cell.text)
    if cell.url:
        link = f'<a href="{html.escape(cell.url, quote=True)}">' \
               f"{html.escape(cell.link_text or cell.url)}</a>"
        body = f"{body}, {link}" if body else link
    if body:
        parts.append(body)
    return " ".join(parts)


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "\u2212": r"\textminus{}", "<": r"\textless{}", ">": r"\textgreater{}",
}


def _latex_escape(text: str) -> str:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    # Line breaks (several caveats or effects) become "; ", or a space after a full stop.
    text = "".join(
        line if i == 0 else (" " if lines[i - 1][-1] in ".;:!?" else "; ") + line
        for i, line in enumerate(lines)
    )
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)


def _latex_cell(cell: str | Cell) -> str:
    if isinstance(cell, str):
        return _latex_escape(cell)
    parts = [rf"\textbf{{{_latex_escape(cell.alarm)}}}"] if cell.alarm else []
    body = cell.plain()
    if cell.alarm:
        body = body[len(cell.alarm):].lstrip(" —")
    if body:
        parts.append(_latex_escape(body))
    return " ".join(parts)


def _plain_cell(cell: str | Cell) -> str:
    return cell.plain(link_as_url=True) if isinstance(cell, Cell) else cell


def build_rows(
    studies: Sequence[Mapping[str, Any]], columns: Sequence[str], sort: Sequence[tuple[str, bool]]
) -> tuple[list[Mapping[str, Any]], list[dict[str, str | Cell]]]:
    """The studies in table order, and each one's cells for the chosen columns."""
    import pandas as pd

    frame = pd.DataFrame({"position": range(len(studies))})
    if sort and len(studies) > 1:
        keys = []
        for index, (key, _) in enumerate(sort):
            name = f"sort{index}"
            frame[name] = [_sort_value(study, key) for study in studies]
            keys.append(name)
        # A stable sort keeps file order among equal keys; rows without a value go last.
        frame = frame.sort_values(
            keys, ascending=[ascending for _, ascending in sort], kind="mergesort",
            na_position="last",
        )
    ordered = [studies[int(position)] for position in frame["position"]]
    cells = [{key: COLUMNS[key][1](study) for key in columns} for study in ordered]
    return ordered, cells


def render(
    review: Mapping[str, Any],
    fmt: str,
    columns: Sequence[str] | None = None,
    sort: Sequence[tuple[str, bool]] = (),
) -> str:
    """The evidence table of a review in one format."""
    import pandas as pd

    keys = list(columns or DEFAULT_COLUMNS)
    studies = [s for s in review.get("studies") or [] if isinstance(s, Mapping)]
    ordered, cells = build_rows(studies, keys, sort)
    headers = [COLUMNS[key][0] for key in keys]
    if fmt == "json":
        return _render_json(review, ordered, cells, keys)
    renderers: dict[str, Callable[[str | Cell], str]] = {
        "markdown": _markdown_cell, "html": _html_cell, "latex": _latex_cell,
        "csv": lambda cell: neutralise_csv(_plain_cell(cell)),
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
    to_text = renderers[fmt]
    frame = pd.DataFrame(
        [[to_text(row[key]) for key in keys] for row in cells], columns=headers, dtype=object
    )
    if fmt == "csv":
        return str(frame.to_csv(index=False, lineterminator="\n"))
    if fmt == "html":
        # Cells are escaped above (links need real <a> tags), so pandas must not escape again.
        frame.columns = pd.Index([html.escape(h) for h in headers])
        return str(frame.to_html(index=False, escape=False, border=0, na_rep="")) + "\n"
    if fmt == "latex":
        frame.columns = pd.Index([_latex_escape(h) for h in headers])
        return str(frame.to_latex(index=False, escape=False, longtable=False)).rstrip("\n") + "\n"
    return _render_markdown(headers, frame.values.tolist())


def _render_markdown(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [
        "| " + " | ".join(_markdown_escape(h) for h in headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def _render_json(
    review: Mapping[str, Any],
    ordered: Sequence[Mapping[str, Any]],
    cells: Sequence[Mapping[str, str | Cell]],
    keys: Sequence[str],
) -> str:
    rows = []
    for study, row in zip(ordered, cells, strict=True):
        plain = to_plain(study)
        plain["retracted"] = is_retracted(study)
        plain["cells"] = {key: _plain_cell(row[key]) for key in keys}
        rows.append(plain)
    document = {
        "schema": TABLE_SCHEMA,
        "review": {"slug": review.get("slug"), "title": review.get("title"),
                   "question": to_plain(review.get("question"))},
        "columns": [{"key": key, "header": COLUMNS[key][0]} for key in keys],
        "rows": rows,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
