"""Bring a snapshot up to date: works changed since its date, through the API, paged by cursor.

`GET /works?filter=from-update-date:DAY&rows=1000&cursor=*` then `cursor=<next-cursor>` until a
page comes back empty (Crossref's deep paging). Requests go through the Crossref client, so they
are paced, retried and rate-limited like every other list query. Each page becomes one unit of
parts (a newer version of a DOI replaces the older one when the tables are merged again).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evidence_cli import snapshot as layout
from evidence_cli.errors import ServiceError
from evidence_cli.settings import Settings

PAGE_ROWS = 1000


async def _fetch(settings: Settings, out: Path, since: str, on_page: Callable[[int], None] | None
                 ) -> int:
    from evidence_cli.services.crossref import CrossrefClient, Unavailable
    from evidence_cli.services.session import open_services
    from evidence_cli.snapshot.build import write_unit

    parts = out / layout.PARTS
    parts.mkdir(parents=True, exist_ok=True)
    run = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    cursor, page, total = "*", 0, 0
    async with open_services(replace(settings, snapshot=None, offline=False)) as services:
        client = services.crossref
        assert isinstance(client, CrossrefClient)
        while True:
            params = {"filter": f"from-update-date:{since}", "rows": str(PAGE_ROWS),
                      "cursor": cursor}
            try:
                body = await client._get_json("/works", params, list_query=True)
            except Unavailable as error:
                raise ServiceError(f"Crossref could not list the works changed since {since}: "
                                   f"{error}; the pages fetched so far are kept, run the update "
                                   "again") from None
            message: dict[str, Any] = body["message"]
            items = message.get("items")
            if not isinstance(items, list) or not items:
                return total
            works = [item for item in items if isinstance(item, dict)
                     and isinstance(item.get("DOI"), str)]
            total += write_unit(parts, f"update:{since}:{run}:{page}", works, time.time_ns())
            page += 1
            if on_page is not None:
                on_page(len(works))
            next_cursor = message.get("next-cursor")
            if not isinstance(next_cursor, str) or not next_cursor or len(items) < PAGE_ROWS:
                return total
            cursor = next_cursor


def update(out: Path, settings: Settings, *, since: str | None = None,
           on_page: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Add the works changed since the snapshot's date (or `since`); returns the new manifest."""
    from evidence_cli.snapshot.build import finalize, read_manifest, write_manifest

    manifest = read_manifest(out)
    day = since or manifest.get("updated_through") or manifest.get("date")
    if not day:
        raise ServiceError(f"{out}: the snapshot has no date; give --since YYYY-MM-DD")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    fetched = asyncio.run(_fetch(settings, out, str(day), on_page))
    merged = finalize(out, source=str(manifest.get("source")), date=manifest.get("date"))
    # from-update-date is inclusive: the next update starts again at today, overlapping a day
    # rather than missing what changed after this run.
    merged["updated_through"] = today
    merged["build"] = manifest.get("build")
    merged["last_update"] = {"since": day, "records_fetched": fetched, "at": merged["built_at"]}
    write_manifest(out, merged)
    return merged
