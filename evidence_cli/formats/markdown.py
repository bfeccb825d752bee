"""Markdown output: a summary line and a references table, safe wherever Markdown renders."""

from __future__ import annotations

import re
from dataclasses import dataclass

from evidence_cli.formats.escaping import inert
from evidence_cli.formats.interface import ReportFormat
from evidence_cli.formats.report import FindingEntry, ReferenceEntry, Report
from evidence_cli.formats.text import finding_text, summary_line
from evidence_cli.models import SUMMARY_ORDER, worst_first

_MARKS = ("✅", "ℹ️", "⚠️", "❌", "❓")  # ok, info, warning, error, unverifiable
_STATUS_MARK = {status.value: f"{mark} {status}"
                for status, mark in zip(SUMMARY_ORDER, _MARKS, strict=True)}
# Inline Markdown syntax: emphasis, code, links, images, strike-through, table cells, math ($)
# and @mentions on GitHub. Block syntax (#, >, lists) cannot start inside a
# table cell, so '.', '-' and '#' stay unescaped and DOIs stay readable in the source.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~$@])")
_WHITESPACE_RUN = re.compile(r"\s+")
# Reference text is cut to this many characters in the table; the full text is in the source.
_MAX_TEXT = 140


def escape(value: object) -> str:
    """Untrusted text (reference text, titles) as inert Markdown inside a table cell.

    HTML-significant characters become entities (so `<script>` or `<img onerror>` render as text
    rather than as markup), Markdown punctuation is backslash-escaped (no injected links, images
    or emphasis, and `|` cannot open a new cell), and line breaks collapse to spaces (a newline
    would end the table row).
    """
    text = inert(_WHITESPACE_RUN.sub(" ", str(value)).strip())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _finding_cell(finding: FindingEntry) -> str:
    return f"**{escape(finding.get('code', ''))}** {escape(finding_text(finding))}"


def _reference(reference: ReferenceEntry) -> str:
    """The citation key, then the cited title (or the text as written), shortened for a table."""
    cited = reference.get("cited") or {}
    text = _WHITESPACE_RUN.sub(" ", str(cited.get("title") or reference.get("raw") or "")).strip()
    if len(text) > _MAX_TEXT:
        text = text[: _MAX_TEXT - 1].rstrip() + "…"
    ref_id = f"**{escape(reference.get('id', ''))}**"
    return f"{ref_id} {escape(text)}" if text else ref_id


def _location(reference: ReferenceEntry) -> str:
    source = reference.get("source") or {}
    line = source.get("line")
    where = str(source.get("path") or "<stdin>") + (f":{line}" if line is not None else "")
    return escape(where)


def table(report: Report, max_bytes: int | None = None) -> str:
    """The references table, worst first; rows past `max_bytes` (UTF-8) are left out, with a note.

    The note matters where space is capped (GitHub's job summary takes at most 1 MiB): the
    reader learns that rows are missing and where to find them, and the worst rows stay.
    """
    rows = ["| Status | Reference | Location | DOI | Findings |", "| --- | --- | --- | --- | --- |"]
    # Worst first: a reader of a pull-request summary wants the problems at the top.
    references = sorted(
        report.get("references") or [],
        key=lambda r: worst_first(r.get("status")),
    )
    used = sum(_size(row) for row in rows)
    for index, reference in enumerate(references):
        row = _row(reference)
        if max_bytes is not None and used + _size(row) > max_bytes:
            left = len(references) - index
            rows.append("")
            rows.append(f"*{left} more reference{'s' if left != 1 else ''} not shown here "
                        "(the full report has every reference).*")
            break
        rows.append(row)
        used += _size(row)
    return "\n".join(rows)


def _size(row: str) -> int:
    return len(row.encode("utf-8")) + 1  # and its line break


def _row(reference: ReferenceEntry) -> str:
    status = str(reference.get("status"))
    findings = reference.get("findings") or []
    doi = reference.get("doi")
    cells = (
        _STATUS_MARK.get(status, escape(status)),
        _reference(reference),
        _location(reference),
        escape(doi) if doi else "—",
        "<br>".join(_finding_cell(f) for f in findings) if findings else "—",
    )
    return "| " + " | ".join(cells) + " |"


@dataclass(frozen=True, slots=True)
class MarkdownFormat(ReportFormat):
    """A summary line and the references table; rows past `max_bytes` (UTF-8) are left out."""

    title: str = "Reference check"
    max_bytes: int | None = None

    def render(self, report: Report) -> str:
        summary = report.get("summary") or {}
        parts = [f"## {self.title}", "", f"**{summary_line(summary)}**", ""]
        if report.get("references"):
            parts += [table(report, max_bytes=self.max_bytes), ""]
        snapshot = report.get("snapshot")
        if isinstance(snapshot, dict):
            parts += [f"Answered from the Crossref snapshot of {escape(snapshot.get('date'))} "
                      f"({escape(snapshot.get('path'))}) and the API for newer DOIs.", ""]
        tool = report.get("tool") or {}
        if tool.get("name"):
            parts += [f"<sub>{escape(tool['name'])} {escape(tool.get('version', ''))}</sub>", ""]
        return "\n".join(parts)
