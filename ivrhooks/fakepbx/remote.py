"""Talk to a fake PBX running in another process (``ivrhooks run``'s embedded one, or
``ivrhooks fake-pbx``): place a call through its development endpoint ``POST /_fake/dial``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import httpx

from ivrhooks.errors import FakePBXError

__all__ = ["DEFAULT_PBX", "DIAL_PATH", "ReadyProbe", "place_call"]

DEFAULT_PBX = "http://127.0.0.1:8887"
#: The fake PBX's development endpoint that places a call (served by :mod:`.calls`).
DIAL_PATH = "/_fake/dial"


def place_call(
    pbx: str,
    *,
    to: str,
    caller: str,
    digits: str | Sequence[str] = "",
    caller_name: str = "",
    session_id: str | None = None,
) -> dict[str, Any]:
    """POST the call to the fake PBX's ``/_fake/dial``; returns its JSON result (``hops``: one
    per action URL fired; several groups of ``digits`` follow the call across receptionists)."""
    base = pbx.rstrip("/").removesuffix("/api")
    body: dict[str, Any] = {
        "to": to,
        "caller": caller,
        "digits": digits if isinstance(digits, str) else list(digits),
        "caller_name": caller_name,
    }
    if session_id is not None:
        body["session_id"] = session_id
    try:
        response = httpx.post(base + DIAL_PATH, json=body, timeout=30.0)
    except httpx.HTTPError as exc:
        raise FakePBXError(
            f"no fake PBX answers at {base} ({type(exc).__name__}); start one with "
            "`ivrhooks run APP` or `ivrhooks fake-pbx`, or pass --pbx URL"
        ) from None
    if response.status_code in (404, 405):
        app = _an_app_at(base)
        if app is not None:
            raise FakePBXError(app)
    if response.status_code in (403, 415):  # its guard (fakepbx.guard) refused the request
        raise FakePBXError(f"{base} refused the call: {response.text.strip()}")
    if response.status_code == 404 and "error" not in response.text:
        raise FakePBXError(f"{base} is not a fake PBX (no {DIAL_PATH})")
    try:
        result: dict[str, Any] = response.json()
    except ValueError:
        raise FakePBXError(f"{base} is not a fake PBX (its answer is not JSON)") from None
    if response.status_code != 200:
        raise FakePBXError(str(result.get("error", result)))
    return result


def _an_app_at(base: str) -> str | None:
    """What to say when ``base`` is an ivrhooks app rather than a fake PBX, else None.

    A person who passes the URL ``ivrhooks run`` printed first ("serving on URL") reaches the
    app, which has no ``/_fake/dial``. The app tells itself apart: its ``/healthz`` answers
    exactly ``{"status":"ok"}`` to anyone (a fake PBX has none), and its ``/readyz`` (from
    loopback) names the PBX it registers on."""
    origin = httpx.URL(base).copy_with(path="/", query=None, fragment=None)
    try:
        with httpx.Client(base_url=origin, timeout=5.0) as http:
            health = http.get("healthz")
            if health.status_code != 200 or _json(health) != {"status": "ok"}:
                return None
            ready = _json(http.get("readyz"))
    except httpx.HTTPError:
        return None
    pbx = ready.get("pbx") if isinstance(ready, dict) else None
    said = f"{base} is the app, not the fake PBX"
    if pbx in (None, "embedded"):
        return (
            f"{said}; the embedded fake PBX is at the URL `ivrhooks run` printed as 'embedded "
            f"fake PBX: URL' ({DEFAULT_PBX} unless --pbx-port said otherwise): pass that to --pbx"
        )
    return (
        f"{said}, and it registers on {'no PBX' if pbx == 'none' else pbx}, not on an embedded "
        "fake one: start `ivrhooks run` without IVRHOOKS_PBX_URL, or `ivrhooks fake-pbx`, and "
        "pass --pbx its URL"
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class ReadyProbe:
    """Asks an app's ``/readyz`` whether it is ready, over one kept-alive connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http = httpx.AsyncClient()

    async def ready(self) -> bool:
        """True once ``/readyz`` answers 200; False while nothing answers or it says not ready."""
        try:
            return (await self._http.get(self.url)).status_code == 200
        except httpx.TransportError:
            return False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()
