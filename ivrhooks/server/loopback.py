"""Serve an ASGI app with uvicorn on a loopback port, inside the running event loop.

Tests, the pytest plugin and the embedded fake PBX use this to put real HTTP between the
client, the fake PBX and the app without threads or subprocesses.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from ivrhooks.server.app import Server
from ivrhooks.server.protocol import LimitedHttpToolsProtocol, protocol_for

__all__ = ["bind_socket", "free_port", "serve"]


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Bind a listening TCP socket; ``port=0`` picks a free port (read it from ``getsockname``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: accepted sockets inherit it, and asyncio turns Nagle's algorithm off
    # (TCP_NODELAY) only on sockets whose proto says TCP. Without it a response sent as headers
    # then body waits for the client's delayed ACK: ~40 ms on every kept-alive request under
    # the asyncio loop (uvloop sets TCP_NODELAY itself).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it (Linux). uvloop sets TCP_NODELAY itself only on servers
    # it binds; on a socket handed to it, a kept-alive connection waits out delayed ACKs:
    # ~40 ms per request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now: for a server started elsewhere, or a refused
    connection."""
    sock = bind_socket(host)
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.close()


# How long shutdown waits, in short polls, for connections asked to close to be gone.
_SETTLE_POLL = 0.002
_SETTLE_POLLS = 50


class _Server(uvicorn.Server):
    """uvicorn's server, woken at once to shut down instead of at its next 0.1 s tick: a test
    suite that starts hundreds of servers would otherwise spend that tick on every one."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stop = asyncio.Event()

    async def main_loop(self) -> None:
        # uvicorn's loop only polls should_exit (and refreshes the Date header once a second:
        # the header then keeps the start time, which no test reads).
        await self.stop.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        state = self.server_state
        if state.connections or state.tasks:
            # Asked to shut down, an idle kept-alive connection closes at once, and one whose
            # client just hung up is gone a loop turn later: uvicorn would sleep 0.1 s for them
            # all the same. Stop accepting, ask each to close and wait a few ms; only a request
            # still in flight then takes uvicorn's graceful path.
            for server in self.servers:
                server.close()
            for connection in list(state.connections):
                connection.shutdown()
            for _ in range(_SETTLE_POLLS):
                if not (state.connections or state.tasks):
                    break
                await asyncio.sleep(_SETTLE_POLL)
        if state.connections or state.tasks:
            await super().shutdown(sockets)  # requests in flight: uvicorn's graceful path
            return
        # Nothing connected: uvicorn would still sleep 0.1 s for responses being sent.
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        if not self.force_exit:
            await self.lifespan.shutdown()


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@contextlib.asynccontextmanager
async def serve(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    sock: socket.socket | None = None,
    **config: Any,
) -> AsyncIterator[str]:
    """Run ``app`` under uvicorn in this event loop; yields its base URL (``http://host:port``).

    Lifespan runs; leaving the block shuts the server down gracefully.
    """
    sock = sock or bind_socket(host, port)
    config.setdefault("log_level", "warning")
    # What ivrhooks run serves with: header limits and a read timeout (server/protocol.py),
    # a built app's own (ServingConfig) when given one.
    if "http" not in config:
        config["http"] = (
            protocol_for(app.runtime.config.serving)
            if isinstance(app, Server)
            else LimitedHttpToolsProtocol
        )
    config.setdefault("access_log", False)
    # Leave the process's logging as it is: uvicorn's own config would give its loggers text
    # handlers of their own (the embedded PBX inside `ivrhooks run` mixed them into JSON logs).
    config.setdefault("log_config", None)
    config.setdefault("lifespan", "auto")
    server = _Server(uvicorn.Config(app, **config))
    # _serve, not serve: serve() installs process signal handlers, which belong to the
    # host process (pytest, or the CLI that embeds this server), not to us.
    task = asyncio.ensure_future(server._serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # raises the startup failure
                raise RuntimeError("the server stopped during startup")
            await asyncio.sleep(0.002)
        yield _url(sock)
    finally:
        server.should_exit = True
        server.stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
