"""Address safety for outgoing link checks: resolve a host once and refuse non-public addresses."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata endpoints hand out credentials to whoever asks from inside the machine. Most are
# link-local or private anyway; they are listed so that they stay refused even with allow_private
# (no cited reference lives there) unless a caller names them explicitly in `allowed`.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (legacy)
    )
)

# NAT64 prefixes embed an IPv4 address in the last 32 bits; "64:ff9b::7f00:1" reaches 127.0.0.1
# through a NAT64 gateway although Python calls it global.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))

# A resolver maps (host, port) to the IP addresses to connect to. Injectable so that tests can
# answer for names the system resolver does not know.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class AddressRefused(Exception):
    """The host resolves to an address the policy does not allow; no connection was made."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} resolves to {address} ({reason})")
        self.host = host
        self.address = address
        self.reason = reason


class ResolutionFailed(Exception):
    """The host name does not resolve (or the resolver did not answer in time)."""


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries and may be routed to (6to4, Teredo, NAT64)."""
    found: list[ipaddress.IPv4Address] = []
    if addr.sixtofour is not None:
        found.append(addr.sixtofour)
    if addr.teredo is not None:
        found.extend(addr.teredo)
    if any(addr in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    # IPv4-compatible addresses (::a.b.c.d, deprecated) still reach a.b.c.d on some stacks.
    if int(addr) >> 32 == 0 and int(addr) > 1:
        found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return found


def non_public_reason(addr: IPAddress) -> str | None:
    """Why an address is not a public internet address, or None when it is public."""
    if addr in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket: judge the IPv4 address alone.
            reason = non_public_reason(addr.ipv4_mapped)
            return None if reason is None else f"maps to {addr.ipv4_mapped}, {reason}"
        if addr.scope_id:
            return "a scoped (link-local) address"
        for inner in _embedded_ipv4(addr):
            reason = non_public_reason(inner)
            if reason is not None:
                return f"embeds {inner}, {reason}"
    checks = (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_private", "a private address"),
        ("is_multicast", "a multicast address"),
        ("is_unspecified", "the unspecified address"),
        ("is_reserved", "a reserved address"),
    )
    for attribute, reason in checks:
        if getattr(addr, attribute):
            return reason
    # is_global also excludes shared (carrier-grade NAT, 100.64/10) and documentation ranges.
    if not addr.is_global:
        return "not a global address"
    return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses a link check may connect to.

    By default only public addresses. `allow_private` opens loopback, private, link-local and the
    other special ranges but keeps cloud metadata endpoints closed; `allowed` lists networks that
    are permitted whatever they are (e.g. one test server's address), so every other hop of a
    redirect chain is still checked.
    """

    allow_private: bool = False
    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def build(cls, *, allow_private: bool = False, allowed: Iterable[str] = ()) -> AddressPolicy:
        return cls(allow_private, tuple(ipaddress.ip_network(n, strict=False) for n in allowed))

    def refusal(self, addr: IPAddress) -> str | None:
        """Why the policy refuses the address, or None when a connection is allowed."""
        plain = addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) else None
        for net in self.allowed:
            if addr in net or (plain is not None and plain in net):
                return None
        reason = non_public_reason(addr)
        if reason is None:
            return None
        if self.allow_private and addr not in METADATA_ADDRESSES and (
            plain is None or plain not in METADATA_ADDRESSES
        ):
            return None
        return reason

    @property
    def tag(self) -> str:
        """A short name for the policy: verdicts cached under another policy are not reused."""
        if not self.allow_private and not self.allowed:
            return "public"
        nets = ",".join(sorted(str(n) for n in self.allowed))
        return ("private" if self.allow_private else "public") + (f"+{nets}" if nets else "")


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for a host, in its preferred order."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolutionFailed(f"{host} does not resolve ({exc})") from exc
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _parse(address: str) -> IPAddress:
    return ipaddress.ip_address(address)


async def checked_addresses(
    host: str, port: int, policy: AddressPolicy, resolver: Resolver = system_resolve,
    timeout: float | None = None,
) -> list[str]:
    """Resolve a host and return its addresses, refusing if ANY of them is not allowed.

    All addresses are checked, not just the first: a name that answers both a public and a
    private address could otherwise be steered to the private one by whoever controls its DNS.
    The caller must connect to one of the returned addresses itself (never re-resolve the name),
    so an answer that changes between the check and the connection cannot bypass it.
    """
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        literal: IPAddress | None = _parse(bare)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolver(bare, port)
        except TimeoutError as exc:
            raise ResolutionFailed(f"{bare} did not resolve within {timeout:g} s") from exc
        if not addresses:
            raise ResolutionFailed(f"{bare} has no addresses")
    for address in addresses:
        try:
            parsed = _parse(address)
        except ValueError as exc:
            raise AddressRefused(bare, address, "not an IP address") from exc
        reason = policy.refusal(parsed)
        if reason is not None:
            raise AddressRefused(bare, address, reason)
    return addresses


def url_host_for(address: str) -> str:
    """An address as it goes in a URL's host part (IPv6 in brackets is added by httpx)."""
    return address.split("%", 1)[0]


__all__: Sequence[str] = (
    "METADATA_ADDRESSES",
    "AddressPolicy",
    "AddressRefused",
    "ResolutionFailed",
    "Resolver",
    "checked_addresses",
    "non_public_reason",
    "system_resolve",
    "url_host_for",
)


# errno values that say the machine has no route anywhere (not that one host is down).
_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH})


def no_network_reason(exc: BaseException) -> str | None:
    """Why a connection failure looks like "no network here" (a name that does not resolve, no
    route), or None for a failure that says something about the host itself (refused, reset)."""
    inner: BaseException | None = exc
    seen = 0
    while inner is not None and seen < 20:
        if isinstance(inner, socket.gaierror | ResolutionFailed):
            return f"host names do not resolve ({inner})"
        if isinstance(inner, OSError) and inner.errno in _NO_ROUTE:
            return f"no route to the network ({inner.strerror})"
        if isinstance(inner, ConnectionRefusedError):
            return None
        text = str(inner)
        if "Name or service not known" in text or "Temporary failure in name resolution" in text \
                or "nodename nor servname" in text or "No address associated" in text:
            return f"host names do not resolve ({text})"
        if "Network is unreachable" in text or "No route to host" in text:
            return f"no route to the network ({text})"
        inner = inner.__cause__ or inner.__context__
        seen += 1
    return None
