"""Generic shapes in a YAML document, checked with line and field: the schema's building blocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a review file: where it is and what is wrong."""

    line: int | None
    field: str
    message: str

    def render(self, path: str) -> str:
        where = f"{path}:{self.line}" if self.line is not None else path
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


def key_line(node: Any, key: Any, fallback: int | None) -> int | None:
    """1-based line of a mapping key; round-trip nodes carry positions, plain dicts do not."""
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return fallback


def item_line(node: Any, index: int, fallback: int | None) -> int | None:
    try:
        return int(node.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return fallback


def node_line(node: Any) -> int | None:
    """1-based line where a mapping or sequence node starts."""
    try:
        return int(node.lc.line) + 1
    except (AttributeError, TypeError):
        return None


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


class Shapes:
    """Checks of generic shapes (mappings, text, numbers, dates, choices) that collect
    problems with their line and field."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, line: int | None, field: str, message: str) -> None:
        self.problems.append(Problem(line, field, message))

    # --- generic shapes -------------------------------------------------------------------
    def mapping(
        self,
        node: Any,
        field: str,
        line: int | None,
        keys: Sequence[str],
        required: Sequence[str] = (),
    ) -> bool:
        if not isinstance(node, Mapping):
            self.fail(line, field, f"expected a mapping, got {kind(node)}")
            return False
        for key in node:
            if key not in keys:
                self.fail(
                    key_line(node, key, line), join(field, str(key)),
                    f"unknown field (allowed: {', '.join(keys)})",
                )
        for key in required:
            if node.get(key) in (None, ""):
                self.fail(node_line(node) or line, join(field, key), "is required")
        return True

    def each(
        self,
        node: Mapping[str, Any],
        field: str,
        line: int | None,
        checks: Mapping[str, Callable[[Any, str, int | None], None]],
    ) -> None:
        for key, check in checks.items():
            if key in node and node[key] is not None:
                check(node[key], join(field, key), key_line(node, key, line))

    def text(self, value: Any, field: str, line: int | None) -> None:
        if not isinstance(value, str) or not value.strip():
            self.fail(line, field, f"expected non-empty text, got {kind(value)}")

    def text_or_number(self, value: Any, field: str, line: int | None) -> None:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(line, field, f"expected text or a number, got {kind(value)}")
        elif isinstance(value, str) and not value.strip():
            self.fail(line, field, "expected non-empty text")

    def text_list(self, value: Any, field: str, line: int | None) -> None:
        if not isinstance(value, list):
            self.fail(line, field, f"expected a list of text, got {kind(value)}")
            return
        for index, item in enumerate(value):
            self.text(item, f"{field}[{index}]", item_line(value, index, line))

    def number(self, value: Any, field: str, line: int | None) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(line, field, f"expected a number, got {kind(value)}")

    def date(self, value: Any, field: str, line: int | None) -> None:
        if isinstance(value, dt.date):
            return
        if isinstance(value, str):
            try:
                dt.date.fromisoformat(value)
                return
            except ValueError:
                pass
        self.fail(line, field, f"expected a date like 2026-01-31, got {kind(value)}")

    def choice(self, options: Sequence[str]) -> Callable[[Any, str, int | None], None]:
        def check(value: Any, field: str, line: int | None) -> None:
            if value not in options:
                self.fail(line, field, f"expected one of: {', '.join(options)} (got {value!r})")

        return check


def kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"{value!r}"
    return repr(value)
