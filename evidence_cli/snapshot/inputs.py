"""Reading Crossref's public data file layout: folders or tars of data files, or JSONL.

Inputs: folders or tar files of `*.json.gz` / `*.jsonl.gz` (each `{"items": [work, ...]}`, or one
work or `{"message": work}` a line), or plain JSONL of records. Each input file (a tar member, a
file, or a chunk of a JSONL file) is one unit, the resume granularity of a build.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from evidence_cli.errors import InputError

# A member of the data file is ~5,000 records, ~50 MB of JSON; refuse anything far beyond.
MAX_UNIT_BYTES = 1 << 30
MAX_LINE_BYTES = 64 << 20
READ_CHUNK = 16 << 20  # bytes a data file is read in
JSONL_CHUNK = 50_000  # lines of a plain JSONL file per unit (the resume granularity)
SUFFIXES = (".json.gz", ".jsonl.gz", ".json", ".jsonl")


try:  # orjson (the `snapshot` extra) parses JSON 3-10 times faster than json
    import orjson

    def loads(data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return json.loads(data)  # e.g. integers past 64 bits, which json reads
except ImportError:  # pragma: no cover - the plain library works, only slower
    def loads(data: bytes) -> Any:
        return json.loads(data)

_GzipFile: Any = gzip.GzipFile
_GZIP_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error)
try:  # isal (the `snapshot` extra) decompresses gzip 2-3 times faster than zlib (#18)
    from isal import igzip, isal_zlib

    _GzipFile = igzip.GzipFile
    # (typed as an instance in isal's stubs: it is the class of its errors)
    _GZIP_ERRORS = (*_GZIP_ERRORS, cast("type[BaseException]", isal_zlib.error))
except ImportError:  # pragma: no cover - the standard library's gzip, only slower
    pass


@dataclass(slots=True)
class Unit:
    """One resumable piece of input: its key, its size in input bytes, and where its bytes are:
    a file (`path`) or bytes to load now (`load`: a tar member must be read before the stream
    moves on; a JSONL chunk has been read already)."""

    key: str
    size: int
    name: str
    path: Path | None = None
    load: Callable[[], bytes] | None = None


def unit_documents(name: str, path: Path | None, data: bytes | None
                   ) -> Iterator[tuple[bytes, int | None]]:
    """The JSON documents of one unit, each with its line number in a JSONL file (else None)."""
    if path is not None:
        with path.open("rb") as handle:
            yield from _documents(handle, name)
    else:
        yield from _documents(io.BytesIO(data or b""), name)


def unit_works(name: str, path: Path | None, data: bytes | None) -> Iterator[dict[str, Any]]:
    for document, line in unit_documents(name, path, data):
        yield from works_in(parse(document, name, line))


def works_in(obj: Any) -> Iterator[dict[str, Any]]:
    """The work records in one JSON value: {"items": [...]}, {"message": ...} or a work."""
    if not isinstance(obj, dict):
        return
    if isinstance(obj.get("items"), list):
        items = obj["items"]
    elif isinstance(obj.get("message"), dict):
        message = obj["message"]
        items = message["items"] if isinstance(message.get("items"), list) else [message]
    else:
        items = [obj]
    for item in items:
        # An /agency answer (no type, no title) is not a work record.
        if isinstance(item, dict) and isinstance(item.get("DOI"), str) and (
                "type" in item or "title" in item):
            yield item


def _read_capped(handle: IO[bytes], name: str) -> bytes:
    # In chunks, not one read of the cap: a read of 1 GB makes a buffer that size for the
    # decompressor to fill and then shrinks it, a third of the time gunzip takes (#18).
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_UNIT_BYTES and (chunk := handle.read(min(READ_CHUNK,
                                                               MAX_UNIT_BYTES + 1 - size))):
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_UNIT_BYTES:
        raise InputError(name, f"more than {MAX_UNIT_BYTES >> 20} MB of JSON in one file")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _lines(handle: IO[bytes], name: str) -> Iterator[bytes]:
    number = 0
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise InputError(name, f"a line longer than {MAX_LINE_BYTES >> 20} MB", number)
        if line.strip():
            yield line


def parse(data: bytes, name: str, line: int | None = None) -> Any:
    try:
        return loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(name, f"not valid JSON: {error}", line) from None


def _documents(handle: IO[bytes], name: str) -> Iterator[tuple[bytes, int | None]]:
    """The documents of one data file (a file or a tar member), gzip or not, JSON or JSONL."""
    if name.endswith(".gz"):
        handle = _GzipFile(fileobj=handle, mode="rb")
    try:
        if name.endswith((".jsonl", ".jsonl.gz")):
            for number, line in enumerate(_lines(handle, name), 1):
                yield line, number
        else:
            yield _read_capped(handle, name), None
    except _GZIP_ERRORS as error:
        raise InputError(name, f"cannot read (damaged gzip?): {error}") from None


def _file_unit(path: Path) -> Unit:
    return Unit(f"file:{path.resolve()}", path.stat().st_size, str(path), path=path)


def _jsonl_units(path: Path) -> Iterator[Unit]:
    """A plain JSONL file in chunks of JSONL_CHUNK lines, each its own unit."""
    with path.open("rb") as handle:
        chunk = 0
        while True:
            start = handle.tell()
            lines: list[bytes] = []
            for line in _lines(handle, str(path)):
                lines.append(line)
                if len(lines) >= JSONL_CHUNK:
                    break
            if not lines:
                return
            size = handle.tell() - start
            data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
            # Line numbers in errors count from the chunk's first line.
            name = f"{path} (lines from {chunk * JSONL_CHUNK + 1}).jsonl"
            yield Unit(f"jsonl:{path.resolve()}:{chunk}", size, name,
                       load=lambda data=data: data)  # type: ignore[misc]
            chunk += 1


def _tar_units(path: Path) -> Iterator[Unit]:
    """The data files in a tar, read in one pass (the tar is streamed, never unpacked)."""
    try:
        archive = tarfile.open(path, mode="r|*")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError) as error:
        raise InputError(str(path), f"not a readable tar file: {error}") from None
    with archive:
        try:
            for member in archive:
                if not member.isfile() or not member.name.endswith(SUFFIXES):
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                if member.size > MAX_UNIT_BYTES:
                    raise InputError(f"{path}:{member.name}", "a member larger than "
                                     f"{MAX_UNIT_BYTES >> 20} MB")
                yield Unit(f"tar:{path.resolve()}:{member.name}", member.size,
                           f"{path}:{member.name}",
                           load=lambda handle=handle: handle.read())  # type: ignore[misc]
        except tarfile.TarError as error:
            raise InputError(str(path), f"damaged tar file: {error}") from None


def iter_units(sources: Iterable[Path]) -> Iterator[Unit]:
    for source in sources:
        if source.is_dir():
            for path in sorted(p for p in source.rglob("*") if p.is_file()
                               and p.name.endswith(SUFFIXES)):
                yield from _path_units(path)
        elif source.is_file():
            yield from _path_units(source)
        else:
            raise InputError(str(source), "no such file or folder")


def _path_units(path: Path) -> Iterator[Unit]:
    name = path.name
    if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.zst")) or (
            not name.endswith(SUFFIXES) and tarfile.is_tarfile(path)):
        yield from _tar_units(path)
    elif name.endswith(".jsonl"):
        yield from _jsonl_units(path)
    else:
        yield _file_unit(path)


def input_bytes(sources: Iterable[Path]) -> int:
    total = 0
    for source in sources:
        if source.is_dir():
            total += sum(p.stat().st_size for p in source.rglob("*")
                         if p.is_file() and p.name.endswith(SUFFIXES))
        elif source.is_file():
            total += source.stat().st_size
    return total

