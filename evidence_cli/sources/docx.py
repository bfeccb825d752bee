"""Read the reference section of a Word .docx with python-docx, after checking it is no zip bomb.

The reference section starts at a heading paragraph (a "Heading N" or "Title" style, or a short
bold paragraph) such as "References" or "Bibliography" and ends at the next heading of the same or
a higher level. Each non-empty paragraph in it — list items are paragraphs too — is one reference
(one per line when line breaks separate several, each with a year, DOI or link: ids PARA, PARA#2).
Outside it, hyperlinks and bare DOIs/URLs become references of their own with only their DOI or
URL, as in Markdown and HTML; so do field-code hyperlinks (`HYPERLINK "..."` in a field's
instruction, as Word, EndNote and Zotero write them). The "line" of a reference is its paragraph
number in the body (1-based, empty paragraphs counted), which is what Word users can navigate to.
Not read: tables, text boxes, and Word's own footnotes and endnotes.

python-docx opens the package (and finds its main part through the package relationships, so a
main part named word/document2.xml is read too); paragraphs are then read from the XML directly,
with the style names looked up once: python-docx's per-paragraph style lookup was 80% of the time.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from evidence_cli.errors import InputError
from evidence_cli.gc_pause import gc_paused
from evidence_cli.models import Reference
from evidence_cli.sources.text import (
    is_reference_heading,
    link_reference,
    number_links_on_a_line,
    references_from_texts,
    targets_in_text,
)

# A real .docx is a few MB at most once unpacked; the limits leave ample room while refusing
# archives built to expand into gigabytes (a zip bomb) before python-docx inflates anything.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_MEMBER_RATIO = 200  # uncompressed / compressed size of one member
MAX_MEMBERS = 5000
_CITES = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)\b|\b10\.\d{4,9}/|https?://", re.I)
_HEADING_STYLE = re.compile(r"^(?:heading\s*(\d)|title)$", re.I)


def check_archive(data: bytes, path: str) -> None:
    """Refuse what is not a zip, or a zip whose declared sizes or ratios are those of a bomb."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError(path, "is not a .docx file (not a zip archive)") from None
    except NotImplementedError as error:  # a zip feature or version zipfile cannot read
        raise InputError(path, f"is a zip archive this tool cannot read ({error})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise InputError(path, f"holds {len(members)} files: not a plausible .docx")
        total = 0
        for member in members:
            total += member.file_size
            compressed = max(member.compress_size, 1)
            if member.file_size > 1024 * 1024 and member.file_size / compressed > MAX_MEMBER_RATIO:
                raise InputError(
                    path, f"member {member.filename} would expand {member.file_size // compressed}"
                    " times: refusing a possible zip bomb")
        if total > MAX_UNCOMPRESSED_BYTES:
            raise InputError(path, f"would expand to {total} bytes: refusing a possible zip bomb")
        main = _main_part(archive)
        if main is None:
            raise InputError(path, "is a zip archive but not a Word document "
                             "(no word/document.xml)")
        _refuse_entities(archive, main, path)


def _refuse_entities(archive: zipfile.ZipFile, main: str, path: str) -> None:
    """Refuse a document that declares a DTD. Word never writes one; python-docx's parser
    leaves entity references unexpanded, and the text after one (`&x;`) is silently lost, so a
    document with them cannot be read truthfully. The DOCTYPE must precede the root element:
    the first 64 KB of the part (the prolog) are enough to see it."""
    try:
        with archive.open(main) as part:
            head = part.read(64 * 1024)
    # zlib.error: a damaged member's deflate stream (found by benchmarks/reliability.py's fuzzing).
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, EOFError,
            RuntimeError, ValueError) as error:
        raise InputError(path, f"cannot be opened as a Word document ({error})") from None
    root = head.find(b"<w:document")
    if b"<!DOCTYPE" in (head if root < 0 else head[:root]).upper():
        raise InputError(path, "declares XML entities (a DOCTYPE), which Word never writes: the "
                         "text after an entity reference cannot be read; save it again from "
                         "Word, or export the references")


_OFFICE_DOCUMENT = re.compile(r"/officeDocument$")
_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def _main_part(archive: zipfile.ZipFile) -> str | None:
    """The main document part's name: the target of the package's officeDocument relationship
    (or the part [Content_Types].xml gives the main document type), usually word/document.xml."""
    names = set(archive.namelist())
    candidates: list[str] = []
    for member, attribute, wanted in (("_rels/.rels", "Target", "Type"),
                                      ("[Content_Types].xml", "PartName", "ContentType")):
        if member not in names or archive.getinfo(member).file_size > 1024 * 1024:
            continue
        try:
            root = ElementTree.fromstring(archive.read(member))
        except (ElementTree.ParseError, zipfile.BadZipFile, zlib.error, OSError, ValueError,
                EOFError):
            continue
        for element in root:
            kind = element.get(wanted, "")
            if _OFFICE_DOCUMENT.search(kind) or kind == _MAIN_TYPE:
                candidates.append(element.get(attribute, "").lstrip("/"))
    for name in (*candidates, "word/document.xml"):
        if name in names:
            return name
    return None


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_FIELD_URL = re.compile(r"^\s*HYPERLINK\s+(?:\\[a-z]\s+\S+\s+)*\"?([^\"\s]+)\"?(.*)$", re.I | re.S)
_FALSE = ("0", "false", "off")


@dataclass(slots=True)
class _Paragraph:
    """What the reader needs of one body paragraph, read from its XML."""

    text: str
    style: str
    bold: bool  # every direct run with text is bold
    links: list[tuple[str, str]] = field(default_factory=list)


def _heading_level(paragraph: _Paragraph) -> int | None:
    match = _HEADING_STYLE.match(paragraph.style.strip())
    if match:
        return int(match.group(1)) if match.group(1) else 0
    text = paragraph.text.strip()
    if text and len(text) < 60 and paragraph.bold:
        return 9  # a bold line standing in for a heading: the lowest level
    return None


def _style_names(document: Any) -> tuple[dict[str, str], str]:
    """Style id -> name, read once, and the default paragraph style's name."""
    names: dict[str, str] = {}
    default = "Normal"
    try:
        root = document.part.styles.element
    except Exception:  # a package without a styles part: every paragraph is Normal
        return names, default
    for style in root.iterchildren(f"{_W}style"):
        style_id = style.get(f"{_W}styleId") or ""
        name_element = style.find(f"{_W}name")
        name = name_element.get(f"{_W}val", style_id) if name_element is not None else style_id
        names[style_id] = name
        if style.get(f"{_W}type") == "paragraph" and style.get(f"{_W}default") in ("1", "true"):
            default = name
    return names, default


def _is_bold(run: Any) -> bool:
    bold = run.find(f"{_W}rPr/{_W}b")
    return bold is not None and bold.get(f"{_W}val", "true").lower() not in _FALSE


def _run_text(run: Any) -> str:
    parts: list[str] = []
    for child in run:
        tag = child.tag
        if tag == f"{_W}t":
            parts.append(child.text or "")
        elif tag in (f"{_W}br", f"{_W}cr"):
            if child.get(f"{_W}type") != "page":
                parts.append("\n")
        elif tag == f"{_W}tab":
            parts.append("\t")
    return "".join(parts)


def _field_target(instruction: str) -> str | None:
    """The URL of a HYPERLINK field instruction; None for a bookmark link (`\\l`) or others."""
    match = _FIELD_URL.match(instruction)
    if not match or re.search(r"\\l\b", instruction):
        return None
    return match.group(1)


def _read_paragraph(element: Any, styles: dict[str, str], default_style: str,
                    rels: Any) -> _Paragraph:
    style_id = element.find(f"{_W}pPr/{_W}pStyle")
    style = styles.get(style_id.get(f"{_W}val", ""), "") if style_id is not None else \
        default_style
    texts: list[str] = []
    links: list[tuple[str, str]] = []
    direct_bold = True
    direct_runs = 0
    # A complex field: begin, instruction runs, separate, result runs, end (nesting counted).
    field_depth = 0
    instruction: list[str] = []
    field_links: list[tuple[str, list[str]]] = []  # (target, result text) of open fields
    in_result: list[bool] = []

    def walk(node: Any, link: list[str] | None, direct: bool) -> None:
        nonlocal direct_bold, direct_runs, field_depth
        label: list[str]
        for child in node:
            tag = child.tag
            if tag == f"{_W}r":
                char = child.find(f"{_W}fldChar")
                if char is not None:
                    kind = char.get(f"{_W}fldCharType")
                    if kind == "begin":
                        field_depth += 1
                        instruction.clear()
                        in_result.append(False)
                    elif kind == "separate" and in_result:
                        in_result[-1] = True
                        target = _field_target("".join(instruction))
                        field_links.append((target or "", []))
                    elif kind == "end" and in_result:
                        field_depth -= 1
                        if in_result.pop() and field_links:
                            target, result = field_links.pop()
                            if target:
                                links.append((target, "".join(result) or target))
                    continue
                instr = child.find(f"{_W}instrText")
                if instr is not None:
                    instruction.append(instr.text or "")
                    continue
                text = _run_text(child)
                texts.append(text)
                if link is not None:
                    link.append(text)
                for _target, result in field_links:
                    result.append(text)
                if direct and text.strip():
                    direct_runs += 1
                    direct_bold = direct_bold and _is_bold(child)
            elif tag == f"{_W}hyperlink":
                label = []
                walk(child, label, False)
                rel_id = child.get(_R_ID)
                if rel_id and rel_id in rels and rels[rel_id].is_external:
                    target = rels[rel_id].target_ref
                    if target:
                        links.append((target, "".join(label) or target))
            elif tag == f"{_W}fldSimple":
                label = []
                walk(child, label, False)
                target = _field_target(child.get(f"{_W}instr", ""))
                if target:
                    links.append((target, "".join(label) or target))
            elif tag in (f"{_W}ins", f"{_W}smartTag", f"{_W}customXml", f"{_W}sdt",
                         f"{_W}sdtContent"):
                walk(child, link, direct)

    walk(element, None, True)
    return _Paragraph(text="".join(texts), style=style, bold=direct_runs > 0 and direct_bold,
                      links=links)


def _hyperlinks(paragraph: _Paragraph) -> list[tuple[str, str]]:
    """(target, text) of each external hyperlink in the paragraph, field codes included."""
    return paragraph.links


def read(data: bytes, path: str) -> list[Reference]:
    # Each reference paragraph leaves a parse and a reference behind: with the cyclic collector
    # walking them all again and again, a section ten times longer cost a quarter more per
    # paragraph (benchmarks/readers_bench.py), as in the RIS and CSL-JSON readers. The
    # references survive the block: promoted unwalked, else the first young collection after
    # it walks every object of the read (a twentieth of a reference section's read, #12).
    with gc_paused(promote=True):
        return _read(data, path)


def _read(data: bytes, path: str) -> list[Reference]:
    check_archive(data, path)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise InputError(path, f"cannot be opened as a Word document ({error})") from None
    except Exception as error:  # lxml and python-docx raise many kinds on broken packages
        raise InputError(path, f"cannot be opened as a Word document ({error})") from None
    # The reference section's entries are parsed together at the end (the parser tags many
    # references at once much faster than one at a time, #12); `plan` keeps the order: the
    # references found, or where in `pending` a paragraph's entries are.
    plan: list[list[Reference] | tuple[int, int]] = []
    pending: list[tuple[str, str, int, list[str] | None, str | None]] = []
    section_level: int | None = None
    styles, default_style = _style_names(document)
    rels = document.part.rels
    body = document.element.body
    for number, element in enumerate(body.iterchildren(f"{_W}p"), start=1):
        paragraph = _read_paragraph(element, styles, default_style, rels)
        text = " ".join(paragraph.text.split())
        level = _heading_level(paragraph)
        if level is not None and (section_level is None or level <= section_level
                                  or is_reference_heading(text)):
            section_level = level if is_reference_heading(text) else None
            continue
        if not text:
            continue
        links = _hyperlinks(paragraph)
        if section_level is not None:
            hrefs = [target for target, _ in links]
            lines = [" ".join(line.split()) for line in paragraph.text.split("\n")]
            lines = [line for line in lines if line]
            start = len(pending)
            if len(lines) > 1 and all(_CITES.search(line) for line in lines):
                # One paragraph holding several references separated by line breaks.
                pending += [(line, path, number, [t for t, label in links if label in line],
                             None) for line in lines]
            else:
                pending.append((text, path, number, hrefs, None))
            plan.append((start, len(pending)))
            continue
        found: list[Reference] = []
        for target, _label in links:
            ref = link_reference(target, path, number)
            if ref is not None:
                found.append(ref)
        linked = {target for target, _ in links}
        for target in targets_in_text(text):
            if any(target in known for known in linked):
                continue
            ref = link_reference(target, path, number)
            if ref is not None:
                found.append(ref)
        number_links_on_a_line(found)
        plan.append(found)
    parsed = references_from_texts(pending)
    references: list[Reference] = []
    for step in plan:
        if isinstance(step, tuple):
            entries = parsed[step[0]:step[1]]
            if len(entries) > 1:
                number_links_on_a_line(entries)
            references.extend(entries)
        else:
            references.extend(step)
    return references
