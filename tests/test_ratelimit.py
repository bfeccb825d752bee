"""The pacer's schedule on a fake clock: when turns come, what they are counted from."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque

import pytest

from evidence_cli.services import ratelimit
from evidence_cli.services.ratelimit import MIN_GAP_FRACTION, WAKE_LEAD, WINDOW_MARGIN, Pacer, Stamp


class FakeClock:
    """monotonic() and a sleep that, like asyncio's on epoll, wakes a millisecond late."""

    OVERSLEEP = 0.001
    YIELD = 0.00001  # what one loop iteration takes

    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay + self.OVERSLEEP if delay > 0 else self.YIELD


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(1000.0)
    monkeypatch.setattr(ratelimit.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(ratelimit.asyncio, "sleep", fake.sleep)
    return fake


def test_the_window_counts_from_sends_and_the_spacing_from_starts() -> None:
    pacer = Pacer(5, 1.0)
    start = 1000.0
    stamps = deque(Stamp(start + 0.2 * i) for i in range(5))
    for stamp in stamps:
        stamp.time = stamp.start + 0.1  # each request's bytes left 0.1 s after its turn
    pacer._starts = stamps
    # The sixth waits for the first's send to leave the server's window, plus the margin.
    assert pacer._next_turn() == pytest.approx(start + 0.1 + 1.0 * (1 + WINDOW_MARGIN))
    pacer._starts = deque([stamps[-1]])
    # The even spacing is kept between turns: a slow send does not stretch the next gap.
    assert pacer._next_turn() == pytest.approx(stamps[-1].start + 0.2 * MIN_GAP_FRACTION)


def test_a_turn_is_taken_on_time_not_when_a_late_sleep_ends(clock: FakeClock) -> None:
    pacer = Pacer(50, 1.0)

    async def take(count: int) -> list[Stamp]:
        return [await pacer.wait_turn() for _ in range(count)]

    stamps = asyncio.run(take(60))
    spacing = 1.0 / 50 * MIN_GAP_FRACTION
    for before, after in itertools.pairwise(stamps[:50]):
        gap = after.start - before.start
        assert gap >= spacing  # never early
        assert gap < spacing + 0.0001  # nor a millisecond late, though each sleep oversleeps
    window = 1.0 * (1 + WINDOW_MARGIN)
    for oldest, later in zip(stamps, stamps[50:], strict=False):
        assert later.start >= oldest.time + window
        assert later.start < oldest.time + window + 0.0001
    # The sleeps end WAKE_LEAD before the turn; only that last stretch is spent yielding.
    yielded = [delay for delay in clock.sleeps if delay == 0]
    assert len(yielded) * FakeClock.YIELD <= 60 * (WAKE_LEAD - FakeClock.OVERSLEEP) + 0.001


def test_a_pause_during_the_lead_moves_the_turn(clock: FakeClock) -> None:
    pacer = Pacer(50, 1.0)

    async def run() -> tuple[Stamp, Stamp]:
        first = await pacer.wait_turn()
        pacer.pause(5.0)
        return first, await pacer.wait_turn()

    first, second = asyncio.run(run())
    assert second.start >= first.start + 5.0
