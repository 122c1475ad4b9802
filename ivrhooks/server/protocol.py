"""uvicorn's httptools protocol with header limits and a read timeout, as ``ivrhooks run`` serves.

Under plain uvicorn + httptools an 8 MiB header and a 10,000-header request are read and
served, and a half-sent request holds its connection for ever (slowloris). This subclass adds,
before the app (and so before any credential check) sees anything:

- **a cap on the request head**: the request-target plus every header name and value at most
  ``max_header_bytes`` (8 KiB, Apache's ``LimitRequestFieldSize``; a PBX request is well under
  1 KiB), at most ``max_headers`` fields (100, Apache's ``LimitRequestFields``). Past either the
  answer is ``431 Request Header Fields Too Large`` (RFC 6585 §5) and the connection is closed;
  bytes still streaming into one huge header are bounded the same way;
- **a read timeout**: a request must arrive completely (head and body) within ``read_timeout``
  seconds (5) of the connection opening, or of its first byte on a kept-alive connection; else
  the connection is closed (within one more second). Between requests uvicorn's keep-alive
  timeout (5 s) applies.

Serve any app with it: ``uvicorn --http ivrhooks.server.protocol:LimitedHttpToolsProtocol``
(the defaults), or ``http=limited_protocol(...)`` in code. httptools comes with
``uvicorn[standard]``, which ivrhooks depends on.

It also sends a small response in one ``send()``: uvicorn writes a response's header block and
its body with two transport writes, two TCP segments per decision; on loopback or a LAN each
costs about as much as everything ivrhooks does for the request (a third of the server's time in
a profile under load). The header block of a final response (2xx-5xx) is held until the body
follows, and the two leave together. Nothing is held past the current turn of the event loop (a
``call_soon`` flush), so a response whose body comes later, an interim ``100 Continue`` (never
held) or a closing connection behave exactly as before.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ivrhooks.conf.config import ServingConfig

__all__ = [
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "READ_TIMEOUT",
    "LimitedHttpToolsProtocol",
    "OneSendProtocol",
    "limited_protocol",
    "protocol_for",
]

MAX_HEADER_BYTES = 8 * 1024
MAX_HEADERS = 100
READ_TIMEOUT = 5.0

_BODY = b'{"error": "request header fields too large"}'
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"content-length: %d\r\n"
    b"connection: close\r\n\r\n" % len(_BODY)
) + _BODY


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


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing oversized heads and closing slow requests.

    Cheap on the hot path: no per-header work unless the head could be over the cap, no clock
    read and no timer per request (one timer per connection ticks while a request arrives).
    """

    max_header_bytes = MAX_HEADER_BYTES
    max_headers = MAX_HEADERS
    read_timeout = READ_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refused = False
        self._chunk = 0  # the size of the chunk being parsed
        self._unparsed = 0  # bytes fed while a head is incomplete (what httptools buffers)
        self._counted: object = None  # the scope (message) _unparsed counts for
        self._receiving = False  # a request is arriving (from its first byte until complete)
        self._arrival = 0  # which one: counted, so the hot path never reads the clock
        self._watched = 0  # the arrival the timer saw first ...
        self._watched_since = 0.0  # ... and when
        self._timer: asyncio.TimerHandle | None = None

    # -- the read timeout ------------------------------------------------------------------
    # One timer per connection ticks every _period() seconds while a request is arriving and
    # closes the connection once the same arrival has been seen for read_timeout seconds: a
    # request gets at least read_timeout, and is closed within read_timeout + one tick.

    def _period(self) -> float:
        return min(1.0, self.read_timeout / 2)

    def _start_reading(self) -> None:
        self._receiving = True
        self._arrival += 1
        if self._timer is None:
            self._timer = self.loop.call_later(self._period(), self._tick)

    def _tick(self) -> None:
        self._timer = None
        if not self._receiving or self.transport.is_closing():
            return  # between requests: uvicorn's keep-alive timeout applies
        now = self.loop.time()
        if self._watched != self._arrival:
            self._watched, self._watched_since = self._arrival, now
        elif now - self._watched_since >= self.read_timeout:
            self.transport.close()  # a cycle waiting for its body sees http.disconnect
            return
        self._timer = self.loop.call_later(self._period(), self._tick)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # uvloop's TCPTransport is not an asyncio.Transport subclass; it has the same methods.
        held = _HeldTransport(transport, asyncio.get_running_loop())
        super().connection_made(held)  # type: ignore[arg-type]  # quacks like a Transport
        self._start_reading()  # a connection that sends nothing is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    # -- the head limits -------------------------------------------------------------------

    def _refuse(self) -> None:
        if self._refused:
            return
        self._refused = True
        self._receiving = False
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_TOO_LARGE)  # not in the middle of another response
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        cycle = self.cycle
        if not self._receiving and (cycle is None or cycle.response_complete):
            self._start_reading()  # the first byte of the next request on a kept-alive connection
        self._chunk = len(data)
        HttpToolsProtocol.data_received(self, data)
        cycle = self.cycle
        scope = self.scope
        if scope is not None and (cycle is None or cycle.scope is not scope):
            # A head still incomplete (uvicorn makes the cycle when the head is complete):
            # bound what httptools holds of it, counted from the chunk it began in.
            if scope is not self._counted:
                self._counted, self._unparsed = scope, 0
            self._unparsed += self._chunk
            if self._unparsed > self.max_header_bytes:
                self._refuse()
        elif cycle is not None and not cycle.more_body:
            self._receiving = False  # arrived in time: the app has it now

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) for name, value in self.headers)

    def on_headers_complete(self) -> None:
        # The exact size is summed only when the bytes seen could exceed the cap: a PBX request
        # arrives in one small chunk, and then no header is counted at all.
        unparsed = self._unparsed if self._counted is self.scope else 0
        if len(self.headers) > self.max_headers or (
            unparsed + self._chunk > self.max_header_bytes
            and self._head_size() > self.max_header_bytes
        ):
            self._refuse()  # before uvicorn starts the app: no cycle, no credential check
        else:
            HttpToolsProtocol.on_headers_complete(self)

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            HttpToolsProtocol.on_body(self, body)

    def on_message_complete(self) -> None:
        if not self._refused:
            HttpToolsProtocol.on_message_complete(self)


#: The name ``ivrhooks run`` served with before the limits joined it: the same protocol.
OneSendProtocol = LimitedHttpToolsProtocol


def limited_protocol(
    *,
    max_header_bytes: int = MAX_HEADER_BYTES,
    max_headers: int = MAX_HEADERS,
    read_timeout: float = READ_TIMEOUT,
) -> type[LimitedHttpToolsProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with these limits."""
    if (max_header_bytes, max_headers, read_timeout) == (
        MAX_HEADER_BYTES,
        MAX_HEADERS,
        READ_TIMEOUT,
    ):
        return LimitedHttpToolsProtocol
    return type(
        "LimitedHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {
            "max_header_bytes": max_header_bytes,
            "max_headers": max_headers,
            "read_timeout": read_timeout,
            "__module__": __name__,
        },
    )


def protocol_for(serving: ServingConfig) -> type[LimitedHttpToolsProtocol]:
    """The protocol class with an app's ``ServingConfig`` limits."""
    return limited_protocol(
        max_header_bytes=serving.max_header_bytes,
        max_headers=serving.max_headers,
        read_timeout=serving.read_timeout,
    )
