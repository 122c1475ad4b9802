"""Helpers for tests over real HTTP through a whole app: one Basic route and curl as the client
(``--path-as-is``: it sends the path exactly as given)."""

from __future__ import annotations

import asyncio

from ivrhooks import (
    ActionRequest,
    IVRHooks,
    RegistrationConfig,
    ServingConfig,
    call,
)
from ivrhooks.core.auth import derive_credentials
from ivrhooks.core.types import Method

SECRET = "exact-requests-secret-0123"
CREDS = derive_credentials(SECRET, "one")
USER = f"{CREDS.username}:{CREDS.password}"
QUERY = "from=101&to=8000&input=1"
BODY = '{"from": "101", "to": "8000", "input": "1"}'


def app_with(
    method: Method = "POST", serving: ServingConfig | None = None
) -> tuple[IVRHooks, list[str]]:
    app = IVRHooks(
        receptionists=["8000"],
        secret=SECRET,
        env=False,
        registration=RegistrationConfig(method=method),
        serving=serving,
    )
    called: list[str] = []

    @app.dtmf("1")
    async def one(req: ActionRequest) -> object:
        called.append(req.method)
        return call("100")

    return app, called


async def curl(*args: str) -> tuple[int, dict[str, str]]:
    """Status and response headers of one curl request."""
    proc = await asyncio.create_subprocess_exec(
        "curl", "-sS", "-o", "/dev/null", "-D", "-", "--path-as-is", *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, err
    lines = out.decode("latin-1").split("\r\n")
    headers = dict(
        (name.lower(), value.strip()) for name, _, value in (x.partition(":") for x in lines[1:])
    )
    return int(lines[0].split()[1]), headers


async def send(url: str, method: str) -> tuple[int, dict[str, str]]:
    if method == "GET":
        return await curl("--basic", "-u", USER, f"{url}/hooks/one?{QUERY}")
    return await curl("--basic", "-u", USER, "-H", "content-type: application/json", "-d", BODY,
                      f"{url}/hooks/one")  # fmt: skip
