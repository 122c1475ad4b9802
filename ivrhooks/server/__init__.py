"""The server wing: everything ASGI. Path dispatch and the operational endpoints (``app``), the
action-URL endpoint (``endpoint``), the ASGI half of auth (``auth``), what each request reports
(``observer``), the request's span when tracing is on (``tracing``), the one JSON sender
(``responses``) and a loopback uvicorn for tests and the embedded PBX (``loopback``). The pure
core below it imports neither Starlette nor httpx."""

from __future__ import annotations

from ivrhooks.server.app import Server
from ivrhooks.server.loopback import bind_socket, free_port, serve

__all__ = ["Server", "bind_socket", "free_port", "serve"]
