"""Safe round-trip YAML for review files: no tags, no aliases, comments and key order kept."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionStartEvent, DocumentStartEvent, ScalarEvent

# A review is a few hundred kilobytes at most; anything far larger is a mistake or an attack.
MAX_REVIEW_BYTES = 5 * 1024 * 1024



class YamlProblem(Exception):
    """The text is not a YAML document we accept; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    # Long titles and caveats stay on one line rather than being folded at column 80.
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    # The same object used twice (one date for created and updated) must not come out as an
    # anchor and alias: review files refuse aliases when read.
    yaml.representer.ignore_aliases = lambda data: True
    return yaml


def _screen(text: str) -> None:
    """Refuse aliases (the basis of "billion laughs" bombs), unknown tags and multiple documents.

    This walks the parser's event stream, which builds no objects, so a hostile document is
    rejected before it can expand or construct anything.
    """
    documents = 0
    try:
        for event in _yaml().parse(io.StringIO(text)):
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, AliasEvent):
                raise YamlProblem(
                    f"YAML aliases (*{event.anchor}) are not allowed in a review file", line
                )
            # Every explicit tag is refused, even `!!str`: round-trip loading turns tagged
            # scalars into TaggedScalar objects rather than plain values, and quoting a value
            # does the same job. Refusing here means nothing tagged is ever constructed.
            if isinstance(event, ScalarEvent | CollectionStartEvent) and event.tag is not None:
                raise YamlProblem(
                    f"YAML tags ({event.tag}) are not allowed in a review file; quote the "
                    "value instead",
                    line,
                )
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlProblem("a review file holds exactly one YAML document", line)
    except MarkedYAMLError as error:
        raise _problem_of(error) from None
    except YAMLError as error:
        raise YamlProblem(f"not valid YAML: {error}") from None


def _problem_of(error: MarkedYAMLError) -> YamlProblem:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else None
    what = error.problem or error.context or "syntax error"
    return YamlProblem(f"not valid YAML: {what}", line)


def load(text: str) -> Any:
    """Parse one review document into round-trip nodes (CommentedMap/CommentedSeq)."""
    if len(text.encode("utf-8", errors="replace")) > MAX_REVIEW_BYTES:
        raise YamlProblem(f"file is larger than {MAX_REVIEW_BYTES // (1024 * 1024)} MB")
    _screen(text)
    try:
        return _yaml().load(text)
    except MarkedYAMLError as error:
        raise _problem_of(error) from None
    except YAMLError as error:
        raise YamlProblem(f"not valid YAML: {error}") from None


def dump(document: Any) -> str:
    """Serialise a document loaded with `load` (or built from plain dicts) back to text."""
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def to_plain(value: Any) -> Any:
    """Round-trip YAML nodes -> plain JSON-ready values (dates as ISO text)."""
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
