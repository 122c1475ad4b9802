"""Ports for servers the tests start in other processes, and ports where nothing listens.

``free_port()`` binds port 0, closes the socket and hands the number on: until the other
process binds it (a second or so for ``python -m ivrhooks run`` to start), any bind to port 0
on the machine may be given the same number (another xdist worker's server, another suite run
next to this one). The kernel takes port-0 binds from its ephemeral range only
(``/proc/sys/net/ipv4/ip_local_port_range``), so :func:`spare_port` picks outside that range,
at random in a slice of its own per xdist worker, and never hands the same number out twice
in a row: only a process that picks the same number itself can take it meanwhile.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import random
import socket
from collections.abc import Iterator
from pathlib import Path

from ivrhooks.testing import free_port

__all__ = ["refused_port", "spare_port"]

_FLOOR = 10_000  # below: the usual ports of well-known services
_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_random = random.Random(os.urandom(16))  # not the global one: a test may seed that
_handed: collections.deque[int] = collections.deque(maxlen=512)


def _ephemeral() -> tuple[int, int]:
    try:
        low, high = (int(n) for n in _RANGE.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default
    return low, high


@functools.cache
def _slice(worker: int, workers: int) -> tuple[int, ...]:
    low, high = _ephemeral()
    outside = [*range(_FLOOR, max(low, _FLOOR)), *range(max(high + 1, _FLOOR), 65536)]
    return tuple(outside[worker::workers])


def _bindable(port: int) -> bool:
    # No SO_REUSEADDR: a port still in TIME_WAIT counts as taken too.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def spare_port() -> int:
    """A loopback port nothing listens on, for a server another process will start on it."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    worker = int(name) if name.isdigit() else 0
    workers = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), worker + 1)
    ports = _slice(worker, workers)
    if len(ports) < 256:  # an ephemeral range that leaves next to nothing outside it
        return free_port()
    for _ in range(100):
        port = _random.choice(ports)
        if port not in _handed and _bindable(port):
            _handed.append(port)
            return port
    return free_port()


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections while the block runs: bound, never listening,
    so no other process can take it meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()
