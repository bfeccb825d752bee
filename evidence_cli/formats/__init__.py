"""Report formats: each module renders the report (formats/report.py) for one kind of reader.

Only the chosen format's module is imported (`build`), which keeps start-up fast. Importing a
format module sets the package attribute of its name (`formats.json`, `formats.html`,
`formats.csv`): this module imports none of the standard modules those names would shadow.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from pathlib import Path

from evidence_cli.formats.escaping import inert, json_safe, neutral, spreadsheet_safe
from evidence_cli.formats.interface import Format, FormatOptions, ReportFormat

__all__ = ["Format", "FormatName", "FormatOptions", "ReportFormat", "build", "count",
           "format_for_output", "inert", "json_safe", "neutral", "spreadsheet_safe"]


class FormatName(StrEnum):
    """The report formats `evidence check --format` offers."""

    table = "table"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    github = "github"
    markdown = "markdown"
    csv = "csv"
    html = "html"


# Format name -> "module:class" of its ReportFormat.
FORMAT_CLASSES: dict[FormatName, str] = {
    FormatName.table: "evidence_cli.formats.terminal:TerminalFormat",
    FormatName.json: "evidence_cli.formats.json:JsonFormat",
    FormatName.sarif: "evidence_cli.formats.sarif:SarifFormat",
    FormatName.junit: "evidence_cli.formats.junit:JunitFormat",
    FormatName.github: "evidence_cli.formats.github:GithubFormat",
    FormatName.markdown: "evidence_cli.formats.markdown:MarkdownFormat",
    FormatName.csv: "evidence_cli.formats.csv:CsvFormat",
    FormatName.html: "evidence_cli.formats.html:HtmlFormat",
}

SUFFIX_FORMATS: dict[str, FormatName] = {
    ".json": FormatName.json,
    ".sarif": FormatName.sarif,
    ".xml": FormatName.junit,
    ".md": FormatName.markdown,
    ".markdown": FormatName.markdown,
    ".csv": FormatName.csv,
    ".html": FormatName.html,
    ".htm": FormatName.html,
}


def build(name: str, options: FormatOptions | None = None) -> Format:
    """The named format, built with what it takes from the run's options."""
    module, _, cls = FORMAT_CLASSES[FormatName(name)].partition(":")
    format_class: type[ReportFormat] = getattr(importlib.import_module(module), cls)
    return format_class.from_options(options or FormatOptions())


def format_for_output(path: Path) -> FormatName | None:
    """The format an output file's suffix implies, or None when the suffix says nothing."""
    return SUFFIX_FORMATS.get(path.suffix.lower())


def count(number: int, singular: str, plural: str | None = None) -> str:
    """"1 entry", "2 entries": a number with its noun in the right form."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"
