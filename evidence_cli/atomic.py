"""Atomic file writes: a reader sees the old content or the new, never a torn or empty file."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace `path` with `text` atomically: temp file in the same directory, fsync, rename.

    Bytes (a PNG or PDF plot) are written as they are; text as UTF-8.
    """
    with open_atomic(path) as handle:
        handle.write(text if isinstance(text, bytes) else text.encode("utf-8"))


@contextlib.contextmanager
def open_atomic(path: Path) -> Iterator[BinaryIO]:
    """A binary handle whose content replaces `path` atomically when the block ends (temp file
    in the same directory, fsync, rename); an error in the block leaves `path` as it was. For a
    report written as it is produced rather than held whole."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    # The rename itself is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    _remove_stale_temp_files(path)


# A writer killed between creating its temp file and renaming it leaves the temp file behind
# (seen once in 100 SIGKILLs, RELIABILITY.md). The next write of the same file removes those old
# enough that no writer can still be using them.
STALE_TEMP_SECONDS = 3600.0


def _remove_stale_temp_files(path: Path) -> None:
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if temp.stat().st_mtime < cutoff:
                temp.unlink()
