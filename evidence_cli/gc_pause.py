"""Holding the cyclic garbage collector: while a block builds many small acyclic objects, and
at the process's exit."""

from __future__ import annotations

import atexit
import contextlib
import gc
from collections.abc import Iterator

_EXIT_HOLD: list[bool] = []


@contextlib.contextmanager
def gc_paused(*, promote: bool = False) -> Iterator[None]:
    """No cyclic collection inside the block. Each collection walks every live object, so while
    records, rows or references pile up (a reader's 70,000 items, a snapshot batch of 5,000
    decoded records) the cost per item grows with their number: reading a file ten times larger
    took twice as long per item (benchmarks/readers_bench.py), and pausing halves the cost of
    decoding snapshot records. None of these objects form cycles; reference counting still
    frees everything, and collection resumes when the block ends.

    `promote`: the objects the block made and left alive go to the oldest generation as the
    block ends, unwalked. Otherwise the first allocation after it starts a young collection that
    walks every one of them, finds them alive and promotes them anyway: 0.12 s at the end of a
    cold 1,000-DOI check (its records and results), after the last answer, measured. A cycle
    among them is still collected, by the next full collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if promote:
                promote_survivors()
            gc.enable()


def promote_survivors() -> None:
    """Every tracked object into the oldest generation, without a collection walking them.

    freeze() moves all generations into the permanent one and unfreeze() moves that into the
    oldest: two list splices, whatever the number of objects. Nothing here freezes objects
    for good before the exit (no_collection_at_exit), so no frozen object is let go early."""
    gc.freeze()
    gc.unfreeze()


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
