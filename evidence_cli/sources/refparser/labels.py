"""The labels the reference parser gives tokens, and the fields read from them."""

from __future__ import annotations

# Fields the parser returns, and labels it uses only as context (a publisher or an editor's name
# next to a title tells where the title ends; they are never returned as cited fields).
FIELD_LABELS: tuple[str, ...] = (
    "author", "title", "container", "year", "volume", "issue", "pages", "doi", "url",
)
CONTEXT_LABELS: tuple[str, ...] = ("number", "editor", "publisher", "location", "note")
LABELS: tuple[str, ...] = FIELD_LABELS + CONTEXT_LABELS

# anystyle-core.xml's tags → ours. An issue sits inside anystyle's `volume` and is split off
# when the training data is built.
ANYSTYLE_LABELS: dict[str, str] = {
    "author": "author",
    "title": "title",
    "journal": "container",
    "container-title": "container",
    "date": "year",
    "volume": "volume",
    "pages": "pages",
    "doi": "doi",
    "url": "url",
    "citation-number": "number",
    "editor": "editor",
    "translator": "editor",
    "director": "editor",
    "producer": "editor",
    "publisher": "publisher",
    "location": "location",
}  # every other tag (note, genre, edition, isbn, medium, collection-title, ...) → "note"
