"""Update checks: retractions, expressions of concern and corrections recorded in Crossref.

Crossref lists notices about a work in its `updated-by` field, from the publisher (Crossmark) or
from Retraction Watch (source "retraction-watch", since 2023:
https://www.crossref.org/documentation/retrieve-metadata/retraction-watch/). A notice itself
carries `update-to`, naming the work it updates.
"""

from __future__ import annotations

from typing import Any

from evidence_cli.checks.normalize import has_retraction_prefix
from evidence_cli.codes import finding
from evidence_cli.models import Finding, first_text

RETRACTION_TYPES = {"retraction", "partial_retraction", "withdrawal", "removal"}
CONCERN_TYPES = {"expression_of_concern"}
CORRECTION_TYPES = {"correction", "erratum", "corrigendum"}
_SOURCES = {"publisher": "the publisher", "retraction-watch": "Retraction Watch"}


def _kind(update: dict[str, Any]) -> str:
    return str(update.get("type", "")).lower().replace("-", "_").replace(" ", "_")


def _date(update: dict[str, Any]) -> str | None:
    try:
        parts = update["updated"]["date-parts"][0]
    except (KeyError, IndexError, TypeError):
        return None
    return "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts) if isinstance(p, int))


def _describe(update: dict[str, Any]) -> str:
    label = str(update.get("label") or _kind(update).replace("_", " ")).lower()
    notice = update.get("DOI")
    date = _date(update)
    source = _SOURCES.get(str(update.get("source", "")).lower())
    parts = [label]
    if notice:
        parts.append(f"notice {str(notice).lower()}")
    if date:
        parts.append(f"dated {date}")
    if source:
        parts.append(f"recorded by {source}")
    return ", ".join(parts)


def check_updates(record: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for update in record.get("updated-by") or []:
        if not isinstance(update, dict):
            continue
        kind = _kind(update)
        notice = str(update.get("DOI") or "").lower() or None
        if kind in RETRACTION_TYPES:
            code = "retracted"
            text = f"This work was retracted ({_describe(update)}). Do not cite it as evidence."
        elif kind in CONCERN_TYPES:
            code = "expression-of-concern"
            text = f"An expression of concern was published ({_describe(update)})."
        elif kind in CORRECTION_TYPES:
            code = "corrected"
            text = f"A correction was published ({_describe(update)})."
        else:
            continue
        # Publisher and Retraction Watch often record the same notice: report it once.
        if (code, notice or kind) in seen:
            continue
        seen.add((code, notice or kind))
        findings.append(finding(
            code, text, field="updated-by", registered=notice,
            suggestion=f"https://doi.org/{notice}" if notice else None,
        ))
    title = first_text(record.get("title"))
    # A notice titled "Retraction: <title>" is not itself retracted.
    is_notice = bool(record.get("update-to"))
    if (not any(f.code == "retracted" for f in findings) and not is_notice and title
            and has_retraction_prefix(title)):
        findings.append(finding(
            "retracted",
            "The registered title marks this work as retracted or withdrawn, although no "
            "retraction notice is linked in Crossref.",
            field="title", registered=title,
        ))
    for update in record.get("update-to") or []:
        if not isinstance(update, dict):
            continue
        target = str(update.get("DOI") or "").lower()
        kind = _kind(update)
        if target and kind in RETRACTION_TYPES | CONCERN_TYPES | CORRECTION_TYPES:
            findings.append(finding(
                "update-notice",
                f"This DOI is itself a {kind.replace('_', ' ')} notice about {target}; "
                "cite the original work (and the notice, if it matters).",
                field="update-to", registered=target, suggestion=f"https://doi.org/{target}",
            ))
    return findings
