"""Domain errors: each carries the exit code and the one-line message the CLI prints."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_UNVERIFIABLE = 4
EXIT_INTERRUPTED = 130


class EvidenceError(Exception):
    """Base class: a failure the user can act on, reported as one line, never a traceback."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(EvidenceError):
    """An input file that cannot be read or parsed; names the file and, where known, the line."""

    exit_code = EXIT_INPUT

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class ConfigError(EvidenceError):
    """A configuration file or value that is wrong; names the file and the key."""

    exit_code = EXIT_INPUT


class UsageError(EvidenceError):
    """Options that do not fit together."""

    exit_code = EXIT_USAGE


class ServiceError(EvidenceError):
    """A remote service failed after retries; the references it concerns are unverifiable."""

    exit_code = EXIT_UNVERIFIABLE


class RefusedError(EvidenceError):
    """A study the checks say should not be added (a DOI no agency knows, a retracted work)."""

    exit_code = EXIT_FINDINGS


class NotPoolableError(EvidenceError):
    """Fewer than two studies can be pooled for an outcome: a message, not a number.

    The review is readable and the command was right, but the answer is "no number", which a
    script must not mistake for a result: exit 1.
    """

    exit_code = EXIT_FINDINGS
