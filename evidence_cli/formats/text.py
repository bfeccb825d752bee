"""Report text for people: the summary line and a finding as a sentence, shared by the formats."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evidence_cli.models import SUMMARY_ORDER


def summary_line(summary: Mapping[str, object]) -> str:
    """'12 references: 9 ok, 1 info, 1 warning, 1 error, 0 unverifiable'."""
    total = summary.get("references", 0)
    noun = "reference" if total == 1 else "references"
    counts = ", ".join(f"{summary.get(status, 0)} {status}" for status in SUMMARY_ORDER)
    return f"{total} {noun}: {counts}"


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


def finding_text(finding: Mapping[str, Any]) -> str:
    """One finding as the sentence a person reads: message, then what it does not already say.

    The cited and registered values and the suggestion are added only when the message does not
    already contain them, so a title mismatch does not print the registered title three times.
    Shared by the text-like formats (GitHub annotations, JUnit, SARIF, Markdown).
    """
    message = str(finding.get("message") or finding.get("code") or "")
    extras = []
    if finding.get("field"):
        for label in ("cited", "registered"):
            value = finding.get(label)
            text = _value_text(value) if value is not None else ""
            if text and text not in message:
                extras.append(f"{label}: {text}")
    parts = [message]
    if extras:
        parts.append(f"({'; '.join(extras)})")
    suggestion = finding.get("suggestion")
    if suggestion and str(suggestion) not in message:
        parts.append(f"Suggestion: {suggestion}")
    return " ".join(part for part in parts if part)

