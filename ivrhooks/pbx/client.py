"""``PBXClient``: the PortSIP Virtual Receptionist REST API over one ``httpx.AsyncClient``.

Every request goes through :meth:`PBXClient.request`, the one chokepoint that maps failures onto
``ivrhooks.errors``. What it layers is httpx's own idiom, each layer in its module:

- the token (:class:`~ivrhooks.pbx.auth.BearerAuth`, an ``httpx.Auth`` flow over the
  :class:`~ivrhooks.pbx.tokens.TokenManager`): Bearer header, one fresh login after a 401;
- retries (:func:`~ivrhooks.pbx.attempts.send_with_retries` applying one
  :class:`~ivrhooks.pbx.retry.RetryPolicy`): around the auth flow, so each retry carries a
  current token;
- the rate budget (:mod:`ivrhooks.pbx.ratelimit`): an httpx request hook, so every request that
  goes on the wire takes a slot, logins and the resend after a 401 included;
- what an answer may cost (:mod:`ivrhooks.pbx.limits`): a byte cap on every body (an httpx
  response hook) and a deadline on every try, armed by the request hook once the slot is taken.

PBX text that enters an exception (``errors[].message``, a reason phrase) goes through
:func:`~ivrhooks.pbx.untrusted.pbx_text` first: the client's own secrets redacted, control
characters escaped, the length capped.

Only GET and POST exist on this API (PortSIP REST "About"). Each call (its retries and any
login it needed included) is one client span when tracing is on, and one
:class:`~ivrhooks.observer.PBXCall` for the observer: named by its path *template*
(:mod:`ivrhooks.pbx.templates`), never by a path with ids, a query string or a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from ivrhooks.core.types import Method
from ivrhooks.errors import PBXConnectionError
from ivrhooks.observe.observer import Observer, PBXCall
from ivrhooks.observe.tracing import NO_TRACING, Span, Tracing
from ivrhooks.pbx.account import account_info
from ivrhooks.pbx.apierror import api_error
from ivrhooks.pbx.attempts import Tally, send_with_retries
from ivrhooks.pbx.auth import BearerAuth
from ivrhooks.pbx.limits import (
    BODY_LIMIT,
    DEADLINE,
    MAX_BODY,
    MAX_LIST_ITEMS,
    MAX_TOKEN_BODY,
    arm_deadline,
    cap_body,
    check_positive,
    within_deadline,
)
from ivrhooks.pbx.ratelimit import DEFAULT_RATE, RateBudget
from ivrhooks.pbx.resources import ActionUrls, Ivrs, IvrServers
from ivrhooks.pbx.retry import Retry, RetryPolicy, never_sent
from ivrhooks.pbx.templates import endpoint_template
from ivrhooks.pbx.tenant import TenantSettings
from ivrhooks.pbx.tls import verifying
from ivrhooks.pbx.tokens import LoginGate, TokenManager
from ivrhooks.pbx.untrusted import pbx_text
from ivrhooks.schema.models import AccountInfo

__all__ = ["PBXClient", "Retry"]


class PBXClient:
    """An async client for the PBX's virtual receptionist REST API.

    ``base_url`` includes ``/api`` (``https://pbx.example.com:8887/api``). Give ``username`` and
    ``password`` (plus ``domain`` for a tenant user), or a static ``token``. Use it as
    ``async with PBXClient(...) as pbx:``; the resource groups are ``pbx.ivr_servers``,
    ``pbx.ivrs`` and ``pbx.action_urls``. ``retry`` says what is retried and how long to wait
    (default ``RetryPolicy()``). ``rate`` caps the requests sent in any one-second window, token
    calls included (a :class:`RateBudget` to share or tune one; ``None``: no cap, for a fake
    PBX only). ``transport`` is httpx's (``httpx.MockTransport`` in tests); ``clock`` times the
    token's refresh. ``observer`` is told of every call and login (the app's metrics, under the
    registration service); ``tracing`` makes a span of each call.

    What a PBX answer may cost (:mod:`~ivrhooks.pbx.limits`): ``timeout`` bounds each read,
    ``deadline`` a whole try (seconds); ``max_token_body`` and ``max_body`` the bytes of a token
    endpoint's answer and of any other; ``max_list_items`` the items one list pages through.
    ``login_gate`` is asked before every login (the registration service's budget of refused
    logins shared by its replicas, :mod:`ivrhooks.registration.logins`).
    """

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        domain: str | None = None,
        token: str | None = None,
        verify: bool = True,
        timeout: float = 10.0,
        deadline: float = DEADLINE,
        max_body: int = MAX_BODY,
        max_token_body: int = MAX_TOKEN_BODY,
        max_list_items: int = MAX_LIST_ITEMS,
        login_gate: LoginGate | None = None,
        retry: RetryPolicy | None = None,
        rate: int | RateBudget | None = DEFAULT_RATE,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        observer: Observer | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        check_positive(
            deadline=deadline,
            max_body=max_body,
            max_token_body=max_token_body,
            max_list_items=max_list_items,
        )
        self.deadline = deadline
        self._body_limit = (max_body, "PBXClient(max_body=...)")
        self._token_limit = (max_token_body, "PBXClient(max_token_body=...)")
        self.max_list_items = max_list_items
        self._observer = observer
        self._tracing = tracing if tracing is not None else NO_TRACING
        where = urlsplit(self.base_url)
        self._base_path = where.path.rstrip("/")
        self._server: dict[str, str | int] = {"server.address": where.hostname or ""}
        port = where.port or {"http": 80, "https": 443}.get(where.scheme)
        if port is not None:
            self._server["server.port"] = port
        # Checks the login first: a bad one must not leave an open client behind.
        self.tokens = TokenManager(
            self._send_unauthenticated,
            username=username,
            password=password,
            domain=domain,
            token=token,
            clock=clock,
            on_login=observer.pbx_login if observer is not None else None,
            gate=login_gate,
        )
        self.auth = BearerAuth(self.tokens)
        self.retry = retry if retry is not None else RetryPolicy()
        self.budget = RateBudget(rate) if isinstance(rate, int) else rate
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            verify=verifying(verify),  # one CA bundle load per process, not per client
            timeout=timeout,
            transport=transport,
            # Uncompressed answers only: a compressed one could unpack past the byte cap.
            headers={"Accept-Encoding": "identity"},
            event_hooks={"request": [self._on_the_wire], "response": [self._cap_body]},
        )
        self.ivr_servers = IvrServers(self, max_items=max_list_items)
        self.ivrs = Ivrs(self, max_items=max_list_items)
        self.action_urls = ActionUrls(self, max_items=max_list_items)
        self.tenant = TenantSettings(self)
        """The tenant's event URLs (``GET``/``POST /tenant``)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"PBXClient({self.base_url!r})"  # never the login or the token

    async def account(self) -> AccountInfo | None:
        """The logged-in account's role and capabilities (None: the PBX does not say)."""
        return await account_info(self)

    async def request(
        self,
        method: Method,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        retry: Retry = "all",
    ) -> httpx.Response:
        """Send one API request (``path`` relative to ``base_url``); errors raise ``PBXError``.

        ``retry="connect"`` (creates) retries only what provably never reached the PBX.
        """
        response = await self._call(
            method, path, retry, self.auth, self._body_limit, json=json, params=params
        )
        if response.status_code >= 400:
            raise api_error(response, method, path, self.tokens.secrets)
        return response

    async def _send_unauthenticated(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        # Token endpoints: a login repeated after a 503 is harmless, so retry like a GET.
        return await self._call(method, path, "all", None, self._token_limit, **kwargs)

    async def _on_the_wire(self, request: httpx.Request) -> None:
        """httpx's request hook: every request on the wire waits for a slot of the budget, then
        its try's deadline starts (a wait the budget imposes is not the PBX being slow)."""
        if self.budget is not None:
            await self.budget.acquire()
        arm_deadline(self.deadline)

    async def _cap_body(self, response: httpx.Response) -> None:
        """httpx's response hook: every body is read through its cap."""
        cap_body(response, base_path=self._base_path)

    async def _call(
        self,
        method: str,
        path: str,
        retry: Retry,
        auth: httpx.Auth | None,
        limit: tuple[int, str],
        **kwargs: Any,
    ) -> httpx.Response:
        template = endpoint_template(path)
        url_template = f"{self._base_path}/{template}"
        attributes = {"http.request.method": method, "url.template": url_template, **self._server}
        started = time.monotonic()
        tally = Tally()
        with self._tracing.span(f"{method} {url_template}", "client", attributes) as span:
            try:
                # Built once: each try and the auth flow's resend send the same request.
                request = self._http.build_request(
                    method, path, extensions={BODY_LIMIT: limit}, **kwargs
                )
                response = await send_with_retries(
                    lambda: within_deadline(
                        lambda: self._http.send(request, auth=auth), self.deadline, method, path
                    ),
                    self.retry,
                    retry=retry,
                    what=f"{method} {path}",
                    tally=tally,
                    span=span,
                    budget=self.budget,
                )
            except httpx.TransportError as exc:
                self._report(method, template, None, started, tally, span)
                raise PBXConnectionError(
                    f"{method} {path}: {type(exc).__name__}: {pbx_text(exc)}",
                    method=method,
                    path=path,
                    reached=not never_sent(exc),
                ) from exc
            except Exception:
                self._report(method, template, None, started, tally, span)
                raise
            status = response.status_code
            self._report(method, template, status, started, tally, span)
            if status >= 400:  # a client span fails on 4xx too (semantic conventions, HTTP)
                span.fail(str(status))
            return response

    def _report(
        self,
        method: str,
        template: str,
        status: int | None,
        started: float,
        tally: Tally,
        span: Span,
    ) -> None:
        if status is not None:
            span.set("http.response.status_code", status)
        if tally.retries:
            span.set("http.request.resend_count", tally.retries)
        if tally.limited:
            span.set("ivrhooks.pbx.rate_limited", tally.limited)
        if self._observer is not None:
            seconds = time.monotonic() - started
            call = PBXCall(method, template, status, seconds, tally.retries, tally.limited)
            self._observer.pbx_request(call)
