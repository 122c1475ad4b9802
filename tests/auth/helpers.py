"""Test helpers: drive the served endpoint in-process with exact bytes, and build Digest replies.

Every protected app here is ``ActionEndpoint.bind(ServedRoute(...))``: the composition the server
serves each action-URL path with (auth before the body, then parsing, routing and the handler).

The Digest client here is written from RFC 7616 §3.4 independently of ivrhooks.auth.digest, so a
bug shared by both sides cannot hide (the RFC's worked examples pin the server side separately).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message

from ivrhooks import hangup
from ivrhooks.core.auth import (
    Authenticator,
    AuthGuard,
    Credentials,
    Pending,
    Secrets,
    Verdict,
    build_authenticator,
    derive_credentials,
)
from ivrhooks.core.auth.verdict import Deferred
from ivrhooks.core.deadline import Deadline
from ivrhooks.core.decisions import Decision
from ivrhooks.core.masks import parse_mask
from ivrhooks.core.request import ActionRequest
from ivrhooks.core.routes import Route
from ivrhooks.observe.builtin import RequestObserver
from ivrhooks.observe.metrics import Metrics
from ivrhooks.runtime import Signals
from ivrhooks.server.endpoint import ActionEndpoint, ServedRoute

SECRET = "test-secret-0123456789-abcdefghij"
ROUTE = "sales"
OTHER = "support"
T0 = 1_700_000_000.0
TARGET = b"/ivr/8000/dtmf?from=1001&to=8000&from_name=J%C3%BCrgen+M%C3%BCller&input=1"
HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> list[bytes]:
        return [v for k, v in self.headers if k == name]


class Handler:
    """The route's handler: records that it ran (which it must not, for any rejection)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: ActionRequest) -> Decision:
        self.calls += 1
        return hangup()


def protected(
    handler: Handler, authenticator: Authenticator, guard: AuthGuard, metrics: Metrics | None = None
) -> ASGIApp:
    """One route (any DTMF input on receptionist 8000) served exactly as the server serves it."""
    route = Route(
        name=authenticator.route_id, kind="DTMF", mask=parse_mask("ALL", "DTMF"), handler=handler
    )
    endpoint = ActionEndpoint(
        deadline=Deadline.of(1.5),
        executor=None,
        max_body=8192,
        guard=guard,
        observer=RequestObserver(metrics or Metrics()),
        signals=Signals(),
    )
    served = ServedRoute(route, frozenset({"8000"}), authenticator.scheme, authenticator)
    return endpoint.bind(served)


async def call(
    app: ASGIApp,
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    client: str = "127.0.0.1",
) -> Response:
    path, _, query = target.partition(b"?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(path.decode("latin-1")),
        "raw_path": path,
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": (client, 40000),
        "server": ("127.0.0.1", 8080),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return Response(sent[0]["status"], list(sent[0]["headers"]), sent[1]["body"])


def judged(result: Verdict | Pending | Deferred) -> Verdict:
    """A verifier's answer that needed no slow hash (only htpasswd files hand back a Pending)."""
    assert isinstance(result, Verdict), result
    return result


def challenges(
    headers: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...],
) -> list[dict[str, str]]:
    out = []
    for name, value in headers:
        if name == b"www-authenticate" and value.startswith(b"Digest "):
            out.append(dict(re.findall(r'(\w+)="?([^",]*)"?', value.decode()[7:])))
    return out


def basic(user: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode())


def _h(alg: str, text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return HASHES[alg](data).hexdigest()


def digest_fields(
    *,
    username: str,
    password: str,
    nonce: str,
    uri: str,
    method: str = "GET",
    realm: str = "ivrhooks",
    algorithm: str = "MD5",
    qop: str = "auth",
    nc: str = "00000001",
    cnonce: str = "0a4f113b",
    opaque: str | None = None,
    ha1: str | None = None,
    response_uri: str | None = None,
) -> dict[str, str]:
    """The fields of a Digest reply (RFC 7616 §3.4); ``response`` computed as a client would."""
    hash_alg = algorithm.removesuffix("-sess") if algorithm.endswith("-sess") else algorithm
    if hash_alg not in HASHES:
        hash_alg = "MD5"
    ha1 = _h(hash_alg, f"{username}:{realm}:{password}") if ha1 is None else ha1
    ha2 = _h(hash_alg, f"{method}:{response_uri or uri}")
    response = _h(hash_alg, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    fields = {
        "username": username,
        "realm": realm,
        "nonce": nonce,
        "uri": uri,
        "algorithm": algorithm,
        "response": response,
        "qop": qop,
        "nc": nc,
        "cnonce": cnonce,
    }
    if opaque is not None:
        fields["opaque"] = opaque
    return fields


_UNQUOTED = {"algorithm", "qop", "nc"}


def digest_header(fields: dict[str, str]) -> bytes:
    parts = [f"{k}={v}" if k in _UNQUOTED else f'{k}="{v}"' for k, v in fields.items()]
    return ("Digest " + ", ".join(parts)).encode()


@dataclass
class Setup:
    """One application's worth of protected routes, with a controllable clock."""

    clock: Clock = field(default_factory=Clock)
    secrets: Secrets = field(default_factory=lambda: Secrets(SECRET))
    creds: Credentials = field(default_factory=lambda: derive_credentials(SECRET, ROUTE))
    other: Credentials = field(default_factory=lambda: derive_credentials(SECRET, OTHER))
    handler: Handler = field(default_factory=Handler)
    auth: dict[str, Authenticator] = field(default_factory=dict)
    apps: dict[str, ASGIApp] = field(default_factory=dict)
    guard: AuthGuard | None = None

    def __post_init__(self) -> None:
        self.guard = self.guard or AuthGuard(max_failures=1000, clock=self.clock)
        for scheme in ("basic", "digest", "bearer"):
            self.add(scheme, scheme, ROUTE)
        self.add("digest_other", "digest", OTHER)

    def add(self, name: str, scheme: Any, route_id: str, **kw: Any) -> None:
        assert self.guard is not None
        self.auth[name] = build_authenticator(
            scheme, route_id, secrets=self.secrets, clock=self.clock, **kw
        )
        self.apps[name] = protected(self.handler, self.auth[name], self.guard)

    def challenge(self, name: str = "digest", now: float | None = None) -> dict[str, str]:
        verdict = judged(self.auth[name].check("GET", TARGET, [], now=now))
        return challenges(verdict.headers)[0]

    def digest(self, name: str = "digest", **kw: Any) -> dict[str, str]:
        """Correct Digest reply fields for route ``name``; override any with keywords."""
        ch = self.challenge(name)
        creds = self.creds if name == "digest" else self.other
        base: dict[str, Any] = {
            "username": creds.username,
            "password": creds.password,
            "nonce": ch["nonce"],
            "uri": TARGET.decode(),
            "opaque": ch["opaque"],
        }
        base.update(kw)
        return digest_fields(**base)
