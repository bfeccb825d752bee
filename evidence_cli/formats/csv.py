"""CSV output: one row per finding, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from evidence_cli.formats.escaping import inert, spreadsheet_safe
from evidence_cli.formats.interface import ReportFormat
from evidence_cli.formats.report import Report

COLUMNS = ("id", "path", "line", "status", "doi", "code", "severity", "field", "cited",
           "registered", "message", "suggestion")


def neutralise(value: object) -> str:
    """A cell as text a spreadsheet will not evaluate."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(item) for item in value)
    # A title like "=HYPERLINK(...)" arrives as text; CSV quoting carries a line break in its cell.
    return inert(spreadsheet_safe(str(value)), keep="\r")


def rows(report: Report) -> list[dict[str, object]]:
    """One row per finding; a reference without findings still gets one row (its status)."""
    table: list[dict[str, object]] = []
    for reference in report.get("references") or []:
        source = reference.get("source") or {}
        base = {
            "id": reference.get("id"),
            "path": source.get("path"),
            "line": source.get("line"),
            "status": reference.get("status"),
            "doi": reference.get("doi"),
        }
        findings = reference.get("findings") or []
        if not findings:
            table.append(dict(base))
        for finding in findings:
            table.append({**base, **{key: finding.get(key) for key in COLUMNS[5:]}})
    return table


class CsvFormat(ReportFormat):
    """One row per finding, every cell neutralised for spreadsheets."""

    def render(self, report: Report) -> str:
        buffer = io.StringIO()
        # QUOTE_MINIMAL quotes any cell holding a comma, quote or line break, so reference text
        # cannot shift columns or start a new row.
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in rows(report):
            writer.writerow([neutralise(row.get(column)) for column in COLUMNS])
        return buffer.getvalue()

