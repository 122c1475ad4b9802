"""An app running against a fake PBX, registered and ready: what ``ivrhooks run`` embeds and
what users' tests get from the pytest plugin (``pbx`` fixture)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ivrhooks.app import IVRHooks
from ivrhooks.config import PBXConfig
from ivrhooks.testing.fake_pbx import DialResult, FakePBX
from ivrhooks.testing.server import bind_socket, serve

__all__ = ["RunningApp", "embedded_pbx", "running"]


@contextlib.asynccontextmanager
async def embedded_pbx(app: IVRHooks, sock: socket.socket | None = None) -> AsyncIterator[FakePBX]:
    """Serve a fake PBX holding the app's receptionists and point the app's config at it."""
    pbx = FakePBX()
    for ext in app.table.all_receptionists():
        pbx.add_ivr(ext, f"Receptionist {ext}")
    try:
        async with serve(pbx.app, sock=sock or bind_socket()) as base:
            pbx.url = base
            app.config.pbx = PBXConfig(base + "/api", username=pbx.username, password=pbx.password)
            yield pbx
    finally:
        pbx.close()


@dataclass
class RunningApp:
    """The app served on loopback, registered on a fake PBX that can place calls into it."""

    app: IVRHooks
    pbx: FakePBX
    url: str

    async def dial(
        self, to: str, caller: str, digits: str = "", caller_name: str = ""
    ) -> DialResult:
        return await self.pbx.dial(to=to, caller=caller, digits=digits, caller_name=caller_name)


@contextlib.asynccontextmanager
async def running(app: IVRHooks, *, ready_within: float = 10.0) -> AsyncIterator[RunningApp]:
    """Serve ``app`` with a fake PBX, register its action URLs, and yield once they are in place.

    The app's PBX, public URL and services are restored afterwards, so one module-level app can
    be used by many tests.
    """
    from ivrhooks.registration import Registration

    saved = (app.config.pbx, app.config.public_url, list(app.services))
    registration = Registration(interval=0, backoff_base=0.05, backoff_cap=0.5)
    app.services[:] = [registration, *(s for s in saved[2] if not isinstance(s, Registration))]
    sock = bind_socket()
    host, port = sock.getsockname()[:2]
    app.config.public_url = f"http://{host}:{port}"
    try:
        async with embedded_pbx(app) as pbx, serve(app, sock=sock) as url:
            try:
                await asyncio.wait_for(registration.wait_for(successes=1), ready_within)
            except TimeoutError:
                raise RuntimeError(
                    f"the app did not register within {ready_within} s: {registration.last_error}"
                ) from None
            yield RunningApp(app, pbx, url)
    finally:
        app.config.pbx, app.config.public_url = saved[0], saved[1]
        app.services[:] = saved[2]
