"""GitHub Actions output: workflow-command annotations on the cited line, and a step summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Self

from evidence_cli.formats.escaping import inert, neutral
from evidence_cli.formats.interface import FormatOptions, ReportFormat
from evidence_cli.formats.report import FindingEntry, ReferenceEntry, Report
from evidence_cli.formats.text import finding_text, summary_line
from evidence_cli.models import UNVERIFIABLE_CODES

# GitHub refuses a job summary over 1 MiB (and then shows none); leave room for other steps.
STEP_SUMMARY_BUDGET = 512 * 1024

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(value: object) -> str:
    """The toolkit's escapeData (@actions/core command.ts): % first, then CR and LF."""
    text = str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return inert(text)  # other control characters would reach the log (a terminal) raw


def escape_property(value: object) -> str:
    """The toolkit's escapeProperty: escapeData plus ':' and ',' (they delimit properties)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, object], message: str) -> str:
    """`::name key=value,key=value::message`, every part escaped as the runner expects."""
    props = ",".join(
        f"{key}={escape_property(value)}" for key, value in properties.items() if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _annotation(reference: ReferenceEntry, finding: FindingEntry) -> str:
    code = str(finding.get("code"))
    # Something that could not be checked is a warning at least: never a quiet notice.
    if code in UNVERIFIABLE_CODES:
        name = "warning"
    else:
        name = _COMMANDS.get(str(finding.get("severity")), "warning")
    source = reference.get("source") or {}
    line = source.get("line")
    properties: dict[str, object] = {
        "file": source.get("path"),
        "line": line if isinstance(line, int) and line >= 1 else None,
        "title": f"evidence {code}: {reference.get('id', '')}",
    }
    return command(name, properties, f"{reference.get('id', '')}: {finding_text(finding)}")


@dataclass(frozen=True, slots=True)
class GithubFormat(ReportFormat):
    """Annotations for the Actions log; with `step_summary`, the job summary after writing."""

    step_summary: Path | None = None  # $GITHUB_STEP_SUMMARY, read by the command

    @classmethod
    def from_options(cls, options: FormatOptions) -> Self:
        return cls(step_summary=options.step_summary)

    def render(self, report: Report) -> str:
        lines = [
            _annotation(reference, finding)
            for reference in report.get("references") or []
            for finding in reference.get("findings") or []
        ]
        # A plain line (not a command) so the log says at a glance what happened.
        lines.append(summary_line(report.get("summary") or {}))
        return "\n".join(lines) + "\n"

    def format(self, report: Report) -> str:
        # The workflow commands are ours, their values escaped: the "::" guard stays off.
        return neutral(self.render(report), commands=True)

    def after_write(self, report: Report) -> None:
        if self.step_summary is not None:
            write_step_summary(report, self.step_summary)


def write_step_summary(report: Report, path: str | Path) -> None:
    """Append the Markdown summary to the job summary file ($GITHUB_STEP_SUMMARY).

    Appended, not overwritten: other steps of the job write to the same file.
    """
    from evidence_cli.formats.markdown import MarkdownFormat

    text = MarkdownFormat(max_bytes=STEP_SUMMARY_BUDGET).render(report)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text + "\n")
