"""Warnings for people on stderr ("evidence: warning: ..."), each said at most once per run."""

from __future__ import annotations

import sys

_said: set[str] = set()


def warn(message: str) -> None:
    """Say `message` on stderr unless it was said already (control characters made visible)."""
    if message in _said:
        return
    _said.add(message)
    from evidence_cli.formats import inert

    sys.stderr.write(f"evidence: warning: {inert(message)}\n")
    sys.stderr.flush()
