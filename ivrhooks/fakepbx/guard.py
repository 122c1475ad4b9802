"""Who a development server on loopback answers: the rules of the dev page and the fake PBX.

Loopback is not enough on its own: any web page the developer has open can make their browser
send requests to ``127.0.0.1``. So every listener the fake PBX opens (its REST API, its
``/_fake/*`` development endpoints, the dev page) answers only requests that:

- name a loopback host in ``Host`` (``127.0.0.1``, ``localhost``, ``[::1]``, any port): a
  DNS-rebinding page reaches ``127.0.0.1`` under its own name, and gets 403;
- send any body as ``application/json`` (415 otherwise): a cross-site form or ``no-cors`` fetch
  can send only ``text/plain``, a form or no type at all without a CORS preflight (Fetch
  standard, "CORS-safelisted request-header"), and these servers grant none;
- are not a CORS preflight (an ``OPTIONS`` with ``Access-Control-Request-Method``: 403). No
  answer carries an ``Access-Control-Allow-*`` header, so a page can read nothing either.

A rejected request reaches nothing behind the guard: no handler, no counter, no state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ivrhooks.fakepbx.login import OAUTH_PATH

__all__ = ["LOOPBACK_HOSTS", "LoopbackOnly", "guard_pbx"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_JSON = b"application/json"
_FORM = b"application/x-www-form-urlencoded"
_NOSNIFF = (b"x-content-type-options", b"nosniff")


def _media_type(value: bytes) -> bytes:
    """``application/json`` of ``Application/JSON; charset=utf-8``."""
    return value.partition(b";")[0].strip().lower()


def _host_name(value: bytes) -> str:
    host = value.decode("latin-1").lower()
    name, colon, port = host.rpartition(":")
    return name if colon and port.isdigit() else host


class LoopbackOnly:
    """ASGI middleware applying the rules above in front of ``app``.

    ``name`` says who refuses and ``hint`` how to be answered (in the answer's text);
    ``headers`` are added to every answer; ``hosts`` are names answered besides the loopback
    ones (``ivrhooks fake-pbx --allow-host``); ``forms`` are paths that also take
    ``application/x-www-form-urlencoded`` because the protocol they serve says so.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        name: str,
        hint: str = "",
        headers: Sequence[tuple[bytes, bytes]] = (_NOSNIFF,),
        hosts: Iterable[str] = (),
        forms: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.name, self.hint = name, hint
        self.headers = list(headers)
        self.hosts = LOOPBACK_HOSTS | {h.lower() for h in hosts}
        self.forms = frozenset(forms)

    def refusal(self, scope: Scope) -> Response | None:
        """The answer refusing this request, or ``None`` to let it through."""
        headers = dict(scope["headers"])
        if _host_name(headers.get(b"host", b"")) not in self.hosts:
            names = ", ".join(sorted(self.hosts))
            return Response(f"{self.name} answers to Host {names} only{self.hint}\n", 403)
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            return Response(f"{self.name} answers no cross-origin request\n", 403)
        declared = headers.get(b"content-type")
        length = headers.get(b"content-length", b"0").strip()
        carries = length not in (b"", b"0") or b"transfer-encoding" in headers
        if declared is None and not carries:
            return None  # no body at all (a destroy, a counters reset): nothing to forge
        kind = _media_type(declared or b"")
        if kind == _JSON or (kind == _FORM and scope["path"] in self.forms):
            return None
        return Response(f"{self.name}: send the body as application/json\n", 415)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await (self.refusal(scope) or self.app)(scope, receive, secured)


def guard_pbx(app: ASGIApp, *, hosts: Iterable[str] = ()) -> LoopbackOnly:
    """The guard of a served fake PBX (``/api``, ``/_fake/*``). PortSIP's v22.0/22.1 token
    endpoint keeps its form (REST "Authentication", reference §4): a login answers nothing a
    cross-site page can read, and a served fake PBX's password is generated per process."""
    hint = " (`ivrhooks fake-pbx --allow-host NAME` answers another)"
    return LoopbackOnly(app, name="the fake PBX", hint=hint, hosts=hosts, forms={OAUTH_PATH})
