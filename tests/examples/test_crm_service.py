"""The CRM example service over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import crm_service
import httpx
import pytest
from crm_service import SEED, create_app, main
from starlette.applications import Starlette

from ivrhooks.testing import serve


@pytest.fixture
async def crm(tmp_path: Path) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(tmp_path / "crm.sqlite3")
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        yield app, client


@pytest.mark.parametrize(("phone", "name", "manager"), SEED, ids=[s[1] for s in SEED])
async def test_seeded_customers_are_found(
    crm: tuple[Starlette, httpx.AsyncClient], phone: str, name: str, manager: str
) -> None:
    app, client = crm
    response = await client.get(f"/customers/{phone}")
    assert response.status_code == 200
    assert response.json() == {"phone": phone, "name": name, "manager": manager}
    assert app.state.lookups == 1


async def test_an_unknown_number_is_404(crm: tuple[Starlette, httpx.AsyncClient]) -> None:
    _, client = crm
    response = await client.get("/customers/5550000")
    assert response.status_code == 404
    assert response.json() == {"error": "no such customer"}


async def test_a_posted_customer_can_be_looked_up_and_not_added_twice(
    crm: tuple[Starlette, httpx.AsyncClient],
) -> None:
    _, client = crm
    customer = {"phone": "5550001", "name": "Edsger Dijkstra", "manager": "2004"}
    created = await client.post("/customers", json=customer)
    assert (created.status_code, created.json()) == (201, customer)
    assert (await client.get("/customers/5550001")).json() == customer
    again = await client.post("/customers", json={**customer, "manager": "2005"})
    assert (again.status_code, again.json()) == (409, {"error": "customer already exists"})
    assert (await client.get("/customers/5550001")).json()["manager"] == "2004"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "manager": "2001"}, "phone"),
        ({"phone": "555-1234", "name": "X", "manager": "2001"}, "phone"),
        ({"phone": "5550002", "name": "", "manager": "2001"}, "name"),
        ({"phone": "5550002", "name": "x" * 101, "manager": "2001"}, "name"),
        ({"phone": "5550002", "name": "X", "manager": 2001}, "manager"),
        ({"phone": "5550002", "name": "X", "manager": "ext"}, "manager"),
    ],
    ids=["no-phone", "dashed-phone", "empty-name", "long-name", "int-manager", "word-manager"],
)
async def test_a_bad_customer_is_400_naming_the_field_and_stores_nothing(
    crm: tuple[Starlette, httpx.AsyncClient], body: dict[str, object], field: str
) -> None:
    _, client = crm
    response = await client.post("/customers", json=body)
    assert response.status_code == 400
    assert f"field {field!r}" in response.json()["error"]
    assert (await client.get("/customers/5550002")).status_code == 404


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]"], ids=["not-json", "array"])
async def test_a_body_that_is_not_a_json_object_is_400(
    crm: tuple[Starlette, httpx.AsyncClient], content: bytes
) -> None:
    _, client = crm
    response = await client.post("/customers", content=content)
    assert response.status_code == 400


async def test_a_call_note_written_twice_is_kept_once(
    crm: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, client = crm
    note = {"sent_to": "2001", "answered": True}
    first = await client.put("/calls/88533724", json=note)
    again = await client.put("/calls/88533724", json={**note, "answered": False})
    assert (first.status_code, again.status_code) == (200, 200)
    assert (await client.get("/calls/88533724")).json() == {**note, "answered": False}
    assert app.state.notes == 2
    assert (await client.get("/calls/1")).status_code == 404


@pytest.mark.parametrize(
    ("path", "content"),
    [("/calls/885", b"[1]"), ("/calls/885", b"not json"), ("/calls/" + "9" * 65, b"{}")],
    ids=["array", "not-json", "long-id"],
)
async def test_a_bad_call_note_is_400_and_stores_nothing(
    crm: tuple[Starlette, httpx.AsyncClient], path: str, content: bytes
) -> None:
    _, client = crm
    assert (await client.put(path, content=content)).status_code == 400
    assert (await client.get(path)).status_code == 404


async def test_the_delay_slows_lookups_without_blocking_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counted, not timed: how many lookups were in their delay at once.
    waiting: list[int] = []
    pause = crm_service._pause

    async def counted(request: Any, delay: float) -> None:
        waiting.append(1)
        try:
            await pause(request, delay)
        finally:
            waiting.append(-1)

    monkeypatch.setattr(crm_service, "_pause", counted)
    app = create_app(tmp_path / "crm.sqlite3", delay=0.3)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        started = time.monotonic()
        responses = await asyncio.gather(*(client.get("/customers/5551234") for _ in range(5)))
        elapsed = time.monotonic() - started
    print(f"\nfive lookups with a 0.3 s delay, at once: {elapsed:.2f} s")
    assert [r.status_code for r in responses] == [200] * 5
    assert elapsed >= 0.3, "the delay was applied"
    # Five lookups waited out their delay at the same time: the delay is async, it blocks
    # neither the loop nor the other lookups (one after another would never overlap).
    assert max(itertools.accumulate(waiting)) == 5
    assert app.state.lookups == 5


async def test_a_client_that_gives_up_does_not_keep_the_delay_running(tmp_path: Path) -> None:
    app = create_app(tmp_path / "crm.sqlite3", delay=30.0)
    started = time.monotonic()
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=0.1) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/customers/5551234")
    # Leaving serve() waits for in-flight requests: a 30 s delay would show here.
    assert time.monotonic() - started < 5
    assert app.state.lookups == 1


def test_a_negative_delay_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="delay must be >= 0"):
        create_app(tmp_path / "crm.sqlite3", delay=-1)


def test_the_command_line_rejects_a_bad_crm_delay(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRM_DELAY", "slow")
    with pytest.raises(SystemExit) as exit_info:
        main(["--port", "8900"])
    assert exit_info.value.code == 2
    assert "CRM_DELAY must be a number of seconds, got 'slow'" in capsys.readouterr().err
