"""Which references are searched for in Crossref, with what query, and each query sent once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from evidence_cli.models import CitedFields, Reference, ReferenceForm

# Fewer words of text than this, once the identifiers are taken out, is nothing to search with
# ("See", "Available at"): a query made of them could only bring back a stranger's record.
MIN_SEARCH_WORDS = 5
_LETTERS = re.compile(r"[^\W\d_]{2,}")

T = TypeVar("T")


def search_text(cited: CitedFields, raw: str) -> str:
    """What to send as query.bibliographic: the parsed fields when there is a title, else the
    text without its identifiers (a malformed PMID or a DOI is no search term, and is not sent
    anywhere)."""
    if cited.title:
        parts = [" ".join(cited.authors), str(cited.year or ""), cited.title,
                 cited.container or "", cited.volume or "", cited.pages or ""]
        return " ".join(p for p in parts if p).strip()
    from evidence_cli.checks.locate import ReferenceText

    return ReferenceText(raw).text[:1000]


def query_for(ref: Reference) -> str:
    """The query the audit sends for a reference."""
    return search_text(ref.query or ref.cited, ref.raw)


def worth_searching(ref: Reference) -> bool:
    """For a reference without a DOI: a title, or at least a few words of text besides links
    (a bare URL is not a citation)."""
    if ref.cited.title:
        return True
    words = [w for w in ref.raw.split() if "://" not in w and not w.lower().startswith("www.")]
    return len(words) >= MIN_SEARCH_WORDS


def has_search_text(ref: Reference) -> bool:
    """For a reference whose DOI is wrong: a title, authors, or (free text) a few words once its
    DOIs, links and ids are taken out. A reference that is only its DOI (a doi.org link, a
    `doi:` line, a BibTeX entry holding just a doi field) has nothing to search with."""
    if any(c.title or c.authors for c in (ref.cited, ref.query) if c is not None):
        return True
    if ref.form is not ReferenceForm.TEXT:
        return False  # named fields: the markup around them (`@article`, `TY  -`) is no text
    from evidence_cli.checks.locate import ReferenceText

    return len(_LETTERS.findall(ReferenceText(ref.raw).text)) >= MIN_SEARCH_WORDS


async def search_once(search: Callable[[str], Awaitable[T]], queries: list[str]) -> list[T]:
    """The answer to each query, in order; a query asked twice in a run is sent once (Crossref's
    and PubMed's searches are the slowest requests there are, paced at a few a second)."""
    unique = list(dict.fromkeys(queries))
    answers = await asyncio.gather(*(search(q) for q in unique))
    found = dict(zip(unique, answers, strict=True))
    return [found[q] for q in queries]
