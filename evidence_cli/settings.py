"""Run settings, resolved from command-line options, then environment variables, then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from evidence_cli.models import FailOn

DEFAULT_CROSSREF_URL = "https://api.crossref.org"
DEFAULT_NCBI_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
DEFAULT_DATACITE_URL = "https://api.datacite.org"


@dataclass(slots=True)
class Settings:
    """Everything the services need; the CLI builds one and passes it down."""

    crossref_url: str = DEFAULT_CROSSREF_URL
    fail_on: FailOn = FailOn.ERROR
    mailto: str | None = None
    cache_dir: Path = Path("cache")
    offline: bool = False
    refresh: bool = False
    # Seconds to wait for one Crossref answer, and how many times to retry a failed request.
    timeout: float = 20.0
    max_retries: int = 4
    # Bounds a hostile or broken server cannot stretch: bytes read for one answer (on the wire
    # and once decompressed), seconds for one whole request (a trickled body never ends
    # otherwise), seconds of waiting between the attempts of one lookup, and the whole run's
    # Crossref time; past the last, what is left is unverifiable.
    max_response_bytes: int = 20 * 1024 * 1024
    request_timeout: float = 60.0
    retry_budget: float = 120.0
    run_timeout: float = 4 * 3600.0
    # Cache lifetimes, in seconds: a found record rarely changes; a 404 may be registered soon.
    record_ttl: float = 30 * 86400
    not_found_ttl: float = 86400
    url_ttl: float = 7 * 86400
    # Links
    check_urls: bool = True
    check_dois: bool = True
    url_timeout: float = 20.0
    url_excludes: list[str] = field(default_factory=list)
    allow_private: bool = False
    per_host_concurrency: int = 2
    url_concurrency: int = 16
    # Folder runs: files matching these globs are not read
    exclude_paths: list[str] = field(default_factory=list)
    # Matching references without a DOI
    match_threshold: float = 0.9
    reviews_dir: Path = Path("reviews")
    # A local Crossref snapshot folder (evidence snapshot build): answers DOIs and searches first.
    snapshot: Path | None = None
    # A Crossref Metadata Plus token: sent as a header, never shown, cached or logged.
    crossref_plus_token: str | None = field(default=None, repr=False)
    # PubMed (NCBI E-utilities) and DataCite. The NCBI API key is sent as a query parameter and
    # never shown, cached or logged, like the token.
    ncbi_url: str = DEFAULT_NCBI_URL
    ncbi_api_key: str | None = field(default=None, repr=False)
    datacite_url: str = DEFAULT_DATACITE_URL
    # Search PubMed for a reference Crossref's search found no convincing record for.
    pubmed_search: bool = True
    # Said once on stderr by the command (a token withheld, say); never contains the token.
    notices: list[str] = field(default_factory=list)


def env_str(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None
