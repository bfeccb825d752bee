"""A local Crossref snapshot: Parquet tables built from the public data file, and audits over it."""

# The layout of a snapshot folder (see build.py):
#   manifest.json       source, snapshot date, counts, format version
#   works/              one row per DOI, a file per DOI-hash bucket (`bucket_hash` in the
#                       manifest); `record` holds the API's work record (slimmed as the API
#                       path caches it)
#   references/         one row per reference of every work (citing DOI, cited DOI, text; `seq`
#                       the build's number of the version cited from), a file per input unit
#                       (hard links to the parts); format v1 had one file, references.parquet
#   retractions.parquet retraction/withdrawal notices, from `updated-by` and from `update-to`
#   index.sqlite3       the lookup index: DOI -> record (an SQLite B-tree; a DuckDB query on
#                       Parquet costs ~5 ms, far too slow for one reference at a time) and an
#                       FTS5 index for bibliographic search without a DOI
#   parts/              per-input Parquet parts and done.txt: what a resumed build skips
from __future__ import annotations

MANIFEST = "manifest.json"
WORKS = "works.parquet"
REFERENCES = "references"
REFERENCES_V1 = "references.parquet"  # format v1: the table in one file
RETRACTIONS = "retractions.parquet"
SEARCH = "index.sqlite3"
PARTS = "parts"
# v2 (#18): references/ a folder of files, works unsorted within their buckets.
FORMAT = "evidence-cli/snapshot/v2"
FORMATS_READ = (FORMAT, "evidence-cli/snapshot/v1")
