"""Read a named input file safely: regular files only, never more than a byte limit."""

from __future__ import annotations

import os
import stat

from evidence_cli.errors import InputError

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_capped(path: str | os.PathLike[str], limit: int, *, name: str | None = None) -> bytes:
    """The bytes of a regular file, refusing anything else and anything over `limit` bytes.

    The file is opened non-blocking (a FIFO with no writer would otherwise hang the open) and
    checked with fstat on the opened descriptor, so a link swapped in between cannot slip a
    device past the check. The size the file system reports is not trusted: /dev/zero and
    /proc files report 0 — reading stops at limit + 1 bytes whatever it says.
    """
    shown = name if name is not None else os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError(shown, "no such file") from None
    except IsADirectoryError:
        raise InputError(shown, "is a directory") from None
    except OSError as error:
        raise InputError(shown, f"cannot be read: {error.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(shown, "is a directory")
        if not stat.S_ISREG(mode):
            kind = next((label for test, label in _KINDS if test(mode)), "not a regular file")
            raise InputError(shown, f"is {kind}, not a regular file: to read it, pass its "
                             "content on standard input with -")
        size = os.fstat(fd).st_size
        if size > limit:
            raise InputError(shown, f"is {size} bytes, over the {limit} byte input limit")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise InputError(shown, f"is over the {limit} byte input limit")
        return b"".join(chunks)
    except OSError as error:
        raise InputError(shown, f"cannot be read: {error.strerror}") from None
    finally:
        os.close(fd)
