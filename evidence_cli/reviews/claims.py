"""Claims in a review: statements tied to the studies behind them, with `claim-N` ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_cli.errors import UsageError
from evidence_cli.reviews import values
from evidence_cli.reviews.store import ReviewStore


@dataclass(frozen=True, slots=True)
class NewClaim:
    """What `claim add` was told: the statement, the studies' ids, and the optional rest."""

    statement: str
    studies: Sequence[str]
    quote: str | None = None
    page: str | None = None
    claim_id: str | None = None


def next_claim_id(taken: Iterable[str], count: int) -> str:
    """`claim-N` for the N after the review's `count` claims, skipping ids already taken."""
    used = set(taken)
    number = count + 1
    while f"claim-{number}" in used:
        number += 1
    return f"claim-{number}"


def add_claim(store: ReviewStore, slug: str, new: NewClaim) -> tuple[str, Path]:
    """Record a claim; returns its id and the review's file. Every study it names must be in
    the review, and a chosen id must be free."""
    if not new.statement.strip():
        raise UsageError("the claim's statement cannot be empty")
    chosen = (values.parsed("--id", values.parse_id, new.claim_id) if new.claim_id is not None
              else None)
    with store.edit(slug) as review:
        doc = review.doc
        known = {s.get("id") for s in doc.get("studies") or []}
        missing = [s for s in new.studies if s not in known]
        if missing:
            raise UsageError(f"review '{slug}' has no study {', '.join(map(repr, missing))}")
        if doc.get("claims") is None:
            doc["claims"] = []
        claims = doc["claims"]
        taken = {str(c.get("id")) for c in claims}
        if chosen is None:
            chosen = next_claim_id(taken, len(claims))
        elif chosen in taken:
            raise UsageError(f"review '{slug}' already has a claim '{chosen}'")
        claim: dict[str, Any] = {"id": chosen, "statement": new.statement.strip(),
                                 "studies": list(dict.fromkeys(new.studies))}
        if new.quote is not None and new.quote.strip():
            claim["quote"] = new.quote.strip()
        if new.page is not None and new.page.strip():
            claim["page"] = new.page.strip()
        claims.append(claim)
    return chosen, review.path
