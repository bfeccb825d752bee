"""The terminal table: one row per reference, its status and what was found, for people."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from typing import Self

from evidence_cli.formats.escaping import inert, neutral
from evidence_cli.formats.interface import FormatOptions, ReportFormat
from evidence_cli.formats.report import ReferenceEntry, Report

STATUS_STYLE = {
    "ok": "green",
    "info": "cyan",
    "warning": "yellow",
    "unverifiable": "magenta",
    "error": "bold red",
}


def _findings_text(reference: ReferenceEntry) -> str:
    lines = []
    for finding in reference["findings"]:
        line = f"{finding['code']}: {finding['message']}"
        suggestion = finding.get("suggestion")
        if suggestion and str(suggestion) not in finding["message"]:
            line += f" → {finding['suggestion']}"
        lines.append(line)
    return "\n".join(lines) if lines else "—"


@dataclass(frozen=True, slots=True)
class TerminalFormat(ReportFormat):
    """The table for people; `color` when it goes to a terminal, `width` or the terminal's."""

    color: bool = False
    width: int | None = None

    @classmethod
    def from_options(cls, options: FormatOptions) -> Self:
        return cls(color=options.color)

    def render(self, report: Report) -> str:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(show_lines=True, expand=False)
        table.add_column("Status", no_wrap=True)
        table.add_column("Reference", overflow="fold", max_width=40)
        table.add_column("DOI", overflow="fold", max_width=36)
        table.add_column("Findings", overflow="fold")
        for reference in report["references"]:
            status = reference["status"]
            where = f"{reference['source']['path']}:{reference['source']['line']}"
            label = reference["id"] if reference["id"] == where else f"{reference['id']}\n{where}"
            table.add_row(
                Text(status.upper(), style=STATUS_STYLE.get(status, "")),
                Text(inert(label)),
                Text(inert(reference["doi"] or "—")),
                Text(inert(_findings_text(reference))),
            )
        buffer = io.StringIO()
        width = self.width
        if width is None:
            width = max(80, shutil.get_terminal_size(fallback=(120, 24)).columns)
        console = Console(file=buffer, force_terminal=self.color, no_color=not self.color,
                          width=width, highlight=False, emoji=False)
        console.print(table)
        snapshot = report.get("snapshot")
        if isinstance(snapshot, dict):
            console.print(Text(inert(
                f"Answered from the Crossref snapshot of {snapshot.get('date')} "
                f"({snapshot.get('path')}) and the API for newer DOIs.")))
        return buffer.getvalue()

    def format(self, report: Report) -> str:
        # Reference text is shown inert already; the colours are the table's own escapes.
        return neutral(self.render(report), controls=False)
