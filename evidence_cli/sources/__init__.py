"""Sources: read input files (or stdin) into references, each with its file and line.

Every reader module defines `read(data: bytes, path: str) -> list[Reference]`, where `path` is the
name to show in messages and reports.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from evidence_cli.errors import InputError
from evidence_cli.models import Reference

READER_MODULES: dict[str, str] = {
    "bibtex": "evidence_cli.sources.bibtex",
    "text": "evidence_cli.sources.text",
    "ris": "evidence_cli.sources.ris",
    "csl-json": "evidence_cli.sources.csljson",
    "markdown": "evidence_cli.sources.markdown",
    "html": "evidence_cli.sources.html",
    "docx": "evidence_cli.sources.docx",
}

SUFFIX_READERS: dict[str, str] = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".txt": "text",
    ".text": "text",
    ".ris": "ris",
    ".json": "csl-json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
}

# Inputs larger than this are refused rather than read into memory (documented in the README).
MAX_INPUT_BYTES = 50 * 1024 * 1024


def sniff(data: bytes) -> str:
    """Guess a reader from content, for stdin and files whose suffix says nothing."""
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"@"):
        return "bibtex"
    if head.startswith(b"ty  -"):
        return "ris"
    if head.startswith((b"[", b"{")):
        return "csl-json"
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    if head.startswith(b"#") or b"\n#" in head:
        return "markdown"
    return "text"


def reader_available(kind: str) -> bool:
    return importlib.util.find_spec(READER_MODULES[kind]) is not None


def decode_text(data: bytes, path: str) -> str:
    """UTF-8 text (a BOM is allowed); invalid bytes or NULs are an error naming the line."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError(path, "contains a NUL byte: this looks like a binary file, not text", line)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(path, f"is not valid UTF-8 (byte 0x{data[error.start]:02x})", line) \
            from None


def _files_below(folder: Path) -> Iterator[Path]:
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUFFIX_READERS and not any(
            part.startswith(".") for part in path.relative_to(folder).parts
        ):
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                # A link out of the folder (notes.txt -> ../.git/config) would print what it
                # points at in every report: a folder run reads only what is inside it.
                from evidence_cli.notices import warn

                warn(f"{path}: skipped: a symbolic link to a file outside {folder}")
                continue
            yield path


def _read_bytes(path: Path) -> bytes:
    from evidence_cli.sources.safe_read import read_capped

    return read_capped(path, MAX_INPUT_BYTES)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(value: str) -> str:
    # A JSON "\ud800" escape (or an HTML character reference) can smuggle in a lone surrogate,
    # which no output encoding can write: it becomes U+FFFD, the replacement character.
    return _SURROGATE.sub("\ufffd", value)


def _clean(reference: Reference) -> Reference:
    reference.raw = _without_surrogates(reference.raw)
    reference.id = _without_surrogates(reference.id)
    reference.links = [_without_surrogates(link) for link in reference.links]
    cited = reference.cited
    for name in ("doi", "title", "container", "volume", "issue", "pages", "url"):
        value = getattr(cited, name)
        if isinstance(value, str):
            setattr(cited, name, _without_surrogates(value))
    cited.authors = [_without_surrogates(name) for name in cited.authors]
    return reference


def read_one(data: bytes, path: str, kind: str) -> list[Reference]:
    if not reader_available(kind):
        raise InputError(path, f"{kind} input is not supported by this version")
    module = importlib.import_module(READER_MODULES[kind])
    references: list[Reference] = module.read(data, path)
    return [_clean(reference) for reference in references]


def read_inputs(paths: Iterable[str]) -> list[Reference]:
    """Read every input in order; '-' is standard input; a folder is read recursively."""
    references: list[Reference] = []
    for given in paths:
        if given == "-":
            data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
            if len(data) > MAX_INPUT_BYTES:
                raise InputError("<stdin>", f"is over the {MAX_INPUT_BYTES} byte input limit")
            references.extend(read_one(data, "<stdin>", sniff(data)))
            continue
        path = Path(given)
        if path.is_dir():
            for file in _files_below(path):
                references.extend(read_one(_read_bytes(file), str(file),
                                           SUFFIX_READERS[file.suffix.lower()]))
            continue
        data = _read_bytes(path)
        kind = SUFFIX_READERS.get(path.suffix.lower()) or sniff(data)
        references.extend(read_one(data, given, kind))
    _make_ids_unique(references)
    return references


def _make_ids_unique(references: list[Reference]) -> None:
    """Ids must be unique in a report: a key seen twice (in two files) gets its location added."""
    seen: dict[str, int] = {}
    for ref in references:
        seen[ref.id] = seen.get(ref.id, 0) + 1
    for ref in references:
        if seen[ref.id] > 1:
            ref.id = f"{ref.id}@{ref.source.path}:{ref.source.line}"
