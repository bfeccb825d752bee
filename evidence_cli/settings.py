"""A run's settings: the one Settings every command resolves, and how it is resolved.

Command-line options win over environment variables, which win over the config file, which wins
over the defaults. The file is `[tool.evidence]` in a pyproject.toml or the top level of an
evidence.toml, found by walking up from the working directory (the nearest one that has evidence
settings wins). The command builds the services from the resolved Settings
(services/session.py); below that, each client has its own explicit options.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from evidence_cli.errors import ConfigError, UsageError
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


# -- resolving: validators for every value, whatever its origin ---------------------------------

def _positive_float(value: Any) -> float:
    if isinstance(value, str):  # environment variables arrive as text
        try:
            value = float(value)
        except ValueError:
            raise ValueError("expected a positive number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError("expected a positive number")
    return float(value)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("expected a positive whole number")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty string")
    return value.strip()


def _url(value: Any) -> str:
    text = _string(value)
    if not text.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return text.rstrip("/")


def _path(value: Any) -> Path:
    return Path(_string(str(value) if isinstance(value, Path) else value))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    truthy, falsy = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
    if isinstance(value, str) and value.lower() in (*truthy, *falsy):
        return value.lower() in truthy
    raise ValueError("expected true or false")


def _string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return list(value)


def _ratio(value: Any) -> float:
    number = _positive_float(value)
    if number > 1:
        raise ValueError("expected a number between 0 and 1")
    return number


def _days(value: Any) -> float:
    return _positive_float(value) * 86400


# File key -> (Settings field, validator). Expiry is written in days in the file, kept in seconds.
FILE_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "mailto": ("mailto", _string),
    "crossref-url": ("crossref_url", _url),
    "ncbi-url": ("ncbi_url", _url),
    "datacite-url": ("datacite_url", _url),
    "pubmed-search": ("pubmed_search", _bool),
    "fail-on": ("fail_on", lambda value: FailOn.parse(_string(value))),
    "cache-dir": ("cache_dir", _path),
    "record-expiry-days": ("record_ttl", _days),
    "not-found-expiry-days": ("not_found_ttl", _days),
    "url-expiry-days": ("url_ttl", _days),
    "timeout": ("timeout", _positive_float),
    "max-retries": ("max_retries", _positive_int),
    "url-timeout": ("url_timeout", _positive_float),
    "url-exclude": ("url_excludes", _string_list),
    "exclude-path": ("exclude_paths", _string_list),
    "allow-private": ("allow_private", _bool),
    "per-host-concurrency": ("per_host_concurrency", _positive_int),
    "match-threshold": ("match_threshold", _ratio),
    "reviews-dir": ("reviews_dir", _path),
    "snapshot": ("snapshot", _path),
    "max-response-bytes": ("max_response_bytes", _positive_int),
    "request-timeout": ("request_timeout", _positive_float),
    "retry-budget": ("retry_budget", _positive_float),
    "run-timeout": ("run_timeout", _positive_float),
}
# Keys naming folders: a relative value in a file means relative to that file's folder, so a
# run from a subfolder uses the same cache and reviews rather than creating new ones there.
PATH_KEYS = ("cache-dir", "reviews-dir")
# Where the cache goes when nothing names it: the user's cache folder, not the current folder.
APP_NAME = "evidence-cli"

# Environment variable -> file key (validated the same way).
ENV_KEYS: dict[str, str] = {
    "EVIDENCE_MAILTO": "mailto",
    "EVIDENCE_CROSSREF_URL": "crossref-url",
    "EVIDENCE_NCBI_URL": "ncbi-url",
    "EVIDENCE_DATACITE_URL": "datacite-url",
    "EVIDENCE_FAIL_ON": "fail-on",
    "EVIDENCE_CACHE_DIR": "cache-dir",
    "EVIDENCE_REVIEWS_DIR": "reviews-dir",
    "EVIDENCE_SNAPSHOT": "snapshot",
    "EVIDENCE_TIMEOUT": "timeout",
    "EVIDENCE_URL_TIMEOUT": "url-timeout",
}


def find_config_file(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest evidence.toml, or pyproject.toml with a [tool.evidence] table, from start up."""
    for folder in (start, *start.parents):
        dedicated = folder / "evidence.toml"
        if dedicated.is_file():
            data = _read_toml(dedicated)
            table = data.get("tool", {}).get("evidence", data) if "tool" in data else data
            return dedicated, table
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject)
            table = data.get("tool", {}).get("evidence")
            if table is not None:
                if not isinstance(table, dict):
                    raise ConfigError(f"{pyproject}: [tool.evidence] must be a table")
                return pyproject, table
    return None


# A configuration file is a few hundred bytes; a pyproject.toml a few kilobytes.
MAX_CONFIG_BYTES = 1024 * 1024


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # here: a run with no config file to read never needs it

    from evidence_cli.errors import InputError
    from evidence_cli.sources.safe_read import read_capped

    try:
        data = read_capped(path, MAX_CONFIG_BYTES)
        return tomllib.loads(data.decode("utf-8"))
    except InputError as error:
        raise ConfigError(error.message) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def _apply(values: dict[str, Any], key: str, raw: Any, origin: str,
           base: Path | None = None) -> None:
    if key not in FILE_KEYS:
        known = ", ".join(sorted(FILE_KEYS))
        raise ConfigError(f"{origin}: unknown key '{key}' (known keys: {known})")
    field_name, validate = FILE_KEYS[key]
    try:
        value = validate(raw)
    except ValueError as error:
        raise ConfigError(f"{origin}: bad value for '{key}': {error} (got {raw!r})") from None
    if base is not None and key in PATH_KEYS and not value.is_absolute():
        value = base / value
    values[field_name] = value


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def _token_notice(url: str, origin: str) -> str | None:
    """Why the Metadata Plus token must not go to `url`, or None when it may.

    The token goes only over https, and only to a Crossref URL the user chose (the default, the
    command line, the environment): a config file is part of the checked repository, and a pull
    request could point it at any host."""
    if not url.startswith("https://"):
        return (f"the Crossref Plus token is not sent to {url}: it goes only over https; the "
                "lookups run without it")
    if origin == "file":
        return (f"the Crossref Plus token is not sent to {url}, which a config file chose: "
                "give the URL with --crossref-url or EVIDENCE_CROSSREF_URL to send it there; "
                "the lookups run without it")
    return None


def resolve_settings(
    cli: Mapping[str, Any],
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from defaults < config file < environment < command line.

    `cli` maps Settings field names to values; None means "not given on the command line".
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    found = find_config_file((cwd or Path.cwd()).resolve())
    url_origin = "default"
    if found is not None:
        path, table = found
        for key, raw in table.items():
            _apply(values, key, raw, f"{path}", base=path.parent)
        if "crossref_url" in values:
            url_origin = "file"
    for env_name, key in ENV_KEYS.items():
        raw = environ.get(env_name)
        if raw:
            _apply(values, key, raw, f"environment variable {env_name}")
            if key == "crossref-url":
                url_origin = "environment"
    known_fields = {f.name for f in fields(Settings)}
    token = environ.get("EVIDENCE_CROSSREF_PLUS_TOKEN")
    if token:
        values["crossref_plus_token"] = token.strip()
    ncbi_key = environ.get("EVIDENCE_NCBI_API_KEY")
    if ncbi_key and ncbi_key.strip():
        values["ncbi_api_key"] = ncbi_key.strip()
    for name, value in cli.items():
        if value is None:
            continue
        if name not in known_fields:
            raise KeyError(name)
        value = _validate_option(name, value)
        if name in ("url_excludes", "exclude_paths"):
            values[name] = [*values.get(name, []), *value]
        else:
            values[name] = value
        if name == "crossref_url":
            url_origin = "command line"
    if "cache_dir" not in values:
        # Last: the user's cache folder is looked up (platformdirs) only when nothing chose one.
        values["cache_dir"] = default_cache_dir()
    if values.get("crossref_plus_token"):
        notice = _token_notice(values.get("crossref_url", DEFAULT_CROSSREF_URL), url_origin)
        if notice is not None:
            from evidence_cli.notices import warn

            del values["crossref_plus_token"]
            values["notices"] = [notice]
            warn(notice)
    return Settings(**values)


# Settings field -> (option name, validator), for values given on the command line: they get
# the same checks as the file and the environment (a --timeout of 0 is as wrong as timeout = 0).
_OPTION_CHECKS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    field: (key, validate) for key, (field, validate) in FILE_KEYS.items()
    if not key.endswith("-expiry-days")
}


def _validate_option(name: str, value: Any) -> Any:
    if name not in _OPTION_CHECKS:
        return value
    key, validate = _OPTION_CHECKS[name]
    try:
        return validate(value)
    except ValueError as error:
        raise UsageError(f"--{key}: {error} (got {value!r})") from None
