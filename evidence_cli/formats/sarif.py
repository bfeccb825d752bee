"""SARIF 2.1.0 output, for GitHub code scanning and other static-analysis dashboards."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from evidence_cli import PROJECT_URL, __version__
from evidence_cli.codes import CODES
from evidence_cli.formats.escaping import json_safe
from evidence_cli.formats.interface import ReportFormat
from evidence_cli.formats.report import ReferenceEntry, Report
from evidence_cli.formats.text import finding_text

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
# Names the fingerprint scheme; bump the suffix if what goes into the hash ever changes, so
# dashboards treat the new values as a new scheme rather than as every alert being new.
FINGERPRINT_KEY = "evidenceFinding/v1"

_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:/")


def _rule_name(code: str) -> str:
    # SARIF rule names are conventionally PascalCase identifiers ("DoiNotFound").
    return "".join(part.capitalize() for part in code.split("-"))


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": info.code,
            "name": _rule_name(info.code),
            "shortDescription": {"text": info.summary},
            "fullDescription": {"text": info.help},
            "help": {"text": info.help},
            "defaultConfiguration": {"level": _LEVELS[info.severity.value]},
        }
        for info in CODES.values()
    ]


def artifact_uri(path: str) -> str:
    """A path from the report as a SARIF URI reference: '/'-separated and percent-encoded.

    Relative paths stay relative (resolved against %SRCROOT%, the checkout); absolute ones become
    file: URIs. Spaces, '#' and '%' in file names would otherwise make an invalid URI.
    """
    posix = path.replace("\\", "/")
    if _WINDOWS_DRIVE.match(posix):
        return "file:///" + quote(posix, safe="/:")
    if posix.startswith("/"):
        return "file://" + quote(posix, safe="/")
    return quote(posix, safe="/")


def fingerprint(code: str, path: str, reference_id: str, field: str | None) -> str:
    """Stable across runs: the same problem in the same reference hashes the same.

    Line numbers are left out on purpose, so an alert survives references being added above it.
    """
    key = "\x1f".join((code, path, reference_id, field or ""))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _location(reference: ReferenceEntry) -> dict[str, Any]:
    source = reference.get("source") or {}
    path = str(source.get("path") or "<stdin>")
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(path)}}
    if not physical["artifactLocation"]["uri"].startswith("file:"):
        physical["artifactLocation"]["uriBaseId"] = "%SRCROOT%"
    line = source.get("line")
    if isinstance(line, int) and line >= 1:
        physical["region"] = {"startLine": line}
    return {
        "physicalLocation": physical,
        "logicalLocations": [{"name": str(reference.get("id", "")), "kind": "member"}],
    }


def _results(report: Report, rule_index: dict[str, int]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for reference in report.get("references", []):
        path = str((reference.get("source") or {}).get("path") or "<stdin>")
        reference_id = str(reference.get("id", ""))
        for finding in reference.get("findings", []):
            code = str(finding.get("code"))
            result: dict[str, Any] = {
                "ruleId": code,
                "level": _LEVELS.get(str(finding.get("severity")), "warning"),
                "message": {"text": f"{reference_id}: {finding_text(finding)}"},
                "locations": [_location(reference)],
                "partialFingerprints": {
                    FINGERPRINT_KEY: fingerprint(code, path, reference_id, finding.get("field"))
                },
                "properties": {
                    "referenceStatus": reference.get("status"),
                    "doi": reference.get("doi"),
                    "field": finding.get("field"),
                },
            }
            if code in rule_index:
                result["ruleIndex"] = rule_index[code]
            results.append(result)
    return results


def sarif_log(report: Report) -> dict[str, Any]:
    """The report as a SARIF log object (one run, one rule per finding code)."""
    rules = _rules()
    rule_index = {rule["id"]: index for index, rule in enumerate(rules)}
    tool_info = report.get("tool") or {}
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": str(tool_info.get("name") or "evidence-cli"),
                        "version": str(tool_info.get("version") or __version__),
                        "semanticVersion": __version__,
                        "informationUri": PROJECT_URL,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {
                    "%SRCROOT%": {"description": {"text": "The directory evidence ran in."}}
                },
                "results": _results(report, rule_index),
                "properties": {"summary": report.get("summary", {})},
            }
        ],
    }


class SarifFormat(ReportFormat):
    """The report as a SARIF log, for code-scanning dashboards."""

    def render(self, report: Report) -> str:
        return json_safe(json.dumps(sarif_log(report), indent=2, ensure_ascii=False)) + "\n"
