"""The JSON report: the stable contract (schema evidence-cli/check/v1) machines read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from evidence_cli.formats.escaping import json_safe, neutral
from evidence_cli.formats.interface import Rename, ReportFormat, Write
from evidence_cli.formats.report import ReferenceEntry, Report, ReportHead

_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _compact(value: Any) -> str:
    return json_safe(_encode(value))


def _pieces(head: dict[str, Any], lines: Iterable[str]) -> Iterator[str]:
    """The report's text: the head's keys, then one reference per line (`lines`, each without
    its line end), in pieces that end at a line end.

    json.dumps with `indent` falls back to the pure-Python encoder (4 s for 50,000 references);
    encoding each reference with the C encoder keeps large reports quick.
    """
    head_text = _compact(head)[:-1]  # without the closing brace
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
        return "".join(_pieces(head, (_compact(entry) for entry in report["references"])))

    def stream(self) -> JsonStream:
        return JsonStream()


# How many characters of references are joined before they are written.
_CHUNK = 1 << 18


class JsonStream:
    """The JSON report written as references come: each reference's line goes to a temporary
    file, and `write` copies them after the head (whose summary, first in the report, is known
    only at the end). The text is `JsonFormat.format`'s, piece by piece."""

    def __init__(self) -> None:
        import tempfile

        # Closed by `close` (the command's finally).
        self._spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def add(self, references: list[ReferenceEntry]) -> None:
        self._spool.write("".join(_compact(entry) + "\n" for entry in references))

    def write(self, head: ReportHead, write: Write, rename: Rename | None = None) -> None:
        self._spool.seek(0)
        lines: Iterable[str] = (line[:-1] for line in self._spool)
        if rename is not None:
            lines = (_renamed(line, rename) for line in lines)
        # neutral() works line by line (JSON holds no raw line end), so pieces ending at line
        # ends are neutralised as the whole text would be.
        buffered: list[str] = []
        size = 0
        for piece in _pieces(dict(head), lines):
            buffered.append(piece)
            size += len(piece)
            if size >= _CHUNK:
                write(neutral("".join(buffered)))
                buffered, size = [], 0
        write(neutral("".join(buffered)))

    def close(self) -> None:
        self._spool.close()


def _renamed(line: str, rename: Rename) -> str:
    entry: ReferenceEntry = json.loads(line)
    before = entry["id"]
    rename(entry)
    return line if entry["id"] == before else _compact(entry)
