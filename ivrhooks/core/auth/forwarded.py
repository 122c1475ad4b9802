"""Who a reverse proxy says the client is: ``Forwarded`` (RFC 7239), ``X-Forwarded-For`` and
``X-Real-IP``, read as proxies really write them.

A node is ``192.0.2.1``, ``192.0.2.1:4711``, ``2001:db8::1``, ``[2001:db8::1]`` or
``[2001:db8::1]:4711`` (RFC 7239 §6; nginx and HAProxy write some of these into
``X-Forwarded-For`` too). ``unknown`` and obfuscated identifiers (``_hidden``, RFC 7239 §6.3) are
nodes as well, but name no address: whoever they stand for is in no allow-list.

Only :class:`~ivrhooks.core.auth.guard.AuthGuard` calls this, and only for a peer that is a
trusted proxy; anyone else's forwarding headers are never read.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

__all__ = ["UNKNOWN", "Address", "forwarded_chains", "node_address"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"
"""The client of a request whose forwarding headers name no address (``unknown``, ``_hidden``,
unreadable, or headers that disagree): in no allow-list, throttled as a key of its own."""

# RFC 7239 §6: node-port is 1-5 digits, or an obfuscated port ("_" then [A-Za-z0-9._-]).
_PORT = re.compile(r"[0-9]{1,5}|_[A-Za-z0-9._-]+")
# The headers, lower-case as ASGI gives them.
_XFF, _FORWARDED, _REAL_IP = b"x-forwarded-for", b"forwarded", b"x-real-ip"


def node_address(text: str) -> Address | None:
    """The address one forwarded node names, or ``None`` (``unknown``, obfuscated, garbage).

    An IPv4-mapped IPv6 address is its IPv4 address (as a dual-stack socket reports it)."""
    node = text.strip()
    if node.startswith("["):
        host, closed, rest = node[1:].partition("]")
        if not closed or (rest and not (rest[0] == ":" and _PORT.fullmatch(rest[1:]))):
            return None
    elif node.count(":") == 1:  # host:port (an IPv6 address has two colons or more)
        host, _, port = node.partition(":")
        if not _PORT.fullmatch(port):
            return None
    else:
        host = node
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _forwarded_for(value: str) -> list[str] | None:
    """The ``for=`` node of each element of a ``Forwarded`` value, in order (``""`` for an
    element without one); ``None`` when the value cannot be read (RFC 7239 §4 syntax: elements
    split by ``,``, pairs by ``;``, values a token or a quoted-string)."""
    nodes: list[str] = []
    seen: dict[str, str] = {}
    i, n = 0, len(value)
    while True:
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] in ",;":  # empty list elements and pairs are allowed
            if value[i] == ",":
                nodes.append(seen.get("for", ""))
                seen = {}
            i += 1
            continue
        if i >= n:
            break
        eq = value.find("=", i)
        name = value[i:eq].strip().lower() if eq > i else ""
        if not name or not all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in name):
            return None
        i = eq + 1
        if i < n and value[i] == '"':
            chars: list[str] = []
            i += 1
            while i < n and value[i] != '"':
                if value[i] == "\\":
                    i += 1
                if i < n:
                    chars.append(value[i])
                i += 1
            if i >= n:
                return None  # no closing quote
            i += 1
            text = "".join(chars)
        else:
            start = i
            while i < n and value[i] not in ",; \t":
                i += 1
            text = value[start:i]
        if name in seen:
            return None  # two for= in one element: which one did the proxy write?
        seen[name] = text
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] not in ",;":
            return None
    if seen:
        nodes.append(seen.get("for", ""))
    return nodes


def forwarded_chains(headers: Iterable[tuple[bytes, bytes]]) -> list[list[str]]:
    """Each forwarding header kind present in ``headers`` (ASGI pairs) as its chain of nodes,
    client first, nearest proxy last. A kind that cannot be read is the chain ``[""]`` (one
    unknown node), so it can only make the client unknown, never someone else."""
    xff: list[str] | None = None
    forwarded: list[str] | None = None
    real: list[str] | None = None
    for name, raw in headers:
        if name not in (_XFF, _FORWARDED, _REAL_IP):
            continue
        value = raw.decode("latin-1")
        if name == _XFF:
            xff = (xff or []) + value.split(",")
        elif name == _FORWARDED:
            # Several Forwarded lines are one list (RFC 9110 §5.3): read them as one.
            forwarded = (forwarded or []) + [value]
        else:
            # One address, from one proxy: two lines, or a list, is not what anyone sent.
            real = [""] if real is not None or "," in value else [value]
    chains = [chain for chain in (xff, real) if chain is not None]
    if forwarded is not None:
        chains.append(_forwarded_for(",".join(forwarded)) or [""])
    return chains
