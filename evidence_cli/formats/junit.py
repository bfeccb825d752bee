"""JUnit XML output: one test case per reference, for CI systems that show test reports."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from evidence_cli.formats.interface import ReportFormat
from evidence_cli.formats.report import FindingEntry, ReferenceEntry, Report
from evidence_cli.formats.text import finding_text, summary_line
from evidence_cli.models import UNVERIFIABLE_CODES

# Characters XML 1.0 forbids outright (most C0 controls, lone surrogates, U+FFFE/U+FFFF).
# ElementTree would write them and produce a file no parser accepts, so they are replaced.
_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: object) -> str:
    return _INVALID_XML.sub("\ufffd", str(text))


def _lines(findings: list[FindingEntry]) -> str:
    return "\n".join(
        f"[{f.get('severity')}] {f.get('code')}: {finding_text(f)}" for f in findings
    )


def _testcase(reference: ReferenceEntry) -> ET.Element:
    source = reference.get("source") or {}
    path = str(source.get("path") or "<stdin>")
    line = source.get("line")
    attributes = {"classname": _clean(path), "name": _clean(reference.get("id", "")),
                  "file": _clean(path)}
    if isinstance(line, int):
        attributes["line"] = str(line)
    case = ET.Element("testcase", attributes)
    status = reference.get("status")
    findings = list(reference.get("findings") or [])
    doi = reference.get("doi")
    header = f"{reference.get('id')} ({path}:{line})" + (f" doi:{doi}" if doi else "")
    if status == "error":
        errors = [f for f in findings if f.get("severity") == "error"] or findings
        codes = ", ".join(dict.fromkeys(str(f.get("code")) for f in errors))
        message = "; ".join(f"{f.get('code')}: {finding_text(f)}" for f in errors)
        failure = ET.SubElement(
            case, "failure", {"message": _clean(message), "type": _clean(codes)}
        )
        failure.text = _clean(f"{header}\n{_lines(findings)}")
    elif status == "unverifiable":
        # Skipped, not passed: a reference that could not be checked is never reported as fine.
        reasons = [f for f in findings if f.get("code") in UNVERIFIABLE_CODES] or findings
        skipped = ET.SubElement(
            case, "skipped",
            {"message": _clean("unverifiable: could not be checked: "
                               + "; ".join(finding_text(f) for f in reasons))},
        )
        skipped.text = _clean(f"{header}\n{_lines(findings)}")
    elif findings:
        out = ET.SubElement(case, "system-out")
        out.text = _clean(f"{header}\n{_lines(findings)}")
    return case


class JunitFormat(ReportFormat):
    """One test case per reference: errors fail, unverifiable ones are skipped."""

    def render(self, report: Report) -> str:
        references = list(report.get("references") or [])
        summary = report.get("summary") or {}
        failures = sum(1 for r in references if r.get("status") == "error")
        skipped = sum(1 for r in references if r.get("status") == "unverifiable")
        counts = {"tests": str(len(references)), "failures": str(failures), "errors": "0",
                  "skipped": str(skipped)}
        root = ET.Element("testsuites", {"name": "evidence-cli", **counts})
        suite = ET.SubElement(root, "testsuite", {"name": "evidence check", **counts})
        tool = report.get("tool") or {}
        properties = ET.SubElement(suite, "properties")
        for name, value in (("tool", tool.get("name")), ("version", tool.get("version")),
                            ("schema", report.get("schema"))):
            if value:
                ET.SubElement(properties, "property", {"name": name, "value": _clean(value)})
        for reference in references:
            suite.append(_testcase(reference))
        if summary:
            ET.SubElement(suite, "system-out").text = summary_line(summary)
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
