"""``/events/cdr`` and ``/events/extension`` over real HTTP, as docs/events.md promises them:
200 once stored (a duplicate too, handled once), 401 before anything is read, 405 for anything
but POST and never 404, 400 for what can never become an event, a type nobody documented
stored, counted and handed to ``"*"`` handlers, and every one of PortSIP's published examples
accepted and read as its model. Clients: httpx and curl."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from ivrhooks import IVRHooks, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.events import CallCDR, EventKind, ExtensionEvent, UnknownEvent, event_digest
from ivrhooks.testing import RunningApp, running
from tests.events.served import basic_auth, outcomes, quiet

SECRET = "events-receiving-secret-0123456789"
CURL = "/usr/bin/curl"
CDR = {
    "event_type": "call_cdr",
    "session_id": "4242",
    "tenant_id": "1",
    "call_status": "answered",
    "status_code": "0",
    "ended_reason": "callee_disconnected",
    "direction": "in",
    "did": "",
    "outbound_caller_id": "",
}
PATHS = ["/events/cdr", "/events/extension"]


@dataclass
class Seen:
    typed: list[Any] = field(default_factory=list)
    every: list[Any] = field(default_factory=list)


def _app(seen: Seen) -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], secret=SECRET, env=False)

    @app.event("call_cdr")
    async def outcome(event: CallCDR) -> None:
        seen.typed.append(event)

    @app.event("*")
    async def everything(event: Any) -> None:
        seen.every.append(event)

    @app.dtmf("1")
    async def one(req: Any) -> object:
        return call("2001")

    return app


@pytest.fixture
async def served(request: pytest.FixtureRequest) -> AsyncIterator[tuple[RunningApp, Seen]]:
    environ: dict[str, str] = getattr(request, "param", {})
    seen = Seen()
    async with running(_app(seen), environ=environ) as r:
        yield r, seen


def cdr_auth() -> httpx.BasicAuth:
    return basic_auth(SECRET, "cdr")


async def post(url: str, body: Any, auth: httpx.Auth | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5, auth=auth) as http:
        return await http.post(url, content=json.dumps(body).encode())


async def curl(*args: str) -> tuple[int, dict[str, str]]:
    """curl's status and headers (of the last response)."""
    proc = await asyncio.create_subprocess_exec(
        CURL, "-sS", "-o", "/dev/null", "-D", "-", *args, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    block = out.decode("latin-1").strip().split("\r\n\r\n")[-1].split("\r\n")
    pairs = (line.split(": ", 1) for line in block[1:])
    headers = {name.lower(): value for name, value in pairs}
    return int(block[0].split()[1]), headers


async def test_the_same_event_twice_is_answered_200_twice_and_handled_once(
    served: tuple[RunningApp, Seen],
) -> None:
    r, seen = served
    shuffled = dict(reversed(CDR.items()))  # the same event, its keys in another order
    answers = [await post(r.url + "/events/cdr", body, cdr_auth()) for body in (CDR, shuffled)]
    assert [a.status_code for a in answers] == [200, 200]
    found = await quiet(r.url)
    assert [e.session_id for e in seen.typed] == ["4242"]
    assert (found["accepted"], found["duplicate"], found["handled"]) == (1, 1, 1)


async def test_an_unknown_type_is_stored_counted_and_given_to_star_handlers(
    served: tuple[RunningApp, Seen],
) -> None:
    r, seen = served
    parked = {"event_type": "call_parked", "session_id": "77", "slot": "701"}
    star = {"event_type": "*", "session_id": "78"}  # not a type either, whatever it looks like
    for body in (parked, star):
        assert (await post(r.url + "/events/cdr", body, cdr_auth())).status_code == 200
    found = await quiet(r.url)
    assert seen.typed == []
    assert [(type(e), e.type, e.raw.get("slot")) for e in seen.every] == [
        (UnknownEvent, "call_parked", "701"),
        (UnknownEvent, "*", None),
    ]
    assert found["unknown_type"] == 2


ONE = derive_credentials(SECRET, "one")
CDR_CREDS = derive_credentials(SECRET, "events-cdr")
EVENTS_USER = f"{CDR_CREDS.username}:{CDR_CREDS.password}"  # curl -u
WRONG = {
    "no credentials": None,
    "wrong password": httpx.BasicAuth(CDR_CREDS.username, "nope"),
    "the extension URL's": basic_auth(SECRET, "extension"),
    "an action URL's": httpx.BasicAuth(ONE.username, ONE.password),
    "another secret's": basic_auth("another-secret-0123456789abcdef", "cdr"),
}


@pytest.mark.parametrize("auth", list(WRONG.values()), ids=list(WRONG))
async def test_wrong_credentials_get_401_and_nothing_is_stored_or_handled(
    served: tuple[RunningApp, Seen], auth: httpx.Auth | None
) -> None:
    r, seen = served
    refused = await post(r.url + "/events/cdr", CDR, auth)
    assert refused.status_code == 401
    assert "basic" in refused.headers["www-authenticate"].lower()
    assert seen.every == [] and (await outcomes(r.url))["accepted"] == 0
    # Nothing of it was remembered either: the same event with the right credentials is new.
    assert (await post(r.url + "/events/cdr", CDR, cdr_auth())).status_code == 200
    found = await quiet(r.url)
    assert (found["accepted"], found["duplicate"]) == (1, 0)
    assert [e.session_id for e in seen.every] == ["4242"]


async def test_anything_but_post_gets_405_allow_post_never_404(
    served: tuple[RunningApp, Seen],
) -> None:
    r, seen = served
    answers = {}
    # With a trailing slash too (an event URL typed by hand): a 404 stops PortSIP for good.
    for path in (*PATHS, *(p + "/" for p in PATHS)):
        for method in ("GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"):
            for auth in ([], ["-u", EVENTS_USER]):
                verb = ["-I"] if method == "HEAD" else ["-X", method]
                status, headers = await curl(*verb, *auth, r.url + path)
                answers[path, method, bool(auth)] = (status, headers.get("allow"))
    assert set(answers.values()) == {(405, "POST")}, answers
    assert seen.every == [] and set((await outcomes(r.url)).values()) == {0}
    assert (await post(r.url + "/events/cdr/", CDR, cdr_auth())).status_code == 200


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"{", b"[]", b"42", b'"call_cdr"', b"null", b'[{"event_type": "x"}, 3]'],
    ids=["empty", "text", "truncated", "empty-list", "number", "string", "null", "mixed-list"],
)
async def test_a_body_that_is_not_a_json_object_gets_400_and_reaches_no_handler(
    served: tuple[RunningApp, Seen], body: bytes
) -> None:
    r, seen = served
    async with httpx.AsyncClient() as http:
        answer = await http.post(r.url + "/events/cdr", content=body, auth=cdr_auth())
    assert answer.status_code == 400
    found = await outcomes(r.url)
    assert (found["unreadable"], found["accepted"]) == (1, 0)
    assert seen.every == []


async def test_a_list_of_objects_is_a_batch_each_stored_as_its_own_event(
    served: tuple[RunningApp, Seen],
) -> None:
    r, seen = served
    batch = [CDR, {**CDR, "session_id": "4343"}, CDR]  # the copy inside: one event
    assert (await post(r.url + "/events/cdr", batch, cdr_auth())).status_code == 200
    found = await quiet(r.url)
    assert sorted(e.session_id for e in seen.typed) == ["4242", "4343"]
    assert (found["accepted"], found["duplicate"]) == (2, 1)


@pytest.mark.parametrize(
    "served", [{"IVRHOOKS_EVENTS_MAX_BODY": "1024"}], indirect=True, ids=["max-1024"]
)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_over_the_limit_is_refused_before_any_handler(
    served: tuple[RunningApp, Seen], chunked: bool
) -> None:
    r, seen = served
    big = json.dumps({**CDR, "user_data": "x" * 1100})
    framing = ["-H", "Transfer-Encoding: chunked"] if chunked else []
    sending = ["-u", EVENTS_USER, "-H", "Content-Type: application/json", *framing]
    status, _ = await curl(*sending, "--data-binary", big, r.url + "/events/cdr")
    assert status == 400
    async with httpx.AsyncClient() as http:
        said = await http.post(r.url + "/events/cdr", content=big, auth=cdr_auth())
    assert "IVRHOOKS_EVENTS_MAX_BODY" in said.json()["error"]
    status, _ = await curl(*sending, "--data-binary", json.dumps(CDR), r.url + "/events/cdr")
    assert status == 200
    found = await quiet(r.url)
    assert found["unreadable"] == 2
    assert [event_digest("cdr", e.raw) for e in seen.every] == [event_digest("cdr", CDR)]


EXAMPLES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parent / "portsip-examples.json").read_text()
)["examples"]


async def test_every_portsip_example_is_accepted_and_parsed_to_its_model(
    served: tuple[RunningApp, Seen],
) -> None:
    r, seen = served
    models = {name: CallCDR if name == "call_cdr" else ExtensionEvent for name in EXAMPLES}
    async with httpx.AsyncClient(timeout=5) as http:
        for name, body in EXAMPLES.items():
            kind: EventKind = "cdr" if name == "call_cdr" else "extension"
            answer = await http.post(
                r.url + f"/events/{kind}", json=body, auth=basic_auth(SECRET, kind)
            )
            assert answer.status_code == 200, name
    found = await quiet(r.url)
    got = {e.type: e for e in seen.every}
    assert {name: type(got.get(name)) for name in EXAMPLES} == models
    assert found["unknown_type"] == 0
    assert got["call_cdr"].raw == EXAMPLES["call_cdr"]
    assert [e.type for e in seen.typed] == ["call_cdr"]
