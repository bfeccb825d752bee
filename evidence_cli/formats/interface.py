"""What a report format is: built with its options, it turns the report into the text to write
(and, for the formats that can, writes a report as the audit produces it: `ReportStream`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self

from evidence_cli.formats.escaping import neutral
from evidence_cli.formats.report import ReferenceEntry, Report, ReportHead

if TYPE_CHECKING:
    from evidence_cli.models import ReferenceResult


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """What a format may take from the run. The command reads the terminal and the environment
    and hands them over here; no format looks at either itself."""

    color: bool = False  # the terminal table's colours: the report goes to a terminal
    step_summary: Path | None = None  # GitHub's job summary file ($GITHUB_STEP_SUMMARY)


class Format(Protocol):
    """A report format, as the `check` command uses one."""

    def format(self, report: Report) -> str:
        """The report as the text to write: rendered, and neutralised as this format needs."""
        ...

    def after_write(self, report: Report) -> None:
        """Runs once the report is written (the github format appends the job summary)."""
        ...

    def stream(self) -> ReportStream | None:
        """A writer for the report as it is produced, or None: this format needs it whole
        (sorted worst-first, or a document that counts its parts before listing them)."""
        ...


# Called with each piece of the report's text, in order (already neutralised).
Write = Callable[[str], None]
# Gives a reference the id it ends up with (a key that repeats gets its location added).
Rename = Callable[[ReferenceEntry], None]


class ReportStream(Protocol):
    """A report written as the audit produces it: references are added batch by batch and kept
    outside memory; `write` writes the whole report, byte for byte as `format` would have."""

    def add(self, results: list[ReferenceResult]) -> None:
        """The next references' results, in report order."""
        ...

    def write(self, head: ReportHead, write: Write, rename: Rename | None = None) -> None:
        """The report, with everything but its references in `head` (counted as they came);
        `rename`, when given, is applied to every reference before it is written."""
        ...

    def close(self) -> None:
        """Drops what `add` kept (the report written or not)."""
        ...


class ReportFormat:
    """The usual Format: `render` the report, pass it through neutral(), nothing after writing.

    Formats with options (the terminal table's colours, GitHub's job summary) take them in
    their constructor and build themselves from the run's FormatOptions in `from_options`.
    """

    @classmethod
    def from_options(cls, options: FormatOptions) -> Self:
        return cls()

    def render(self, report: Report) -> str:
        raise NotImplementedError

    def format(self, report: Report) -> str:
        return neutral(self.render(report))

    def after_write(self, report: Report) -> None:
        return None

    def stream(self) -> ReportStream | None:
        return None
