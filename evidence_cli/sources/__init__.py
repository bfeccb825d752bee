"""Sources: read input files (or stdin) into references, each with its file and line.

Every reader module defines `read(data: bytes, path: str) -> list[Reference]`, where `path` is the
name to show in messages and reports. A reader raises InputError only for a file it cannot read at
all; an entry it cannot read becomes a reference carrying an `input-error` problem (see
`entry_problem`), and the rest of the file is still read.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterable, Iterator
from operator import attrgetter
from pathlib import Path
from typing import Protocol, cast

from evidence_cli.errors import InputError
from evidence_cli.models import CitedFields, Finding, Reference, SourceLocation


class Reader(Protocol):
    """What every reader module is (sources/bibtex.py, ris.py, ...): `read(data, path)` turns
    one input's bytes into its references, each with its file and line; an entry it cannot read
    is a reference of its own carrying an `input-error` (`entry_problem`), and a file it cannot
    read at all raises InputError. A reader may also have `iter_read`, yielding them lazily."""

    def read(self, data: bytes, path: str) -> list[Reference]: ...


# The reader module of each kind of input, imported when that kind is read (start-up stays fast).
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


_SNIFF_BIBTEX = re.compile(r"@[ \t]*[A-Za-z][\w-]*[ \t]*[{(]")
_SNIFF_RIS = re.compile(r"^TY {1,2}-", re.M)
_SNIFF_HTML = re.compile(r"<(?:!doctype\s+html|html|head|body)\b", re.I)
_SNIFF_MARKDOWN = re.compile(r"^#{1,6}[ \t]+\S|\[[^\]\n]+\]\((?:https?://|<)", re.M)


def sniff(data: bytes) -> str:
    """Guess a reader from content, for stdin and files whose suffix says nothing: BibTeX after
    `%` comments and blank lines (as JabRef writes it), RIS after record numbers or headers,
    CSL-JSON, HTML, Markdown (a heading or a link), else plain text."""
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = data[:8192].decode("utf-16", "replace")
    else:
        head = data[:8192].decode("utf-8", "replace")
    head = head.lstrip("\ufeff")
    lines = [line.strip() for line in head.splitlines()]
    meaningful = [line for line in lines if line and not line.startswith("%")]
    first = meaningful[0] if meaningful else ""
    if _SNIFF_BIBTEX.match(first):
        return "bibtex"
    if _SNIFF_RIS.search("\n".join(lines[:40])):
        return "ris"
    if first.startswith("{") or re.match(r"\[\s*(?:[{\]]|$)", first):
        return "csl-json"  # not "[1] Doe A. ...", a numbered reference list
    if _SNIFF_HTML.search(head[:2048]):
        return "html"
    if _SNIFF_MARKDOWN.search(head):
        return "markdown"
    return "text"


def reader_available(kind: str) -> bool:
    return importlib.util.find_spec(READER_MODULES[kind]) is not None


def decode_text(data: bytes, path: str) -> str:
    """UTF-8 text (a BOM is allowed), or UTF-16 with its BOM (as Windows tools save "Unicode"
    text); invalid bytes or NULs are an error naming the line."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_utf16(data, path)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError(path, "contains a NUL byte: this looks like a binary file, not text", line)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(path, f"is not valid UTF-8 (byte 0x{data[error.start]:02x})", line) \
            from None


def _decode_utf16(data: bytes, path: str) -> str:
    try:
        text = data.decode("utf-16")  # the BOM says which byte order, and is dropped
    except UnicodeDecodeError as error:
        line = data[: error.start].decode("utf-16", "replace").count("\n") + 1
        raise InputError(path, "is not valid UTF-16 (it starts with a UTF-16 byte order mark)",
                         line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(path, "contains a NUL character: this looks like a binary file, not "
                         "text", line)
    return text


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
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


_CLEANED_FIELDS = ("doi", "title", "container", "volume", "issue", "pages", "url", "pmid",
                   "pmcid", "arxiv")
_CLEANED_VALUES = attrgetter(*_CLEANED_FIELDS)


def _clean(reference: Reference) -> Reference:
    cited = reference.cited
    values = [value for value in _CLEANED_VALUES(cited) if isinstance(value, str)]
    text = "".join([reference.raw, reference.id, *reference.links, *cited.authors, *values])
    if text.isascii() or not _SURROGATE.search(text):
        # Nearly every reference: one check of all its text. The lists are still its own
        # copies, as below (a reader may hand two references one list).
        reference.links = list(reference.links)
        cited.authors = list(cited.authors)
        return reference
    reference.raw = _without_surrogates(reference.raw)
    reference.id = _without_surrogates(reference.id)
    reference.links = [_without_surrogates(link) for link in reference.links]
    for name in _CLEANED_FIELDS:
        value = getattr(cited, name)
        if isinstance(value, str):
            setattr(cited, name, _without_surrogates(value))
    cited.authors = [_without_surrogates(name) for name in cited.authors]
    return reference


def problem(code: str, message: str) -> Finding:
    """A finding about the input itself (input-error, duplicate-key, no-references)."""
    from evidence_cli.codes import finding

    return finding(code, message)


def entry_problem(path: str, line: int, message: str, raw: str = "",
                  key: str | None = None, code: str = "input-error") -> Reference:
    """A reference standing for an entry (or a whole file) that could not be read: it is
    reported with its file, line and what is wrong, and never looked up."""
    where = f"{path}:{line}"
    return Reference(id=key or where, source=SourceLocation(path, line), raw=raw[:2000],
                     cited=CitedFields(), problems=[problem(code, f"{where}: {message}")])


def read_one(data: bytes, path: str, kind: str) -> list[Reference]:
    return list(iter_one(data, path, kind))


def iter_one(data: bytes, path: str, kind: str) -> Iterator[Reference]:
    """The references of one input as its reader yields them: one at a time from a reader that
    has `iter_read` (which raises InputError, if at all, before its first reference), else
    all of `read` at once."""
    if not reader_available(kind):
        raise InputError(path, f"{kind} input is not supported by this version")
    module = cast(Reader, importlib.import_module(READER_MODULES[kind]))
    reader = getattr(module, "iter_read", None) or module.read
    references: Iterable[Reference] = reader(data, path)
    return (_clean(reference) for reference in references)


# The run-level readers live in sources/inputs.py (imported last: it reads the helpers above).
from evidence_cli.sources import inputs  # noqa: E402

Inputs = inputs.Inputs
InputStream = inputs.InputStream
read_all = inputs.read_all
read_inputs = inputs.read_inputs
unique_id = inputs.unique_id
