"""Holding the cyclic garbage collector: while a block builds many small acyclic objects, and
at the process's exit."""

from __future__ import annotations

import atexit
import contextlib
import gc
from collections.abc import Iterator

_EXIT_HOLD: list[bool] = []


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


def no_collection_at_exit() -> None:
    """The interpreter's last collections walk every object still alive (the run's records,
    results and modules); the process's end frees them all at once. Measured on a cold
    1,000-DOI check (on this 2-core machine, loaded): 0.22-0.32 s between the atexit handlers
    and the process gone, 0.02-0.05 s with this. Objects are still freed by reference
    counting as the interpreter tears down; only a cycle left at exit is not collected, which
    CPython never promises anyway."""
    if not _EXIT_HOLD:
        _EXIT_HOLD.append(True)
        # atexit runs its handlers last registered first: this one, registered at start-up,
        # runs after any a library registers later, just before the interpreter's teardown.
        atexit.register(gc.freeze)
