"""What a report format is: built with its options, it turns the report into the text to write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Self

from evidence_cli.formats.escaping import neutral
from evidence_cli.formats.report import Report


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
