"""Decode data-file work records with msgspec: the fields the rows need, the rest kept as raw JSON.

Parsing a whole record into Python objects (json or orjson) and writing its slimmed copy back
out is most of a build's time. msgspec reads each data file once instead, in C, into one
struct per work: the slimmed record's fields (`RECORD_KEYS`), those the rows read as values
typed (titles, volume, pages) and the others as raw JSON, encoded back as they are; beside
them the fields the rows need that the record leaves out (references keep only the six fields
the table has). Authors and dates stay raw in the record and are decoded when the rows need
them. Anything msgspec will not take as typed (a field of another type, a number out of range,
NaN) goes to the generic path, which gives the same rows: so does a build without msgspec.
"""

from __future__ import annotations

from typing import Any

import msgspec

from evidence_cli.services.crossref_records import RECORD_KEYS
from evidence_cli.snapshot.inputs import parse, works_in
from evidence_cli.snapshot.rows import (
    DATE_KEYS,
    Rows,
    add_string_references,
    add_values,
    add_work,
    date_parts,
)

_EMPTY = msgspec.Raw()
_UNSET = msgspec.UNSET


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


# The slimmed record's fields the rows read as values, decoded with the type Crossref gives
# them (a record with another type goes to the generic path); encoded back, they are the same
# JSON values. Absent is UNSET, so that a field present as null stays in the record.
_STRING_LIST = list[str] | None | msgspec.UnsetType
_STRING = str | None | msgspec.UnsetType
_TYPED: dict[str, Any] = {
    "DOI": _STRING, "type": _STRING, "volume": _STRING, "issue": _STRING, "page": _STRING,
    "title": _STRING_LIST, "subtitle": _STRING_LIST, "short-title": _STRING_LIST,
    "container-title": _STRING_LIST, "short-container-title": _STRING_LIST,
}

# One work, read in one pass (#18): the slimmed record's fields (`RECORD_KEYS`, in that order,
# each typed as above or kept as raw JSON, re-encoded as it is; absent ones left out:
# `omit_defaults`), and beside them the fields the rows read that the record leaves out (set
# back to their defaults once read, so that the record encoded from the struct has none).
# Authors and dates are raw in the record (it keeps all of them) and decoded from their raw
# JSON when the rows need them.
_Work = msgspec.defstruct(
    "_Work",
    [(_attribute(key), _TYPED[key], msgspec.field(default=_UNSET, name=key)) if key in _TYPED
     else (_attribute(key), msgspec.Raw, msgspec.field(default=_EMPTY, name=key))
     for key in RECORD_KEYS]
    + [("indexed", _Indexed | None, None), ("deposited", _Date | None, None),
       ("reference", list[Reference] | None, None)],
    gc=False, omit_defaults=True,
)


class _Envelope(msgspec.Struct, gc=False):
    """A data file or a line: {"items": [...]}, {"message": ...}, or a work itself."""

    items: list[msgspec.Raw] | None = None
    message: msgspec.Raw = _EMPTY


class _WorkItems(msgspec.Struct, gc=False):
    items: list[_Work] | None = None  # type: ignore[valid-type]  # made at run time


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_WORK_ITEMS = msgspec.json.Decoder(_WorkItems)
_WORK: msgspec.json.Decoder[Any] = msgspec.json.Decoder(_Work)
_AUTHORS = msgspec.json.Decoder(list[_Author] | None)
_DATE = msgspec.json.Decoder(_Date | None)
_ANY = msgspec.json.Decoder()
_ENCODE = msgspec.json.Encoder().encode
_ERRORS = (msgspec.DecodeError, msgspec.ValidationError)
# The dates the issued date is read from (rows.DATE_KEYS, in order), as attributes.
_DATE_ATTRIBUTES = tuple(_attribute(key) for key in DATE_KEYS)


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
    """A data file's {"items": [...]} read whole, in one pass, rather than split into items
    first and each read on its own (#18). None, with no rows added, when any item is not for
    the fast path: they are then read one by one."""
    try:
        works = _WORK_ITEMS.decode(document).items
    except _ERRORS:
        return None
    if works is None:
        return None
    sizes = len(rows.works), rows.ref_count(), len(rows.notices)
    references: list[tuple[str, list[Reference]]] = []
    try:
        added = sum(_add(rows, work, seq, references) for work in works)
    except (*_ERRORS, UnicodeDecodeError):
        # An author or date of another type, or a record's raw JSON that is not UTF-8: the
        # rows are taken back and the items read one by one.
        rows.truncate(*sizes)
        return None
    add_string_references(rows, seq, references)
    return added


def _add_raw(rows: Rows, raw: msgspec.Raw, seq: int, name: str) -> int:
    sizes = len(rows.works), rows.ref_count(), len(rows.notices)
    try:
        references: list[tuple[str, list[Reference]]] = []
        added = _add(rows, _WORK.decode(raw), seq, references)
    except (*_ERRORS, UnicodeDecodeError):
        rows.truncate(*sizes)
        return _add_generic(rows, raw, seq, name)
    add_string_references(rows, seq, references)
    return added


def _value(value: Any) -> Any:
    return None if value is _UNSET else value


def _add(rows: Rows, work: Any, seq: int, references: list[tuple[str, list[Reference]]]
         ) -> int:
    """Add the rows of one work but for its references, which go to `references` (with the
    work's DOI) for add_string_references; 0 for an item that is not a work. Raises a decoding
    error for an author or date of another type (the generic path then reads the item)."""
    doi = work.DOI
    # As works_in: a work has a string DOI, and a type or a title (an /agency answer has not),
    # present whatever its value.
    if not isinstance(doi, str) or (work.type is _UNSET and work.title is _UNSET):
        return 0
    issued: tuple[str | None, int] = (None, 0)
    for attribute in _DATE_ATTRIBUTES:
        raw = getattr(work, attribute)
        if raw and (date := _DATE.decode(raw)) is not None and (
                issued := date_parts(date.parts))[0]:
            break
    author = work.author
    names = [str(person.family or person.name or "")
             for person in (_AUTHORS.decode(author) if author else None) or ()]
    title, container = _value(work.title), _value(work.container_title)
    # rows.search_text of these values, which are typed here (lists of strings, strings):
    # the same text without its tests of each value (a tenth of a work's rows, #18).
    rest = [*(container or ()), *(work.short_container_title or ()), *names]
    if issued[0]:
        rest.append(issued[0][:4])
    rest.extend([value for value in (work.volume, work.issue, work.page)
                 if value.__class__ is str])
    search = (" ".join([*(title or ()), *(work.subtitle or ()), *(work.short_title or ())]),
              " ".join(rest))
    indexed, deposited, cited = work.indexed, work.deposited, work.reference
    work.indexed = work.deposited = work.reference = None  # not in the record
    updated_by, update_to = work.updated_by, work.update_to
    doi = add_values(rows, seq, doi, indexed.timestamp if indexed is not None else None,
                     _value(work.type), title, container, issued,
                     date_parts(deposited.parts)[0] if deposited is not None else None,
                     search, _ENCODE(work), (),
                     _ANY.decode(updated_by) if updated_by else None,
                     _ANY.decode(update_to) if update_to else None)
    if cited:
        references.append((doi, cited))
    return 1


def _add_generic(rows: Rows, raw: msgspec.Raw, seq: int, name: str) -> int:
    count = 0
    # An item of a list, so not unwrapped further: works_in of [item] checks it as a work.
    for work in works_in({"items": [parse(bytes(raw), name)]}):
        add_work(rows, work, seq)
        count += 1
    return count
