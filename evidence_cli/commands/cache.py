"""`evidence cache info|clear`: inspect and empty the answer cache."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evidence_cli.commands import common

if TYPE_CHECKING:
    from evidence_cli.services.cache import Cache

cache_app = typer.Typer(help="Inspect or clear the cache of Crossref and link answers.",
                        no_args_is_help=True)


def _cache(cache_dir: Path | None, *, read_only: bool = False) -> Cache:
    from evidence_cli.services.cache import Cache
    from evidence_cli.settings import resolve_settings

    settings = resolve_settings({"cache_dir": cache_dir})
    return Cache(settings.cache_dir, read_only=read_only)


@cache_app.command("info")
def info(cache_dir: Path | None = common.CACHE_DIR) -> int:
    """Show where the cache is, its size and its entries by kind."""
    # Read-only: looking must not change the file (nor create the folder).
    with _cache(cache_dir, read_only=True) as cache:
        details = cache.info()
    typer.echo(f"cache: {details['path']} ({details['bytes']:,} bytes)")
    if details.get("problem"):
        typer.echo(f"  damaged ({details['problem']}): run `evidence cache clear`")
    elif not details["entries"]:
        typer.echo("  empty")
    for kind, counts in details["entries"].items():
        typer.echo(f"  {kind}: {counts['live']} live, {counts['expired']} expired")
    return 0


@cache_app.command("clear")
def clear(
    cache_dir: Path | None = common.CACHE_DIR,
    expired: bool = typer.Option(False, "--expired", help="Remove only expired entries."),
) -> int:
    """Remove cached answers (all of them, or only expired ones)."""
    with _cache(cache_dir) as cache:
        removed = cache.clear(expired_only=expired)
    from evidence_cli.formats import count

    typer.echo(f"removed {count(removed, 'cached answer')}")
    return 0


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")
