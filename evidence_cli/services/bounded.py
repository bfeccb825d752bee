"""Reading an HTTP answer whole within a byte cap and a deadline, and the helpers around it."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from evidence_cli.services.http_client import Http

Inflate = Callable[[bytes, int], bytes]


class TooLarge(Exception):
    """An answer over the byte limit, on the wire or once decompressed."""


class RequestDeadline(Exception):
    """One request took longer than its total deadline."""


@dataclass(slots=True)
class Answer:
    """A whole, bounded answer: status, headers, body and (when it parses) the JSON."""

    status_code: int
    headers: httpx.Headers
    body: bytes
    data: Any = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def inert_header(text: str) -> str:
    """A header value fit to print: at most 200 characters, no control characters."""
    from evidence_cli.formats import inert

    return inert(text[:200])


def inflater(encoding: str) -> Inflate | None:
    """A function inflating one chunk into at most n bytes, or None for an identity body."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name not in ("gzip", "x-gzip", "deflate"):
        import httpx

        raise httpx.DecodingError(f"an answer in an unknown encoding ({inert_header(name)})")
    decoder = zlib.decompressobj(zlib.MAX_WBITS | (16 if "gzip" in name else 0))

    def inflate(chunk: bytes, most: int) -> bytes:
        # max_length bounds what one chunk may become; the rest stays in unconsumed_tail and
        # the caller stops, since the body is then over the cap.
        return decoder.decompress(chunk, max(most, 1))

    return inflate


def parse_json(body: bytes) -> Any:
    """The JSON in a body, or None: also for nesting too deep to parse (a RecursionError)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


async def read_bounded(http: Http, url: str, *, params: dict[str, str],
                       headers: dict[str, str], cap: int, deadline: float,
                       trace: Any = None) -> Answer:
    """One GET, read whole within `deadline` seconds and `cap` bytes (compressed bodies are
    inflated here, a bounded piece at a time, so a gzip bomb stops at the cap)."""
    extensions = {"trace": trace} if trace is not None else None
    try:
        async with asyncio.timeout(deadline), http.stream(
            "GET", url, params=params, headers=headers, extensions=extensions,
        ) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise TooLarge
            inflate = inflater(response.headers.get("content-encoding", ""))
            body = bytearray()
            received = 0
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if received > cap:
                    raise TooLarge
                body += inflate(chunk, cap + 1 - len(body)) if inflate else chunk
                if len(body) > cap:
                    raise TooLarge
            answered, status = response.headers, response.status_code
    except TimeoutError:
        raise RequestDeadline from None
    except zlib.error:
        import httpx

        raise httpx.DecodingError("an answer that cannot be decompressed") from None
    return Answer(status, answered, bytes(body), parse_json(bytes(body)))
