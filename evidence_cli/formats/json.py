"""The JSON report: the stable contract (schema evidence-cli/check/v1) machines read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring
from typing import IO, TYPE_CHECKING, Any

from evidence_cli.formats.escaping import BIDI, json_safe, neutral
from evidence_cli.formats.interface import Rename, ReportFormat, Write
from evidence_cli.formats.report import ReferenceEntry, Report, ReportHead
from evidence_cli.models import CITED_KEYS, ID_KEYS

if TYPE_CHECKING:
    from evidence_cli.models import CitedFields, Finding, ReferenceResult

_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
# The JSON string of a str, as _encode writes it (the C function the encoder itself calls).
_string = encode_basestring


def _compact(value: Any) -> str:
    return json_safe(_encode(value))


# What json_safe and neutral() could change in a line _encode wrote: _encode escapes the C0
# controls and raw line ends itself; DEL and C1 are json_safe's, bidi controls neutral()'s.
_UNSAFE_IN_JSON = re.compile(f"[\\x7f-\\x9f{BIDI}]")


def _neutral_line(line: str) -> str:
    """`neutral(json_safe(line))` for a line _encode wrote, as it is inside the report
    (neutral() works line by line; a reference line starts with '{', never with "::")."""
    if line.isascii():  # a flag, not a scan: most lines; DEL alone can be in them (json_safe's)
        return json_safe(line)
    return neutral(json_safe(line)) if _UNSAFE_IN_JSON.search(line) else line


def _scalar(value: Any) -> str:
    """`value` as _encode writes it; the common types directly, anything else by _encode."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if kind is list and all(type(item) is str for item in value):
        # A list of names: the generic encoder costs more to set up than to run on it.
        return "[" + ", ".join([_string(item) for item in value]) + "]"
    return _encode(value)


def _fields_json(fields: CitedFields) -> str:
    """CitedFields.to_dict() as _encode writes it."""
    parts = [f'"{key}": {_scalar(getattr(fields, key))}' for key in CITED_KEYS]
    parts.extend(f'"{key}": {_scalar(value)}' for key in ID_KEYS
                 if (value := getattr(fields, key)))
    return "{" + ", ".join(parts) + "}"


def _finding_json(finding: Finding) -> str:
    """Finding.to_dict() as _encode writes it."""
    return (f'{{"code": {_scalar(finding.code)}, "severity": {_scalar(finding.severity.value)}, '
            f'"field": {_scalar(finding.field)}, "cited": {_scalar(finding.cited)}, '
            f'"registered": {_scalar(finding.registered)}, '
            f'"message": {_scalar(finding.message)}, '
            f'"suggestion": {_scalar(finding.suggestion)}}}')


def reference_line(result: ReferenceResult) -> str:
    """`_compact(result.to_dict())`, neutralised as in the report, built without the dicts
    (to_dict and the generic encoder were a fifth of a warm 50,000-reference check;
    tests/test_formats.py holds it to _compact of to_dict)."""
    ref = result.reference
    registered = result.registered
    findings = ", ".join(_finding_json(finding) for finding in result.findings)
    line = (f'{{"id": {_scalar(ref.id)}, "source": {{"path": {_scalar(ref.source.path)}, '
            f'"line": {_scalar(ref.source.line)}}}, "raw": {_scalar(ref.raw)}, '
            f'"cited": {_fields_json(ref.cited)}, "doi": {_scalar(result.doi)}, '
            f'"status": {_scalar(result.status.value)}, '
            f'"registered": {_fields_json(registered) if registered else "null"}, '
            f'"findings": [{findings}]}}')
    return _neutral_line(line)


def _pieces(head_text: str, lines: Iterable[str]) -> Iterator[str]:
    """The report's text: the head's keys (`head_text`, the encoded head without its closing
    brace), then one reference per line (`lines`, each without its line end), in pieces that
    end at a line end.

    json.dumps with `indent` falls back to the pure-Python encoder (4 s for 50,000 references);
    encoding each reference with the C encoder keeps large reports quick.
    """
    first = True
    for line in lines:
        yield (head_text + ', "references": [\n' if first else ",\n") + line
        first = False
    yield head_text + ', "references": []}\n' if first else "\n]}\n"


class JsonFormat(ReportFormat):
    """The report as it is, one reference per line."""

    def render(self, report: Report) -> str:
        """One reference per line: readable and diff-friendly, and fast."""
        head = {key: value for key, value in report.items() if key != "references"}
        return "".join(_pieces(_compact(head)[:-1],
                               (_compact(entry) for entry in report["references"])))

    def stream(self) -> JsonStream:
        return JsonStream()


# How many characters of references are joined before they are written.
_CHUNK = 1 << 18


class JsonStream:
    """The JSON report written as references come: each reference's line goes to a temporary
    file, and `write` copies them after the head (whose summary, first in the report, is known
    only at the end). The text is `JsonFormat.format`'s, piece by piece: the lines are
    neutralised as they are spooled (`reference_line`), the head as it is written."""

    def __init__(self) -> None:
        import tempfile

        # Closed by `close` (the command's finally).
        self._spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def add(self, results: list[ReferenceResult]) -> None:
        self._spool.write("".join([reference_line(result) + "\n" for result in results]))

    def write(self, head: ReportHead, write: Write, rename: Rename | None = None) -> None:
        self._spool.seek(0)
        lines: Iterable[str] = (line[:-1] for line in self._spool)
        if rename is not None:
            lines = (_renamed(line, rename) for line in lines)
        # neutral() works line by line (JSON holds no raw line end), so the head neutralised on
        # its own and the lines neutralised one by one are the whole text neutralised.
        buffered: list[str] = []
        size = 0
        for piece in _pieces(neutral(_compact(dict(head))[:-1]), lines):
            buffered.append(piece)
            size += len(piece)
            if size >= _CHUNK:
                write("".join(buffered))
                buffered, size = [], 0
        write("".join(buffered))

    def close(self) -> None:
        self._spool.close()


def _renamed(line: str, rename: Rename) -> str:
    entry: ReferenceEntry = json.loads(line)
    before = entry["id"]
    rename(entry)
    return line if entry["id"] == before else _neutral_line(_encode(entry))
