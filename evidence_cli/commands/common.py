"""Options shared by commands that talk to Crossref, and helpers for writing outputs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

CROSSREF_URL = typer.Option(
    None, "--crossref-url", help="Crossref API base URL [env: EVIDENCE_CROSSREF_URL].",
    show_default="https://api.crossref.org",
)
MAILTO = typer.Option(
    None, "--mailto",
    help="Your e-mail, sent to Crossref for its polite pool [env: EVIDENCE_MAILTO].",
)
CACHE_DIR = typer.Option(
    None, "--cache-dir", help="Cache folder [env: EVIDENCE_CACHE_DIR].", show_default="./cache",
)
OFFLINE = typer.Option(
    None, "--offline", help="Answer from the cache only; a miss is unverifiable, never ok.",
)
REFRESH = typer.Option(None, "--refresh", help="Ignore cached answers (and replace them).")
TIMEOUT = typer.Option(None, "--timeout", help="Seconds to wait for one Crossref answer.",
                       show_default="20")


def write_atomically(path: Path, text: str) -> None:
    """Write a file so a reader sees the old content or the new, never a torn one."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
