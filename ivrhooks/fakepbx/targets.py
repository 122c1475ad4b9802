"""Where a fake PBX sends action-URL requests: the app it embeds, loopback, or what it is told.

Whoever can create an action URL on a PBX makes the PBX send HTTP requests to any address it
names, from inside the network the PBX sits in. A real PBX's administrators decide who may; a
fake PBX runs on a developer's machine, so it sends only where its app can be:

- the embedded PBX (``ivrhooks run``/``dev``, ``ivrhooks.testing.running``): URLs under the
  app's own base URL only (the ``public_url`` the app registers with), not other loopback ports;
- ``FakePBX()`` and ``ivrhooks fake-pbx``: loopback addresses (``127.0.0.0/8``, ``::1``,
  ``localhost``), plus the base URLs given (``--allow-target``), or anywhere when told.

Anything else is refused when a call is placed (:meth:`Targets.refusal`), not when the action
URL is created: creating one stays exactly as PortSIP's REST API answers it (tests register
``https://ivr.example.com/...`` and never call), and every way an action URL gets in (REST,
``resources``, a SQLite file from an earlier run) meets the same check at the one door calls go
out through. URLs are read with httpx's parser, the one that then sends the request, so the
check and the request cannot disagree about the host.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import httpx

__all__ = ["LOOPBACK", "Targets", "base_problem"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def base_problem(base: str) -> str | None:
    """What is wrong with ``base`` as a base URL calls may go under, or ``None``."""
    try:
        url = httpx.URL(base)
    except httpx.InvalidURL:
        return "not a URL"
    if url.scheme not in _DEFAULT_PORTS or not url.host:
        return "not an http(s) URL with a host"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: it may resolve anywhere
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(url.scheme)


def _under(url: httpx.URL, base: httpx.URL) -> bool:
    if _origin(url) != _origin(base):
        return False
    prefix = base.path.rstrip("/")
    return url.path == prefix or url.path.startswith(prefix + "/")


@dataclass(frozen=True)
class Targets:
    """Where action-URL requests may go: URLs under ``bases``, loopback addresses when
    ``loopback``, or anywhere. ``how`` completes a refusal: what to change to send there."""

    bases: tuple[str, ...] = ()
    loopback: bool = True
    anywhere: bool = False
    how: str = "pass FakePBX(targets=Targets(bases=(URL,))) to call it"

    def refusal(self, url: str) -> str | None:
        """Why a request to ``url`` is not sent, or ``None`` when it may be."""
        if self.anywhere:
            return None
        problem = base_problem(url)
        if problem is not None:
            return f"the action URL is {problem}"
        parsed = httpx.URL(url)
        if self.loopback and _loopback(parsed.host):
            return None
        if any(_under(parsed, httpx.URL(base)) for base in self.bases):
            return None
        scheme, host, port = _origin(parsed)
        allowed = ", ".join([*(["loopback addresses"] if self.loopback else []), *self.bases])
        return (
            f"{scheme}://{host}:{port} is outside where this fake PBX sends calls "
            f"({allowed}); {self.how}"
        )


#: Loopback addresses only: a ``FakePBX()``'s default, and ``ivrhooks fake-pbx``'s.
LOOPBACK = Targets()
