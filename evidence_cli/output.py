"""The process's stdout and stderr, neutralised: no raw terminal control or workflow command."""

from __future__ import annotations

import sys
from collections.abc import Iterator
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
