"""The answer cache: an embedded SQLite database shared safely by concurrent `evidence` processes.

Only definitive answers are stored (a record, a not-found, an agency, a link verdict); errors,
429s and timeouts never are, so a passing fault cannot stick.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

from evidence_cli.errors import EvidenceError

CACHE_FILE = "evidence-cache.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    stored_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""
_COLUMNS = {"kind", "key", "value", "stored_at", "expires_at"}
# SQLite's IN (...) takes at most 32766 host parameters in recent builds; stay well below.
_CHUNK = 500


class CacheError(EvidenceError):
    """The cache database cannot be opened or written (permissions, a lock held too long)."""


# SQLite's names for "this file is not (or no longer) a sound cache": a damaged cache is a miss
# and a hint, never a traceback; anything else (read-only, cannot open, busy) is an error.
_DAMAGE = ("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_ERROR", "SQLITE_MISMATCH",
           "SQLITE_FORMAT", "SQLITE_RANGE")
_RECOVER = "run `evidence cache clear` to start a new cache"


def _is_damage(error: sqlite3.Error) -> bool:
    name = getattr(error, "sqlite_errorname", "") or ""
    return name.startswith(_DAMAGE) or not isinstance(error, sqlite3.OperationalError)


class Cache:
    """A key-value store with expiry per entry, in `<cache_dir>/evidence-cache.sqlite3`.

    WAL mode lets readers and one writer work at once; a generous busy timeout makes concurrent
    writers wait for each other instead of failing with "database is locked".
    """

    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        self.path = directory / CACHE_FILE
        self.read_only = read_only
        self.problem: str | None = None
        self._conn: sqlite3.Connection | None = None
        try:
            if not read_only:
                directory.mkdir(parents=True, exist_ok=True)
            elif not self.path.is_file():
                return
            if read_only:
                # Opened read-only: a read-only command (cache info, --offline) never changes
                # the file, not even its journal mode (a committed example cache stays clean).
                self._conn = sqlite3.connect(f"file:{quote(str(self.path.resolve()))}?mode=ro",
                                             uri=True, timeout=60.0, isolation_level=None)
            else:
                self._conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            self._conn.execute("PRAGMA busy_timeout = 60000")
            if not read_only:
                self._setup()
            elif not self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'answers'"
            ).fetchone():
                # An empty database (never written): every lookup is a miss.
                self._conn.close()
                self._conn = None
            else:
                self._check_columns()
        except sqlite3.Error as error:
            if not _is_damage(error):
                raise self._unusable(error) from None
            self.damaged(str(error))
        except OSError as error:
            raise CacheError(f"{directory}: cannot create the cache folder: {error.strerror}; "
                             "choose another with --cache-dir, or use --offline") from None

    def _unusable(self, error: sqlite3.Error) -> CacheError:
        return CacheError(f"{self.path}: cannot use the cache database ({error}); check that "
                          "the folder and file are writable, or choose another with --cache-dir")

    def damaged(self, reason: str) -> None:
        """The cache cannot be trusted: say so once, and answer every lookup as a miss."""
        from evidence_cli.notices import warn

        self.problem = reason
        if self._conn is not None:
            with suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        warn(f"the cache {self.path} is damaged ({reason}); it is ignored for this run "
             f"(every answer is asked again) — {_RECOVER}")

    def _setup(self) -> None:
        assert self._conn is not None
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(_SCHEMA)
        self._check_columns()

    def _check_columns(self) -> None:
        """A table named answers with other columns is not this cache (a wrong-shape file)."""
        assert self._conn is not None
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(answers)")}
        if columns != _COLUMNS:
            raise sqlite3.DatabaseError("the answers table has other columns")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, kind: str, key: str, *, allow_expired: bool = False) -> Any | None:
        return self.get_many(kind, [key], allow_expired=allow_expired).get(key)

    def get_many(
        self, kind: str, keys: Iterable[str], *, allow_expired: bool = False
    ) -> dict[str, Any]:
        """The stored values for the keys that have one (and, unless allowed, have not expired)."""
        if self._conn is None:
            return {}
        wanted = list(dict.fromkeys(keys))
        now = time.time()
        found: dict[str, Any] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            try:
                rows = self._conn.execute(
                    f"SELECT key, value, expires_at FROM answers WHERE kind = ? AND key IN "
                    f"({marks})", [kind, *chunk],
                ).fetchall()
            except sqlite3.Error as error:
                if not _is_damage(error):
                    raise self._unusable(error) from None
                self.damaged(str(error))
                return {}
            for key, value, expires_at in rows:
                try:
                    fresh = allow_expired or float(expires_at) > now
                    if fresh:
                        found[str(key)] = json.loads(value)
                except (TypeError, ValueError, RecursionError):
                    self.damaged("an entry that is not valid JSON")
                    return {}
        return found

    def keys(self, kind: str) -> set[str]:
        """Every key of a kind, expired ones included (for tests and maintenance)."""
        if self._conn is None:
            return set()
        try:
            rows = self._conn.execute("SELECT key FROM answers WHERE kind = ?", (kind,))
            return {str(key) for (key,) in rows}
        except sqlite3.Error as error:
            if not _is_damage(error):
                raise self._unusable(error) from None
            self.damaged(str(error))
            return set()

    def put(self, kind: str, key: str, value: Any, ttl: float) -> None:
        self.put_many(kind, [(key, value)], ttl)

    def put_many(self, kind: str, items: Iterable[tuple[str, Any]], ttl: float) -> None:
        if self._conn is None or self.read_only:
            return
        now = time.time()
        rows = [(kind, key, json.dumps(value, separators=(",", ":")), now, now + ttl)
                for key, value in items]
        if not rows:
            return
        try:
            with closing(self._conn.cursor()) as cursor:
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    cursor.executemany(
                        "INSERT OR REPLACE INTO answers (kind, key, value, stored_at, "
                        "expires_at) VALUES (?, ?, ?, ?, ?)",
                        rows,
                    )
                    cursor.execute("COMMIT")
                except BaseException:
                    with suppress(sqlite3.Error):
                        cursor.execute("ROLLBACK")
                    raise
        except sqlite3.Error as error:
            if not _is_damage(error):
                raise self._unusable(error) from None
            self.damaged(str(error))

    def info(self) -> dict[str, Any]:
        """Counts by kind, live and expired, and the file size (and what is wrong, if damaged)."""
        by_kind: dict[str, dict[str, int]] = {}
        if self._conn is not None:
            now = time.time()
            try:
                for kind, live, expired in self._conn.execute(
                    "SELECT kind, SUM(expires_at > ?), SUM(expires_at <= ?) FROM answers "
                    "GROUP BY kind ORDER BY kind",
                    (now, now),
                ):
                    by_kind[str(kind)] = {"live": int(live or 0), "expired": int(expired or 0)}
            except (sqlite3.Error, TypeError, ValueError) as error:
                if isinstance(error, sqlite3.Error) and not _is_damage(error):
                    raise self._unusable(error) from None
                self.damaged(str(error))
        size = self.path.stat().st_size if self.path.exists() else 0
        return {"path": str(self.path), "bytes": size, "entries": by_kind,
                "problem": self.problem}

    def clear(self, kind: str | None = None, *, expired_only: bool = False) -> int:
        if self.problem is not None and not self.read_only:
            # A damaged file cannot be emptied with SQL: remove it (and its journals); the next
            # run starts a new cache.
            for name in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"),
                         Path(f"{self.path}-journal")):
                with suppress(FileNotFoundError):
                    name.unlink()
            return 0
        if self._conn is None:
            return 0
        clauses: list[str] = []
        params: list[Any] = []
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind)
        if expired_only:
            clauses.append("expires_at <= ?")
            params.append(time.time())
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        try:
            cursor = self._conn.execute(f"DELETE FROM answers{where}", params)
            self._conn.execute("VACUUM")
        except sqlite3.Error as error:
            if not _is_damage(error):
                raise self._unusable(error) from None
            self.damaged(str(error))
            return self.clear(kind, expired_only=expired_only)
        return cursor.rowcount
