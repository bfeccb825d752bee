"""The rows a work record becomes: one in works, one per reference, one per retraction notice."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from evidence_cli.checks.updates import RETRACTION_TYPES

MAX_TEXT = 2_000  # characters kept of a reference's unstructured text
DATE_KEYS = ("issued", "published-print", "published-online", "published")
# A reference's fields as the table reads them: key, DOI, unstructured, year, journal-title,
# article-title (None for a reference that is not an object, which is skipped).
RefFields = tuple[Any, Any, Any, Any, Any, Any] | None

try:  # orjson (the `snapshot` extra) writes JSON 3-10 times faster than json
    import orjson

    def dumps(value: Any) -> str:
        try:
            return orjson.dumps(value).decode("utf-8")
        except TypeError:  # e.g. a lone surrogate, which only an escape can write
            return json.dumps(value, separators=(",", ":"))
except ImportError:  # pragma: no cover - the plain library works, only slower
    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))  # escaped: never a lone surrogate


try:  # isal (the `snapshot` extra) writes the same zlib format 2-3 times faster (#18)
    from isal.isal_zlib import compress as _compress
except ImportError:  # pragma: no cover - the standard library's zlib, only slower
    from zlib import compress as _compress


def pack(record: bytes) -> bytes:
    """A record compressed for the lookup index: zlib's format (the reader decompresses it with
    the standard library's zlib), level 1. Per record, so a lookup decompresses one record."""
    return _compress(record, 1)


def _first(value: Any) -> str | None:
    """The first non-blank string of a list (or the string), its whitespace collapsed."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str) and (words := item.split()):
                return " ".join(words)
        return None
    if isinstance(value, str) and (words := value.split()):
        return " ".join(words)
    return None


def date_parts(parts: Any) -> tuple[str | None, int]:
    """A Crossref date's "date-parts" value as ("YYYY-MM-DD", precision): 1 year, 2 month,
    3 day; (None, 0) when it holds no date."""
    try:
        numbers = [int(p) for p in parts[0] if p is not None][:3]
    except (KeyError, IndexError, TypeError, ValueError):
        return None, 0
    if not numbers or not 0 < numbers[0] < 10000:
        return None, 0
    padded = [*numbers, 1, 1][:3]
    if not (1 <= padded[1] <= 12 and 1 <= padded[2] <= 31):
        return f"{numbers[0]:04d}-01-01", 1
    return f"{padded[0]:04d}-{padded[1]:02d}-{padded[2]:02d}", len(numbers)


def date_of(value: Any) -> tuple[str | None, int]:
    """A Crossref date as ("YYYY-MM-DD", precision): 1 year, 2 month, 3 day; (None, 0)."""
    try:
        parts = value["date-parts"]
    except (KeyError, IndexError, TypeError):
        return None, 0
    return date_parts(parts)


def _issued(work: dict[str, Any]) -> tuple[str | None, int]:
    for key in DATE_KEYS:
        date, precision = date_of(work.get(key))
        if date:
            return date, precision
    return None, 0


def search_text(titles: Iterable[Any], containers: Iterable[Any], names: Iterable[str],
                date: str | None, numbers: Iterable[Any]) -> tuple[str, str]:
    """(title text, other text) for the search index from a work's values: its title,
    subtitle and short title; container titles; authors' names; issued date; volume, issue
    and page (each value as the record holds it: a list, or anything else)."""
    title = " ".join([v for value in titles for v in value or () if isinstance(v, str)])
    rest = [v for value in containers for v in value or () if isinstance(v, str)]
    rest.extend(names)
    if date:
        rest.append(date[:4])
    rest.extend(str(v) for v in numbers if isinstance(v, (str, int)))
    return title, " ".join(rest)


def search_fields(work: dict[str, Any]) -> tuple[str, str]:
    """(title text, other text) for the search index: the fields Crossref's bibliographic query
    matches, as the simulator documents them (titles; names, container, year, volume, pages)."""
    names = [str(person.get("family") or person.get("name") or "")
             for person in work.get("author") or () if isinstance(person, dict)]
    return search_text((work.get("title"), work.get("subtitle"), work.get("short-title")),
                       (work.get("container-title"), work.get("short-container-title")),
                       names, _issued(work)[0],
                       (work.get("volume"), work.get("issue"), work.get("page")))


def _kind(update: dict[str, Any]) -> str:
    return str(update.get("type", "")).lower().replace("-", "_").replace(" ", "_")


def doi_hash(doi: str) -> int:
    """The hash that assigns a DOI to its works bucket (stable across runs and machines)."""
    return zlib.crc32(doi.encode("utf-8"))


@dataclass(slots=True)
class Rows:
    """Row buffers for the three tables of one unit (tuples in the schemas' column order)."""

    works: list[tuple[Any, ...]] = field(default_factory=list)
    refs: list[tuple[Any, ...]] = field(default_factory=list)
    notices: list[tuple[Any, ...]] = field(default_factory=list)


def _is_int64(value: Any) -> bool:
    """An integer the version column holds (JSON's integers have no bound; Parquet's have)."""
    return isinstance(value, int) and -(1 << 63) <= value < (1 << 63)


def reference_fields(work: dict[str, Any]) -> Iterable[RefFields]:
    """The fields of each of a parsed work's references (None for one that is not an object)."""
    return [(ref.get("key"), ref.get("DOI"), ref.get("unstructured"), ref.get("year"),
             ref.get("journal-title"), ref.get("article-title")) if isinstance(ref, dict)
            else None for ref in work.get("reference") or []]


def add_work(rows: Rows, work: dict[str, Any], seq: int) -> None:
    """Add the rows of a whole parsed work record (the generic path: an API page, or what the
    fast decoder does not read)."""
    from evidence_cli.services.crossref_records import slim_record

    record = dumps(slim_record(work)).encode("utf-8")
    indexed = work.get("indexed") or {}
    issued = _issued(work)
    add_values(
        rows, seq, work["DOI"], indexed.get("timestamp") if isinstance(indexed, dict) else None,
        work.get("type"), work.get("title"), work.get("container-title"), issued,
        date_of(work.get("deposited"))[0], search_fields(work), record,
        reference_fields(work), work.get("updated-by"), work.get("update-to"))


def add_values(rows: Rows, seq: int, doi: str, version: Any, kind: Any, title: Any,
               container: Any, issued: tuple[str | None, int], deposited: str | None,
               search: tuple[str, str], record: bytes, references: Iterable[RefFields],
               updated_by: Any, update_to: Any) -> None:
    """Add a work's rows from the values read from it (by add_work, or by the fast decoder
    straight from the record's JSON): `record` is its slimmed record as UTF-8 JSON."""
    doi = doi.strip().lower()
    rows.works.append((
        doi, doi_hash(doi), seq, version if _is_int64(version) else 0,
        _first(kind), _first(title), _first(container), doi.split("/", 1)[0], issued[0],
        issued[1], deposited, search[0], search[1], record.decode("utf-8"),
        # Compressed here, in the worker processes, for the lookup index built at the end.
        pack(record),
    ))
    append = rows.refs.append
    for ordinal, fields in enumerate(references):
        if fields is None:
            continue
        key, cited, text, year, journal, article = fields
        cited = (cited.strip().lower() or None) if isinstance(cited, str) else None
        append((
            doi, seq, ordinal, str(key)[:200] if key is not None else None, cited,
            text[:MAX_TEXT] if isinstance(text, str) else None,
            str(year)[:20] if year is not None else None,
            _first(journal) if journal is not None else None,
            _first(article) if article is not None else None,
        ))
    # Notices both ways: a retracted work lists them in updated-by; a notice names its target in
    # update-to (the snapshot may hold the notice before the target's record shows it).
    for entries, is_notice in ((updated_by, False), (update_to, True)):
        for update in entries or []:
            if not isinstance(update, dict) or _kind(update) not in RETRACTION_TYPES:
                continue
            other = update.get("DOI")
            if not isinstance(other, str) or not other.strip():
                continue
            other = other.strip().lower()
            date, date_precision = date_of(update.get("updated"))
            rows.notices.append((
                doi, seq, other if is_notice else doi, doi if is_notice else other,
                _kind(update), _first(update.get("label")), _first(update.get("source")),
                date, date_precision,
            ))


# -- writing parts --------------------------------------------------------------------------


def schemas() -> dict[str, Any]:
    import pyarrow as pa

    string, i64, i32 = pa.string(), pa.int64(), pa.int32()
    return {
        "w": pa.schema([
            ("doi", string), ("h", pa.uint32()), ("seq", i64), ("version", i64),
            ("type", string), ("title", string), ("container", string), ("prefix", string),
            ("issued", string), ("issued_precision", i32), ("deposited", string),
            ("search_title", string), ("search_rest", string), ("record", string),
            ("packed", pa.binary()),
        ]),
        "r": pa.schema([
            ("citing_doi", string), ("seq", i64), ("ordinal", i32), ("key", string),
            ("cited_doi", string), ("unstructured", string), ("year", string),
            ("journal", string), ("article_title", string),
        ]),
        "x": pa.schema([
            ("source_doi", string), ("seq", i64), ("doi", string), ("notice_doi", string),
            ("type", string), ("label", string), ("source", string), ("date", string),
            ("date_precision", i32),
        ]),
    }

