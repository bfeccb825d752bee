"""Edit a BibTeX, RIS or CSL-JSON file's text, entry by entry, to carry the planned changes.

Edits are made in the text of the entry — the value between its delimiters, or one new line — so
formatting, comments and fields this tool does not understand stay exactly as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from evidence_cli.fixing.plan import EntryChanges


class EditError(Exception):
    """The entry's text is not where or what the reader said: it is left alone."""


def _newline(text: str) -> str:
    if "\r\n" in text:
        return "\r\n"
    # A CR-only file (old Mac tools write RIS so): the new lines must end the same way, or the
    # edited line swallows the next tag.
    return "\r" if "\r" in text and "\n" not in text else "\n"


def _line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        found = text.find("\n", offset)
        if found < 0:
            return len(text)
        offset = found + 1
    return offset


# BibTeX ---------------------------------------------------------------------------------------

_BIBTEX_FIELDS = {
    "doi": ("doi",), "title": ("title",), "year": ("year",),
    "container": ("journal", "journaltitle", "booktitle"), "volume": ("volume",),
    "issue": ("number", "issue"), "pages": ("pages",),
}


def _bibtex_value_span(entry: str, start: int) -> tuple[int, int, str]:
    """(start, end, delimiter) of the value beginning at `start`: {...}, "..." or a bare word.
    The span excludes the delimiters."""
    if entry.startswith("{", start):
        depth = 0
        for index in range(start, len(entry)):
            char = entry[index]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return start + 1, index, "{"
        raise EditError("unbalanced braces")
    if entry.startswith('"', start):
        depth = 0
        for index in range(start + 1, len(entry)):
            char = entry[index]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            elif char == '"' and depth == 0 and entry[index - 1] != "\\":
                return start + 1, index, '"'
        raise EditError("unterminated quoted value")
    match = re.compile(r"[^,}\s]+").match(entry, start)
    if not match:
        raise EditError("no value")
    return match.start(), match.end(), ""


def _bibtex_escape(value: str, name: str, delimiter: str = "{") -> str:
    """A value fit to write between the field's own delimiters.

    Braces are dropped (they must balance inside a braced value; a title's capitalisation is
    the style's business). Between double quotes a `"` would end the value — and what follows
    would be read as new fields (`url = "http://evil.example"`): it is written `{"}`, BibTeX's
    own way of quoting it, the only braces added. A backslash could start a command that eats
    the closing delimiter; it is dropped too (Crossref's titles are plain text).
    """
    if name == "pages":
        value = re.sub(r"\s*[-–—]+\s*", "--", value)
    value = value.replace("{", "").replace("}", "").replace("\\", "")
    value = " ".join(value.split())  # one line: a line break could start a new field
    if delimiter == '"':
        value = value.replace('"', '{"}')
    return value


def edit_bibtex_entry(entry: str, values: dict[str, str]) -> str:
    """The entry's text with each field's value replaced (or the field added)."""
    for name, value in values.items():
        new = _bibtex_escape(value, name)
        for key in _BIBTEX_FIELDS[name]:
            pattern = re.compile(rf"(?im)(?:^|[,{{(])\s*({key})\s*=\s*")
            match = pattern.search(entry)
            if match:
                start, end, delimiter = _bibtex_value_span(entry, match.end())
                after = entry[end + (1 if delimiter else 0):].lstrip()  # past the closing mark
                if after.startswith("#"):
                    # "A" # macro: replacing one piece would change what the rest means.
                    raise EditError(f"field {key} is a concatenation; edit it by hand")
                if delimiter == "" and not new.isdigit():
                    entry = f"{entry[:start]}{{{new}}}{entry[end:]}"
                else:
                    new = _bibtex_escape(value, name, delimiter)
                    entry = f"{entry[:start]}{new}{entry[end:]}"
                break
        else:
            entry = _bibtex_add_field(entry, _BIBTEX_FIELDS[name][0], new)
    return entry


def _bibtex_add_field(entry: str, key: str, value: str) -> str:
    """Add `key = {value}` as the entry's last field, indented like the field before it."""
    close = max(entry.rfind("}"), entry.rfind(")"))
    if close <= 0:
        raise EditError("entry has no closing brace")
    body = entry[:close].rstrip()
    tail = entry[len(body):]
    lines = body.splitlines()
    last = lines[-1] if lines else ""
    indent_match = re.match(r"[ \t]*", last)
    indent = indent_match.group(0) if indent_match and "=" in last and len(lines) > 1 else "  "
    newline = _newline(entry)
    if body.endswith(","):
        return f"{body}{newline}{indent}{key} = {{{value}}},{tail}"
    return f"{body},{newline}{indent}{key} = {{{value}}}{tail}"


def _edit_entries(text: str, changes: list[EntryChanges],
                  edit: Callable[[str, dict[str, str]], str], noun: str,
                  opening: str = "") -> str:
    """Apply `edit` to the text of each changed entry, found as written from the line it was
    read at; the entries are edited from the last to the first so earlier offsets stay right."""
    spans: list[tuple[int, int, dict[str, str]]] = []
    for change in changes:
        if not change.values:
            continue
        ref = change.result.reference
        start = text.find(ref.raw, _line_offset(text, ref.source.line))
        if start < 0 or not ref.raw.startswith(opening):
            raise EditError(f"{noun} {ref.id} not found where it was read")
        spans.append((start, start + len(ref.raw), change.values))
    for start, end, values in sorted(spans, reverse=True):
        text = text[:start] + edit(text[start:end], values) + text[end:]
    return text


def edit_bibtex(text: str, changes: list[EntryChanges]) -> str:
    return _edit_entries(text, changes, edit_bibtex_entry, "entry")


# RIS ------------------------------------------------------------------------------------------

_RIS_TAGS = {
    "doi": ("DO",), "title": ("TI", "T1"), "year": ("PY", "Y1"),
    "container": ("T2", "JF", "JO", "J2", "JA"), "volume": ("VL",), "issue": ("IS",),
}
_RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  -( ?)(.*?)(\r\n|\r|\n)?$", re.S)


def _ris_set(lines: list[str], first: int, end: int, tag: str, value: str,
             newline: str) -> int:
    """Set the first `tag` line of the record to value (a year only replaces the year in a
    date); append the tag before ER when missing. Returns the change in line count."""
    for index in range(first, end):
        match = _RIS_LINE.match(lines[index])
        if match and match.group(1) == tag:
            old = match.group(3)
            if tag in ("PY", "Y1") and re.search(r"\d{4}", old):
                value = re.sub(r"\d{4}", value, old, count=1)
            lines[index] = f"{tag}  - {value}{match.group(4) or ''}"
            return 0
    lines.insert(end, f"{tag}  - {value}{newline}")
    return 1


def _ris_drop(lines: list[str], first: int, end: int, tag: str) -> int:
    for index in range(first, end):
        match = _RIS_LINE.match(lines[index])
        if match and match.group(1) == tag:
            del lines[index]
            return 1
    return 0


def edit_ris(text: str, changes: list[EntryChanges]) -> str:
    lines = text.splitlines(keepends=True)
    newline = _newline(text)
    for change in sorted(changes, key=lambda c: c.result.reference.source.line, reverse=True):
        if not change.values:
            continue
        first = change.result.reference.source.line - 1
        if first >= len(lines) or not lines[first].lstrip("\ufeff").startswith("TY  -"):
            raise EditError(f"record {change.result.reference.id} not found where it was read")
        end = next((i for i in range(first, len(lines)) if lines[i].startswith("ER  -")), None)
        if end is None:
            raise EditError(f"record {change.result.reference.id} has no ER line")
        for name, value in change.values.items():
            value = " ".join(value.split())  # a line break in a value would start a new tag
            if name == "pages":
                parts = re.split(r"\s*[-–—]+\s*", value, maxsplit=1)
                end += _ris_set(lines, first, end, "SP", parts[0], newline)
                if len(parts) > 1 and parts[1]:
                    end += _ris_set(lines, first, end, "EP", parts[1], newline)
                else:
                    end -= _ris_drop(lines, first, end, "EP")  # a single page or article number
                continue
            tags = _RIS_TAGS[name]
            present = next((t for t in tags if any(
                (m := _RIS_LINE.match(lines[i])) and m.group(1) == t for i in range(first, end))),
                tags[0])
            end += _ris_set(lines, first, end, present, value, newline)
    return "".join(lines)


# CSL-JSON -------------------------------------------------------------------------------------

_CSL_KEYS = {"doi": "DOI", "title": "title", "container": "container-title", "volume": "volume",
             "issue": "issue", "pages": "page", "year": "issued"}


def _members(item_text: str) -> list[tuple[str, int, int, Any]]:
    """(key, value start, value end, value) of each member of a JSON object's text."""
    decoder = json.JSONDecoder()
    skip = re.compile(r"\s*")
    index = skip.match(item_text, 1).end()  # type: ignore[union-attr]
    members: list[tuple[str, int, int, Any]] = []
    while index < len(item_text) and item_text[index] != "}":
        key, index = decoder.raw_decode(item_text, index)
        index = skip.match(item_text, index).end()  # type: ignore[union-attr]
        index = skip.match(item_text, index + 1).end()  # type: ignore[union-attr]
        value, end = decoder.raw_decode(item_text, index)
        members.append((key, index, end, value))
        index = skip.match(item_text, end).end()  # type: ignore[union-attr]
        if item_text.startswith(",", index):
            index = skip.match(item_text, index + 1).end()  # type: ignore[union-attr]
    return members


def _csl_value(name: str, value: str, old: Any) -> Any:
    if name == "year":
        year = int(value)
        if isinstance(old, dict) and isinstance(old.get("date-parts"), list) and \
                old["date-parts"] and isinstance(old["date-parts"][0], list):
            new = json.loads(json.dumps(old))
            new["date-parts"][0][0] = year
            return new
        return {"date-parts": [[year]]}
    if isinstance(old, int) and value.isdigit():
        return int(value)  # keep a number a number
    return value


def edit_csl_item(item_text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        key = _CSL_KEYS[name]
        members = {k: (s, e, v) for k, s, e, v in _members(item_text)}
        if key in members:
            start, end, old = members[key]
            new = json.dumps(_csl_value(name, value, old), ensure_ascii=False)
            item_text = item_text[:start] + new + item_text[end:]
            continue
        ordered = _members(item_text)
        new = json.dumps(_csl_value(name, value, None), ensure_ascii=False)
        member = f"{json.dumps(key)}: {new}"
        if not ordered:
            item_text = "{" + member + item_text[1:]
            continue
        last_key, last_start, last_end, _ = ordered[-1]
        # Put the new member on a line of its own, indented like the last one, when the item is
        # written one member per line; on the same line otherwise.
        key_at = item_text.rfind(json.dumps(last_key, ensure_ascii=False), 0, last_start)
        line_start = item_text.rfind("\n", 0, key_at) + 1
        indent = item_text[line_start:key_at]
        own_line = bool(line_start) and not indent.strip()
        separator = f",{_newline(item_text)}{indent}" if own_line else ", "
        item_text = item_text[:last_end] + separator + member + item_text[last_end:]
    return item_text


def edit_csljson(text: str, changes: list[EntryChanges]) -> str:
    text = _edit_entries(text, changes, edit_csl_item, "item", opening="{")
    json.loads(text)  # never write a file that no longer parses
    return text


EDITORS: dict[str, Callable[[str, list[EntryChanges]], str]] = {
    "bibtex": edit_bibtex, "ris": edit_ris, "csl-json": edit_csljson,
}


def unified_diff(old: str, new: str, path: str) -> str:
    """A unified diff as `diff -u` prints it, including the no-newline-at-end marker."""
    import difflib

    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=path, tofile=path,  # so that `patch -p0 < fix.diff` applies it
    )
    return "".join(
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n"
        for line in lines
    )
