"""A fake PBX served on loopback for an app to register on: the embedded PBX of
``ivrhooks run`` and ``ivrhooks dev``, and what ``ivrhooks.testing.running`` uses."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from ivrhooks.conf.config import PBXConfig
from ivrhooks.fakepbx.pbx import FakePBX
from ivrhooks.server.loopback import bind_socket, serve

__all__ = ["embedded_pbx", "pbx_config"]


@contextlib.asynccontextmanager
async def embedded_pbx(
    receptionists: Iterable[str],
    sock: socket.socket | None = None,
    *,
    outcomes: Callable[[str], dict[str, Any] | None] | None = None,
) -> AsyncIterator[FakePBX]:
    """Serve a fake PBX holding ``receptionists`` (on ``sock``, or a free loopback port);
    ``outcomes`` tells it what the app decided for a call (the app's call journal)."""
    pbx = FakePBX(outcomes=outcomes)
    for ext in receptionists:
        pbx.add_ivr(ext, f"Receptionist {ext}")
    try:
        async with serve(pbx.app, sock=sock or bind_socket()) as base:
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
