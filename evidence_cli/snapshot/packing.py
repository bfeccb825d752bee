"""Records compressed one by one for the snapshot's lookup index: zstd with a shipped dictionary.

A lookup decompresses one record, so each is compressed alone, and alone a 1.4 KB record shares
little with itself: most of it is the keys and values every Crossref record repeats. zstd with a
dictionary of those (records.zdict, 16 KB, made by `python benchmarks/snapshot_dictionary.py`
from the 431 real records of ../shared/crossref) packs a record in half the bytes and half the
time of zlib's level 1 by isal: on real records the dictionary never saw, 0.51 of the size,
6 against 12 µs a record (#18). Records packed before (zlib's format, first byte 0x78) still
read. The dictionary's id is in every frame, and zstd refuses a frame of another dictionary, so
records.zdict is never changed in place: a new one gets a new id and the old stays readable.
"""

from __future__ import annotations

import zlib
from functools import cache
from importlib import resources
from typing import Any

DICTIONARY_FILE = "records.zdict"
DICTIONARY_ID = 0x45564431  # "EVD1"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# The largest record the index is trusted to hold once unpacked: a slimmed record is a few KB;
# a frame that says more is refused before any memory is given to it.
MAX_RECORD = 16 * 1024 * 1024


class UnreadableRecord(ValueError):
    """A packed record that does not unpack: the reader names the snapshot in its error."""


def dictionary_bytes() -> bytes:
    return resources.files("evidence_cli.snapshot").joinpath(DICTIONARY_FILE).read_bytes()


@cache
def _zstd() -> Any:
    """The zstandard module, or None: a snapshot then packs with zlib as before."""
    try:
        import zstandard
    except ImportError:  # pragma: no cover - the `snapshot` extra installs it
        return None
    return zstandard


@cache
def _dictionary() -> Any:
    """The shipped dictionary, read once for packing and unpacking alike."""
    return _zstd().ZstdCompressionDict(dictionary_bytes())


@cache
def _compressor() -> Any:
    zstandard = _zstd()
    if zstandard is None:  # pragma: no cover - see _zstd
        return None
    dictionary = _dictionary()
    # Level 1: level 3 saves 3% more for a quarter more time; no checksum (SQLite's pages are
    # the store, and a frame that does not decode is refused anyway).
    return zstandard.ZstdCompressor(level=1, dict_data=dictionary, write_checksum=False,
                                    write_content_size=True, write_dict_id=True)


@cache
def _decompressor() -> Any:
    zstandard = _zstd()
    if zstandard is None:  # pragma: no cover - see _zstd
        return None
    return zstandard.ZstdDecompressor(dict_data=_dictionary())


def _zlib_pack() -> Any:
    try:  # isal writes zlib's format 2-3 times faster than the standard library
        from isal.isal_zlib import compress
    except ImportError:  # pragma: no cover - the standard library's zlib, only slower
        compress = zlib.compress
    return lambda record: compress(record, 1)


def packer() -> Any:
    """The function that packs a record (UTF-8 JSON bytes) in this process: zstd's with the
    dictionary, or zlib's where zstandard is not installed."""
    compressor = _compressor()
    return compressor.compress if compressor is not None else _zlib_pack()


def unpack(packed: bytes) -> bytes:
    """A record as pack wrote it, in either format."""
    if not packed.startswith(ZSTD_MAGIC):
        try:
            inflater = zlib.decompressobj()
            data = inflater.decompress(packed, MAX_RECORD)
        except zlib.error as error:
            raise UnreadableRecord(f"a record cannot be read ({error}): it is damaged; build the "
                                   "snapshot again") from None
        if inflater.unconsumed_tail:
            raise UnreadableRecord("a record is damaged (larger than any record): build the "
                                   "snapshot again")
        return data
    decompressor = _decompressor()
    if decompressor is None:  # pragma: no cover - see _zstd
        raise UnreadableRecord("its records are packed with zstd: install evidence-cli[snapshot] "
                               "(the zstandard package) to read it")
    zstandard = _zstd()
    size = zstandard.frame_content_size(packed)
    if size < 0 or size > MAX_RECORD:
        raise UnreadableRecord("a record is damaged (its size is unknown or too large): build "
                               "the snapshot again")
    try:
        return bytes(decompressor.decompress(packed))
    except zstandard.ZstdError as error:
        raise UnreadableRecord(f"a record cannot be read ({error}): it was packed with another "
                               "dictionary or is damaged; build the snapshot again") from None
