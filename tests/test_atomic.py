"""Atomic writes: old or new content, never torn; temp files of killed writers are cleaned up."""

from __future__ import annotations

import os
import time
from pathlib import Path

from evidence_cli.atomic import STALE_TEMP_SECONDS, write_atomic


def test_a_killed_writers_old_temp_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "review.yaml"
    target.write_text("old", encoding="utf-8")
    stale = tmp_path / ".review.yaml.abc123.tmp"  # what a writer killed before rename leaves
    stale.write_text("half", encoding="utf-8")
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    fresh = tmp_path / ".review.yaml.def456.tmp"  # a writer at work right now: left alone
    fresh.write_text("in progress", encoding="utf-8")
    other = tmp_path / ".other.yaml.abc123.tmp"  # another file's temp file: not ours
    other.write_text("x", encoding="utf-8")
    os.utime(other, (old, old))

    write_atomic(target, "new")

    assert target.read_text(encoding="utf-8") == "new"
    assert not stale.exists()
    assert fresh.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.yaml.abc123.tmp", ".review.yaml.def456.tmp", "review.yaml"]
