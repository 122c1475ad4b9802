"""A round-robin TCP proxy on loopback: one public address in front of several replicas, as a
load balancer puts them. Each new connection goes to the next backend in turn."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ivrhooks.testing import bind_socket


@dataclass
class RoundRobin:
    backends: list[tuple[str, int]]
    connections: list[int] = field(default_factory=list)
    """Which backend each connection went to, in order."""
    down: set[int] = field(default_factory=set)
    """Backends to skip (a replica that was stopped)."""

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(range(len(self.backends)))

    def _next(self) -> int:
        for _ in self.backends:
            index = next(self._turn)
            if index not in self.down:
                return index
        raise ConnectionError("no backend is up")

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            index = self._next()
            host, port = self.backends[index]
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        self.connections.append(index)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))


@contextlib.asynccontextmanager
async def round_robin(backends: list[tuple[str, int]]) -> AsyncIterator[tuple[str, RoundRobin]]:
    """Serve the proxy on a free loopback port; yields its base URL and the proxy."""
    proxy = RoundRobin(backends)
    sock = bind_socket()
    server = await asyncio.start_server(proxy._handle, sock=sock)
    host, port = sock.getsockname()[:2]
    try:
        yield f"http://{host}:{port}", proxy
    finally:
        server.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await server.wait_closed()
