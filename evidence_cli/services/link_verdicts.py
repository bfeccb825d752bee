"""What checking a link found: one request's answer, and the verdict (a url-* finding or none)
that a chain of answers comes to."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal

from evidence_cli.codes import finding as make_finding
from evidence_cli.models import Finding

if TYPE_CHECKING:
    import httpx

CACHE_VERSION = 1


@dataclass(slots=True)
class LinkVerdict:
    """What checking one link found."""

    url: str
    finding: Finding | None  # None = the link works; else a url-* finding
    final_url: str | None  # after redirects
    status: int | None  # the last HTTP status received, None when there was no answer
    cacheable: bool  # False for transient failures (timeouts, 429, 5xx, network errors)

    @property
    def works(self) -> bool:
        return self.finding is None

    def to_dict(self) -> dict[str, Any]:
        finding = self.finding
        return {
            "v": CACHE_VERSION,
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "cacheable": self.cacheable,
            "finding": None if finding is None else {
                "code": finding.code, "message": finding.message, "field": finding.field,
                "cited": finding.cited, "suggestion": finding.suggestion,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkVerdict:
        stored = data.get("finding")
        finding = None
        if stored is not None:
            # The severity comes from the code table, not the cache, so it follows the table.
            finding = make_finding(
                stored["code"], stored["message"], field=stored.get("field"),
                cited=stored.get("cited"), suggestion=stored.get("suggestion"),
            )
        return cls(
            url=data["url"], finding=finding, final_url=data.get("final_url"),
            status=data.get("status"), cacheable=bool(data.get("cacheable", True)),
        )


@dataclass(slots=True)
class Answer:
    """The outcome of one request: a status, or an error kind with a reason."""

    status: int | None = None
    location: str | None = None
    retry_after: float | None = None
    error: Literal["timeout", "unreachable", "protocol", "refused"] | None = None
    detail: str = ""
    no_route: bool = False  # unreachable because this machine has no route (not the host)

    @property
    def transient(self) -> bool:
        if self.error is not None:
            return self.error != "refused"
        return self.status is not None and (self.status == 429 or 500 <= self.status <= 599)


def distrust_head(answer: Answer) -> bool:
    """True when a HEAD answer should be checked again with GET.

    Many servers mishandle HEAD (405, 501, 404, 5xx), block it (403) or drop the connection; a
    GET decides. 401 and 429 are about the client, not the method, so they stand.
    """
    if answer.error is not None:
        return answer.error in ("protocol", "timeout")
    status = answer.status
    return status is not None and status >= 400 and status not in (401, 429)


def _reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def final_verdict(url: str, final: httpx.URL, answer: Answer, permanent_target: httpx.URL | None,
              *, redirected: bool, timeout: float, allow_private: bool) -> LinkVerdict:
    """Turn the last answer of a chain into a verdict."""
    where = f" (after redirects to {final})" if redirected else ""
    final_url = str(final)
    status = answer.status
    if answer.error == "refused":
        hint = "" if allow_private else " Use --allow-private to check it."
        return verdict(url, "url-refused", f"{url} was not checked: {answer.detail}"
                             f"{where}.{hint}", final_url=final_url, cacheable=False)
    if answer.error == "timeout":
        return verdict(url, "url-timeout", f"{url} did not answer within "
                             f"{timeout:g} s{where}, after retries ({answer.detail}).",
                             final_url=final_url, cacheable=False)
    if answer.error is not None:  # unreachable, protocol
        return verdict(url, "url-unreachable", f"{url} cannot be reached{where}, "
                             f"after retries: {answer.detail}.", final_url=final_url,
                             cacheable=False)
    assert status is not None
    said = f"{url} answers {_reason(status)}{where}"
    if status in (404, 410):
        return verdict(url, "url-broken", f"{said}.", final_url=final_url,
                             status=status, cacheable=True)
    if status == 429:
        return verdict(url, "url-blocked", f"{said} after retries: the server "
                             "rate-limits checks, so the link could not be checked.",
                             final_url=final_url, status=status, cacheable=False)
    if 500 <= status <= 599:
        return verdict(url, "url-server-error", f"{said} after retries; the link "
                             "could not be checked.", final_url=final_url, status=status,
                             cacheable=False)
    if status >= 400 or status < 200:
        # 401, 403, 999 and the other refusals: the server will not answer a robot, which
        # says nothing either way about the link.
        return verdict(url, "url-blocked", f"{said}: the server refuses automated "
                             "checks, so the link could not be checked.",
                             final_url=final_url, status=status, cacheable=True)
    if permanent_target is not None:
        return verdict(url, "url-redirected", f"{url} has moved permanently to "
                             f"{permanent_target}; cite that address instead.",
                             final_url=final_url, status=status, cacheable=True,
                             suggestion=str(permanent_target))
    return LinkVerdict(url=url, finding=None, final_url=final_url, status=status,
                       cacheable=True)

def verdict(url: str, code: str, message: str, *, final_url: str | None = None,
             status: int | None = None, cacheable: bool, suggestion: str | None = None,
             ) -> LinkVerdict:
    finding = make_finding(code, message, field="url", cited=url, suggestion=suggestion)
    return LinkVerdict(url=url, finding=finding, final_url=final_url, status=status,
                       cacheable=cacheable)


def connect_failure(exc: BaseException) -> str:
    """The most specific reason a connection failed (httpx's own message is generic)."""
    inner: BaseException | None = exc
    deepest = str(exc) or "the connection failed"
    while inner is not None:
        if isinstance(inner, ConnectionRefusedError):
            return "connection refused"
        if isinstance(inner, OSError) and str(inner):
            deepest = str(inner)
        inner = inner.__cause__ or inner.__context__
    return deepest
