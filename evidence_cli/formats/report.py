"""The report every format renders, as types: the JSON contract (schema evidence-cli/check/v1).

TypedDicts, not dataclasses: the report *is* the JSON document (json.dumps writes it as it
is, key order included), and these types say what each key holds without a second copy of it.
`audit.build_report` builds it; nothing below the formats adds or renames a key.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

StatusName = Literal["ok", "info", "warning", "error", "unverifiable"]
SeverityName = Literal["info", "warning", "error"]


class SourceEntry(TypedDict):
    """Where the reference was read: the file (or "<stdin>") and its first line."""

    path: str
    line: int


class FieldsEntry(TypedDict):
    """Bibliographic fields, as cited or as registered (the identifiers only when present)."""

    doi: str | None
    title: str | None
    authors: list[str]
    year: int | None
    container: str | None
    volume: str | None
    issue: str | None
    pages: str | None
    url: str | None
    pmid: NotRequired[str]
    pmcid: NotRequired[str]
    arxiv: NotRequired[str]


class FindingEntry(TypedDict):
    """One finding; `cited` and `registered` hold the compared values (text, names or a year)."""

    code: str
    severity: SeverityName
    field: str | None
    cited: Any
    registered: Any
    message: str
    suggestion: str | None


class ReferenceEntry(TypedDict):
    """One cited reference, what it was matched to, and what was found."""

    id: str
    source: SourceEntry
    raw: str
    cited: FieldsEntry
    doi: str | None
    status: StatusName
    registered: FieldsEntry | None
    findings: list[FindingEntry]


class Summary(TypedDict):
    """How many references there are, and how many of each status."""

    references: int
    ok: int
    info: int
    warning: int
    error: int
    unverifiable: int


class ToolEntry(TypedDict):
    name: str
    version: str


class SnapshotEntry(TypedDict):
    """The local Crossref snapshot that answered first: its data's date, folder and source."""

    date: str | None
    path: str
    source: str | None


class Report(TypedDict):
    schema: str
    tool: ToolEntry
    summary: Summary
    references: list[ReferenceEntry]
    snapshot: NotRequired[SnapshotEntry]
