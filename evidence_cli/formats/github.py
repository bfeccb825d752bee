"""GitHub Actions output: workflow-command annotations on the cited line, and a step summary."""

from __future__ import annotations

from typing import Any

from evidence_cli.formats import inert
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


def _annotation(reference: dict[str, Any], finding: dict[str, Any]) -> str:
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


def render(report: dict[str, Any]) -> str:
    lines = [
        _annotation(reference, finding)
        for reference in report.get("references") or []
        for finding in reference.get("findings") or []
    ]
    # A plain line (not a command) so the log says at a glance what happened.
    lines.append(summary_line(report.get("summary") or {}))
    return "\n".join(lines) + "\n"


def write_step_summary(report: dict[str, Any], path: str) -> None:
    """Append the Markdown summary to the job summary file ($GITHUB_STEP_SUMMARY).

    Appended, not overwritten: other steps of the job write to the same file.
    """
    from evidence_cli.formats import markdown

    text = markdown.render(report, max_bytes=STEP_SUMMARY_BUDGET)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text + "\n")
