"""Decode data-file work records with msgspec: the fields the rows need, the rest kept as raw JSON.

Parsing a whole record into Python objects (json or orjson) and writing its slimmed copy back
out is most of a build's time. msgspec decodes each record twice instead, both in C: once into
a struct of only the fields the rows read (authors and dates typed, everything else skipped
unread; references keep only the six fields the table has), and once into a struct of the
slimmed record's fields (`RECORD_KEYS`) as raw JSON, encoded back as they are. Anything
msgspec will not take as typed (a field of another type, a number out of range, NaN) goes to
the generic path, which gives the same rows: so does a build without msgspec installed.
"""

from __future__ import annotations

from typing import Any

import msgspec

from evidence_cli.services.crossref_records import RECORD_KEYS
from evidence_cli.snapshot.inputs import parse, works_in
from evidence_cli.snapshot.rows import (
    Rows,
    add_string_references,
    add_values,
    add_work,
    date_parts,
    search_text,
)

_EMPTY = msgspec.Raw()


def _attribute(key: str) -> str:
    return key.replace("-", "_")


class Reference(msgspec.Struct, gc=False):
    """The fields of a reference the references table keeps, strings as Crossref writes them
    (add_string_references then makes their rows a column at a time, #18); a reference with a
    field of another type sends its document to the generic path, which types them."""

    key: str | None = None
    DOI: str | None = None
    unstructured: str | None = None
    year: str | None = None
    journal_title: str | None = msgspec.field(default=None, name="journal-title")
    article_title: str | None = msgspec.field(default=None, name="article-title")


class _Author(msgspec.Struct, gc=False):
    """An author as the search text reads it (an author that is not an object: generic path)."""

    family: Any = None
    name: Any = None


class _Date(msgspec.Struct, gc=False):
    """A Crossref date (one that is not an object goes to the generic path)."""

    parts: Any = msgspec.field(default=None, name="date-parts")


class _Indexed(msgspec.Struct, gc=False):
    timestamp: Any = None


class _Read(msgspec.Struct, gc=False):
    """The fields the rows read, decoded; everything else in the record is skipped unread.
    Decoding them typed (authors, dates) instead of as generic JSON halves the cost (#18)."""

    DOI: Any = None
    type: Any = None
    title: Any = None
    subtitle: Any = None
    short_title: Any = msgspec.field(default=None, name="short-title")
    container_title: Any = msgspec.field(default=None, name="container-title")
    short_container_title: Any = msgspec.field(default=None, name="short-container-title")
    author: list[_Author] | None = None
    issued: _Date | None = None
    published_print: _Date | None = msgspec.field(default=None, name="published-print")
    published_online: _Date | None = msgspec.field(default=None, name="published-online")
    published: _Date | None = None
    volume: Any = None
    issue: Any = None
    page: Any = None
    updated_by: Any = msgspec.field(default=None, name="updated-by")
    update_to: Any = msgspec.field(default=None, name="update-to")
    indexed: _Indexed | None = None
    deposited: _Date | None = None
    reference: list[Reference] | None = None


# The slimmed record: its fields as raw JSON, re-encoded as they are, in RECORD_KEYS order
# (fields absent from the record are left out: `omit_defaults`).
_Record = msgspec.defstruct(
    "_Record",
    [(_attribute(key), msgspec.Raw, msgspec.field(default=_EMPTY, name=key))
     for key in RECORD_KEYS],
    gc=False, omit_defaults=True,
)


class _Envelope(msgspec.Struct, gc=False):
    """A data file or a line: {"items": [...]}, {"message": ...}, or a work itself."""

    items: list[msgspec.Raw] | None = None
    message: msgspec.Raw = _EMPTY


class _ReadItems(msgspec.Struct, gc=False):
    items: list[_Read] | None = None


class _RecordItems(msgspec.Struct, gc=False):
    items: list[_Record] | None = None  # type: ignore[valid-type]  # made at run time


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_READ_ITEMS = msgspec.json.Decoder(_ReadItems)
_RECORD_ITEMS = msgspec.json.Decoder(_RecordItems)
_READ: msgspec.json.Decoder[_Read] = msgspec.json.Decoder(_Read)
_RECORD: msgspec.json.Decoder[Any] = msgspec.json.Decoder(_Record)
_ENCODE = msgspec.json.Encoder().encode
_ERRORS = (msgspec.DecodeError, msgspec.ValidationError)


def _items(document: bytes) -> list[msgspec.Raw] | None:
    """The work records of a document as raw JSON, as `works_in` finds them; None when the
    document is not a shape this reads (the generic path then reads it)."""
    try:
        envelope = _ENVELOPE.decode(document)
        if envelope.items is not None:
            return envelope.items
        if not envelope.message:
            return [msgspec.Raw(document)]
        inner = _ENVELOPE.decode(envelope.message)
    except _ERRORS:
        return None
    return inner.items if inner.items is not None else [envelope.message]


def add_document(rows: Rows, document: bytes, seq: int, name: str) -> int | None:
    """Add the rows of every work in one JSON document; returns how many works, or None for a
    document to read with the generic path instead."""
    added = _add_items(rows, document, seq)
    if added is not None:
        return added
    items = _items(document)
    if items is None:
        return None
    return sum(_add_raw(rows, raw, seq, name) for raw in items)


def _add_items(rows: Rows, document: bytes, seq: int) -> int | None:
    """A data file's {"items": [...]} read whole, twice (the read fields, the record's raw
    fields) rather than split into items first and each read twice: a third less scanning
    (#18). None, with no rows added, when any item is not for the fast path: they are then
    read one by one."""
    try:
        works = _READ_ITEMS.decode(document).items
        if works is None:
            return None
        shapes = _RECORD_ITEMS.decode(document).items
    except _ERRORS:
        return None
    if shapes is None or len(shapes) != len(works):  # pragma: no cover - the same document
        return None
    sizes = len(rows.works), rows.ref_count(), len(rows.notices)
    references: list[tuple[str, list[Reference]]] = []
    try:
        added = sum(_add(rows, work, shape, seq, references)
                    for work, shape in zip(works, shapes, strict=True))
    except UnicodeDecodeError:  # a record's raw JSON is not UTF-8: its rows are taken back
        rows.truncate(*sizes)
        return None
    add_string_references(rows, seq, references)
    return added


def _date(value: _Date | None) -> tuple[str | None, int]:
    return date_parts(value.parts) if value is not None else (None, 0)


def _add_raw(rows: Rows, raw: msgspec.Raw, seq: int, name: str) -> int:
    try:
        work = _READ.decode(raw)
        if not isinstance(work.DOI, str):
            return 0
        references: list[tuple[str, list[Reference]]] = []
        added = _add(rows, work, _RECORD.decode(raw), seq, references)
    except (*_ERRORS, UnicodeDecodeError):
        return _add_generic(rows, raw, seq, name)
    add_string_references(rows, seq, references)
    return added


def _add(rows: Rows, work: _Read, shape: Any, seq: int,
         references: list[tuple[str, list[Reference]]]) -> int:
    """Add the rows of one work from its two decodings but for its references, which go to
    `references` (with the work's DOI) for add_string_references; 0 for an item that is not a
    work."""
    doi = work.DOI
    # As works_in: a work has a string DOI, and a type or a title (an /agency answer has not),
    # present whatever its value.
    if not isinstance(doi, str) or not (shape.type or shape.title):
        return 0
    record = _ENCODE(shape)
    issued: tuple[str | None, int] = (None, 0)
    for value in (work.issued, work.published_print, work.published_online,
                  work.published):  # DATE_KEYS, in order
        if value is not None and (issued := date_parts(value.parts))[0]:
            break
    names = [str(person.family or person.name or "") for person in work.author or ()]
    search = search_text((work.title, work.subtitle, work.short_title),
                         (work.container_title, work.short_container_title), names,
                         issued[0], (work.volume, work.issue, work.page))
    indexed = work.indexed
    doi = add_values(rows, seq, doi, indexed.timestamp if indexed is not None else None,
                     work.type, work.title, work.container_title, issued,
                     _date(work.deposited)[0], search, record, (), work.updated_by,
                     work.update_to)
    if work.reference:
        references.append((doi, work.reference))
    return 1


def _add_generic(rows: Rows, raw: msgspec.Raw, seq: int, name: str) -> int:
    count = 0
    # An item of a list, so not unwrapped further: works_in of [item] checks it as a work.
    for work in works_in({"items": [parse(bytes(raw), name)]}):
        add_work(rows, work, seq)
        count += 1
    return count
