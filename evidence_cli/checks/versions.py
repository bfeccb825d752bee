"""Version check: a cited preprint whose record links its published (journal) version.

Crossref posted-content records carry `relation.is-preprint-of`; DataCite records (arXiv, Zenodo
preprints) are read into the same relation by services/datacite.py.
"""

from __future__ import annotations

from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli.codes import finding
from evidence_cli.models import Finding


def published_versions(record: dict[str, Any]) -> list[str]:
    relation = record.get("relation")
    links = relation.get("is-preprint-of") if isinstance(relation, dict) else None
    found: list[str] = []
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or str(link.get("id-type", "")).lower() != "doi":
            continue
        target = doi_rules.normalize(str(link.get("id") or ""))
        if doi_rules.is_valid(target) and target not in found:
            found.append(target)
    return found


def check_versions(record: dict[str, Any]) -> list[Finding]:
    targets = published_versions(record)
    own = str(record.get("DOI") or "").lower()
    targets = [t for t in targets if t != own]
    if not targets:
        return []
    # One published version is a suggestion; several are listed for a person to choose.
    single = targets[0] if len(targets) == 1 else None
    named = ", ".join(targets)
    return [finding(
        "published-version-available",
        f"The cited preprint has a published version ({named}); cite that one.",
        field="doi", cited=own or None, registered=named, suggestion=single,
    )]
