"""The compose kit as an attacker meets it (issue 23, finding 14): no login defaults to a
built-in value (a PBX blocks a source after failed logins), only the demo uses the fake PBX's
own, and the balancer enforces the body, header and time limits the README recommends."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from ivrhooks.conf.config import ServingConfig
from ivrhooks.testing import free_port, serve
from tests.deploy.manifests import (
    COMPOSE_DIR,
    DEMO_ENV,
    NGINX,
    NGINX_TEXT,
    Unset,
    compose_env,
)

DOTENV = {
    "IVRHOOKS_SECRET": "compose-hardening-secret-0123",
    "IVRHOOKS_PBX_URL": "https://pbx.example.com:8900/api",
    "IVRHOOKS_PBX_USERNAME": "ivrhooks",
    "IVRHOOKS_PBX_PASSWORD": "the-real-pbx-password",
    "IVRHOOKS_PUBLIC_URL": "http://192.0.2.10:8080",
}
SERVING = ServingConfig()
# nginx's own defaults (nginx.org/en/docs/http/ngx_http_core_module.html): what applies unset.
NGINX_DEFAULTS = {
    "client_max_body_size": ("1m",),
    "client_header_buffer_size": ("1k",),
    "large_client_header_buffers": ("4", "8k"),
    "client_header_timeout": ("60s",),
    "client_body_timeout": ("60s",),
    "send_timeout": ("60s",),
}


def _size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmM]?)", value).groups()  # type: ignore[union-attr]
    return int(number) << {"": 0, "k": 10, "m": 20}[unit.lower()]


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m)?", value).groups()  # type: ignore[union-attr]
    return int(number) * {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0}[unit]


def _http(name: str) -> tuple[str, ...]:
    """The directive's arguments in effect for the action URLs' server: its own, or http's, or
    nginx's default."""
    for context in (("http", "server"), ("http",)):
        found = [d.args for d in NGINX if d.context == context and d.name == name]
        if found:
            return found[-1]
    return NGINX_DEFAULTS[name]


@pytest.mark.parametrize(
    "name",
    [
        "IVRHOOKS_SECRET",
        "IVRHOOKS_PBX_URL",
        "IVRHOOKS_PBX_USERNAME",
        "IVRHOOKS_PBX_PASSWORD",
        "IVRHOOKS_PUBLIC_URL",
    ],
)
def test_compose_stops_naming_each_setting_the_user_did_not_give(name: str) -> None:
    given = {k: v for k, v in DOTENV.items() if k != name}
    with pytest.raises(Unset, match=rf"\b{name}\b.*set {name} in deploy/compose/\.env"):
        compose_env(given)


def test_no_login_or_secret_has_a_built_in_default() -> None:
    text = (COMPOSE_DIR / "compose.yaml").read_text()
    defaults = re.findall(r"\$\{([A-Z_]+):?-", text)
    assert not [d for d in defaults if re.search("SECRET|PASSWORD|TOKEN|USERNAME|PBX_URL", d)]


def test_only_the_demo_logs_in_with_the_fake_pbxs_login() -> None:
    real = compose_env(DOTENV)
    assert real["IVRHOOKS_PBX_PASSWORD"] == DOTENV["IVRHOOKS_PBX_PASSWORD"]
    # demo.env comes after .env and names the fake PBX (the "demo" profile's) and its login.
    demo = compose_env({**DOTENV, **DEMO_ENV})
    assert demo["IVRHOOKS_PBX_PASSWORD"] == DEMO_ENV["IVRHOOKS_PBX_PASSWORD"] != ""
    assert demo["IVRHOOKS_PBX_URL"].startswith("http://pbx:")
    assert "IVRHOOKS_SECRET" not in DEMO_ENV, "the demo's secret is the user's own too"


def test_the_balancer_caps_bodies_headers_and_slow_clients() -> None:
    body = _size(_http("client_max_body_size")[0])
    first = _size(_http("client_header_buffer_size")[0])
    count, size = _http("large_client_header_buffers")
    head = _size(size) * int(count)
    print(f"body {body} B, head {first} B then {count} x {size}")
    assert 0 < body <= SERVING.max_body, "a body the app would refuse is refused at the edge"
    assert first <= _size(size) and head <= SERVING.max_header_bytes, "headers about 8 KiB"
    for name in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert _seconds(_http(name)[0]) <= SERVING.read_timeout, name


async def test_nginx_loads_the_file_and_refuses_oversize_requests_before_a_replica(
    tmp_path: Path,
) -> None:
    """The balancer's file, run by a real nginx in front of a counting upstream (the replicas'
    and its own addresses mapped to loopback ports): a body or a header over the limits is
    refused by nginx and never reaches a replica."""
    reached: list[str] = []

    async def upstream(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async with serve(upstream) as upstream_url:
        port = free_port()
        conf = NGINX_TEXT
        for old, new in [
            (r"server app\d:\d+", f"server {urlsplit(upstream_url).netloc}"),
            (r"listen \d+;", f"listen 127.0.0.1:{port};"),
            (r"access_log /dev/stdout", f"access_log {tmp_path}/access.log"),
        ]:
            conf, count = re.subn(old, new, conf)
            assert count, old
        (tmp_path / "nginx.conf").write_text(conf)
        globals_ = f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;"
        nginx = [shutil.which("nginx") or "nginx", "-p", str(tmp_path), "-c", "nginx.conf"]
        checked = await asyncio.create_subprocess_exec(
            *nginx, "-t", "-g", globals_, stderr=asyncio.subprocess.PIPE
        )
        _, said = await checked.communicate()
        assert checked.returncode == 0, said.decode()
        proc = await asyncio.create_subprocess_exec(
            *nginx, "-g", globals_, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                deadline = time.monotonic() + 10
                while True:  # a bounded wait for nginx starting in another process
                    with contextlib.suppress(httpx.TransportError):
                        ok = await http.get("/hooks/main?from=101&to=8000")
                        break
                    assert proc.returncode is None and time.monotonic() < deadline
                    await asyncio.sleep(0.05)
                body = await http.post("/hooks/main", content=b"{" + b" " * 9000 + b"}")
                header = await http.get("/hooks/main", headers={"X-Padding": "a" * 5000})
                ops = await http.get("/metrics")
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 10)
    print(f"ok {ok.status_code}, body {body.status_code}, header {header.status_code}")
    assert ok.status_code == 200 and reached == ["/hooks/main"], "an action URL goes through"
    assert body.status_code == 413 and header.status_code == 400
    assert ops.status_code == 404, "/metrics stays on each replica's own network"
