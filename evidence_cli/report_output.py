"""Where a check's report goes: to a file, atomically, or to stdout; whole or streamed."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evidence_cli.formats.interface import Rename, ReportStream
    from evidence_cli.formats.report import ReportHead


def write_report(output: Path | None, text: str) -> None:
    """The whole report's text (already neutralised), to `output` or stdout."""
    with _opened(output) as write:
        write(text)


def write_streamed(output: Path | None, stream: ReportStream, head: ReportHead,
                   rename: Rename | None) -> None:
    """A streamed report, written from what `stream` kept, to `output` or stdout."""
    with _opened(output) as write:
        stream.write(head, write, rename)


@contextmanager
def _opened(output: Path | None) -> Iterator[Callable[[str], None]]:
    if output is None:
        from evidence_cli.output import write_trusted

        yield lambda text: write_trusted(sys.stdout, text)
        sys.stdout.flush()
        return
    from evidence_cli.atomic import open_atomic
    from evidence_cli.errors import InputError

    try:
        with open_atomic(output) as handle:

            def write(text: str) -> None:
                handle.write(text.encode("utf-8"))

            yield write
    except OSError as error:
        raise InputError(str(output), f"cannot write the report: {error.strerror}; check "
                         "that the folder exists and is writable") from None
