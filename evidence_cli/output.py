"""The process's stdout and stderr: neutralised (no raw terminal control or workflow command),
and the progress bar drawn under them."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO


class NeutralStream:
    """A text stream whose every write goes through formats.neutral() (see there).

    Installed for the whole command by the CLI, so every command's output is covered, including
    commands added later and messages that quote reference text. A command that has already
    neutralised a report itself (the table's colours, the github format's own commands) writes
    it with `write_trusted`.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._line_start = True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return 0
        from evidence_cli.formats import neutral

        # The "::" guard looks at line starts; a write that continues a line is not one.
        shown = neutral(text if self._line_start else "x" + text)
        if not self._line_start:
            shown = shown[1:]
        self._stream.write(shown)
        self._line_start = text.endswith("\n")
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def write_trusted(self, text: str) -> None:
        self._stream.write(text)
        self._line_start = text.endswith("\n") if text else self._line_start

    @property
    def raw(self) -> TextIO:
        return self._stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def raw(stream: TextIO) -> TextIO:
    """The stream under a NeutralStream (for rich's progress bar, which draws with escapes)."""
    return stream.raw if isinstance(stream, NeutralStream) else stream


def write_trusted(stream: TextIO, text: str) -> None:
    """Write text that was already passed through neutral() (with the options it needed)."""
    if isinstance(stream, NeutralStream):
        stream.write_trusted(text)
    else:
        stream.write(text)


@contextmanager
def neutralised() -> Iterator[None]:
    """stdout and stderr neutralised for the duration (the CLI's whole run)."""
    saved = sys.stdout, sys.stderr
    if sys.stdout is not None and not isinstance(sys.stdout, NeutralStream):
        sys.stdout = NeutralStream(sys.stdout)  # type: ignore[assignment,unused-ignore]
    if sys.stderr is not None and not isinstance(sys.stderr, NeutralStream):
        sys.stderr = NeutralStream(sys.stderr)  # type: ignore[assignment,unused-ignore]
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        sys.stdout, sys.stderr = saved


def stderr_is_terminal(stream: TextIO | None = None) -> bool:
    """True when the stream is an interactive terminal that can redraw a progress bar.

    CI logs and pipes are not terminals, and TERM=dumb terminals cannot move the cursor, so a bar
    there would only litter the log with partial lines.
    """
    stream = sys.stderr if stream is None else stream
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False
    return interactive and os.environ.get("TERM", "") != "dumb"


def progress_enabled(quiet: bool, stream: TextIO | None = None) -> bool:
    """Whether to draw a progress bar: only on a terminal, and never with -q."""
    return not quiet and stderr_is_terminal(stream)


@contextmanager
def make_progress(
    total: int, enabled: bool, description: str = "Checking references"
) -> Iterator[Callable[..., None]]:
    """Yield `advance(n=1)`; draws a transient rich progress bar on stderr when enabled.

    Disabled (or with nothing to do) it yields a no-op, so callers never branch on it. The bar is
    transient: once done it disappears, leaving the terminal to the report and the summary line.
    """
    if not enabled or total <= 0:

        def ignore(steps: int = 1) -> None:
            return None

        yield ignore
        return

    # rich is imported here, not at module level: `evidence --version` must start fast.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    # The bar draws with escape sequences of its own: it writes under the neutralised stderr.
    console = Console(file=raw(sys.stderr))
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)

        def advance(steps: int = 1) -> None:
            # Progress.advance takes rich's internal lock, so worker threads may call it too.
            progress.advance(task, steps)

        yield advance
