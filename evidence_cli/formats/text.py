"""Report text for people: the summary line and a finding as a sentence, shared by the formats."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from evidence_cli.output import progress_enabled

# The summary's statuses, in the order a person reads them: best first.
SUMMARY_STATUSES = ("ok", "info", "warning", "error", "unverifiable")
# Worst first, where a reader wants the problems at the top (Markdown's rows, HTML's sort).
WORST_FIRST_RANK = {"error": 0, "unverifiable": 1, "warning": 2, "info": 3, "ok": 4}


def summary_line(summary: Mapping[str, object]) -> str:
    """'12 references: 9 ok, 1 info, 1 warning, 1 error, 0 unverifiable'."""
    total = summary.get("references", 0)
    noun = "reference" if total == 1 else "references"
    counts = ", ".join(f"{summary.get(status, 0)} {status}" for status in SUMMARY_STATUSES)
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


class Reporter:
    """Messages for people, on stderr so stdout stays a clean report.

    -q silences information and progress, never warnings or errors (a CI log must still say why
    a reference could not be checked); -v adds detail, -vv more.
    """

    def __init__(self, quiet: bool = False, verbosity: int = 0, stream: TextIO | None = None):
        self.quiet = quiet
        self.verbosity = 0 if quiet else verbosity
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        # Looked up at each write rather than stored, so pytest's capsys and redirected stderr work.
        return self._stream if self._stream is not None else sys.stderr

    @property
    def show_progress(self) -> bool:
        return progress_enabled(self.quiet, self.stream)

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def info(self, message: str) -> None:
        """Ordinary information (the summary line, where the report was written); hidden by -q."""
        if not self.quiet:
            self._write(message)

    def verbose(self, message: str, level: int = 1) -> None:
        """Detail shown with -v (level 1) or -vv (level 2)."""
        if self.verbosity >= level:
            self._write(message)

    def warn(self, message: str) -> None:
        """Something the user should act on; shown even with -q."""
        self._write(f"evidence: warning: {message}")

    def error(self, message: str) -> None:
        """A failure, phrased to say what to do next; shown even with -q."""
        self._write(f"evidence: error: {message}")
