"""Review files on disk: slug checks, reading with validation, atomic writes under a lock."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_cli.atomic import write_atomic
from evidence_cli.errors import InputError, UsageError
from evidence_cli.reviews import yamlio
from evidence_cli.reviews.schema import SLUG_PATTERN, validate
from evidence_cli.reviews.shapes import Problem

SUFFIX = ".yaml"
# How long a command waits for another one holding the review's lock before giving up.
LOCK_TIMEOUT_SECONDS = 60.0


def today() -> dt.date:
    """The date a review records (created, updated, audits, caveats): one clock, UTC, so an
    audit made on the same run as an edit carries the same date as the file's `updated`."""
    return dt.datetime.now(dt.UTC).date()


def check_slug(slug: str) -> str:
    """Return the slug if it is safe to use as a file name; refuse anything else.

    The pattern alone excludes path tricks ("../x", "a/b", ".hidden", absolute paths, NUL),
    since it allows only lower-case letters, digits and hyphens.
    """
    if not SLUG_PATTERN.fullmatch(slug):
        raise UsageError(
            f"invalid review slug {slug!r}: use lower-case letters, digits and hyphens, starting "
            "with a letter or digit, at most 64 characters"
        )
    return slug


@dataclass(slots=True)
class LoadedReview:
    """A review as read from disk: its path, the exact text, and the round-trip document."""

    slug: str
    path: Path
    text: str
    doc: Any
    problems: list[Problem]

    @property
    def display_path(self) -> str:
        return str(self.path)


class ReviewStore:
    """The reviews directory: one `<slug>.yaml` per review."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, slug: str) -> Path:
        return self.directory / f"{check_slug(slug)}{SUFFIX}"

    def slugs(self) -> list[str]:
        """Slugs of the review files present, sorted; files with other names are ignored."""
        if not self.directory.is_dir():
            return []
        return sorted(
            path.stem for path in self.directory.glob(f"*{SUFFIX}")
            if SLUG_PATTERN.fullmatch(path.stem) and path.is_file()
        )

    def exists(self, slug: str) -> bool:
        return self.path_for(slug).is_file()

    def read(self, slug: str) -> LoadedReview:
        """Read and parse a review; schema problems are collected, YAML errors raise InputError."""
        path = self.path_for(slug)
        if not path.is_file():
            raise InputError(str(path), f"no review '{slug}' (`evidence review list` shows them)")
        from evidence_cli.sources.safe_read import read_capped

        try:
            data = read_capped(path, yamlio.MAX_REVIEW_BYTES)
        except InputError as error:
            if "limit" in error.message:
                raise InputError(str(path), "file is too large to be a review") from None
            raise
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(str(path), f"not UTF-8 text (byte {error.start})") from None
        try:
            doc = yamlio.load(text)
        except yamlio.YamlProblem as problem:
            raise InputError(str(path), problem.message, problem.line) from None
        return LoadedReview(slug, path, text, doc, validate(doc, slug))

    def load(self, slug: str) -> LoadedReview:
        """Read a review that must be valid; the first problem becomes the error."""
        review = self.read(slug)
        if review.problems:
            first = review.problems[0]
            more = len(review.problems) - 1
            extra = f" (and {more} more; run `evidence review validate {slug}`)" if more else ""
            where = f"{first.field}: " if first.field else ""
            raise InputError(review.display_path, f"{where}{first.message}{extra}", first.line)
        return review

    @contextlib.contextmanager
    def lock(self, slug: str) -> Iterator[Path]:
        """Hold the review's exclusive lock (a `<slug>.yaml.lock` file beside it)."""
        from filelock import FileLock, Timeout

        path = self.path_for(slug)
        if not self.directory.is_dir():
            raise InputError(str(self.directory), "reviews directory does not exist")
        lock_path = Path(str(path) + ".lock")
        if lock_path.is_symlink():
            # filelock >= 3.20.1 refuses to follow it (CVE-2025-68146); say what to do.
            raise InputError(str(lock_path), "the review's lock file is a symbolic link: "
                             "refusing to use it; remove it if no evidence command is running")
        lock = FileLock(str(lock_path), timeout=LOCK_TIMEOUT_SECONDS)
        try:
            lock.acquire()
        except Timeout:
            raise InputError(
                str(path), f"another evidence command held the review's lock for over "
                f"{LOCK_TIMEOUT_SECONDS:.0f} s"
            ) from None
        except OSError as error:
            raise InputError(str(lock_path), f"cannot take the review's lock: "
                             f"{error.strerror or error}; check that {self.directory} is "
                             "writable") from None
        try:
            yield path
        finally:
            lock.release()

    @contextlib.contextmanager
    def edit(self, slug: str) -> Iterator[LoadedReview]:
        """Read-modify-write under the lock: the body changes `review.doc` in place.

        The new document is validated before anything is written; on any error the file is left
        exactly as it was. The write is atomic, so readers see the old file or the new one.
        """
        with self.lock(slug):
            review = self.load(slug)
            yield review
            review.doc["updated"] = today()
            problems = validate(review.doc, slug)
            if problems:
                lines = "; ".join(
                    (f"{p.field}: {p.message}" if p.field else p.message) for p in problems[:3]
                )
                raise UsageError(f"{review.path}: change refused, the review would be invalid: "
                                 f"{lines}")
            _write(review.path, yamlio.dump(review.doc))

    def create(self, slug: str, doc: Any) -> Path:
        """Write a new review; refuses to overwrite an existing one."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(str(self.directory), f"cannot create the reviews folder: "
                             f"{error.strerror}") from None
        problems = validate(doc, slug)
        if problems:
            raise UsageError("; ".join(p.render(slug) for p in problems[:3]))
        with self.lock(slug) as path:
            if path.exists():
                raise UsageError(f"review '{slug}' already exists: {path}")
            _write(path, yamlio.dump(doc))
        return path


def _write(path: Path, text: str) -> None:
    """Write a review atomically; a folder or file that cannot be written is one clear line."""
    try:
        write_atomic(path, text)
    except OSError as error:
        raise InputError(str(path), f"cannot write the review: {error.strerror or error}; "
                         "check that the file and its folder are writable") from None
