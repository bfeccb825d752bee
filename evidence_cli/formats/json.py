"""The JSON report: the stable contract (schema evidence-cli/check/v1) machines read."""

from __future__ import annotations

import json
from typing import Any

from evidence_cli.formats.escaping import json_safe
from evidence_cli.formats.interface import ReportFormat
from evidence_cli.formats.report import Report

_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _compact(value: Any) -> str:
    return json_safe(_encode(value))


class JsonFormat(ReportFormat):
    """The report as it is, one reference per line."""

    def render(self, report: Report) -> str:
        """One reference per line: readable and diff-friendly, and fast.

        json.dumps with `indent` falls back to the pure-Python encoder (4 s for 50,000
        references); encoding each reference with the C encoder and joining them keeps large
        reports quick.
        """
        head = {key: value for key, value in report.items() if key != "references"}
        lines = [_compact(reference) for reference in report["references"]]
        head_text = _compact(head)[:-1]  # without the closing brace
        if not lines:
            return head_text + ', "references": []}\n'
        return head_text + ', "references": [\n' + ",\n".join(lines) + "\n]}\n"
