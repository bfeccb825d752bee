"""Reading a run's inputs: named files, folders and standard input, whole or file by file."""

from __future__ import annotations

import json
import sys
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import IO

from evidence_cli.errors import InputError
from evidence_cli.gc_pause import gc_paused
from evidence_cli.models import Reference
from evidence_cli.sources import (
    MAX_INPUT_BYTES,
    SUFFIX_READERS,
    _files_below,
    _read_bytes,
    entry_problem,
    iter_one,
    sniff,
)


@dataclass(slots=True)
class Inputs:
    """What a run read: the references (with entry and file problems among them as references
    of their own) and the files a folder walk left out, each with the reason."""

    references: list[Reference] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def read_inputs(paths: Iterable[str]) -> list[Reference]:
    """Every reference of the inputs, in order (see `read_all`)."""
    return read_all(paths).references


def read_all(paths: Iterable[str], exclude: Iterable[str] = ()) -> Inputs:
    """Read every input in order; '-' is standard input; a folder is read recursively.

    A file that cannot be read becomes one `input-error` reference and the others are still
    read; only when nothing at all could be read is its error raised (exit 3), as it is for a
    path that does not exist.
    """
    stream = InputStream(paths, exclude)
    references = [ref for file in stream.files() for ref in file]
    stream.make_ids_unique(references)
    return Inputs(references, stream.skipped)


class InputStream:
    """The inputs read one file at a time (`files`), so that a run holds one file's references,
    not every file's; what `read_all` reads, in the same order.

    Ids must be unique in a report: a key seen twice (in two files) gets its location added, to
    every occurrence, the first included. Which keys repeat is known only once every file is
    read, so the stream marks each id's hash in a fixed bitmap (2 MB, however many ids), notes
    the slots marked twice (a repeated id, or two ids sharing a slot), and writes the ids to a
    temporary file; `duplicates` reads back only the ids of those slots and counts them.
    """

    def __init__(self, paths: Iterable[str], exclude: Iterable[str] = ()) -> None:
        self.paths = list(paths)
        self.exclude = list(exclude)
        self.skipped: list[tuple[str, str]] = []
        self._slots = bytearray(_SLOTS // 8)
        self._twice: set[int] = set()
        import tempfile

        # Closed by `duplicates`, or with the stream when it is dropped unread.
        self._ids: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._duplicates: frozenset[str] | None = None

    def files(self) -> Iterator[list[Reference]]:
        """Each input's references in order (a folder's file by file, a large file's a chunk at
        a time); raises the first InputError at the end when nothing at all could be read."""
        failures: list[InputError] = []
        reading = self._read_paths(failures)
        while True:
            try:
                # A chunk's thousands of references, as the readers that pause it themselves:
                # no cyclic collection walking them (and the rest of the run) while they pile up.
                with gc_paused():
                    chunk = next(reading)
            except StopIteration as done:
                read_something: bool = done.value
                break
            slots, twice = self._slots, self._twice
            lines = []
            for ref in chunk:
                slot = hash(ref.id) & (_SLOTS - 1)
                bit = 1 << (slot & 7)
                if slots[slot >> 3] & bit:
                    twice.add(slot)
                slots[slot >> 3] |= bit
                lines.append(f"{slot} {_json_string(ref.id)}\n")
            self._ids.write("".join(lines))
            yield chunk
        if failures and not read_something:
            first = failures[0]
            if len(failures) > 1:
                raise InputError(first.path, f"{_what(first)} (and {len(failures) - 1} more "
                                 "problems: nothing could be read)", first.line)
            raise first

    def _read_paths(self, failures: list[InputError]) -> Generator[list[Reference], None, bool]:
        read_something = False
        for given in self.paths:
            if given == "-":
                data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
                if len(data) > MAX_INPUT_BYTES:
                    raise InputError("<stdin>", f"is over the {MAX_INPUT_BYTES} byte input limit")
                read_something |= yield from _read_named(failures, data, "<stdin>", sniff(data))
                continue
            path = Path(given)
            if path.is_dir():
                read_something |= yield from _read_folder(self.skipped, failures, path,
                                                          self.exclude)
                continue
            if not path.exists() and not path.is_symlink():
                raise InputError(given, "no such file")
            try:
                data = _read_bytes(path)
            except InputError as error:
                failures.append(error)
                yield [_file_problem(error)]
                continue
            kind = SUFFIX_READERS.get(path.suffix.lower()) or sniff(data)
            read_something |= yield from _read_named(failures, data, given, kind)
        return read_something

    def duplicates(self) -> frozenset[str]:
        """The ids read more than once (once every file is read)."""
        if self._duplicates is None:
            counts: dict[str, int] = {}
            if self._twice:
                self._ids.seek(0)
                for line in self._ids:
                    # Each line is "SLOT JSON-ID": only the ids of a slot seen twice are decoded.
                    slot, encoded = line.split(" ", 1)
                    if int(slot) in self._twice:
                        ref_id = json.loads(encoded)
                        counts[ref_id] = counts.get(ref_id, 0) + 1
            self._ids.close()
            self._duplicates = frozenset(ref_id for ref_id, n in counts.items() if n > 1)
        return self._duplicates

    def make_ids_unique(self, references: Iterable[Reference]) -> None:
        duplicates = self.duplicates()
        if duplicates:
            for ref in references:
                if ref.id in duplicates:
                    ref.id = unique_id(ref.id, ref.source.path, ref.source.line)


# Slots of the id bitmap: 2**24 bits; at 500,000 ids a few thousand share a slot by chance.
_SLOTS = 1 << 24


def unique_id(ref_id: str, path: str, line: int) -> str:
    """The id of a reference whose key another reference shares: the key and its location."""
    return f"{ref_id}@{path}:{line}"


# An id as JSON (ASCII, as json.dumps writes it): one C call a reference, nothing set up.
_json_string = encode_basestring_ascii


def _what(error: InputError) -> str:
    """The message of an InputError without the "path:line: " it starts with."""
    where = f"{error.path}:{error.line}: " if error.line is not None else f"{error.path}: "
    return error.message.removeprefix(where)


def _file_problem(error: InputError) -> Reference:
    return entry_problem(error.path, error.line or 1, _what(error), key=error.path)


_NOTHING_FOUND = ("no reference was found in it: an empty bibliography, or a reference section "
                  "whose heading is not recognised (name it References or Bibliography)")


# References of one file handed on together (a file's are not all held at once).
CHUNK = 5000


def _read_named(failures: list[InputError], data: bytes, path: str, kind: str,
                named: bool = True) -> Generator[list[Reference], None, bool]:
    """Read one input, a chunk of references at a time; returns True when something in it
    could be read (an empty file counts: when it was named, it is reported as holding no
    references), False when it or every entry in it is broken."""
    found = readable = False
    chunk: list[Reference] = []
    try:
        for ref in iter_one(data, path, kind):
            found = True
            readable = readable or not ref.is_input_problem
            for finding in ref.problems:
                if finding.code == "input-error":
                    where = f"{ref.source.path}:{ref.source.line}: "
                    failures.append(InputError(ref.source.path,
                                               finding.message.removeprefix(where),
                                               ref.source.line))
            chunk.append(ref)
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    except InputError as error:
        if found:
            raise  # a reader broke its promise to fail before its first reference
        failures.append(error)
        yield [_file_problem(error)]
        return False
    if chunk:
        yield chunk
    if not found and named:
        yield [entry_problem(path, 1, _NOTHING_FOUND, key=path, code="no-references")]
    return not found or readable


def _read_folder(skipped: list[tuple[str, str]], failures: list[InputError], folder: Path,
                 exclude: list[str]) -> Generator[list[Reference], None, bool]:
    """Read the files below a folder that a folder run should read (sources/selection.py says
    which, and why the others are skipped), one file at a time; True when something could be
    read."""
    from evidence_cli.sources.selection import content_skip_reason, excluded_by, git_ignored

    files = list(_files_below(folder))
    ignored = git_ignored(folder, files) if files else set()
    skipped_before = len(skipped)
    found_any = read_something = False
    for file in files:
        shown = str(file)
        if file in ignored:
            skipped.append((shown, "ignored by git (.gitignore)"))
            continue
        pattern = excluded_by([file.relative_to(folder).as_posix(), file.as_posix()], exclude)
        if pattern is not None:
            skipped.append((shown, f"matches --exclude-path {pattern}"))
            continue
        try:
            data = _read_bytes(file)
        except InputError as error:
            failures.append(error)
            found_any = True
            yield [_file_problem(error)]
            continue
        kind = SUFFIX_READERS[file.suffix.lower()]
        reason = content_skip_reason(kind, data)
        if reason is not None:
            skipped.append((shown, reason))
            continue
        reading = _read_named(failures, data, shown, kind, named=False)
        while True:
            try:
                chunk = next(reading)  # pulled by InputStream.files, with the collector paused
            except StopIteration as done:
                read_something |= done.value
                break
            found_any = True
            yield chunk
    if not found_any:
        yield [entry_problem(
            str(folder), 1, "no reference was found in any file below this folder"
            + (f" ({len(skipped) - skipped_before} skipped; -v lists them)"
               if len(skipped) > skipped_before else ""),
            key=str(folder), code="no-references")]
    return read_something
