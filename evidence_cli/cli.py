"""The `evidence` command line: parse options, build objects, run, pick the exit code."""

from __future__ import annotations

import importlib
import sys

import typer

try:  # typer 0.25+ bundles its own copy of click and raises that copy's exceptions
    from typer._click import exceptions as click_exceptions
except ImportError:  # older typer uses click itself
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from evidence_cli import __version__
from evidence_cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, EvidenceError

app = typer.Typer(
    name="evidence",
    help="Check that the studies you cite are real, correctly cited, still standing, and what "
    "they found.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help text: typer's rich help imports rich and markdown-it (0.1 s of start-up).
    rich_markup_mode=None,
)

# Each module registers its commands on `app`; they import heavy libraries only when run.
COMMAND_MODULES: tuple[str, ...] = (
    "evidence_cli.commands.check",
    "evidence_cli.commands.cache",
    "evidence_cli.commands.reviews",
    "evidence_cli.commands.fix",
    "evidence_cli.commands.synthesis",
    "evidence_cli.commands.snapshot",
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"evidence-cli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", help="Show the version and exit.", callback=_show_version,
        is_eager=True,
    ),
) -> None:
    """Check that the studies you cite are real, correctly cited, still standing."""


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


def main() -> None:
    """Entry point: domain errors become one clear line and an exit code, never a traceback."""
    _register_commands()
    try:
        code = app(standalone_mode=False)
    except click_exceptions.UsageError as error:
        error.show()
        sys.exit(EXIT_USAGE)
    except typer.Abort:
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        sys.stderr.write("evidence: interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    except EvidenceError as error:
        from evidence_cli.formats import inert

        # Messages quote the input (a file name, a broken entry's first line): its control
        # characters are shown as \x1b, never sent to the terminal as escape sequences.
        sys.stderr.write(f"evidence: error: {inert(error.message)}\n")
        sys.exit(error.exit_code)
    except click_exceptions.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    if code == EXIT_INTERRUPTED:
        # Typer turns Ctrl-C into a silent return of 130; say why the command stopped (what it
        # wrote before is whole: outputs, reviews and the cache are written atomically).
        sys.stderr.write("evidence: interrupted\n")
    sys.exit(code if isinstance(code, int) else 0)
