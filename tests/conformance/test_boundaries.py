"""Boundary cases derived from the published schema (``boundaries.py``), over loopback HTTP.

For each case of each write operation:

- the generator's own verdict agrees with the document (a valid case's request conforms, an
  invalid one's does not), so the table really is the schema's;
- the fake PBX answers a valid case with 2xx and an invalid one with 4xx ``VALIDATE_FAILED``
  naming the field, and every answer conforms to the document;
- ``PBXClient`` sends a valid case, and refuses an invalid one with ``InvalidArgumentError``
  before anything is sent. JSON of the wrong type (``"2"`` for an integer) may instead be
  converted by pydantic into the right type; then what goes over the wire conforms.

One fake PBX is served for the whole module (a server per case would cost ~0.2 s each).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from ivrhooks.errors import InvalidArgumentError
from ivrhooks.pbx import PBXClient
from ivrhooks.testing import FakePBX, serve
from tests.conformance.boundaries import BASE_BODIES, Case, cases, with_value
from tests.conformance.capture import Exchange, RecordingASGI, RecordingTransport
from tests.conformance.conftest import SPEC

# One event loop for the module, so the served fake outlives each test.
in_module_loop = pytest.mark.asyncio(loop_scope="module")

PATHS = {
    "createVrServer": ("POST", "/ivr_servers"),
    "updateVrServer": ("POST", "/ivr_servers/{server}"),
    "createVr": ("POST", "/ivrs"),
    "updateVr": ("POST", "/ivrs/{ivr}"),
    "createActionUrl": ("POST", "/ivrs/{ivr}/action_urls"),
    "updateActionUrl": ("POST", "/ivrs/{ivr}/action_urls/{url}"),
}
CASES = [case for operation in PATHS for case in cases(SPEC, operation)]
EXTENSIONS = itertools.count(100000)


@dataclass
class Served:
    fake: FakePBX
    recorder: RecordingASGI
    transport: RecordingTransport
    http: httpx.AsyncClient
    pbx: PBXClient
    ids: dict[str, str]


@contextlib.asynccontextmanager
async def _served() -> AsyncIterator[Served]:
    fake = FakePBX()
    recorder = RecordingASGI(fake.app)
    transport = RecordingTransport()
    async with (
        serve(recorder) as base,
        httpx.AsyncClient(base_url=base + "/api") as http,
        # rate=None: no cap, as for any fake PBX. The ~200 cases go through one client, and the
        # default cap (tests/pbx/test_ratelimit.py) made every tenth wait out its window.
        PBXClient(
            base + "/api", username="admin", password="fakepbx", transport=transport, rate=None
        ) as pbx,
    ):
        ivr = fake.add_ivr("7000", "Shared")
        url = fake.resources.create_action_url(ivr, BASE_BODIES["createActionUrl"])
        server = fake.resources.create_server(BASE_BODIES["createVrServer"])
        token = (await http.post("/auth/sign_in", json=BASE_BODIES["signInWithCredentials"])).json()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        yield Served(
            fake, recorder, transport, http, pbx, {"ivr": ivr, "url": url, "server": server}
        )


# One fake per test function: the two create the same receptionists (extension 888, ...).
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served_raw() -> AsyncIterator[Served]:
    async with _served() as served:
        yield served


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served_client() -> AsyncIterator[Served]:
    async with _served() as served:
        yield served


def _body(case: Case) -> dict[str, Any]:
    base = dict(BASE_BODIES[case.operation])
    if case.operation == "createVr":
        base["extension_number"] = str(next(EXTENSIONS))  # each receptionist its own
    return with_value(base, case.field, case.value)


def _send_as_client(pbx: PBXClient, case: Case, ids: dict[str, str], body: dict[str, Any]) -> Any:
    ivr, url, server = ids["ivr"], ids["url"], ids["server"]
    return {
        "createVrServer": lambda: pbx.ivr_servers.create(**body),
        "updateVrServer": lambda: pbx.ivr_servers.update(server, **body),
        "createVr": lambda: pbx.ivrs.create(**body),
        "updateVr": lambda: pbx.ivrs.update(ivr, **body),
        "createActionUrl": lambda: pbx.action_urls.create(ivr, **body),
        "updateActionUrl": lambda: pbx.action_urls.update(ivr, url, **body),
    }[case.operation]()


def test_the_table_covers_every_write_and_every_kind() -> None:
    assert {c.operation for c in CASES} == set(PATHS)
    assert len(CASES) > 300
    rules = {c.rule for c in CASES}
    assert {"minLength-1", "maxLength+1", "minimum-1", "maximum+1", "null", "enum:other"} <= rules
    fields = {c.field for c in CASES}
    nested = "custom_forward_rules.0.office_hours.monday.ranges.0.from"
    assert {"pin", "url", "connection_timeout", "outbound_caller_ids.0.caller_id", nested} <= fields


@in_module_loop
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_the_fake_answers_each_boundary_as_the_document_says(
    served_raw: Served, case: Case
) -> None:
    served = served_raw
    method, template = PATHS[case.operation]
    path = template.format(**served.ids)
    body = _body(case)
    sent = Exchange("client", method, "/api" + path, [], dict(served.http.headers), b"")
    sent.body = httpx.Request(method, "http://x", json=body).content
    sent.headers["content-type"] = "application/json"
    # The generator is the document's: valid cases conform, invalid ones do not.
    assert (SPEC.request_violations(sent) == []) is case.valid, SPEC.request_violations(sent)

    start = len(served.recorder.exchanges)
    reply = await served.http.request(method, path, json=body)
    if case.valid:
        assert reply.status_code in (200, 201), reply.text
    else:
        assert reply.status_code in (400, 422), reply.text
        [error] = reply.json()["errors"]
        assert error["code"] == "VALIDATE_FAILED"
        assert case.field.split(".")[0] in error["message"]
    [answered] = served.recorder.exchanges[start:]
    assert SPEC.response_violations(answered) == []


@in_module_loop
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_the_client_keeps_to_each_boundary(served_client: Served, case: Case) -> None:
    served = served_client
    body = _body(case)
    start = len(served.transport.exchanges)
    try:
        await _send_as_client(served.pbx, case, served.ids, body)
    except InvalidArgumentError as exc:
        assert not case.valid, f"refused a valid case: {exc}"
        assert case.field.split(".")[0] in str(exc)
        sent = [e for e in served.transport.exchanges[start:] if e.method == "POST"]
        assert sent == []  # nothing went over the wire
        return
    # Sent: valid, or a wrong JSON type pydantic converted ("2" -> 2) before sending.
    assert case.kind != "constraint", "sent a value the document refuses"
    recorded = served.transport.exchanges[start:]
    assert recorded and recorded[-1].status in (200, 201)
    for exchange in recorded:
        assert SPEC.violations(exchange) == []
