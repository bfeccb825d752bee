"""`evidence fix FILE`: show (or, with --write, apply) the corrections Crossref justifies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evidence_cli.commands import common
from evidence_cli.errors import EXIT_OK, EXIT_UNVERIFIABLE, InputError, UsageError

if TYPE_CHECKING:
    from evidence_cli.fix import EntryChanges

FIXABLE_KINDS = ("bibtex", "ris", "csl-json")


def fix(
    path: Path = typer.Argument(..., help="A BibTeX (.bib), RIS (.ris) or CSL-JSON (.json) file."),
    write: bool = typer.Option(
        False, "--write", "-w",
        help="Apply the changes (atomically; the original is kept as FILE.bak).",
    ),
    threshold: float | None = typer.Option(
        None, "--threshold", min=0.5, max=1.0,
        help="Confidence needed to add a DOI found by search (default 0.9, or the "
        "match-threshold setting).",
    ),
    prefer_published: bool = typer.Option(
        False, "--prefer-published",
        help="Replace a cited preprint's DOI with its published version's, when its record "
        "names one (published-version-available).",
    ),
    crossref_url: str | None = common.CROSSREF_URL,
    mailto: str | None = common.MAILTO,
    ncbi_url: str | None = common.NCBI_URL,
    ncbi_api_key: str | None = common.NCBI_API_KEY,
    datacite_url: str | None = common.DATACITE_URL,
    cache_dir: Path | None = common.CACHE_DIR,
    offline: bool | None = common.OFFLINE,
    refresh: bool | None = common.REFRESH,
    timeout: float | None = common.TIMEOUT,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the diff."),
) -> int:
    """Add confidently matched DOIs and correct fields that disagree with Crossref.

    Prints a unified diff; --write applies it. Entries whose match is ambiguous or below the
    threshold are never touched, and fields this tool does not know are kept as written.
    """
    from evidence_cli.audit import audit_references
    from evidence_cli.fix import EDITORS, EditError, plan, unified_diff
    from evidence_cli.settings import resolve_settings
    from evidence_cli.sources import SUFFIX_READERS, _read_bytes, decode_text, read_one, sniff

    data = _read_bytes(path)
    kind = SUFFIX_READERS.get(path.suffix.lower()) or sniff(data)
    if kind not in FIXABLE_KINDS:
        raise UsageError(f"{path}: fix edits BibTeX, RIS and CSL-JSON files, not {kind}")
    # Before any lookup: a file that will not be written is refused at once.
    target = _writable_target(path) if write else path
    settings = resolve_settings({
        "crossref_url": crossref_url, "mailto": mailto, "cache_dir": cache_dir,
        "offline": offline, "refresh": refresh, "timeout": timeout,
        "match_threshold": threshold, "check_urls": False,
        "ncbi_url": ncbi_url, "ncbi_api_key": ncbi_api_key, "datacite_url": datacite_url,
    })
    text = decode_text(data, str(path))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Readable for checking, but the edits and the backup are written as UTF-8.
        raise UsageError(f"{path}: fix edits UTF-8 files; this one is UTF-16 (save it as UTF-8)")
    references = read_one(data, str(path), kind)
    results = audit_references(references, settings)
    changes = plan(results, prefer_published=prefer_published)
    try:
        new_text = EDITORS[kind](text, changes)
    except EditError as error:
        raise InputError(str(path), f"cannot be edited safely: {error}") from None
    diff = unified_diff(text, new_text, str(path))
    sys.stdout.write(diff)
    # Entries Crossref could not be asked about were not checked: "nothing to change" would be
    # a verdict nobody made (exit 4, like check).
    unchecked = sum(1 for r in results if any(f.code == "service-unavailable"
                                              for f in r.findings))
    if not quiet:
        _report(changes, str(path), bool(diff), write, unchecked)
    if write and diff:
        from evidence_cli.atomic import write_atomic

        bom = "\ufeff" if data.startswith(b"\xef\xbb\xbf") else ""
        backup = target.with_name(target.name + ".bak")
        # The backup (the original bytes: decode_text proved them UTF-8) is written first: if
        # anything fails after it, the original is still there. Both go beside the file a
        # symbolic link points at, which is the file that gets fixed.
        try:
            write_atomic(backup, data.decode("utf-8"))
            write_atomic(target, bom + new_text)
        except OSError as error:
            raise InputError(str(path), f"cannot be written: {error.strerror or error}") \
                from None
    return EXIT_UNVERIFIABLE if unchecked else EXIT_OK


def _writable_target(path: Path) -> Path:
    """The file --write replaces: the target of a symbolic link, and only one the user may
    write. The write is a rename over the file, which a read-only file or another user's would
    not stop by itself; refusing keeps both as they are."""
    import os
    import stat

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


def _report(changes: list[EntryChanges], path: str, changed: bool, write: bool,
            unchecked: int = 0) -> None:
    from evidence_cli.formats import count

    lines: list[str] = []
    edited = [c for c in changes if c.values]
    for change in changes:
        ref = change.result.reference
        for note in change.left:
            lines.append(f"{ref.id} ({path}:{ref.source.line}): not changed: {note}")
    if unchecked:
        lines.append(f"Could not check {count(unchecked, 'entry', 'entries')} in {path} "
                     "(Crossref could not be asked, or --offline found no answer): they were "
                     "not changed.")
    if not changed:
        among = " among the entries checked" if unchecked else ""
        lines.append(f"Nothing to change in {path}{among}.")
    elif write:
        lines.append(f"{count(len(edited), 'entry', 'entries')} changed in {path}; the original "
                     f"is in {path}.bak.")
    else:
        lines.append(f"{count(len(edited), 'entry', 'entries')} would change; run with --write "
                     "to apply.")
    sys.stderr.write("\n".join(lines) + "\n")


def register(app: typer.Typer) -> None:
    app.command("fix")(fix)
