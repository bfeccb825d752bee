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
NCBI_URL = typer.Option(
    None, "--ncbi-url", help="NCBI E-utilities base URL, for PMIDs [env: EVIDENCE_NCBI_URL].",
    show_default="https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
)
NCBI_API_KEY = typer.Option(
    None, "--ncbi-api-key",
    help="NCBI API key: 10 PubMed requests/s instead of 3; never cached or shown "
    "[env: EVIDENCE_NCBI_API_KEY].",
)
DATACITE_URL = typer.Option(
    None, "--datacite-url", help="DataCite REST API base URL [env: EVIDENCE_DATACITE_URL].",
    show_default="https://api.datacite.org",
)
REFRESH = typer.Option(None, "--refresh", help="Ignore cached answers (and replace them).")
TIMEOUT = typer.Option(None, "--timeout", help="Seconds to wait for one Crossref answer.",
                       show_default="20")
