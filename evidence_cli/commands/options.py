"""Options the review, study, claim, table and synthesis commands share, and their settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from evidence_cli.errors import UsageError

if TYPE_CHECKING:
    from evidence_cli.reviews.store import ReviewStore
    from evidence_cli.settings import Settings

REVIEWS_DIR = typer.Option(
    None, "--reviews-dir", help="Folder of review files [env: EVIDENCE_REVIEWS_DIR].",
    show_default="./reviews",
)
SLUG = typer.Argument(..., help="The review's slug (its file is <reviews-dir>/<slug>.yaml).")
STUDY_ID = typer.Argument(..., help="The study's id.")
OUTPUT = typer.Option(None, "--output", "-o", help="Write to this file.")
# The formats a table (`table`, `sof`) is written in, by the suffix of --output.
DOCUMENT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".csv": "csv", ".html": "html",
                     ".htm": "html", ".json": "json", ".tex": "latex"}


def text(flag: str, help_text: str) -> Any:
    """An optional text option: `--flag VALUE`, None when not given."""
    return typer.Option(None, flag, help=help_text)


def texts(flag: str, help_text: str) -> Any:
    """A repeatable text option: `--flag A --flag B`, [] when not given."""
    return typer.Option([], flag, help=help_text)


def flag(name: str, help_text: str) -> Any:
    """An on/off switch, off unless given."""
    return typer.Option(False, name, help=help_text)


def output_format(help_text: str) -> Any:
    """`--format/-f`; None lets the command choose (from --output's suffix, or its default)."""
    return typer.Option(None, "--format", "-f", help=help_text)


def method(help_text: str) -> Any:
    """`--method`: the τ² estimator of the pooled effects."""
    return typer.Option("REML", "--method", help=help_text)


def review_settings(reviews_dir: Path | None, **services: Any) -> Settings:
    """The run's settings from the options given (None: the environment, config or default)."""
    from evidence_cli.settings import resolve_settings

    return resolve_settings({"reviews_dir": reviews_dir, **services})


def review_store(settings: Settings) -> ReviewStore:
    from evidence_cli.reviews.store import ReviewStore

    return ReviewStore(settings.reviews_dir)


def store_for(reviews_dir: Path | None) -> ReviewStore:
    """The review files, for the commands that need no service."""
    return review_store(review_settings(reviews_dir))


def choose_format(output_format: str | None, output: Path | None, formats: tuple[str, ...],
                  suffixes: dict[str, str], default: str, *, strict_suffix: bool = False) -> str:
    """--format, else the one --output's suffix names, else `default`.

    With `strict_suffix`, an --output whose suffix names no format is a usage error (rather
    than the default format under a misleading name).
    """
    if output_format is not None:
        chosen = output_format.lower()
    elif output is not None:
        implied = suffixes.get(output.suffix.lower())
        if implied is None and strict_suffix:
            raise UsageError(f"--output {output}: the suffix {output.suffix or '(none)'} names no "
                             f"table format; use one of {' '.join(sorted(suffixes))}, or say "
                             "which with --format")
        chosen = implied or default
    else:
        chosen = default
    if chosen not in formats:
        raise UsageError(f"--format must be one of {', '.join(formats)} (got {output_format!r})")
    return chosen


def write_output(path: Path, content: str | bytes) -> None:
    """Write a report atomically and say so on stderr; an unwritable path is one clear line."""
    from evidence_cli.atomic import write_atomic
    from evidence_cli.errors import InputError

    try:
        write_atomic(path, content)
    except OSError as error:
        raise InputError(str(path), f"cannot write: {error.strerror}") from None
    typer.echo(f"wrote {path}", err=True)
