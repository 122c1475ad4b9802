"""An app with the embedded fake PBX: what ``ivrhooks run`` (when no PBX is configured) and
``ivrhooks.testing.running`` both serve, assembled in one place.

The fake PBX is served first, holding the app's receptionists; the app is configured to
register on it and to be called back at ``app_url``; the app's call journal is made here and
handed to both, so every call the fake PBX places can say what the app decided and why.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivrhooks.conf.config import Config
from ivrhooks.fakepbx.embedded import embedded_pbx, pbx_config
from ivrhooks.fakepbx.pbx import FakePBX
from ivrhooks.observe.journal import CallJournal
from ivrhooks.runtime import Service
from ivrhooks.server.app import Server

if TYPE_CHECKING:
    from ivrhooks.app import IVRHooks

__all__ = ["Embedded", "with_embedded_pbx"]


@dataclass(frozen=True)
class Embedded:
    """An app's server and the fake PBX it registers on (not yet serving the app itself)."""

    server: Server
    pbx: FakePBX
    config: Config
    """The app's configuration with the fake PBX and the public URL filled in."""


@contextlib.asynccontextmanager
async def with_embedded_pbx(
    app: IVRHooks,
    config: Config,
    *,
    app_url: str,
    pbx_sock: socket.socket | None = None,
    services: Sequence[Service] | None = None,
    pbx_password: str | None = None,
    resources: Mapping[str, Any] | None = None,
    events: bool | None = None,
) -> AsyncIterator[Embedded]:
    """Serve a fake PBX for ``app`` (on ``pbx_sock``, or any free loopback port) and build the
    app's server against it: registered there, called back at ``app_url`` (and nowhere
    else). Its login is ``pbx_password``, or one generated for this process. Serving
    the app's server is the caller's (uvicorn under ``ivrhooks run``, a loopback server in
    tests)."""
    receptionists = app.manifest(config).receptionists
    journal = CallJournal()
    async with embedded_pbx(
        receptionists,
        pbx_sock,
        outcomes=journal.outcome_of,
        app_url=app_url,
        password=pbx_password,
    ) as pbx:
        if events is None:
            events = bool(app.event_types) or config.events.register
        config = config.replace(
            pbx=pbx_config(pbx),
            registration=config.registration.replace(public_url=app_url),
            events=config.events.replace(register=events),
        )
        server = app.build(config, services=services, journal=journal, resources=resources)
        yield Embedded(server, pbx, config)
