"""Read the reference section of a Word .docx with python-docx, after checking it is no zip bomb.

The reference section starts at a heading paragraph (a "Heading N" or "Title" style, or a short
bold paragraph) such as "References" or "Bibliography" and ends at the next heading of the same or
a higher level. Each non-empty paragraph in it — list items are paragraphs too — is one reference
(one per line when line breaks separate several, each with a year, DOI or link: ids PARA, PARA#2).
Outside it, hyperlinks and bare DOIs/URLs become references of their own with only their DOI or
URL, as in Markdown and HTML. The "line" of a reference is its paragraph number in the body
(1-based, empty paragraphs counted), which is what Word users can navigate to. Not read: tables,
text boxes, and Word's own footnotes and endnotes (python-docx does not expose them).
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from evidence_cli.errors import InputError
from evidence_cli.models import Reference
from evidence_cli.sources.text import (
    is_reference_heading,
    link_reference,
    number_links_on_a_line,
    reference_from_text,
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
        if "word/document.xml" not in archive.namelist():
            raise InputError(path, "is a zip archive but not a Word document "
                             "(no word/document.xml)")
        _refuse_entities(archive, path)


def _refuse_entities(archive: zipfile.ZipFile, path: str) -> None:
    """Refuse a document that declares a DTD. Word never writes one; python-docx's parser
    leaves entity references unexpanded, and the text after one (`&x;`) is silently lost, so a
    document with them cannot be read truthfully. The DOCTYPE must precede the root element:
    the first 64 KB of the part (the prolog) are enough to see it."""
    try:
        with archive.open("word/document.xml") as part:
            head = part.read(64 * 1024)
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, RuntimeError,
            ValueError) as error:
        raise InputError(path, f"cannot be opened as a Word document ({error})") from None
    root = head.find(b"<w:document")
    if b"<!DOCTYPE" in (head if root < 0 else head[:root]).upper():
        raise InputError(path, "declares XML entities (a DOCTYPE), which Word never writes: the "
                         "text after an entity reference cannot be read; save it again from "
                         "Word, or export the references")


def _heading_level(paragraph: Any) -> int | None:
    style = getattr(paragraph.style, "name", "") or ""
    match = _HEADING_STYLE.match(style.strip())
    if match:
        return int(match.group(1)) if match.group(1) else 0
    text = paragraph.text.strip()
    runs = [r for r in paragraph.runs if r.text.strip()]
    if text and len(text) < 60 and runs and all(r.bold for r in runs):
        return 9  # a bold line standing in for a heading: the lowest level
    return None


def _hyperlinks(paragraph: Any) -> list[tuple[str, str]]:
    """(target, text) of each external hyperlink in the paragraph."""
    links: list[tuple[str, str]] = []
    for link in getattr(paragraph, "hyperlinks", []):
        address = getattr(link, "address", "") or ""
        if address:
            links.append((address, getattr(link, "text", "") or address))
    return links


def read(data: bytes, path: str) -> list[Reference]:
    check_archive(data, path)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise InputError(path, f"cannot be opened as a Word document ({error})") from None
    except Exception as error:  # lxml and python-docx raise many kinds on broken packages
        raise InputError(path, f"cannot be opened as a Word document ({error})") from None
    references: list[Reference] = []
    section_level: int | None = None
    for number, paragraph in enumerate(document.paragraphs, start=1):
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
            if len(lines) > 1 and all(_CITES.search(line) for line in lines):
                # One paragraph holding several references separated by line breaks.
                entries = [reference_from_text(line, path, number,
                                               [t for t, label in links if label in line])
                           for line in lines]
                number_links_on_a_line(entries)
                references.extend(entries)
            else:
                references.append(reference_from_text(text, path, number, hrefs))
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
        references.extend(found)
    return references
