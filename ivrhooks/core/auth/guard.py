"""Per-application protection around the verifiers: source allow-lists, the client address,
and the failure :class:`~ivrhooks.auth.throttle.Throttle` (how failures are counted is its
docstring: per source and claimed username, with a known-good fast path).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ivrhooks.core.auth.forwarded import UNKNOWN, Address, forwarded_chains, node_address
from ivrhooks.core.auth.throttle import Throttle
from ivrhooks.core.auth.verdict import Verdict
from ivrhooks.errors import ConfigurationError

__all__ = ["AuthGuard", "OpsHosts"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_CACHE_SIZE = 1024
_FORBIDDEN = Verdict(ok=False, status=403, reason="forbidden_ip")
# Headers a reverse proxy adds to say whom it forwards for (RFC 7239 and the de-facto ones).
_FORWARDING = frozenset({b"forwarded", b"x-forwarded-for", b"x-real-ip"})


def _networks(field: str, values: Sequence[str]) -> tuple[Network, ...]:
    if isinstance(values, str):
        values = [values]
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ConfigurationError(f"{field}: {value!r} is not an IP network (CIDR)") from None
    return tuple(out)


def _address(text: str) -> Address | None:
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


class AuthGuard:
    """Checked around every verifier: the allow-list (403) before it, throttling (429) with it."""

    def __init__(
        self,
        *,
        allow: Sequence[str] = (),
        trusted_proxies: Sequence[str] = (),
        ops_allow: Sequence[str] = ("127.0.0.0/8", "::1"),
        max_failures: int = 10,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 10_000,
        throttle: Throttle | None = None,
    ) -> None:
        self._allow = _networks("allow", allow)
        self._proxies = _networks("trusted_proxies", trusted_proxies)
        self._ops = _networks("ops_allow", ops_allow)
        self.throttle = throttle or Throttle(
            max_failures=max_failures, window=window, clock=clock, max_tracked=max_tracked
        )
        # Parsing an address costs more than the Basic check itself, and a PBX calls from a
        # handful of addresses: remember the canonical form of the ones seen (bounded).
        self._canonical_cache: dict[str, tuple[str, Address | None]] = {}
        self._node_cache: dict[str, Address | None] = {}

    def _canonical(self, text: str) -> tuple[str, Address | None]:
        """``text`` as a canonical address string (itself if not an address), and the address."""
        hit = self._canonical_cache.get(text)
        if hit is None:
            addr = _address(text)
            hit = (str(addr) if addr is not None else text, addr)
            if len(self._canonical_cache) >= _CACHE_SIZE:
                self._canonical_cache.clear()
            self._canonical_cache[text] = hit
        return hit

    def _trusted(self, addr: Address | None) -> bool:
        return addr is not None and any(addr in net for net in self._proxies)

    def _node(self, text: str) -> Address | None:
        """The address a forwarded node names (cached like :meth:`_canonical`)."""
        cache = self._node_cache
        if text in cache:
            return cache[text]
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        addr = cache[text] = node_address(text)
        return addr

    def _walk(self, chain: list[str]) -> str:
        """The client one forwarding chain names: read right to left, skipping trusted proxies,
        the first node a trusted proxy vouches for (nodes further left are whatever the client
        wrote). A node naming no address ends the walk at :data:`UNKNOWN`: never the proxy."""
        last: Address | None = None
        for node in reversed(chain):
            addr = self._node(node)
            if addr is None:
                return UNKNOWN
            if not self._trusted(addr):
                return str(addr)
            last = addr
        # Every node a trusted proxy: the client is the leftmost (a proxy calling for itself).
        return str(last) if last is not None else UNKNOWN

    def client_ip(self, scope: Mapping[str, Any]) -> str:
        """The peer address; through the forwarding headers only when the peer is a trusted
        proxy, and then :data:`UNKNOWN` unless they name an address.

        ``X-Forwarded-For``, ``Forwarded`` (RFC 7239) and ``X-Real-IP`` are all read: which
        one a proxy writes, and which it passes on as the client wrote it, depends on its
        configuration, so when several are present they must name the same client, or the
        client is unknown (a client can make itself unknown, never someone else).
        """
        client = scope.get("client")
        peer, peer_addr = self._canonical(str(client[0]) if client else "")
        if not self._proxies or not self._trusted(peer_addr):
            return peer
        chains = forwarded_chains(scope.get("headers", ()))
        if not chains:
            return peer
        named = {self._walk(chain) for chain in chains}
        return named.pop() if len(named) == 1 else UNKNOWN

    def operational(self, scope: Mapping[str, Any]) -> bool:
        """Whether this request may read ``/metrics`` and ``/readyz``: its client is in
        ``ops_allow`` (loopback by default).

        A request that carries forwarding headers from a peer not in ``trusted_proxies`` came
        through a proxy nobody told us about: a reverse proxy on the same host makes every
        client look like loopback, so such a request is not taken for a local one.
        """
        if not self._ops:
            return False
        client = scope.get("client")
        peer_addr = self._canonical(str(client[0]) if client else "")[1]
        if not self._trusted(peer_addr) and any(
            name in _FORWARDING for name, _ in scope.get("headers", ())
        ):
            return False
        addr = self._canonical(self.client_ip(scope))[1]
        return addr is not None and any(addr in net for net in self._ops)

    def forbidden(self, ip: str) -> Verdict | None:
        """403 ``forbidden_ip`` for a client outside the allow-list, else ``None``."""
        if self._allow:
            addr = self._canonical(ip)[1]
            if addr is None or not any(addr in net for net in self._allow):
                return _FORBIDDEN
        return None


class OpsHosts:
    """The ``Host`` names ``/metrics`` and ``/readyz`` answer to: this service's own.

    A page on any web site can make a developer's browser read ``http://localhost:8080/metrics``
    by rebinding its own name to 127.0.0.1 (DNS rebinding): the request then comes from
    loopback, and only its ``Host`` (the site's name) gives it away. Answered: an IP literal
    (no name to rebind), ``localhost`` and ``*.localhost`` (RFC 6761 §6.3: never resolved by
    DNS), the public URL's host, and ``names`` (``AuthConfig.ops_hosts``: e.g. the name a
    Prometheus scrapes by). A request without ``Host`` (HTTP/1.0) named nothing to rebind.
    """

    __slots__ = ("_names",)

    def __init__(self, names: Sequence[str] = (), public_url: str | None = None) -> None:
        found = {_host_name(name) for name in names}
        if public_url:
            found.add(_host_name(urlsplit(public_url).netloc.rpartition("@")[2]))
        self._names = frozenset(found)

    def allows(self, scope: Mapping[str, Any]) -> bool:
        hosts = [value for name, value in scope.get("headers", ()) if name == b"host"]
        if not hosts:
            return True
        if len(hosts) > 1:
            return False  # RFC 9110 §7.2: one Host, or the request is bad
        name = _host_name(hosts[0].decode("latin-1"))
        if name == "localhost" or name.endswith(".localhost") or name in self._names:
            return True
        return _address(name.removeprefix("[").removesuffix("]")) is not None


def _host_name(host: str) -> str:
    """``Host`` without its port, lower-case, without a trailing dot (``Example.com.:80`` is
    ``example.com``); an IPv6 literal keeps its brackets."""
    host = host.strip().lower()
    host = host.partition("]")[0] + "]" if host.startswith("[") else host.partition(":")[0]
    return host.rstrip(".")
