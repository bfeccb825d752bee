"""A snapshot's manifest: source, the date its data are as of, counts, format; read and written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evidence_cli import snapshot as layout
from evidence_cli.errors import InputError


def read_manifest(out: Path) -> dict[str, Any]:
    path = out / layout.MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(out), "not a snapshot folder (no manifest.json); build one with "
                         "`evidence snapshot build`") from None
    except (OSError, ValueError) as error:
        raise InputError(str(path), f"unreadable manifest: {error}") from None
    if not isinstance(data, dict) or data.get("format") not in layout.FORMATS_READ:
        raise InputError(str(path), f"not a snapshot manifest of format {layout.FORMAT}")
    return data


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    from evidence_cli.atomic import write_atomic

    write_atomic(out / layout.MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
