"""Receptionists found by extension number: batched filters, and paging when filters fail."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import pytest
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ivrhooks import call
from ivrhooks.core.request import ActionRequest
from ivrhooks.pbx import PBXClient
from ivrhooks.registration import (
    Registration,
    UnknownReceptionistError,
    desired_state,
    reconcile,
)
from ivrhooks.registration.resolve import resolve_receptionists
from ivrhooks.testing import FakePBX, serve
from tests.registration.helpers import new_app

EXTENSIONS = [str(n) for n in range(10000, 10250)]


class RefuseFilters:
    """A PBX build that rejects ``filter`` (400 VALIDATE_FAILED); counts /ivrs pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pages: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/api/ivrs":
            query: bytes = scope["query_string"]
            if parse_qs(query.decode()).get("filter"):  # parse_qs drops empty values
                body = {"errors": [{"code": "VALIDATE_FAILED", "message": "filter: unsupported"}]}
                await JSONResponse(body, status_code=400)(scope, receive, send)
                return
            self.pages.append(query)
        await self.app(scope, receive, send)


@contextlib.asynccontextmanager
async def client_for_fake(app: ASGIApp) -> AsyncIterator[PBXClient]:
    async with (
        serve(app) as base,
        # No rate budget: these tests are about paging and batching at scale, not pacing.
        PBXClient(base + "/api", username="admin", password="fakepbx", rate=None) as pbx,
    ):
        yield pbx


@pytest.fixture
def big() -> FakePBX:
    pbx = FakePBX()
    for ext in EXTENSIONS:
        pbx.add_ivr(ext, f"R{ext}")
    return pbx


async def test_250_receptionists_by_batched_filter(big: FakePBX) -> None:
    async with client_for_fake(big.app) as pbx:
        ids = await resolve_receptionists(pbx, EXTENSIONS)
    assert list(ids) == EXTENSIONS
    assert ids["10123"] == big.ivr("10123").id
    assert big.counters.calls == 13  # 250 extensions, 20 per filter


async def test_250_receptionists_paged_when_the_filter_is_refused(big: FakePBX) -> None:
    wrapped = RefuseFilters(big.app)
    async with client_for_fake(wrapped) as pbx:
        ids = await resolve_receptionists(pbx, EXTENSIONS)
    assert len(ids) == 250 and ids["10249"] == big.ivr("10249").id
    skips = [parse_qs(p.decode())["skip"] for p in wrapped.pages]
    assert skips == [["0"], ["100"], ["200"]]


async def test_250_receptionists_registered_and_then_in_sync(big: FakePBX) -> None:
    app = new_app(None, None, receptionists=EXTENSIONS)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    state = desired_state(app.manifest())
    async with client_for_fake(big.app) as pbx:
        first = await reconcile(pbx, state, app_id="test")
        big.reset_counters()
        second = await reconcile(pbx, state, app_id="test")
    assert first.applied.created == 250
    assert second.drift == 0 and big.counters.writes == 0
    assert len(big.action_urls("10249")) == 1


async def test_unknown_extension_is_named(big: FakePBX) -> None:
    async with client_for_fake(big.app) as pbx:
        with pytest.raises(UnknownReceptionistError, match="77777") as info:
            await resolve_receptionists(pbx, ["10000", "77777"])
    assert info.value.extensions == ("77777",)


def test_registration_rejects_bad_backoff() -> None:
    with pytest.raises(ValueError, match="backoff"):
        Registration(backoff_base=0)
