"""Options shared by the commands that talk to Crossref, declared once (`service_options`)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import typer

Result = TypeVar("Result")

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


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """The service options as given on the command line; None is "not given". Each field
    carries its typer option (`service_options` puts them in a command's signature)."""

    crossref_url: str | None = field(default=None, metadata={"option": CROSSREF_URL})
    mailto: str | None = field(default=None, metadata={"option": MAILTO})
    ncbi_url: str | None = field(default=None, metadata={"option": NCBI_URL})
    ncbi_api_key: str | None = field(default=None, metadata={"option": NCBI_API_KEY})
    datacite_url: str | None = field(default=None, metadata={"option": DATACITE_URL})
    cache_dir: Path | None = field(default=None, metadata={"option": CACHE_DIR})
    offline: bool | None = field(default=None, metadata={"option": OFFLINE})
    refresh: bool | None = field(default=None, metadata={"option": REFRESH})
    timeout: float | None = field(default=None, metadata={"option": TIMEOUT})

    def given(self) -> dict[str, Any]:
        """Settings field -> value, as resolve_settings takes the command line."""
        return asdict(self)


NOT_GIVEN = ServiceOptions()  # the placeholder default of a command's `services` parameter


def service_options(*names: str) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Give a command these service options (all of them when none are named) as one
    ServiceOptions argument, `services`.

    typer reads a command's options from its signature: the wrapper's signature has the named
    options where the command's `services` parameter stands (so --help lists them in the same
    place), and the wrapper gathers them into the ServiceOptions the command receives.
    """
    hints = get_type_hints(ServiceOptions)
    declared = {f.name: (hints[f.name], f.metadata["option"]) for f in fields(ServiceOptions)}
    chosen = names or tuple(declared)

    def decorate(command: Callable[..., Result]) -> Callable[..., Result]:
        signature = inspect.signature(command, eval_str=True)
        parameters: list[inspect.Parameter] = []
        for parameter in signature.parameters.values():
            if parameter.name != "services":
                parameters.append(parameter)
                continue
            parameters += [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                             default=declared[name][1],
                                             annotation=declared[name][0])
                           for name in chosen]

        @functools.wraps(command)
        def run(**values: Any) -> Result:
            given = {name: values.pop(name) for name in chosen}
            return command(services=ServiceOptions(**given), **values)

        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        run.__annotations__["return"] = signature.return_annotation
        return run

    return decorate
