"""Shared helpers for registration tests: apps wired to a fake PBX, served on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from ivrhooks import AuthConfig, IVRHooks, PBXConfig, RegistrationConfig, call
from ivrhooks.core.request import ActionRequest
from ivrhooks.testing import FakePBX, bind_socket, serve

SECRET = "registration-tests-secret-0123456789"
#: The identity the test apps register under: entries are named ``ivrhooks:<route>@test``.
APP_ID = "test"


def new_app(
    pbx_base: str | None,
    fake: FakePBX | None,
    *,
    receptionists: list[str] | None = None,
    public_url: str | None = "http://127.0.0.1:9",
    method: str = "POST",
    request_timeout: int = 2,
    auth: str = "basic",
    previous_secret: str | None = None,
    app_id: str | None = APP_ID,
    **options: Any,
) -> IVRHooks:
    """An app registering on the fake PBX served at ``pbx_base`` (none when it is ``None``)."""
    options.setdefault("env", False)
    pbx = None
    if pbx_base is not None and fake is not None:
        pbx = PBXConfig(pbx_base + "/api", username=fake.username, password=fake.password)
    return IVRHooks(
        receptionists=receptionists or ["8000"],
        auth=AuthConfig(
            scheme=auth,  # type: ignore[arg-type]  # tests pass the scheme names as strings
            secret=options.pop("secret", SECRET),
            previous_secret=previous_secret,
        ),
        pbx=pbx,
        registration=RegistrationConfig(
            public_url=public_url,
            method=method,  # type: ignore[arg-type]
            request_timeout=request_timeout,
            app_id=app_id,
        ),
        **options,
    )


def add_menu(app: IVRHooks) -> None:
    """Two DTMF routes and a caller route."""

    @app.dtmf("1;2")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    @app.dtmf("3000-3999")
    async def accounts(req: ActionRequest) -> object:
        return call("2002")

    @app.caller("5550100")
    async def vip(req: ActionRequest) -> object:
        return call("2003")


@contextlib.asynccontextmanager
async def served_app(**kwargs: Any) -> AsyncIterator[tuple[IVRHooks, str]]:
    """Build an app whose public URL is the loopback port it is then served on."""
    sock = bind_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    build = kwargs.pop("build")
    app = build(base)
    async with serve(app, sock=sock):
        yield app, base
