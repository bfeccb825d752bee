"""Client-side pacing that keeps requests within the rate and concurrency a server advertises."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# Pace a little under the advertised rate: requests leave here evenly spaced but may arrive
# bunched by network jitter, and the server counts arrivals in its own window.
SAFETY = 0.96


class AdjustableSemaphore:
    """A semaphore whose capacity can change while tasks wait on it."""

    def __init__(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        self._in_use = 0
        self._changed = asyncio.Condition()

    @property
    def capacity(self) -> int:
        return self._capacity

    async def set_capacity(self, capacity: int) -> None:
        async with self._changed:
            self._capacity = max(1, capacity)
            self._changed.notify_all()

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._in_use < self._capacity)
            self._in_use += 1

    async def release(self) -> None:
        async with self._changed:
            self._in_use -= 1
            self._changed.notify_all()


class Pacer:
    """Spaces request starts at least `interval / rate` apart (a smooth token bucket of size 1)."""

    def __init__(self, rate: float, interval: float) -> None:
        self.rate = rate
        self.interval = interval
        self._next_start = 0.0
        self._lock = asyncio.Lock()
        self._paused_until = 0.0

    def set_rate(self, rate: float, interval: float) -> None:
        self.rate = max(rate, 0.01)
        self.interval = max(interval, 0.001)

    def pause(self, seconds: float) -> None:
        """Start nothing for a while (a 429's Retry-After applies to every request)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def wait_turn(self) -> None:
        async with self._lock:
            spacing = self.interval / (self.rate * SAFETY)
            now = time.monotonic()
            start = max(now, self._next_start, self._paused_until)
            self._next_start = start + spacing
        delay = start - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


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
    async def slot(self, *extra_pacers: Pacer) -> AsyncIterator[None]:
        await self.gate.acquire()
        try:
            await self.pacer.wait_turn()
            for pacer in extra_pacers:
                await pacer.wait_turn()
            yield
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
