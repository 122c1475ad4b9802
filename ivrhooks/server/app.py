"""``Server``: the ASGI application of one start of an app.

Path dispatch in one dict lookup on the raw path as sent (never the percent-decoded one): an
action-URL path goes straight to the endpoint, an event path to its receiver; the operational
endpoints (``/healthz``, ``/readyz``, ``/metrics``) and the lifespan are handled here. Pure
ASGI, no framework on the request path.
"""

from __future__ import annotations

import gc
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from prometheus_client import make_asgi_app
from starlette.types import ASGIApp, Receive, Scope, Send

from ivrhooks.core.auth.guard import OpsHosts
from ivrhooks.errors import ConfigurationError
from ivrhooks.runtime import Runtime
from ivrhooks.server.endpoint import ActionEndpoint, ServedRoute
from ivrhooks.server.responses import error_body, send_json

__all__ = ["Server"]

logger = logging.getLogger("ivrhooks")

_GET = frozenset({"GET", "HEAD"})
_NOT_FOUND = error_body("not found")
_FORBIDDEN = error_body("forbidden")
_ALLOW_GET = ((b"allow", b"GET, HEAD"),)
# prometheus-client decodes these as UTF-8 and would raise on anything else: pass only these,
# and only when they are ASCII.
_METRICS_HEADERS = frozenset({b"accept", b"accept-encoding"})

Action = Callable[[ServedRoute, Scope, Receive, Send], Awaitable[None]]
"""What serves an action-URL request: the endpoint, or the endpoint inside its span."""


class Server:
    """Serves one app: its action-URL routes, the operational endpoints and its lifespan.

    ``routes`` maps each action-URL path to its :class:`ServedRoute` (verifier included),
    fixed when the app was built. ``action`` serves the action-URL requests (default:
    ``endpoint`` itself; with tracing on, the endpoint inside the request's span).
    """

    def __init__(
        self,
        *,
        runtime: Runtime,
        endpoint: ActionEndpoint,
        routes: Mapping[str, ServedRoute],
        running: Callable[..., AbstractAsyncContextManager[None]],
        action: Action | None = None,
        events: Mapping[str, ASGIApp] | None = None,
    ) -> None:
        self.runtime = runtime
        self.endpoint = endpoint
        self._action: Action = action if action is not None else endpoint
        self._running = running
        self.routes = dict(routes)
        self.events = dict(events or {})
        """PortSIP's event webhooks (``/events/cdr``, ``/events/extension``), by path."""
        self.startup_error: str | None = None
        """Why the last startup failed (the lifespan), for a server that says it in one line."""
        self._metrics = make_asgi_app(runtime.metrics.registry)
        config = runtime.config
        self._ops_hosts = OpsHosts(config.auth.ops_hosts, config.registration.public_url)

    def running(self, *, announce: bool = True) -> AbstractAsyncContextManager[None]:
        """What the lifespan runs around serving (the store, resources, caches, the app's
        lifespan, its services): for running the app in process without a server.
        ``announce=False`` leaves out the startup log (where it registers, the secret)."""
        return self._running(announce=announce)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            # Match the path exactly as sent: uvicorn's "path" is percent-decoded, so
            # /hooks%2Fone, /%68ooks/one and /hooks/%6fne would all reach "one" and walk around
            # a proxy rule written for the real path (RFC 3986 §6.2.2.2 equivalence is the
            # proxy's business, not a second way in). uvicorn prefixes both with --root-path.
            raw: bytes | None = scope.get("raw_path")
            path: str = raw.decode("latin-1") if raw is not None else scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            route = self.routes.get(path)
            if route is not None:
                await self._action(route, scope, receive, send)
                return
            receiver = self.events.get(path)
            if receiver is not None:
                await receiver(scope, receive, send)
                return
            await self._operational(path, scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _operational(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        if path not in ("/healthz", "/readyz", "/metrics"):
            await send_json(send, 404, _NOT_FOUND)
            return
        if scope["method"] not in _GET:
            await send_json(send, 405, error_body("use GET"), _ALLOW_GET)
            return
        if path == "/healthz":
            # Anyone, e.g. a container health check: the answer says nothing but "ok".
            await send_json(send, 200, b'{"status":"ok"}')
            return
        if not self.endpoint.guard.operational(scope) or not self._ops_hosts.allows(scope):
            # /metrics and /readyz describe the service (routes, failures, why it is not
            # ready): for AuthConfig.ops_allow only, loopback by default, and asked for by
            # this service's own name (a browser's DNS-rebound request is not).
            await send_json(send, 403, _FORBIDDEN)
            return
        if path == "/readyz":
            readiness = self.runtime.status.current
            pbx = self.runtime.config.registers_on
            if readiness.ready:
                await send_json(send, 200, _json({"status": "ready", "pbx": pbx}))
            else:
                body = {
                    "status": "not ready",
                    "state": readiness.state,
                    "reason": readiness.reason,
                    "pbx": pbx,
                }
                await send_json(send, 503, _json(body))
        else:
            await self._metrics(_metrics_scope(scope), receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        started = False
        try:
            async with self._running():
                for served in self.routes.values():
                    # A verifier with state in the shared store reads it before the first
                    # request (the Digest replay window: the store's epoch).
                    prepare = getattr(served.authenticator, "prepare", None)
                    if prepare is not None:
                        await prepare()
                if self.runtime.config.serving.freeze_gc:
                    gc.collect()
                    gc.freeze()
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except Exception as exc:
            if isinstance(exc, ConfigurationError):
                reason = str(exc)  # the user's mistake: one line that says what to change
                logger.error("startup failed: %s", reason)
            else:
                reason = "".join(traceback.format_exception_only(exc)).strip()
                logger.exception("%s failed", "shutdown" if started else "startup")
            phase = "shutdown" if started else "startup"
            if not started:
                self.startup_error = reason
            await send({"type": f"lifespan.{phase}.failed", "message": reason})
            return
        finally:
            self.endpoint.restart_executor()
        await send({"type": "lifespan.shutdown.complete"})


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


def _metrics_scope(scope: Scope) -> Scope:
    query: bytes = scope.get("query_string", b"")
    headers = [
        (name, value)
        for name, value in scope.get("headers", ())
        if name in _METRICS_HEADERS and value.isascii()
    ]
    return {**scope, "query_string": query if query.isascii() else b"", "headers": headers}
