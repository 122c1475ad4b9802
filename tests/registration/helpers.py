"""Shared helpers for registration tests: apps wired to a fake PBX, served on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from ivrhooks import IVRHooks, call
from ivrhooks.request import ActionRequest
from ivrhooks.testing import FakePBX, bind_socket, serve

SECRET = "registration-tests-secret-0123456789"


def new_app(
    pbx_base: str | None,
    fake: FakePBX | None,
    *,
    receptionists: list[str] | None = None,
    public_url: str = "http://127.0.0.1:9",
    **options: Any,
) -> IVRHooks:
    options.setdefault("env", False)
    options.setdefault("secret", SECRET)
    if pbx_base is not None and fake is not None:
        options.setdefault("pbx_url", pbx_base + "/api")
        options.setdefault("pbx_username", fake.username)
        options.setdefault("pbx_password", fake.password)
    return IVRHooks(receptionists=receptionists or ["8000"], public_url=public_url, **options)


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
