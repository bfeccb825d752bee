"""Crossref work records: the fields the checks use (slimmed for the cache), and their types."""

from __future__ import annotations

from typing import Any

# The parts of a work record the checks use. Whole records carry reference lists and licences
# that can be 100 KB; caching only these keeps a warm run of 50,000 references fast and small.
RECORD_KEYS = (
    "DOI", "type", "title", "subtitle", "original-title", "short-title", "author", "editor",
    "container-title", "short-container-title", "volume", "issue", "page", "article-number",
    "issued", "published", "published-print", "published-online", "created", "updated-by",
    "update-to", "URL", "resource", "publisher", "prefix", "member", "relation",
)
# Fields of a work record and the JSON type each must have; a record with another type is not
# Crossref's (or is broken) and is unverifiable rather than checked.
_STRING_LISTS = ("title", "subtitle", "original-title", "short-title", "container-title",
                 "short-container-title")
_STRINGS = ("DOI", "type", "volume", "issue", "page", "article-number", "URL", "publisher",
            "prefix", "member")
_DATES = ("issued", "published", "published-print", "published-online", "created")
_DICT_LISTS = ("author", "editor", "updated-by", "update-to")
_DICTS = ("resource", "relation")


def slim_record(message: dict[str, Any]) -> dict[str, Any]:
    return {key: message[key] for key in RECORD_KEYS if key in message}


def type_problem(record: Any) -> str | None:
    """What is ill-typed in a (slim) work record, or None when every field has its type."""
    if not isinstance(record, dict):
        return "the record is not an object"
    for key in _STRING_LISTS:
        value = record.get(key)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, str) for v in value)):
            return f"'{key}' is not a list of strings"
    for key in _STRINGS:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            return f"'{key}' is not a string"
    for key in _DATES:
        value = record.get(key)
        if value is None:
            continue
        parts = value.get("date-parts") if isinstance(value, dict) else None
        if not isinstance(value, dict) or (parts is not None and not (
                isinstance(parts, list) and all(
                    isinstance(p, list) and all(isinstance(n, int | None) for n in p)
                    for p in parts))):
            return f"'{key}' is not a date"
    for key in _DICT_LISTS:
        value = record.get(key)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, dict) for v in value)):
            return f"'{key}' is not a list of objects"
    for person in [*(record.get("author") or []), *(record.get("editor") or [])]:
        for name in ("given", "family", "name", "ORCID", "sequence"):
            if person.get(name) is not None and not isinstance(person[name], str):
                return f"an author's '{name}' is not a string"
    for notice in [*(record.get("updated-by") or []), *(record.get("update-to") or [])]:
        for name in ("type", "DOI", "label", "source"):
            if notice.get(name) is not None and not isinstance(notice[name], str):
                return f"an update notice's '{name}' is not a string"
    for key in _DICTS:
        value = record.get(key)
        if value is not None and not isinstance(value, dict):
            return f"'{key}' is not an object"
    return None
