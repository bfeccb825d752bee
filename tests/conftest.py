"""Shared pytest fixtures: a running Crossref simulator, an isolated environment, the real CLI."""

from __future__ import annotations

import contextlib
import io
import locale
import logging
import os
import subprocess
import sys
import threading
import traceback
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

import evidence_cli
from tests.datacite_simulator import DataCiteSimulator
from tests.eutils_simulator import EUtilsSimulator
from tests.simulator import CrossrefSimulator

FIXTURES_DIR = Path(__file__).parent / "fixtures"
# Variables that would make a test depend on the machine running it: a mailto changes the pool,
# the GitHub ones switch on CI-specific output.
_UNSET = ("EVIDENCE_MAILTO", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "EVIDENCE_NCBI_API_KEY")
# What `python -m evidence_cli` runs, and the path Python puts in sys.argv[0] for it (click
# derives the program name in usage lines, "python -m evidence_cli", from the two).
_MAIN_PATH = str(Path(evidence_cli.__file__).parent / "__main__.py")
# Python's own warning filters when no -W option is given (pytest replaces them while it runs):
# a command run in-process shows exactly the warnings its own process would.
_DEFAULT_WARNING_FILTERS: tuple[tuple[str, type[Warning], str], ...] = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)
# The classes cli.main() patches for plain help text: restored after every in-process run, or a
# second run would wrap the patched methods again.
_PATCHED_CLASSES: tuple[type, ...] = ()


def _patched_classes() -> tuple[type, ...]:
    global _PATCHED_CLASSES
    if not _PATCHED_CLASSES:
        from typer.core import TyperArgument, TyperOption

        _PATCHED_CLASSES = (TyperOption, TyperArgument)
    return _PATCHED_CLASSES


def _decoded(data: bytes) -> str:
    """Bytes as subprocess.run(text=True) hands them back: locale codec, universal newlines."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _exit_status(code: object) -> int:
    """The exit status Python gives a process that raised SystemExit(code)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1


@contextlib.contextmanager
def _process_state(env: dict[str, str], cwd: str | os.PathLike[str],
                   argv: list[str]) -> Iterator[None]:
    """The process-wide state one `evidence` process would start with, restored afterwards."""
    from evidence_cli import notices
    from evidence_cli.cli import app

    saved_environ = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_argv = sys.argv
    saved_main = sys.modules["__main__"]
    saved_classes = [(cls, dict(vars(cls))) for cls in _patched_classes()]
    saved_commands = list(app.registered_commands), list(app.registered_groups)
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    main = types.ModuleType("__main__")
    main.__file__ = _MAIN_PATH
    main.__package__ = "evidence_cli"
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = argv
    sys.modules["__main__"] = main
    # "Each said at most once per run": a fresh run has said nothing yet.
    notices._said.clear()
    # Without handlers a library's warning reaches stderr through logging.lastResort, as in a
    # process of its own (pytest's handlers would swallow it).
    root.handlers = []
    try:
        with warnings.catch_warnings():
            warnings.resetwarnings()
            for action, category, module in reversed(_DEFAULT_WARNING_FILTERS):
                warnings.filterwarnings(action, category=category, module=module)  # type: ignore[arg-type]
            # Shown on the command's stderr, not recorded by pytest.
            warnings.showwarning = _show_warning
            yield
    finally:
        root.handlers = saved_handlers
        app.registered_commands[:], app.registered_groups[:] = saved_commands
        for cls, attributes in saved_classes:
            for name in set(vars(cls)) - set(attributes):
                delattr(cls, name)
            for name, value in attributes.items():
                if vars(cls).get(name) is not value:
                    setattr(cls, name, value)
        sys.modules["__main__"] = saved_main
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: IO[str] | None = None, line: str | None = None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


class _ThisThread:
    """A standard stream that is the command's for the thread running it, and stays what it was
    for every other thread: the simulators serve from threads of this process, and a server's
    own complaint (a client hanging up) is the test log's, not the command's stderr."""

    def __init__(self, stream: IO[str], others: IO[str]) -> None:
        self._stream = stream
        self._others = others
        self._thread = threading.get_ident()

    def _target(self) -> IO[str]:
        return self._stream if threading.get_ident() == self._thread else self._others

    def write(self, text: str) -> int:
        return self._target().write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


def run_in_process(args: list[str], *, env: dict[str, str], cwd: str | os.PathLike[str],
                   input: str | bytes | None = None, stdin: IO[bytes] | None = None,
                   ) -> subprocess.CompletedProcess[str]:
    """`python -m evidence_cli ARGS` run by this interpreter: the same entry point, argv,
    environment, working directory, standard streams and exit status as its own process would
    have, without the interpreter's start-up and imports (~0.7 s a run)."""
    if stdin is None:
        raw = input.encode() if isinstance(input, str) else (input or b"")
        stdin = io.BytesIO(raw)
    out, err = io.BytesIO(), io.BytesIO()
    # The standard streams of a process whose stdout and stderr are pipes.
    encoding, errors = sys.__stdout__.encoding, sys.__stdout__.errors  # type: ignore[union-attr]
    streams = (
        io.TextIOWrapper(stdin, encoding=encoding, errors=errors),
        io.TextIOWrapper(out, encoding=encoding, errors=errors),
        io.TextIOWrapper(err, encoding=encoding, errors="backslashreplace", line_buffering=True),
    )
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    from evidence_cli.cli import main

    returncode = 0
    with _process_state(env, cwd, [_MAIN_PATH, *args]):
        sys.stdin = streams[0]
        sys.stdout = _ThisThread(streams[1], saved_streams[1])
        sys.stderr = _ThisThread(streams[2], saved_streams[2])
        try:
            main()
        except SystemExit as done:
            returncode = _exit_status(done.code)
        except Exception:
            # What the interpreter prints for an uncaught exception, and its status.
            sys.stderr.write(traceback.format_exc())
            returncode = 1
        finally:
            for stream in streams[1:]:
                stream.flush()
            sys.stdin, sys.stdout, sys.stderr = saved_streams
    # Detached, not closed: a file object handed in as stdin stays the caller's.
    with contextlib.suppress(ValueError):
        streams[0].detach()
    return subprocess.CompletedProcess([sys.executable, "-m", "evidence_cli", *args], returncode,
                                       _decoded(out.getvalue()), _decoded(err.getvalue()))


def run_in_subprocess(args: list[str], *, env: dict[str, str], cwd: str | os.PathLike[str],
                      input: str | bytes | None = None, stdin: IO[bytes] | None = None,
                      timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m evidence_cli ARGS` in a process of its own."""
    # Without input, stdin is empty rather than inherited: a command that reads stdin must not
    # hang on the terminal pytest runs in.
    feed: dict[str, Any] = {"input": input} if input is not None else {
        "stdin": subprocess.DEVNULL if stdin is None else stdin}
    if isinstance(input, bytes):
        done = subprocess.run([sys.executable, "-m", "evidence_cli", *args], env=env, cwd=cwd,
                              **feed, capture_output=True, timeout=timeout, check=False)
        return subprocess.CompletedProcess(done.args, done.returncode, _decoded(done.stdout),
                                           _decoded(done.stderr))
    return subprocess.run([sys.executable, "-m", "evidence_cli", *args], env=env, cwd=cwd,
                          **feed, capture_output=True, text=True, timeout=timeout, check=False)


class RunEvidence:
    """The real `evidence` command: run_evidence("check", "refs.bib").

    Called, it runs in-process (the CLI's own entry point, with the argv, environment, working
    directory and streams of a fresh process); `run_evidence.subprocess(...)` runs it as a real
    process, for tests where the process itself is the point (signals, start-up, many processes
    at once). Both return a subprocess.CompletedProcess with text stdout and stderr."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    def __call__(self, *args: str | os.PathLike[str], env: dict[str, str] | None = None,
                 cwd: str | os.PathLike[str] | None = None, input: str | bytes | None = None,
                 stdin: IO[bytes] | None = None, timeout: float = 120,
                 ) -> subprocess.CompletedProcess[str]:
        # `timeout` is for the subprocess mode's signature: in-process, pytest-timeout bounds a
        # run that would hang.
        return run_in_process(list(map(str, args)), env=self.env if env is None else env,
                              cwd=self.cwd if cwd is None else cwd, input=input, stdin=stdin)

    def subprocess(self, *args: str | os.PathLike[str], env: dict[str, str] | None = None,
                   cwd: str | os.PathLike[str] | None = None, input: str | bytes | None = None,
                   stdin: IO[bytes] | None = None, timeout: float = 120,
                   ) -> subprocess.CompletedProcess[str]:
        return run_in_subprocess(list(map(str, args)), env=self.env if env is None else env,
                                 cwd=self.cwd if cwd is None else cwd, input=input, stdin=stdin,
                                 timeout=timeout)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES_DIR


@pytest.fixture
def crossref_sim() -> Iterator[CrossrefSimulator]:
    """A started simulator with limits generous enough that tests are never slowed by them."""
    sim = CrossrefSimulator(
        rate_limit=50,
        concurrency=3,
        polite_rate_limit=50,
        polite_concurrency=3,
        list_rate_limit=20,
        polite_list_rate_limit=20,
        latency=0.0,
    )
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def eutils_sim() -> Iterator[EUtilsSimulator]:
    """A started E-utilities (PubMed) simulator with NCBI's limits (3/s, 10/s with a key)."""
    with EUtilsSimulator() as sim:
        yield sim  # type: ignore[misc]


@pytest.fixture
def datacite_sim() -> Iterator[DataCiteSimulator]:
    with DataCiteSimulator() as sim:
        yield sim  # type: ignore[misc]


@pytest.fixture
def evidence_env(tmp_path: Path, crossref_sim: CrossrefSimulator, eutils_sim: EUtilsSimulator,
                 datacite_sim: DataCiteSimulator) -> dict[str, str]:
    """os.environ pointed at the simulator, with a fresh cache and reviews directory."""
    env = dict(os.environ)
    for name in _UNSET:
        env.pop(name, None)
    cache_dir = tmp_path / "evidence-cache"
    reviews_dir = tmp_path / "evidence-reviews"
    cache_dir.mkdir()
    reviews_dir.mkdir()
    env["EVIDENCE_CROSSREF_URL"] = crossref_sim.url
    env["EVIDENCE_NCBI_URL"] = eutils_sim.url
    env["EVIDENCE_DATACITE_URL"] = datacite_sim.url
    env["EVIDENCE_CACHE_DIR"] = str(cache_dir)
    env["EVIDENCE_REVIEWS_DIR"] = str(reviews_dir)
    return env


@pytest.fixture
def run_evidence(tmp_path: Path, evidence_env: dict[str, str]) -> RunEvidence:
    """Run the real `evidence` command (in-process; `.subprocess(...)` for a real process)."""
    return RunEvidence(evidence_env, tmp_path)
