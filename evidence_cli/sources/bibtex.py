"""Read BibTeX and BibLaTeX files into references, entry by entry, keeping each entry's line.

The file is scanned here rather than by bibtexparser's splitter, for what real bibliographies
need: a broken entry (an unbalanced brace) is reported on its own and reading resumes at the next
`@` that starts a line; `@string` macros (redefinable, as in BibTeX) are expanded and `#`
concatenates; entries without a key, duplicate keys (both kept, the second flagged) and a field
given twice (the first is kept, as BibTeX does) are accepted; a line starting with `%` is a
comment (`%@BOOK{...` is not read), as biber and JabRef treat it. TeX is turned into text by
`sources.latex` (logos, accents, math); names are split by bibtexparser's name grammar.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from evidence_cli import doi as doi_rules
from evidence_cli import identifiers
from evidence_cli.models import CitedFields, Reference, SourceLocation
from evidence_cli.sources import decode_text, entry_problem, problem
from evidence_cli.sources.latex import latex_to_text

_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")
_NOT_AUTHORS = {"others", "et al", "et al."}

# BibTeX's own month macros (plain.bst and every standard style define them).
_MONTHS = {name[:3]: name for name in (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december")}

_ENTRY_START = re.compile(r"@[ \t]*([A-Za-z][\w-]*)[ \t\r\n]*([{(])")
# An `@` that starts a line (after blanks), followed by an entry type and its opening brace:
# where reading resumes after a broken entry.
_LINE_START_ENTRY = re.compile(r"\n[ \t]*(?=@[ \t]*[A-Za-z][\w-]*[ \t\r\n]*[{(])")
_SPACE = re.compile(r"\s*")
_KEY = re.compile(r"[^\s,{}()\"#%=]*")
_NAME = re.compile(r"[^\s=,{}()\"#%]+")
_NUMBER = re.compile(r"\d[^\s=,{}()\"#%']*")
_MACRO = re.compile(r"[A-Za-z_!$&*+\-./:;<>?@\[\]^`|~][^\s=,{}()\"#%']*")
# One field in one match, for the common case: a name, '=', and one braced (no nested brace),
# quoted, numeric or macro value, then ',' or the close; anything else takes the slow path.
_SIMPLE_FIELD = re.compile(
    r"[\s,]*([^\s=,{}()\"#%]+)\s*=\s*(?:\{([^{}@]*)\}|\"([^\"{}@]*)\"|(\d[^\s=,{}()\"#%']*)"
    r"|([A-Za-z_][^\s=,{}()\"#%']*))\s*(?=[,})])")
_FIELD_HEAD = re.compile(r"[\s,]*([^\s=,{}()\"#%]+)\s*=")
_SPACE_OR_COMMA = re.compile(r"[\s,]*")
_SIMPLE_BRACED = re.compile(r"\{([^{}]*)\}")
_SIMPLE_QUOTED = re.compile(r'"([^"{}]*)"')
_AFTER_PART = re.compile(r"\s*(#?)\s*")
_BRACE_OR_ENTRY = re.compile(r"[{}]|\n[ \t]*@(?=[ \t]*[A-Za-z][\w-]*[ \t\r\n]*[{(])")
_QUOTE_BRACE_OR_ENTRY = re.compile(r"[\"{}]|\n[ \t]*@(?=[ \t]*[A-Za-z][\w-]*[ \t\r\n]*[{(])")


class _Broken(Exception):
    """An entry that cannot be read: what is wrong, and where (an offset in the text)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(slots=True)
class _Entry:
    kind: str
    key: str
    start: int
    end: int
    fields: dict[str, str] = field(default_factory=dict)


class _Scanner:
    """One pass over a BibTeX text: entries, @string macros and broken entries, in order."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.macros: dict[str, str] = dict(_MONTHS)

    def _skip_space(self, index: int) -> int:
        match = _SPACE.match(self.text, index)
        return match.end() if match else index

    def _braced(self, index: int) -> tuple[str, int]:
        """The content of the `{...}` opening at index, and the offset after its close."""
        text = self.text
        depth = 0
        position = index
        while True:
            match = _BRACE_OR_ENTRY.search(text, position)
            if match is None:
                raise _Broken("an opening brace is never closed", index)
            token = match.group(0)
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
                if depth == 0:
                    return text[index + 1: match.start()], match.end()
            else:
                raise _Broken("an opening brace is not closed before the next entry", index)
            position = match.end()

    def _quoted(self, index: int) -> tuple[str, int]:
        text = self.text
        depth = 0
        position = index + 1
        while True:
            match = _QUOTE_BRACE_OR_ENTRY.search(text, position)
            if match is None:
                raise _Broken("a quoted value is never closed", index)
            token = match.group(0)
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
                if depth < 0:
                    raise _Broken("a closing brace inside a quoted value has no opening one",
                                  match.start())
            elif token == '"':
                if depth == 0:
                    return text[index + 1: match.start()], match.end()
            else:
                raise _Broken("a quoted value is not closed before the next entry", index)
            position = match.end()

    def _value(self, index: int) -> tuple[str, int]:
        """A field value: parts joined by `#`, each braced, quoted, a number or a macro."""
        text = self.text
        parts: list[str] = []
        while True:
            index = _SPACE.match(text, index).end()  # type: ignore[union-attr]
            char = text[index: index + 1]
            if char == "{":
                # Most values hold no nested brace and no entry start: one regex reads them.
                simple = _SIMPLE_BRACED.match(text, index)
                if simple and "@" not in simple.group(1):
                    part, index = simple.group(1), simple.end()
                else:
                    part, index = self._braced(index)
            elif char == '"':
                simple = _SIMPLE_QUOTED.match(text, index)
                if simple and "@" not in simple.group(1):
                    part, index = simple.group(1), simple.end()
                else:
                    part, index = self._quoted(index)
            elif number := _NUMBER.match(text, index):
                part, index = number.group(0), number.end()
            elif macro := _MACRO.match(text, index):
                name = macro.group(0)
                # An undefined macro keeps its name: more use to a reader than BibTeX's "".
                part, index = self.macros.get(name.lower(), name), macro.end()
            else:
                raise _Broken(f"a field value is missing or starts with {char or 'the end'!r}",
                              index)
            parts.append(part)
            after = _AFTER_PART.match(text, index)
            assert after is not None  # the pattern matches the empty string
            index = after.end()
            if after.group(1):
                continue
            return parts[0] if len(parts) == 1 else "".join(parts), index

    def _fields(self, index: int, close: str) -> tuple[dict[str, str], int]:
        """`name = value` pairs up to the closing delimiter; the first of a repeated name wins."""
        text = self.text
        fields: dict[str, str] = {}
        macros = self.macros
        while True:
            simple = _SIMPLE_FIELD.match(text, index)
            if simple is not None:
                braced, quoted, number, macro = simple.group(2, 3, 4, 5)
                value = braced if braced is not None else quoted if quoted is not None else \
                    number if number is not None else macros.get(macro.lower(), macro)
                fields.setdefault(simple.group(1).lower(), value)
                index = simple.end()
                if text.startswith(close, index) or text.startswith(",", index):
                    continue
            head = _FIELD_HEAD.match(text, index)
            if head is None:
                index = _SPACE_OR_COMMA.match(text, index).end()  # type: ignore[union-attr]
                if text.startswith(close, index):
                    return fields, index + 1
                name = _NAME.match(text, index)
                if name is None:
                    if index >= len(text):
                        raise _Broken("the entry is never closed", index)
                    raise _Broken(f"expected a field name, found {text[index]!r}", index)
                raise _Broken(f"the field {name.group(0)!r} has no '='", name.end())
            name_text = head.group(1)
            value, index = self._value(head.end())
            fields.setdefault(name_text.lower(), value)
            if not (text.startswith(",", index) or text.startswith(close, index)):
                raise _Broken(f"the field {name_text!r} does not end with ',' or {close!r} "
                              "(an unbalanced brace or quote in it?)", index)

    def scan(self) -> Iterator[_Entry | _Broken]:
        text = self.text
        index = 0
        while True:
            at = text.find("@", index)
            if at < 0:
                return
            line_start = text.rfind("\n", 0, at) + 1
            if text[line_start:at].lstrip().startswith("%"):
                index = text.find("\n", at)  # a commented-out line
                if index < 0:
                    return
                continue
            start = _ENTRY_START.match(text, at)
            if start is None:
                index = at + 1
                continue
            kind = start.group(1).lower()
            close = "}" if start.group(2) == "{" else ")"
            try:
                if kind in ("comment", "preamble"):
                    if close == "}":
                        _, index = self._braced(start.end() - 1)
                    else:
                        end = text.find(")", start.end())
                        index = end + 1 if end >= 0 else len(text)
                    continue
                if kind == "string":
                    fields, index = self._fields(start.end(), close)
                    self.macros.update(fields)
                    continue
                entry, index = self._entry(kind, at, start.end(), close)
            except _Broken as broken:
                broken.offset = at
                yield broken
                resume = _LINE_START_ENTRY.search(text, start.end())
                if resume is None:
                    return
                index = resume.end()
                continue
            yield entry

    def _entry(self, kind: str, at: int, index: int, close: str) -> tuple[_Entry, int]:
        text = self.text
        index = self._skip_space(index)
        key_match = _KEY.match(text, index)
        key = key_match.group(0) if key_match else ""
        after = self._skip_space(key_match.end() if key_match else index)
        if key and text.startswith("=", after):
            key, after = "", index  # no key: the first thing is already a field
        elif text.startswith(",", after):
            after += 1
        elif not text.startswith(close, after):
            raise _Broken(f"expected ',' after the key {key!r}", after)
        fields, end = self._fields(after, close)
        return _Entry(kind=kind, key=key, start=at, end=end, fields=fields), end


def _field(fields: dict[str, str], *names: str, latex: bool = True) -> str | None:
    """The first non-empty field of those named; LaTeX decoded unless it is a DOI or URL."""
    for name in names:
        value = fields.get(name)
        if value is None:
            continue
        text = _field_text(value, latex)
        if text:
            return text
    return None


# Journals, volumes, years and names recur across a bibliography: each distinct value is
# decoded once (pure functions of the value; bounded caches).
@functools.lru_cache(maxsize=65536)
def _field_text(value: str, latex: bool) -> str:
    return " ".join((latex_to_text(value) if latex else _unbraced(value)).split())


_ESCAPED = re.compile(r"\\([_&%#$~])")


def _unbraced(value: str) -> str:
    r"""A DOI or URL as written: braces gone, TeX's escapes (`\_`, `\%`, `\&`) undone."""
    return _ESCAPED.sub(r"\1", value.replace("{", "").replace("}", ""))


@functools.lru_cache(maxsize=65536)
def family_name(person: str) -> str | None:
    """The von and last parts of one BibTeX name ("van der Berg, Jan" -> "van der Berg").

    bibtexparser's own name grammar does the work; authors recur across a bibliography, so
    each distinct name is parsed once (profiled: name parsing was 4 of 10 s for 50,000 entries).
    """
    from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts

    try:
        parts = parse_single_name_into_parts(person, strict=False)
    except InvalidNameError:
        return " ".join(latex_to_text(person).split()).strip("{} ") or None
    last = " ".join([*parts.von, *parts.last]).strip() or " ".join(parts.first).strip()
    last = " ".join(latex_to_text(last).split()).strip("{} ")
    return last if last and last.lower() not in _NOT_AUTHORS else None


@functools.lru_cache(maxsize=16384)
def _split_names(value: str) -> tuple[str, ...]:
    from bibtexparser.middlewares.names import split_multiple_persons_names

    return tuple(split_multiple_persons_names(value))


def _family_names(fields: dict[str, str]) -> list[str]:
    value = fields.get("author") or fields.get("editor")
    if not value:
        return []
    return list(_families(value))


@functools.lru_cache(maxsize=16384)
def _families(value: str) -> tuple[str, ...]:
    names = (family_name(person) for person in _split_names(value))
    return tuple(name for name in names if name)


# BibTeX's sorting trick: `{\noopsort{1973c}}1981` prints 1981 and sorts as 1973c; the macro
# (defined in the file's @preamble, unknown to pylatexenc) must not leave its argument behind.
_NOOPSORT = re.compile(r"\\(?:noopsort|sortnoop|SortNoop|NOOPSORT|noop)\s*\{[^{}]*\}")


def _year(fields: dict[str, str]) -> int | None:
    for name in ("year", "date"):
        value = fields.get(name)
        if value is None:
            continue
        year = _year_of(value)
        if year is not None:
            return year
    return None


@functools.lru_cache(maxsize=4096)
def _year_of(value: str) -> int | None:
    match = _YEAR.search(latex_to_text(_NOOPSORT.sub("", value)))
    return int(match.group(1)) if match else None


def read(data: bytes, path: str) -> list[Reference]:
    return list(iter_read(data, path))


def iter_read(data: bytes, path: str) -> Iterator[Reference]:
    """The references one at a time, as the file is scanned (a large file's references are not
    all held at once); an undecodable file raises InputError before the first one."""
    text = decode_text(data, path)
    # The scanner yields in the order of the text: each line number is the last one plus the
    # line ends since (counted in C), with nothing held per line.
    counted = [0, 1]  # an offset, and the line it is on

    def line_of(offset: int) -> int:
        last, line = counted
        if offset < last:
            last, line = 0, 1
        line += text.count("\n", last, offset)
        counted[:] = offset, line
        return line

    first_line: dict[str, int] = {}
    for item in _Scanner(text).scan():
        if isinstance(item, _Broken):
            line = line_of(item.offset)
            raw = text[item.offset: item.offset + 2000].split("\n\n")[0]
            key = _BROKEN_KEY.match(raw)
            yield entry_problem(
                path, line, f"cannot read this BibTeX entry ({_first_line(raw)}): "
                f"{item.message}; the entry is not checked", raw=raw,
                key=key.group(1) if key else None)
            continue
        line = line_of(item.start)
        reference = _reference(item, text, path, line)
        if item.key:
            if item.key in first_line:
                reference.problems.append(problem(
                    "duplicate-key", f"{path}:{line}: the key '{item.key}' is also used at line "
                    f"{first_line[item.key]}; both entries are checked, but BibTeX cites only "
                    "the first"))
            else:
                first_line[item.key] = line
        yield reference


_BROKEN_KEY = re.compile(r"@[ \t]*[A-Za-z][\w-]*\s*[{(]\s*([^\s,{}()\"#%=]+)\s*,")


# The fields other identifiers are read from (with `url`): most entries have none of them.
_ID_FIELDS = frozenset({"pmid", "pmcid", "eprint", "archiveprefix", "eprinttype", "note"})
_NO_IDS = identifiers.Found()
_normalized_doi = functools.lru_cache(maxsize=65536)(doi_rules.normalize)


def _reference(entry: _Entry, text: str, path: str, line: int) -> Reference:
    fields = entry.fields
    doi_text = _field(fields, "doi", latex=False)
    cited = CitedFields(
        doi=_normalized_doi(doi_text) if doi_text else None,
        title=_field(fields, "title"),
        authors=_family_names(fields),
        year=_year(fields),
        container=_field(fields, "journal", "journaltitle", "booktitle", "publisher"),
        volume=_field(fields, "volume"),
        issue=_field(fields, "number", "issue"),
        pages=_field(fields, "pages"),
        url=_field(fields, "url", latex=False),
    )
    if cited.doi is None and cited.url and doi_rules.is_doi_url(cited.url):
        cited.doi = doi_rules.normalize(cited.url)  # a doi.org link is a DOI to check
    found = identifiers.from_fields(
        pmid=_field(fields, "pmid", latex=False), pmcid=_field(fields, "pmcid", latex=False),
        eprint=_field(fields, "eprint", latex=False),
        archive_prefix=_field(fields, "archiveprefix", "eprinttype", latex=False),
        urls=[cited.url or ""], notes=[_field(fields, "note") or ""],
    ) if cited.url or not _ID_FIELDS.isdisjoint(fields) else _NO_IDS
    identifiers.apply(cited, found)
    links = [cited.url] if cited.url and not doi_rules.is_doi_url(cited.url) else []
    return Reference(
        id=entry.key or f"{path}:{line}",
        source=SourceLocation(path, line),
        raw=text[entry.start: entry.end].strip(),
        cited=cited,
        links=links,
    )


def _first_line(raw: str) -> str:
    lines = raw.strip().splitlines()
    return lines[0][:80] if lines else "(empty)"
