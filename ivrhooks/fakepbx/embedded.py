"""A fake PBX served on loopback for an app to register on: the embedded PBX of
``ivrhooks run`` and ``ivrhooks dev``, and what ``ivrhooks.testing.running`` uses.

It is served as the command line serves every fake PBX: behind :mod:`.guard` (a loopback
``Host``, bodies as JSON, no CORS), with a login generated for this process unless one is given,
and sending calls only to the app it embeds (``app_url``; :mod:`.targets`).
"""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from ivrhooks.conf.config import PBXConfig
from ivrhooks.fakepbx.guard import guard_pbx
from ivrhooks.fakepbx.pbx import FakePBX
from ivrhooks.fakepbx.targets import Targets
from ivrhooks.server.loopback import bind_socket, serve

__all__ = ["embedded_pbx", "generate_password", "pbx_config"]


def generate_password() -> str:
    """A login for one process's fake PBX: a web page cannot guess it, a person can copy it."""
    return secrets.token_urlsafe(16)


@contextlib.asynccontextmanager
async def embedded_pbx(
    receptionists: Iterable[str],
    sock: socket.socket | None = None,
    *,
    outcomes: Callable[[str], dict[str, Any] | None] | None = None,
    app_url: str | None = None,
    password: str | None = None,
) -> AsyncIterator[FakePBX]:
    """Serve a fake PBX holding ``receptionists`` (on ``sock``, or a free loopback port);
    ``outcomes`` tells it what the app decided for a call (the app's call journal). Calls go to
    URLs under ``app_url`` only (without one: loopback); ``password=None`` generates one."""
    targets = Targets(
        bases=(app_url,) if app_url else (),
        loopback=app_url is None,
        how="the embedded PBX calls only the app it runs (IVRHOOKS_PUBLIC_URL names it)",
    )
    pbx = FakePBX(outcomes=outcomes, password=password or generate_password(), targets=targets)
    for ext in receptionists:
        pbx.add_ivr(ext, f"Receptionist {ext}")
    try:
        async with serve(guard_pbx(pbx.app), sock=sock or bind_socket()) as base:
            pbx.url = base
            yield pbx
    finally:
        pbx.close()


def pbx_config(pbx: FakePBX) -> PBXConfig:
    """How an app reaches a served fake PBX's REST API (no rate budget: it is not PortSIP's,
    and 10,000 routes would take minutes to register at a real PBX's pace)."""
    if pbx.url is None:
        raise RuntimeError("the fake PBX is not served yet")
    return PBXConfig(pbx.url + "/api", username=pbx.username, password=pbx.password, rate=None)
