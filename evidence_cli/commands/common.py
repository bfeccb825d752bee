"""Options shared by the commands that talk to Crossref."""

from __future__ import annotations

import typer

CROSSREF_URL = typer.Option(
    None, "--crossref-url", help="Crossref API base URL [env: EVIDENCE_CROSSREF_URL].",
    show_default="https://api.crossref.org",
)
MAILTO = typer.Option(
    None, "--mailto",
    help="Your e-mail, sent to Crossref for its polite pool [env: EVIDENCE_MAILTO].",
)
CACHE_DIR = typer.Option(
    None, "--cache-dir", help="Cache folder [env: EVIDENCE_CACHE_DIR; default: cache-dir in the "
    "config file (relative to it), else your user cache folder].",
)
OFFLINE = typer.Option(
    None, "--offline", help="Answer from the cache only; a miss is unverifiable, never ok.",
)
REFRESH = typer.Option(None, "--refresh", help="Ignore cached answers (and replace them).")
TIMEOUT = typer.Option(None, "--timeout", help="Seconds to wait for one Crossref answer.",
                       show_default="20")
