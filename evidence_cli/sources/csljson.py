"""Read CSL-JSON (Zotero, citeproc, pandoc): a list of items, or {"items": [...]}, with each
item's line found by decoding the array element by element."""

from __future__ import annotations

import json
import re
from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli import identifiers
from evidence_cli.errors import InputError
from evidence_cli.gc_pause import gc_paused
from evidence_cli.models import CitedFields, Reference, SourceLocation, first_text
from evidence_cli.sources import decode_text, entry_problem

_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true or false", type(None): "null"}
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    return match.end() if match else index


def _array_start(text: str, path: str) -> int:
    """Offset of the '[' of the item array: the document itself, or its "items" member."""
    decoder = json.JSONDecoder()
    index = _skip(text, 0)
    if text.startswith("[", index):
        return index
    if not text.startswith("{", index):
        raise InputError(path, "CSL-JSON must be a list of items or an object with \"items\"", 1)
    index = _skip(text, index + 1)
    while index < len(text) and text[index] != "}":
        key, index = decoder.raw_decode(text, index)
        index = _skip(text, index)
        index = _skip(text, index + 1)  # the ':'
        if key == "items":
            if not text.startswith("[", index):
                break
            return index
        _, index = decoder.raw_decode(text, index)
        index = _skip(text, index)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
    raise InputError(path, "CSL-JSON object has no \"items\" list", 1)


def _items(text: str, path: str) -> list[tuple[int, int, Any]]:
    """(start offset, end offset, item) for each element of the item array."""
    decoder = json.JSONDecoder()
    index = _skip(text, _array_start(text, path) + 1)
    items: list[tuple[int, int, Any]] = []
    while index < len(text) and text[index] != "]":
        item, end = decoder.raw_decode(text, index)
        items.append((index, end, item))
        index = _skip(text, end)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
    return items


def _families(item: dict[str, Any]) -> list[str]:
    people = item.get("author") or item.get("editor") or []
    names: list[str] = []
    for person in people if isinstance(people, list) else []:
        if isinstance(person, dict):
            name = first_text(person.get("family")) or first_text(person.get("literal"))
            if name:
                particle = first_text(person.get("non-dropping-particle"))
                names.append(f"{particle} {name}" if particle else name)
    return names


def _year(item: dict[str, Any]) -> int | None:
    for key in ("issued", "published-print", "published-online", "created"):
        date = item.get(key)
        if isinstance(date, dict):
            parts = date.get("date-parts")
            if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
                try:
                    return int(parts[0][0])
                except (TypeError, ValueError, OverflowError):  # OverflowError: 1e400
                    pass
            text = first_text(date.get("raw")) or first_text(date.get("literal"))
            match = _YEAR.search(text) if text else None
            if match:
                return int(match.group(1))
        elif isinstance(date, str | int):
            match = _YEAR.search(str(date))
            if match:
                return int(match.group(1))
    return None


def read(data: bytes, path: str) -> list[Reference]:
    with gc_paused():
        return _read(data, path)


def _read(data: bytes, path: str) -> list[Reference]:
    text = decode_text(data, path)
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(path, f"is not valid JSON: {error.msg}", error.lineno) from None
    except ValueError:  # a number past Python's 4,300-digit limit for int()
        huge = re.search(r"\d{4300,}", text)
        line = text.count("\n", 0, huge.start()) + 1 if huge else 1
        raise InputError(path, "holds a number with more than 4,300 digits", line) from None
    except RecursionError:
        raise InputError(path, "is nested too deeply to read as JSON", 1) from None
    references: list[Reference] = []
    line, counted = 1, 0  # lines counted up to offset `counted`: linear, not per item
    for start, end, item in _items(text, path):
        line += text.count("\n", counted, start)
        counted = start
        if not isinstance(item, dict):
            references.append(entry_problem(
                path, line, "cannot read this CSL-JSON item: an item must be an object, not "
                f"{_JSON_KINDS.get(type(item), 'a value')}; it is not checked",
                raw=text[start:end]))
            continue
        doi_text = first_text(item.get("DOI"))
        url = first_text(item.get("URL"))
        if not doi_text and url and doi_rules.is_doi_url(url):
            doi_text, url = url, None
        cited = CitedFields(
            doi=doi_rules.normalize(doi_text) if doi_text else None,
            title=first_text(item.get("title")),
            authors=_families(item),
            year=_year(item),
            container=first_text(item.get("container-title")),
            volume=first_text(item.get("volume")),
            issue=first_text(item.get("issue")),
            pages=first_text(item.get("page")),
            url=url if url and not doi_rules.is_doi_url(url) else None,
        )
        identifiers.apply(cited, identifiers.from_fields(
            pmid=first_text(item.get("PMID")), pmcid=first_text(item.get("PMCID")),
            eprint=first_text(item.get("number")) if item.get("type") == "article" else None,
            urls=[url or ""], notes=[first_text(item.get("note")) or ""]))
        key = first_text(item.get("id"))
        references.append(Reference(
            id=key or f"{path}:{line}",
            source=SourceLocation(path, line),
            raw=text[start:end],
            cited=cited,
            links=[cited.url] if cited.url else [],
        ))
    return references
