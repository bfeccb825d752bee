"""The collector pause: what a promoting pause does with the objects its block left alive."""

from __future__ import annotations

import gc

from evidence_cli.gc_pause import gc_paused


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _in_generation(obj: object, generation: int) -> bool:
    return any(item is obj for item in gc.get_objects(generation=generation))


def test_a_promoting_pause_moves_survivors_to_the_oldest_generation_unwalked() -> None:
    gc.collect()
    with gc_paused(promote=True):
        kept = [[index] for index in range(2000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing left frozen
    assert _in_generation(kept[0], 2)
    assert not _in_generation(kept[0], 0)


def test_a_plain_pause_leaves_survivors_young() -> None:
    gc.collect()
    with gc_paused():
        kept = [[index] for index in range(10)]
    assert _in_generation(kept[0], 0)


def test_a_cycle_made_in_a_promoting_pause_is_still_collected() -> None:
    gc.collect()
    with gc_paused(promote=True):
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        del first, second
    assert gc.collect() >= 2
