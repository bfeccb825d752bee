"""The rows a work record becomes: one in works, one per reference, one per retraction notice."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from evidence_cli.checks.updates import RETRACTION_TYPES
from evidence_cli.snapshot import packing

MAX_TEXT = 2_000  # characters kept of a reference's unstructured text
DATE_KEYS = ("issued", "published-print", "published-online", "published")
# A reference's fields as the table reads them: key, DOI, unstructured, year, journal-title,
# article-title (None for a reference that is not an object, which is skipped).
RefFields = tuple[Any, Any, Any, Any, Any, Any] | None
REF_COLUMNS = 9  # the references table's columns, as schemas() lists them

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


# A record compressed for the lookup index (packing.py: zstd with the shipped dictionary), made
# once per process: the compressor is the dictionary's, loaded once.
pack = packing.packer()


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


# Dates seen, by their parts: a unit's works share many of their dates (the deposit's above
# all), and formatting them was a fifth of the cost of a record's rows (#18). Emptied when
# full; only keys of up to three parts are kept (a longer one is read each time).
_DATES: dict[tuple[Any, ...], tuple[str | None, int]] = {}
_DATES_MAX = 100_000


def date_parts(parts: Any) -> tuple[str | None, int]:
    """A Crossref date's "date-parts" value as ("YYYY-MM-DD", precision): 1 year, 2 month,
    3 day; (None, 0) when it holds no date."""
    try:
        key = tuple(parts[0])
    except (KeyError, IndexError, TypeError):
        return None, 0
    try:
        return _DATES[key]
    except KeyError:
        pass
    except TypeError:  # a part that is not hashable (a list, say): no date, uncached
        return _date_of_parts(key)
    # Equal parts give the same date (int() of equal numbers is the same number).
    date = _date_of_parts(key)
    if len(key) <= 3:
        if len(_DATES) >= _DATES_MAX:
            _DATES.clear()
        _DATES[key] = date
    return date


def _date_of_parts(parts: tuple[Any, ...]) -> tuple[str | None, int]:
    try:
        numbers = [int(p) for p in parts if p is not None][:3]
    except (TypeError, ValueError):
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


_crc32 = zlib.crc32


def doi_hash(doi: str) -> int:
    """The hash that assigns a DOI to its works bucket (stable across runs and machines)."""
    return _crc32(doi.encode("utf-8"))


@dataclass(slots=True)
class Rows:
    """Row buffers for the three tables of one unit: works and notices as tuples in the
    schemas' column order, references as the table's columns (a unit has ten times more of
    them: filled a column at a time, not made into tuples and transposed again, #18). A
    work's record is its UTF-8 JSON as bytes (checked to be UTF-8)."""

    works: list[tuple[Any, ...]] = field(default_factory=list)
    refs: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(REF_COLUMNS)])
    notices: list[tuple[Any, ...]] = field(default_factory=list)

    def ref_count(self) -> int:
        return len(self.refs[0])

    def ref_rows(self) -> list[tuple[Any, ...]]:
        """The references as rows (for tests and comparisons)."""
        return list(zip(*self.refs, strict=True))

    def truncate(self, works: int, refs: int, notices: int) -> None:
        """Take back the rows added after these counts."""
        del self.works[works:], self.notices[notices:]
        for column in self.refs:
            del column[refs:]


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
               updated_by: Any, update_to: Any) -> str:
    """Add a work's rows from the values read from it (by add_work, or by the fast decoder
    straight from the record's JSON): `record` is its slimmed record as UTF-8 JSON. Returns
    the work's DOI as the rows hold it."""
    doi = doi.strip().lower()
    if not record.isascii():
        # Only checked (UnicodeDecodeError for a record that is not UTF-8), not kept decoded:
        # the part's string column is made from the bytes (#18).
        record.decode("utf-8")
    rows.works.append((
        doi, _crc32(doi.encode("utf-8")), seq, version if _is_int64(version) else 0,
        _first(kind), _first(title), _first(container), doi.split("/", 1)[0], issued[0],
        issued[1], deposited, search[0], search[1], record,
        # Compressed here, in the worker processes, for the lookup index built at the end.
        pack(record),
    ))
    if references:  # the fast decoder's go to add_string_references instead
        _add_references(rows, seq, doi, references)
    # Notices both ways: a retracted work lists them in updated-by; a notice names its target in
    # update-to (the snapshot may hold the notice before the target's record shows it).
    if updated_by or update_to:  # (most works have neither)
        _add_notices(rows, seq, doi, updated_by, update_to)
    return doi


def _add_references(rows: Rows, seq: int, doi: str, references: Iterable[RefFields]) -> None:
    (citing, seqs, ordinals, keys, cited_dois, texts, years, journals,
     articles) = rows.refs
    for ordinal, fields in enumerate(references):
        if fields is None:
            continue
        key, cited, text, year, journal, article = fields
        citing.append(doi)
        seqs.append(seq)
        ordinals.append(ordinal)
        keys.append(str(key)[:200] if key is not None else None)
        cited_dois.append((cited.strip().lower() or None) if isinstance(cited, str) else None)
        texts.append(text[:MAX_TEXT] if isinstance(text, str) else None)
        years.append(str(year)[:20] if year is not None else None)
        journals.append(_first(journal) if journal is not None else None)
        articles.append(_first(article) if article is not None else None)


def _add_notices(rows: Rows, seq: int, doi: str, updated_by: Any, update_to: Any) -> None:
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


def add_string_references(rows: Rows, seq: int, works: list[tuple[str, list[Any]]]) -> None:
    """Add the references of several works, each a DOI as add_values returned it and its
    references: objects whose six fields (key, DOI, unstructured, year, journal_title,
    article_title) are each a string or None. The same rows add_values makes of them, a
    column at a time (a third of the cost, #18)."""
    (citing, seqs, ordinals, keys, cited_dois, texts, years, journals,
     articles) = rows.refs
    refs: list[Any] = []
    for doi, some in works:
        count = len(some)
        citing.extend([doi] * count)
        ordinals.extend(range(count))
        refs.extend(some)
    seqs.extend([seq] * len(refs))
    keys.extend([k[:200] if (k := ref.key) is not None else None for ref in refs])
    cited_dois.extend([(c.strip().lower() or None) if (c := ref.DOI) is not None else None
                       for ref in refs])
    texts.extend([t[:MAX_TEXT] if (t := ref.unstructured) is not None else None
                  for ref in refs])
    years.extend([y[:20] if (y := ref.year) is not None else None for ref in refs])
    # _first of a string: its words, or None when blank.
    journals.extend([" ".join(w) if (j := ref.journal_title) is not None and (w := j.split())
                     else None for ref in refs])
    articles.extend([" ".join(w) if (a := ref.article_title) is not None and (w := a.split())
                     else None for ref in refs])


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

