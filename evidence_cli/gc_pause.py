"""Pausing the cyclic garbage collector while a block builds many small acyclic objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside the block. Each collection walks every live object, so while
    records, rows or references pile up (a reader's 70,000 items, a snapshot batch of 5,000
    decoded records) the cost per item grows with their number: reading a file ten times larger
    took twice as long per item (benchmarks/readers_bench.py), and pausing halves the cost of
    decoding snapshot records. None of these objects form cycles; reference counting still
    frees everything, and collection resumes when the block ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
