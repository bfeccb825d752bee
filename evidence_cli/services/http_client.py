"""The run's one HTTP client, built when the first request goes out (never, offline)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import httpx

# What the clients send through: httpx's own client (as tests build it) or the lazy one.
Http: TypeAlias = "httpx.AsyncClient | LazyClient"


class LazyClient:
    """An httpx.AsyncClient made by `build` on first use.

    Importing httpx and building its client (transport, pool, TLS context) is a tenth of a
    second; a run answered from the cache (--offline, a warm run) never needs either.
    """

    def __init__(self, build: Callable[[], httpx.AsyncClient]) -> None:
        self._build = build
        self._client: httpx.AsyncClient | None = None

    @property
    def opened(self) -> bool:
        """True once a request made the client (tests and benchmarks ask)."""
        return self._client is not None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = self._build()
        return self._client

    def stream(self, method: str, url: str, **kwargs: Any
               ) -> AbstractAsyncContextManager[httpx.Response]:
        return self.client().stream(method, url, **kwargs)

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        return await self.client().send(request, **kwargs)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> LazyClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
