"""The answer cache: an embedded SQLite database shared safely by concurrent `evidence` processes.

Only definitive answers are stored (a record, a not-found, an agency, a link verdict); errors,
429s and timeouts never are, so a passing fault cannot stick.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

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
# SQLite's IN (...) takes at most 32766 host parameters in recent builds; stay well below.
_CHUNK = 500


class CacheError(EvidenceError):
    """The cache database cannot be opened or is not a cache."""


class Cache:
    """A key-value store with expiry per entry, in `<cache_dir>/evidence-cache.sqlite3`.

    WAL mode lets readers and one writer work at once; a generous busy timeout makes concurrent
    writers wait for each other instead of failing with "database is locked".
    """

    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        self.path = directory / CACHE_FILE
        self.read_only = read_only
        try:
            if not read_only:
                directory.mkdir(parents=True, exist_ok=True)
            elif not self.path.exists():
                self._conn: sqlite3.Connection | None = None
                return
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
        except sqlite3.DatabaseError as error:
            raise CacheError(f"{self.path}: cannot open the cache database: {error}") from None
        except OSError as error:
            raise CacheError(f"{directory}: cannot create the cache folder: {error.strerror}") \
                from None

    def _setup(self) -> None:
        assert self._conn is not None
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(_SCHEMA)

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
            rows = self._conn.execute(
                f"SELECT key, value, expires_at FROM answers WHERE kind = ? AND key IN ({marks})",
                [kind, *chunk],
            ).fetchall()
            for key, value, expires_at in rows:
                if allow_expired or expires_at > now:
                    found[key] = json.loads(value)
        return found

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
        with closing(self._conn.cursor()) as cursor:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                cursor.executemany(
                    "INSERT OR REPLACE INTO answers (kind, key, value, stored_at, expires_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise

    def info(self) -> dict[str, Any]:
        """Counts by kind, live and expired, and the file size."""
        by_kind: dict[str, dict[str, int]] = {}
        if self._conn is not None:
            now = time.time()
            for kind, live, expired in self._conn.execute(
                "SELECT kind, SUM(expires_at > ?), SUM(expires_at <= ?) FROM answers "
                "GROUP BY kind ORDER BY kind",
                (now, now),
            ):
                by_kind[kind] = {"live": int(live or 0), "expired": int(expired or 0)}
        size = self.path.stat().st_size if self.path.exists() else 0
        return {"path": str(self.path), "bytes": size, "entries": by_kind}

    def clear(self, kind: str | None = None, *, expired_only: bool = False) -> int:
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
        cursor = self._conn.execute(f"DELETE FROM answers{where}", params)
        self._conn.execute("VACUUM")
        return cursor.rowcount
