"""Client-side pacing that keeps requests within the rate and concurrency a server advertises."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

# The server counts arrivals in its own window; leave a margin for requests that leave here
# on time but arrive bunched (network jitter) and for clocks that tick differently.
WINDOW_MARGIN = 0.03
# Never start two requests closer than this fraction of the even spacing: catching up after a
# late start is fine, a burst is not.
MIN_GAP_FRACTION = 0.9
# How long before a turn the pacer's sleep ends; the rest is waited by yielding to the loop.
# asyncio's sleep wakes up to a millisecond late (epoll's timeout is whole milliseconds, rounded
# up), and a start that wakes late delays the start a window after it, and so on down the
# chain: at 50 requests a second that lateness added up to tenths of a second over 1,000
# requests. Yielding costs a loop iteration (microseconds) at a time, for this last stretch only:
# just over the millisecond of rounding (1.5 ms cost 0.6 CPU-s more than no lead on a cold
# 1,000-DOI run, 1.1 ms 0.3 CPU-s, for the same span).
WAKE_LEAD = 0.0011


class AdjustableSemaphore:
    """A first-come-first-served semaphore whose capacity can change while tasks wait on it.

    A released slot is handed to the longest waiter directly: one wake-up per slot, however
    many tasks wait (a thousand lookups queued on three slots would otherwise all wake, check
    and sleep again at every release)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        self._in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def capacity(self) -> int:
        return self._capacity

    async def set_capacity(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        self._hand_over()

    def _hand_over(self) -> None:
        while self._waiters and self._in_use < self._capacity:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._in_use += 1
                waiter.set_result(None)

    async def acquire(self) -> None:
        if self._in_use < self._capacity and not self._waiters:
            self._in_use += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                await self.release()  # the slot came just as the task was cancelled
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    async def release(self) -> None:
        self._in_use -= 1
        self._hand_over()


class Stamp:
    """When a request took its turn (`start`), and when the server can first count it (`time`:
    the start, moved later once its bytes are actually sent, see `sent`)."""

    __slots__ = ("start", "time")

    def __init__(self, when: float) -> None:
        self.start = when
        self.time = when

    def sent(self) -> None:
        # The server counts a request when it arrives. Opening a new connection can delay that
        # by tens of milliseconds after the turn was taken; counting from the turn would then
        # let a later request into the same server window (seen as a 429 in the benchmark).
        self.time = max(self.time, time.monotonic())


class Pacer:
    """Keeps request starts within `rate` per `interval`, as a sliding window, evenly spaced.

    A start must come (1 + WINDOW_MARGIN) intervals after the start `rate` places before it,
    so no window of the server's can hold more than `rate` requests (counted from when each
    was sent: the server counts arrivals); and at least 0.9 of the even spacing after the
    previous start, so requests flow evenly instead of in bursts. A task that wakes late does
    not squeeze the next gap below that, and later starts may catch up.
    """

    def __init__(self, rate: float, interval: float) -> None:
        self.rate = rate
        self.interval = interval
        self._starts: deque[Stamp] = deque()
        self._lock = asyncio.Lock()
        self._paused_until = 0.0

    @property
    def per_window(self) -> int:
        return max(1, math.floor(self.rate))

    def set_rate(self, rate: float, interval: float) -> None:
        self.rate = max(rate, 0.01)
        self.interval = max(interval, 0.001)

    def pause(self, seconds: float) -> None:
        """Start nothing for a while (a 429's Retry-After applies to every request)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _next_turn(self) -> float:
        turn = self._paused_until
        if self._starts:
            # A fractional rate (2.5 per second) is honoured as 2 per 0.8 s.
            window = self.interval * self.per_window / self.rate
            spacing = window / self.per_window
            # The spacing is counted between starts, not sends: it keeps the flow even and
            # limits nothing the server counts (the window below does, from the sends). Counted
            # from the send, each gap also took the time the previous request spent going out
            # (a millisecond, more on a new connection) and the first window ran slow.
            turn = max(turn, self._starts[-1].start + spacing * MIN_GAP_FRACTION)
            if len(self._starts) >= self.per_window:
                oldest = self._starts[-self.per_window].time
                turn = max(turn, oldest + window * (1 + WINDOW_MARGIN))
        return turn

    async def wait_turn(self) -> Stamp:
        # The lock is held through the sleep: turns are taken one at a time, in order, and each
        # is computed from the actual start times before it (read at each turn, so a rate
        # adopted from headers applies at once).
        async with self._lock:
            while (delay := self._next_turn() - time.monotonic()) > 0:
                # Recomputed after each wait: a pause or a new rate may have moved the turn.
                await asyncio.sleep(delay - WAKE_LEAD if delay > WAKE_LEAD else 0)
            stamp = Stamp(time.monotonic())
            self._starts.append(stamp)
            while len(self._starts) > self.per_window:
                self._starts.popleft()
            return stamp


class RateLimiter:
    """Concurrency gate plus one or more pacers, adjusted to what the server advertises.

    It starts conservatively (Crossref's public-pool figures, one request at a time) and adopts
    the `x-rate-limit-*` and `x-concurrency-limit` headers of the first answers; it never goes
    above what was advertised. https://www.crossref.org/documentation/retrieve-metadata/rest-api/
    """

    def __init__(self, rate: float, interval: float, concurrency: int) -> None:
        self.pacer = Pacer(rate, interval)
        self.gate = AdjustableSemaphore(concurrency)
        self._advertised: tuple[float, float, int] | None = None

    @asynccontextmanager
    async def slot(self, *extra_pacers: Pacer) -> AsyncIterator[Callable[[], None]]:
        """Wait for a turn; yields `sent()`, to call when the request's bytes have gone out."""
        await self.gate.acquire()
        try:
            stamps = [await self.pacer.wait_turn()]
            for pacer in extra_pacers:
                stamps.append(await pacer.wait_turn())

            def sent() -> None:
                for stamp in stamps:
                    stamp.sent()

            yield sent
        finally:
            await self.gate.release()

    async def adopt(self, rate: float, interval: float, concurrency: int) -> None:
        """Use the server's advertised limits (called with each answer's headers)."""
        if self._advertised == (rate, interval, concurrency):
            return
        self._advertised = (rate, interval, concurrency)
        self.pacer.set_rate(rate, interval)
        await self.gate.set_capacity(concurrency)

    def back_off(self, seconds: float) -> None:
        self.pacer.pause(seconds)


def parse_interval(text: str) -> float | None:
    """Crossref writes intervals like "1s"; accept "500ms", "1m" and bare seconds too."""
    value = text.strip().lower()
    try:
        if value.endswith("ms"):
            return float(value[:-2]) / 1000
        if value.endswith("s"):
            return float(value[:-1])
        if value.endswith("m"):
            return float(value[:-1]) * 60
        return float(value)
    except ValueError:
        return None
