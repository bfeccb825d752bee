"""Report formats: each module renders the JSON report dict (schema evidence-cli/check/v1)."""

from __future__ import annotations

import importlib
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


def renderer(name: str) -> Callable[[dict[str, Any]], str]:
    module = importlib.import_module(FORMAT_MODULES[name])
    render: Callable[[dict[str, Any]], str] = module.render
    return render


def format_for_output(path: Path) -> str | None:
    """The format an output file's suffix implies, or None when the suffix says nothing."""
    return SUFFIX_FORMATS.get(path.suffix.lower())
