"""Fix one bibliography file: read it, plan and make the edits the audit justifies, write them."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evidence_cli.errors import InputError, UsageError
from evidence_cli.fixing.plan import EntryChanges

if TYPE_CHECKING:
    from evidence_cli.settings import Settings

FIXABLE_KINDS = ("bibtex", "ris", "csl-json")


@dataclass(frozen=True, slots=True)
class FixSource:
    """A file fix may edit: its bytes as read, its kind, and the file a write would replace."""

    path: Path
    data: bytes
    kind: str
    target: Path


@dataclass(frozen=True, slots=True)
class FixPlan:
    """The edited text, its diff against the file, and what was (and was not) changed."""

    changes: list[EntryChanges]
    text: str
    diff: str
    unchecked: int  # entries the services could not be asked about: not changed, exit 4


def read_source(path: Path, *, write: bool) -> FixSource:
    """The file, refused at once (before any lookup) when fix cannot edit or --write replace it."""
    from evidence_cli.sources import SUFFIX_READERS, _read_bytes, sniff

    data = _read_bytes(path)
    kind = SUFFIX_READERS.get(path.suffix.lower()) or sniff(data)
    if kind not in FIXABLE_KINDS:
        raise UsageError(f"{path}: fix edits BibTeX, RIS and CSL-JSON files, not {kind}")
    return FixSource(path, data, kind, writable_target(path) if write else path)


def plan_fix(source: FixSource, settings: Settings, *, prefer_published: bool = False
             ) -> FixPlan:
    """Audit the file's entries and make, in its text, the changes the findings justify."""
    from evidence_cli.audit import audit_references
    from evidence_cli.fixing.edit import EDITORS, EditError, unified_diff
    from evidence_cli.fixing.plan import plan
    from evidence_cli.sources import decode_text, read_one

    path = str(source.path)
    text = decode_text(source.data, path)
    if source.data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Readable for checking, but the edits and the backup are written as UTF-8.
        raise UsageError(f"{path}: fix edits UTF-8 files; this one is UTF-16 (save it as UTF-8)")
    results = audit_references(read_one(source.data, path, source.kind), settings)
    changes = plan(results, prefer_published=prefer_published)
    try:
        new_text = EDITORS[source.kind](text, changes)
    except EditError as error:
        raise InputError(path, f"cannot be edited safely: {error}") from None
    # Entries the services could not be asked about were not checked: "nothing to change" would
    # be a verdict nobody made.
    unchecked = sum(1 for r in results if any(f.code == "service-unavailable"
                                              for f in r.findings))
    return FixPlan(changes, new_text, unified_diff(text, new_text, path), unchecked)


def write_fix(source: FixSource, fixed: FixPlan) -> None:
    """Replace the file with the fixed text, the original kept beside it as FILE.bak."""
    from evidence_cli.atomic import write_atomic

    bom = "\ufeff" if source.data.startswith(b"\xef\xbb\xbf") else ""
    backup = source.target.with_name(source.target.name + ".bak")
    # The backup (the original bytes: decode_text proved them UTF-8) is written first: if
    # anything fails after it, the original is still there. Both go beside the file a symbolic
    # link points at, which is the file that gets fixed.
    try:
        write_atomic(backup, source.data.decode("utf-8"))
        write_atomic(source.target, bom + fixed.text)
    except OSError as error:
        raise InputError(str(source.path), f"cannot be written: {error.strerror or error}") \
            from None


def writable_target(path: Path) -> Path:
    """The file --write replaces: the target of a symbolic link, and only one the user may
    write. The write is a rename over the file, which a read-only file or another user's would
    not stop by itself; refusing keeps both as they are."""
    target = path.resolve()
    try:
        info = target.stat()
    except OSError as error:
        raise InputError(str(path), f"cannot be written: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(str(path), "is not a regular file: fix --write cannot replace it")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise InputError(str(path), "belongs to another user: fix --write would replace it "
                         "with a file of yours; refusing (copy it, or run as its owner)")
    if not info.st_mode & stat.S_IWUSR or not os.access(target, os.W_OK):
        raise InputError(str(path), "is read-only: refusing to replace it; make it writable "
                         "first if it should be fixed")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise InputError(str(path), f"cannot be replaced: its folder {target.parent} is not "
                         "writable")
    return target
