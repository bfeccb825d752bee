"""Read references from HTML pages with BeautifulSoup (Python's html.parser, which keeps lines).

The reference section is an element marked as one (`role="doc-bibliography"`, an id or class
naming references or bibliography, citeproc's `csl-bib-body`) or what follows a heading such as
"References", "Bibliography", "Sources", "Works cited" or "Further reading", up to the next heading
of the same or a higher level, an <hr> or the page's <footer>. In it, each list item (or
`doc-biblioentry`, `csl-entry`) is one reference; without list items, each paragraph that carries
a year, a DOI or a link is one (each line of it, when its lines are separated by <br> and each
carries a year, a DOI or a link).
Outside it, each link and bare DOI/URL in the text is a reference of its own (id PATH:LINE) with
only its DOI or URL, as in Markdown; links in navigation (`<nav>`) are not citations and are left
out. Lines are the source lines of the elements.
"""

from __future__ import annotations

import re
from typing import Any

from evidence_cli.models import Reference
from evidence_cli.sources import decode_text
from evidence_cli.sources.text import (
    is_reference_heading,
    link_reference,
    number_links_on_a_line,
    parsing_together,
    reference_from_text,
    targets_in_text,
)

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SECTION_MARK = re.compile(r"\b(?:references?|bibliography|works-cited|csl-bib-body|citations)\b",
                           re.I)
_ENTRY_MARK = re.compile(r"\b(?:csl-entry|doc-biblioentry|reference|citation)\b", re.I)
_YEAR_OR_LINK = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)\b|\b10\.\d{4,9}/|https?://", re.I)
_SKIP = ("script", "style", "template", "noscript", "head")


def _text(tag: Any) -> str:
    return " ".join(tag.get_text().split())


def _is_section_container(tag: Any) -> bool:
    if tag.get("role") == "doc-bibliography":
        return True
    marks = " ".join([str(tag.get("id") or ""), *(tag.get("class") or [])])
    return tag.name in ("section", "div", "ol", "ul", "aside") and bool(_SECTION_MARK.search(marks))


def _hrefs(tag: Any) -> list[str]:
    return [str(a["href"]) for a in tag.find_all("a", href=True)]


def _segments(paragraph: Any) -> list[tuple[int, str, list[str]]]:
    """(line, text, hrefs) of each <br>-separated part of a paragraph."""
    from bs4 import NavigableString, Tag

    line = paragraph.sourceline or 1
    parts: list[tuple[int, list[str], list[str]]] = [(line, [], [])]
    for child in paragraph.children:
        if isinstance(child, Tag) and child.name == "br":
            parts.append((line, [], []))
            continue
        if isinstance(child, NavigableString):
            content = str(child)
            if not content.strip():
                line += content.count("\n")
                continue
            if not parts[-1][1]:
                parts[-1] = (line + content[: len(content) - len(content.lstrip())].count("\n"),
                             [], [])
            parts[-1][1].append(content)
            line += content.count("\n")
        elif isinstance(child, Tag):
            if not parts[-1][1]:
                parts[-1] = (child.sourceline or line, [], [])
            parts[-1][1].append(child.get_text())
            parts[-1][2].extend(_hrefs(child) if child.name != "a" else [str(child.get("href"))])
            line = (child.sourceline or line) + child.get_text().count("\n")
    return [(start, " ".join("".join(texts).split()), hrefs)
            for start, texts, hrefs in parts if "".join(texts).strip()]


def _paragraph_references(paragraph: Any, path: str) -> list[Reference]:
    """One reference per paragraph, or per line when a paragraph is a <br>-separated list in
    which every line carries a year, a DOI or a link (as CMS editors often write them)."""
    segments = _segments(paragraph)
    if len(segments) > 1 and all(_YEAR_OR_LINK.search(t) or h for _, t, h in segments):
        return [reference_from_text(text, path, line, hrefs) for line, text, hrefs in segments]
    entry = _text(paragraph)
    if _YEAR_OR_LINK.search(entry) or _hrefs(paragraph):
        return [reference_from_text(entry, path, paragraph.sourceline or 1, _hrefs(paragraph))]
    return []


def read(data: bytes, path: str) -> list[Reference]:
    # The entries' texts are parsed together when the read is done (#12).
    with parsing_together():
        return _read(data, path)


def _read(data: bytes, path: str) -> list[Reference]:
    from bs4 import BeautifulSoup, NavigableString, Tag

    text = decode_text(data, path)
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup.find_all(_SKIP):
        tag.decompose()
    references: list[Reference] = []
    outside: list[Reference] = []
    section_level: int | None = None
    section_tags: set[int] = set()  # ids of the elements that are (inside) a section
    pending_paragraphs: list[Any] = []  # section paragraphs, used when it has no list items
    taken: set[int] = set()  # ids of the entry elements read as references
    covered: set[int] = set()  # ids of the elements inside a taken entry
    section_has_items = False

    def flush_paragraphs() -> None:
        nonlocal section_has_items
        if not section_has_items:
            for paragraph in pending_paragraphs:
                references.extend(_paragraph_references(paragraph, path))
        pending_paragraphs.clear()
        section_has_items = False

    for node in soup.descendants:
        if isinstance(node, NavigableString):
            parent = node.parent
            if (
                isinstance(parent, Tag) and parent.name != "a" and id(parent) not in section_tags
                and section_level is None and parent.name not in ("code", "pre", "kbd", "samp")
                and not parent.find_parent(["a", "nav", "code", "pre"])
                and type(node) is NavigableString  # not a comment, doctype or CDATA
            ):
                line = parent.sourceline or 1
                for target in targets_in_text(str(node)):
                    ref = link_reference(target, path, line)
                    if ref is not None:
                        outside.append(ref)
            continue
        if not isinstance(node, Tag):
            continue
        if node.name in _HEADINGS:
            level = int(node.name[1])
            if section_level is not None and level <= section_level:
                flush_paragraphs()
                section_level = None
            if is_reference_heading(_text(node)):
                flush_paragraphs()
                section_level = level
                section_tags.add(id(node))
            continue
        if node.name in ("hr", "footer", "nav") and section_level is not None:
            flush_paragraphs()  # a rule or a page footer ends a heading's section
            section_level = None
            if node.name == "hr":
                continue
        parent_in_section = node.parent is not None and id(node.parent) in section_tags
        in_section = section_level is not None or parent_in_section or _is_section_container(node)
        if not in_section:
            if node.name == "a" and node.get("href") and not node.find_parent("nav"):
                ref = link_reference(str(node["href"]), path, node.sourceline or 1)
                if ref is not None:
                    outside.append(ref)
            continue
        section_tags.add(id(node))
        # Inside an entry already taken? Elements come in document order, so this is known
        # from the parent alone (walking every ancestor was quadratic in the nesting depth).
        if node.parent is not None and (id(node.parent) in taken or id(node.parent) in covered):
            covered.add(id(node))
            continue
        is_entry = node.name == "li" or node.get("role") == "doc-biblioentry" or (
            node.name in ("div", "p") and _ENTRY_MARK.search(" ".join(node.get("class") or [])))
        if is_entry:
            entry = _text(node)
            if entry:
                section_has_items = True
                taken.add(id(node))
                references.append(
                    reference_from_text(entry, path, node.sourceline or 1, _hrefs(node)))
        elif node.name == "p":
            pending_paragraphs.append(node)
    flush_paragraphs()
    number_links_on_a_line(outside)
    return sorted(references + outside, key=lambda r: (r.source.line, r.id))
