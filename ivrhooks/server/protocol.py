"""``OneSendProtocol``: uvicorn's httptools protocol, sending a small response in one ``send()``.

uvicorn writes a response's header block and its body with two transport writes, so every
decision leaves in two ``send()`` calls (two TCP segments). On loopback or a LAN each costs about
as much as everything ivrhooks does for the request: in a profile of ``ivrhooks run`` under load
the two writes were a third of the server's time. ``ivrhooks run`` serves with this protocol:
the header block of a final response (status 2xx-5xx) is held until the body follows, and the
two leave together. Nothing is held past the current turn of the event loop (a
``call_soon`` flush), so a response whose body comes later, an interim ``100 Continue`` (never
held) or a closing connection behave exactly as before.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["OneSendProtocol"]


class _HeldTransport:
    """The connection's transport, holding one header block until the body write follows."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif (
            # A final response's header block as uvicorn writes it: "HTTP/1.1 200 OK...\r\n\r\n".
            # 1xx (100 Continue) is interim: the client waits for it, so it is never held.
            data[:9] == b"HTTP/1.1 " and data[9:10] in b"2345" and data[-4:] == b"\r\n\r\n"
        ):
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:
        # pause_reading, resume_reading, abort, set_protocol ...: the transport's own.
        return getattr(self._transport, name)


class OneSendProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a :class:`_HeldTransport`: ``uvicorn.Config(http=...)``."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCPTransport is not an asyncio.Transport subclass; it has the same methods.
        held = _HeldTransport(cast(asyncio.Transport, transport), asyncio.get_running_loop())
        super().connection_made(held)  # type: ignore[arg-type]  # quacks like a Transport
