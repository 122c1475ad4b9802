"""``PBXClient``: the PortSIP Virtual Receptionist REST API over one ``httpx.AsyncClient``.

Every request goes through :meth:`PBXClient.request`, the one chokepoint that takes a slot of
the rate budget (``ivrhooks.pbx.ratelimit``), adds the Bearer token, retries what is safe to
retry, logs in again once on a 401 and maps failures onto ``ivrhooks.pbx.errors``. Only GET and
POST exist on this API (PortSIP REST "About").

Each call (its retries and any login it needed included) is one client span when tracing is on,
and one :class:`~ivrhooks.observer.PBXCall` for the observer: named by its path *template*
(:mod:`ivrhooks.pbx.templates`), never by a path with ids, a query string or a token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from ivrhooks.core.types import Method
from ivrhooks.errors import (
    PBXAPIError,
    PBXConnectionError,
    PBXNotFoundError,
    PBXUnauthorizedError,
    PBXValidationError,
)
from ivrhooks.observe.observer import Observer, PBXCall
from ivrhooks.observe.tracing import NO_TRACING, Span, Tracing
from ivrhooks.pbx.account import account_info
from ivrhooks.pbx.ratelimit import DEFAULT_RATE, RateBudget
from ivrhooks.pbx.resources import ActionUrls, Ivrs, IvrServers
from ivrhooks.pbx.retry import RETRY_STATUSES, Retry, RetryPolicy, parse_retry_after
from ivrhooks.pbx.templates import endpoint_template
from ivrhooks.pbx.tokens import TokenManager
from ivrhooks.schema.models import AccountInfo

__all__ = ["PBXClient", "Retry"]

log = logging.getLogger("ivrhooks.pbx")

# These never put a byte on the wire, so the PBX cannot have acted on the request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class PBXClient:
    """An async client for the PBX's virtual receptionist REST API.

    ``base_url`` includes ``/api`` (``https://pbx.example.com:8887/api``). Give ``username`` and
    ``password`` (plus ``domain`` for a tenant user), or a static ``token``. Use it as
    ``async with PBXClient(...) as pbx:``; the resource groups are ``pbx.ivr_servers``,
    ``pbx.ivrs`` and ``pbx.action_urls``. ``rate`` caps the requests sent in any one-second
    window, token calls included (a :class:`RateBudget` to share or tune one; ``None``: no cap,
    for a fake PBX only). ``observer`` is told of every call and login (the app's metrics, under
    the registration service); ``tracing`` makes a span of each call.
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
        max_attempts: int = 4,
        max_retry_time: float = 30.0,
        backoff_base: float = 0.2,
        backoff_cap: float = 5.0,
        max_retry_after: float = 30.0,
        refresh_margin: float = 60.0,
        rate: int | RateBudget | None = DEFAULT_RATE,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        observer: Observer | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
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
            refresh_margin=refresh_margin,
            clock=clock,
            on_login=observer.pbx_login if observer is not None else None,
        )
        self._retry = RetryPolicy(
            max_attempts=max_attempts,
            max_time=max_retry_time,
            base=backoff_base,
            cap=backoff_cap,
            max_retry_after=max_retry_after,
        )
        self.budget = RateBudget(rate) if isinstance(rate, int) else rate
        self._http = httpx.AsyncClient(
            base_url=self.base_url, verify=verify, timeout=timeout, transport=transport
        )
        self.ivr_servers = IvrServers(self)
        self.ivrs = Ivrs(self)
        self.action_urls = ActionUrls(self)

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

    async def _send_unauthenticated(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        # Token endpoints: a login repeated after a 503 is harmless, so retry like a GET.
        return await self._attempts(method, path, retry="all", authenticated=False, **kwargs)

    async def request(
        self,
        method: Method,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        retry: Retry = "all",
    ) -> httpx.Response:
        """Send one API request (``path`` relative to ``base_url``); errors raise ``PBXError``."""
        response = await self._attempts(
            method, path, retry=retry, authenticated=True, json=json, params=params
        )
        if response.status_code >= 400:
            raise _api_error(response, method, path)
        return response

    async def _attempts(
        self, method: str, path: str, *, retry: Retry, authenticated: bool, **kwargs: Any
    ) -> httpx.Response:
        template = endpoint_template(path)
        url_template = f"{self._base_path}/{template}"
        attributes = {"http.request.method": method, "url.template": url_template, **self._server}
        started = time.monotonic()
        tally = _Tally()
        with self._tracing.span(f"{method} {url_template}", "client", attributes) as span:
            try:
                response = await self._send(method, path, retry, authenticated, tally, span, kwargs)
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
        tally: _Tally,
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

    async def _send(
        self,
        method: str,
        path: str,
        retry: Retry,
        authenticated: bool,
        tally: _Tally,
        span: Span,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        attempt = 0
        waited = 0.0
        relogged = False
        while True:
            attempt += 1
            headers: dict[str, str] = {}
            token = ""
            if authenticated:
                token = await self.tokens.token()
                headers["Authorization"] = f"Bearer {token}"
            if self.budget is not None:
                await self.budget.acquire()
            try:
                response = await self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                reached = not isinstance(exc, _NOT_SENT)
                error = PBXConnectionError(
                    f"{method} {path}: {type(exc).__name__}: {exc}",
                    method=method,
                    path=path,
                    reached=reached,
                )
                delay = self._retry.delay(attempt)
                if (retry == "all" or not reached) and self._retry.allows(attempt, waited, delay):
                    log.info("%s %s failed (%s); retrying", method, path, type(exc).__name__)
                    tally.retries += 1
                    span.event(
                        "retry", {"error.type": type(exc).__name__, "ivrhooks.retry.delay_s": delay}
                    )
                    waited += delay
                    await asyncio.sleep(delay)
                    continue
                raise error from exc
            status = response.status_code
            if status == 429:
                tally.limited += 1
            if status == 429 and self.budget is not None:
                after = parse_retry_after(response.headers.get("Retry-After"))
                cap = self._retry.max_retry_after
                self.budget.slow_down(None if after is None else min(after, cap))
            if authenticated and status == 401 and not relogged:
                relogged = True
                attempt -= 1  # a fresh login is not a retry of a failing PBX
                if await self.tokens.invalidate(token):
                    log.info("the PBX refused the token; logging in again")
                    continue
            if status in RETRY_STATUSES and retry == "all":
                delay = self._retry.delay(
                    attempt, parse_retry_after(response.headers.get("Retry-After"))
                )
                if self._retry.allows(attempt, waited, delay):
                    log.info("%s %s -> %d; retrying in %.2fs", method, path, status, delay)
                    tally.retries += 1
                    span.event(
                        "retry",
                        {"http.response.status_code": status, "ivrhooks.retry.delay_s": delay},
                    )
                    waited += delay
                    started = time.monotonic()
                    await asyncio.sleep(delay)
                    waited += max(0.0, time.monotonic() - started - delay)
                    continue
            return response


class _Tally:
    """What one call's attempts added up to."""

    __slots__ = ("limited", "retries")

    def __init__(self) -> None:
        self.retries = 0
        self.limited = 0


def _api_error(response: httpx.Response, method: str, path: str) -> PBXAPIError:
    code, message, detail = "UNKNOWN", response.reason_phrase or "", None
    try:
        body = response.json()
        first = body["errors"][0]
        code = str(first.get("code") or "UNKNOWN")
        message = str(first.get("message") or message)
        detail = first.get("detail")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        pass
    kwargs: dict[str, Any] = dict(
        status=response.status_code,
        code=code,
        message=message,
        detail=detail,
        method=method,
        path=path,
    )
    if response.status_code == 401:
        return PBXUnauthorizedError(**kwargs)
    if response.status_code == 404:
        return PBXNotFoundError(**kwargs)
    if code == "VALIDATE_FAILED":
        return PBXValidationError(**kwargs)
    return PBXAPIError(**kwargs)
