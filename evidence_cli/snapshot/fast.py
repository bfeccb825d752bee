"""Decode data-file work records with msgspec: the fields the rows need, the rest kept as raw JSON.

Parsing a whole record into Python objects (json or orjson) and writing its slimmed copy back
out is most of a build's time. msgspec decodes into typed structs instead: the fields the rows
read become Python values; the fields of the slimmed record (`RECORD_KEYS`) stay raw JSON
bytes, joined into the record as they are; references keep only the six fields the table has;
everything else is skipped unread. Anything msgspec will not take as typed (a field of another
type, a number out of range, NaN) goes to the generic path, which gives the same rows: so does a
build without msgspec installed.
"""

from __future__ import annotations

from typing import Any

import msgspec

from evidence_cli.services.crossref_records import RECORD_KEYS
from evidence_cli.snapshot.inputs import parse, works_in
from evidence_cli.snapshot.rows import DATE_KEYS, Rows, add_work

_EMPTY = msgspec.Raw()
# The slimmed record's fields that the rows also read (decoded from their raw JSON).
_READ = ("DOI", "type", "title", "subtitle", "short-title", "container-title",
         "short-container-title", "author", *DATE_KEYS, "volume", "issue", "page",
         "updated-by", "update-to")


def _attribute(key: str) -> str:
    return key.replace("-", "_")


class Reference(msgspec.Struct, gc=False):
    """The fields of a reference the references table keeps (any JSON type: the row code
    types them as the generic path does)."""

    key: Any = None
    DOI: Any = None
    unstructured: Any = None
    year: Any = None
    journal_title: Any = msgspec.field(default=None, name="journal-title")
    article_title: Any = msgspec.field(default=None, name="article-title")


_Work = msgspec.defstruct(
    "_Work",
    [(_attribute(key), msgspec.Raw, msgspec.field(default=_EMPTY, name=key))
     for key in RECORD_KEYS]
    + [("indexed", Any, None), ("deposited", Any, None),
       ("reference", list[Reference] | None, None)],
    gc=False,
)


class _Envelope(msgspec.Struct, gc=False):
    """A data file or a line: {"items": [...]}, {"message": ...}, or a work itself."""

    items: list[msgspec.Raw] | None = None
    message: msgspec.Raw = _EMPTY


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_WORK: msgspec.json.Decoder[Any] = msgspec.json.Decoder(_Work)
_VALUE = msgspec.json.Decoder()
_ERRORS = (msgspec.DecodeError, msgspec.ValidationError)
_RECORD_FIELDS = tuple((_attribute(key), f'"{key}":'.encode()) for key in RECORD_KEYS)
_READ_FIELDS = tuple((key, _attribute(key)) for key in _READ)


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
    items = _items(document)
    if items is None:
        return None
    return sum(_add_raw(rows, raw, seq, name) for raw in items)


def _add_raw(rows: Rows, raw: msgspec.Raw, seq: int, name: str) -> int:
    try:
        work: Any = _WORK.decode(raw)  # a struct made at run time: attributes untyped
        fields = {key: _VALUE.decode(value) for key, attribute in _READ_FIELDS
                  if (value := getattr(work, attribute))}
        # As works_in: a work has a string DOI and a type or a title (an /agency answer has not).
        if not isinstance(fields.get("DOI"), str) or not (work.type or work.title):
            return 0
        record = (b"{" + b",".join(label + getattr(work, attribute)
                                   for attribute, label in _RECORD_FIELDS
                                   if getattr(work, attribute)) + b"}").decode("utf-8")
    except (*_ERRORS, UnicodeDecodeError):
        return _add_generic(rows, raw, seq, name)
    fields["indexed"], fields["deposited"] = work.indexed, work.deposited
    references = [(r.key, r.DOI, r.unstructured, r.year, r.journal_title, r.article_title)
                  for r in work.reference or ()]
    add_work(rows, fields, seq, record, references)
    return 1


def _add_generic(rows: Rows, raw: msgspec.Raw, seq: int, name: str) -> int:
    count = 0
    # An item of a list, so not unwrapped further: works_in of [item] checks it as a work.
    for work in works_in({"items": [parse(bytes(raw), name)]}):
        add_work(rows, work, seq)
        count += 1
    return count
