"""CSV output: one row per finding, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any

from evidence_cli.formats import inert

COLUMNS = ("id", "path", "line", "status", "doi", "code", "severity", "field", "cited",
           "registered", "message", "suggestion")

# Spreadsheets treat a cell starting with these as a formula (OWASP "CSV Injection"): a reference
# title like "=HYPERLINK(...)" must arrive as text, so such cells get a leading single quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell as text a spreadsheet will not evaluate."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(item) for item in value)
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        text = "'" + text
    return inert(text, keep="\r")  # CSV quoting carries a line break inside its cell


def rows(report: dict[str, Any]) -> list[dict[str, object]]:
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


def render(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    # QUOTE_MINIMAL quotes any cell holding a comma, quote or line break, so reference text cannot
    # shift columns or start a new row.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows(report):
        writer.writerow([neutralise(row.get(column)) for column in COLUMNS])
    return buffer.getvalue()
