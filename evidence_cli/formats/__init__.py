"""Report formats: each module renders the JSON report dict (schema evidence-cli/check/v1)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Format name -> module defining `render(report: dict) -> str`. Imported lazily: only the chosen
# format's dependencies are loaded, which keeps start-up fast.
FORMAT_MODULES: dict[str, str] = {
    "table": "evidence_cli.formats.table",
    "json": "evidence_cli.formats.json_format",
    "sarif": "evidence_cli.formats.sarif",
    "junit": "evidence_cli.formats.junit",
    "github": "evidence_cli.formats.github",
    "markdown": "evidence_cli.formats.markdown",
    "csv": "evidence_cli.formats.csv_format",
    "html": "evidence_cli.formats.html_format",
}

SUFFIX_FORMATS: dict[str, str] = {
    ".json": "json",
    ".sarif": "sarif",
    ".xml": "junit",
    ".md": "markdown",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
}


# Control characters (ESC, CSI, BEL...) in reference text must never reach a terminal raw: an
# escape sequence in a bibliography could rewrite the screen, the title bar or the clipboard.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# JSON escapes C0 controls itself; DEL and the C1 block (0x9b is the 8-bit CSI) it writes raw.
_C1_AS_JSON = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}


def inert(text: str, keep: str = "") -> str:
    """Visible stand-ins for control characters (ESC shows as "\\x1b"), but those in `keep`."""
    def shown(match: re.Match[str]) -> str:
        char = match.group(0)
        return char if char in keep else f"\\x{ord(char):02x}"

    return _CONTROL.sub(shown, text)


def json_safe(encoded: str) -> str:
    """Encoded JSON with DEL and C1 controls as \\u escapes (the same data, inert on a terminal)."""
    return encoded.translate(_C1_AS_JSON)


def count(number: int, singular: str, plural: str | None = None) -> str:
    """"1 entry", "2 entries": a number with its noun in the right form."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def renderer(name: str) -> Callable[[dict[str, Any]], str]:
    module = importlib.import_module(FORMAT_MODULES[name])
    render: Callable[[dict[str, Any]], str] = module.render
    return render


def format_for_output(path: Path) -> str | None:
    """The format an output file's suffix implies, or None when the suffix says nothing."""
    return SUFFIX_FORMATS.get(path.suffix.lower())
