"""An app running against a fake PBX, registered and ready: what users' tests get from the
pytest plugin (``pbx`` fixture) and from :func:`running`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from ivrhooks.app import IVRHooks
from ivrhooks.embedded import with_embedded_pbx
from ivrhooks.fakepbx import DialResult, FakePBX
from ivrhooks.registration.service import Registration
from ivrhooks.runtime import Runtime, Service
from ivrhooks.server.app import Server
from ivrhooks.server.loopback import bind_socket, serve

__all__ = ["RunningApp", "running"]


@dataclass
class RunningApp:
    """The app served on loopback, registered on a fake PBX that can place calls into it."""

    app: IVRHooks
    pbx: FakePBX
    url: str
    server: Server

    @property
    def runtime(self) -> Runtime:
        """This run's configuration, manifest, metrics and readiness."""
        return self.server.runtime

    async def dial(
        self, to: str, caller: str, digits: str = "", caller_name: str = ""
    ) -> DialResult:
        return await self.pbx.dial(to=to, caller=caller, digits=digits, caller_name=caller_name)


@contextlib.asynccontextmanager
async def running(
    app: IVRHooks,
    *,
    ready_within: float = 10.0,
    environ: Mapping[str, str] | None = None,
    resources: Mapping[str, Any] | None = None,
) -> AsyncIterator[RunningApp]:
    """Serve ``app`` with a fake PBX, register its action URLs, and yield once they are in place.

    The app object is not changed: this run's server is built from the app's declaration
    (configured from ``environ``, default as the app says), so one module-level app can be used
    by many tests. ``resources`` stand in for the app's declared resources by name.
    """
    config = app.configure(environ)
    registration = Registration(interval=0, backoff_base=0.05, backoff_cap=0.5)
    services: list[Service] = [registration]
    services += [s for s in app.services if not isinstance(s, Registration)]
    sock = bind_socket()
    host, port = sock.getsockname()[:2]
    app_url = f"http://{host}:{port}"
    async with contextlib.AsyncExitStack() as stack:
        embedded = await stack.enter_async_context(
            with_embedded_pbx(app, config, app_url=app_url, services=services, resources=resources)
        )
        url = await stack.enter_async_context(serve(embedded.server, sock=sock))
        try:
            async with asyncio.timeout(ready_within):
                await registration.wait_for(successes=1)
        except TimeoutError:
            raise RuntimeError(
                f"the app did not register within {ready_within} s: {registration.last_error}"
            ) from None
        yield RunningApp(app, embedded.pbx, url, embedded.server)
