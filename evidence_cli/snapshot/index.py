"""The snapshot's lookup and search index: SQLite, DOI -> compressed record, and FTS5.

A DOI lookup is a B-tree search (~0.1 ms, where a DuckDB query on the Parquet table costs ~5 ms)
and bibliographic search runs on FTS5 over titles and the other fields Crossref's query matches.
The file is written under a temporary name and renamed into place when whole and checked.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from evidence_cli import snapshot as layout
from evidence_cli.errors import InputError


def add_term_table(db: sqlite3.Connection) -> None:
    """How many works hold each term, keyed by term: fts5vocab answers `term IN (...)` by
    scanning the whole vocabulary (27 ms on 200,000 works), this table in microseconds."""
    db.execute("DROP TABLE IF EXISTS terms")
    db.execute("CREATE TABLE terms (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID")
    db.execute("INSERT INTO terms SELECT term, doc FROM vocab")
    db.commit()


_COLUMNS = ["doi", "search_title", "search_rest", "packed"]
_HASH_SIZE = 32 << 20  # bytes of pending FTS5 terms before a segment is written


class IndexWriter:
    """Writes the index part by part: a works part's rows go in as soon as the part is written
    (while the worker processes read the next units: #18), numbered from where the previous
    part's numbers end (row r of a part is its first id + r). The rows of versions that lost to
    a newer one are left out, or taken out again if they were in already (`drop`); `finish`
    indexes the DOIs, checks the file and renames it into place."""

    def __init__(self, out: Path) -> None:
        self.target = out / layout.SEARCH
        self.temp = self.target.with_name(f".{self.target.name}.tmp")
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()
        # Written by the build's main thread while it reads, then by the merge's index thread.
        self.db = sqlite3.connect(self.temp, check_same_thread=False, isolation_level=None)
        self.next_id = 1
        self.placed: dict[str, int] = {}  # part file name -> the id of its first row
        try:
            # A new file renamed into place when whole: no need to sync, but keep a rollback
            # journal (in memory): with journal_mode OFF, FTS5's internal savepoints corrupted a
            # 200,000-work index ("database disk image is malformed"). Pages new to the file are
            # not journaled, so the journal costs next to nothing here.
            self.db.execute("PRAGMA journal_mode = MEMORY")
            self.db.execute("PRAGMA synchronous = OFF")
            self.db.execute("PRAGMA cache_size = -131072")  # 128 MB
            self.db.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, doi TEXT NOT NULL, "
                            "record BLOB NOT NULL)")
            self.db.execute("CREATE VIRTUAL TABLE fts USING fts5(title, rest, content='', "
                            "tokenize='unicode61 remove_diacritics 2')")
            self.db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'row')")
            self.db.execute("BEGIN")
            # FTS5 flushes its pending terms to a new segment each 1 MB by default, and merges
            # the segments as they pile up: with 32 MB, a third less CPU for the insertion
            # and next to nothing left for 'optimize' (#18), for ~15 MB more memory. The same
            # index (its setting taken out of the file again in finish()).
            self.db.execute(f"INSERT INTO fts (fts, rank) VALUES ('hashsize', {_HASH_SIZE})")
        except BaseException:
            self.abort()
            raise

    def add_part(self, path: Path, dropped: Collection[int] = ()) -> None:
        """Add the rows of one works part (once: a part added already is skipped), but for the
        row numbers in `dropped`."""
        import pyarrow.parquet as pq

        if path.name in self.placed:
            return
        first = self.placed[path.name] = self.next_id
        start = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000, columns=_COLUMNS):
            columns = [batch.column(i).to_pylist() for i in range(4)]
            self._insert(first + start, columns, [r - start for r in dropped
                                                  if start <= r < start + batch.num_rows])
            start += batch.num_rows
        self.next_id = first + start

    def add_rows(self, path: Path, columns: Sequence[list[Any]]) -> None:
        """Add the rows of one works part from its index columns (DOIs, search titles, other
        search texts, packed records), as the reader had them: the same rows as `add_part`."""
        if path.name in self.placed:
            return
        first = self.placed[path.name] = self.next_id
        self._insert(first, columns, ())
        self.next_id = first + len(columns[0])

    def _insert(self, first: int, columns: Sequence[list[Any]], dropped: Collection[int]
                ) -> None:
        dois, titles, rests, records = columns
        ids: Sequence[int] = range(first, first + len(dois))
        if dropped:
            skip = set(dropped)
            keep = [i for i in range(len(dois)) if i not in skip]
            ids = [ids[i] for i in keep]
            dois, titles, rests, records = ([column[i] for i in keep] for column in columns)
        self.db.executemany("INSERT INTO docs VALUES (?, ?, ?)",
                            zip(ids, dois, records, strict=True))
        self.db.executemany("INSERT INTO fts (rowid, title, rest) VALUES (?, ?, ?)",
                            zip(ids, titles, rests, strict=True))

    def drop(self, path: Path, rows: Collection[int]) -> None:
        """Take out rows of a part added already (a newer version of their DOI came later).
        A contentless FTS5 table forgets a row when given the values it indexed: read again."""
        import pyarrow.parquet as pq

        first = self.placed[path.name]
        table = pq.read_table(path, columns=_COLUMNS[1:3])
        titles, rests = table.column(0).to_pylist(), table.column(1).to_pylist()
        wanted = sorted(rows)
        self.db.executemany("DELETE FROM docs WHERE id = ?", ((first + r,) for r in wanted))
        self.db.executemany(
            "INSERT INTO fts (fts, rowid, title, rest) VALUES ('delete', ?, ?, ?)",
            ((first + r, titles[r], rests[r]) for r in wanted))

    def finish(self) -> None:
        try:
            # Indexed once the rows are in: one sort instead of a B-tree insert per row.
            self.db.execute("CREATE UNIQUE INDEX docs_doi ON docs (doi)")
            self.db.execute("COMMIT")
            self.db.execute("INSERT INTO fts (fts) VALUES ('optimize')")
            # A writing setting only: the finished file keeps FTS5's defaults.
            self.db.execute("DELETE FROM fts_config WHERE k = 'hashsize'")
            add_term_table(self.db)
            if self.db.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
                raise InputError(str(self.target), "the index written is damaged; build again")
        except BaseException:
            self.abort()
            raise
        self.db.close()
        os.replace(self.temp, self.target)

    def abort(self) -> None:
        """Close and remove the unfinished file."""
        with contextlib.suppress(Exception):
            self.db.close()
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()
