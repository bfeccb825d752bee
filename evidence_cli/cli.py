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
    "evidence_cli.commands.review",
    "evidence_cli.commands.study",
    "evidence_cli.commands.claim",
    "evidence_cli.commands.table",
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


# Type labels for help, as a user would say them (typer 0.2x shows Python's: <str>, <list[str]>,
# and {paths}... in the usage line).
_TYPE_WORDS = {"str": "TEXT", "float": "NUMBER", "int": "INTEGER", "path": "PATH",
               "bool": "BOOLEAN"}


def _plain_help() -> None:
    """Help text without Python internals: option types as words, arguments in capitals."""
    import re

    try:
        from typer.core import TyperArgument, TyperOption
    except ImportError:  # pragma: no cover - other typer versions
        return

    def word(label: str) -> str:
        inner = label.strip("<>")
        inner = re.sub(r"^list\[(.*)\]$", r"\1", inner)
        if "|" in inner:
            return f"[{inner}]"
        return _TYPE_WORDS.get(inner.lower(), inner.upper())

    if hasattr(TyperOption, "display_type"):
        original = TyperOption.display_type

        def option_type(self: TyperOption, ctx: typer.Context) -> str:
            return word(original(self, ctx))

        TyperOption.display_type = option_type  # type: ignore[method-assign,assignment]
    if hasattr(TyperArgument, "display_type"):
        def no_type(self: TyperArgument, ctx: typer.Context) -> str:
            return ""

        TyperArgument.display_type = no_type  # type: ignore[method-assign,assignment]
    if hasattr(TyperArgument, "_usage_display_name"):
        def usage_name(self: TyperArgument) -> str:
            name = str(self.display_name_raw).upper()
            name = name if self.required else f"[{name}]"
            return name + ("..." if self.nargs != 1 else "")

        TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign]
    if hasattr(TyperArgument, "_rich_display_name"):
        def display_name(self: TyperArgument) -> str:
            return str(self.display_name_raw).upper() + ("..." if self.nargs != 1 else "")

        TyperArgument._rich_display_name = display_name  # type: ignore[method-assign]


# The modules each command needs (`study data` is declared in commands/synthesis.py). A run
# registers only its command's modules: importing every command module and building every
# command's options for typer is 30 ms of each run's start-up. tests/test_startup.py checks
# this table against what the modules register.
COMMANDS: dict[str, tuple[str, ...]] = {
    "check": ("evidence_cli.commands.check",),
    "cache": ("evidence_cli.commands.cache",),
    "review": ("evidence_cli.commands.review",),
    "study": ("evidence_cli.commands.study", "evidence_cli.commands.synthesis"),
    "claim": ("evidence_cli.commands.claim",),
    "table": ("evidence_cli.commands.table",),
    "fix": ("evidence_cli.commands.fix",),
    "meta": ("evidence_cli.commands.synthesis",),
    "grade": ("evidence_cli.commands.synthesis",),
    "sof": ("evidence_cli.commands.synthesis",),
    "snapshot": ("evidence_cli.commands.snapshot",),
    "bulk": ("evidence_cli.commands.snapshot",),
}


def modules_for(args: list[str]) -> tuple[str, ...]:
    """The command modules a run with these arguments needs: its command's; none for flags
    alone (--version); every module for help, no arguments or a name that is no command's
    (typer then lists them all, or suggests one)."""
    # The root takes only flags (--version, --help), so the first other word is the command.
    at = next((i for i, arg in enumerate(args) if not arg.startswith("-")), len(args))
    if "--help" in args[:at] or not args:  # the root's help lists every command
        return COMMAND_MODULES
    if at == len(args):
        return ()
    needed = COMMANDS.get(args[at])
    if needed is None:
        return COMMAND_MODULES
    return tuple(module for module in COMMAND_MODULES if module in needed)


def _register_commands(args: list[str]) -> None:
    for name in modules_for(args):
        importlib.import_module(name).register(app)


# Modules the command never uses that its libraries import whenever they are installed: httpcore
# imports trio (for running under trio; evidence runs under asyncio), and httpx its own command
# line (click, rich, pygments). Together 0.1 s of every run's start-up. A None entry makes their
# `import` fail, which both libraries expect and handle (trio is optional; httpx's CLI an extra).
NEVER_IMPORTED = ("trio", "httpx._main")


def _skip_unused_imports() -> None:
    for name in NEVER_IMPORTED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main() -> None:
    """Entry point: domain errors become one clear line and an exit code, never a traceback."""
    from evidence_cli.gc_pause import no_collection_at_exit
    from evidence_cli.output import neutralised

    _skip_unused_imports()
    no_collection_at_exit()

    with neutralised():
        _main()


def _main() -> None:
    from evidence_cli import cli_coercion

    cli_coercion.install()
    _register_commands(sys.argv[1:])
    _plain_help()
    try:
        code = app(standalone_mode=False)
    except click_exceptions.UsageError as error:
        # Typer's validation says "Value error, ..." (pydantic's words): drop the jargon.
        error.message = error.message.replace("Value error, ", "")
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
