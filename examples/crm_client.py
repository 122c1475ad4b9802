"""The CRM example's client: find a caller's account manager fast enough for the PBX.

The PBX waits 2 seconds for a decision (PortSIP admin guide, "Action URL": request timeout
default 2 s), so a lookup in a handler must be quick, must not repeat itself, and must fail
fast enough for the app to send the caller to the operator instead. Hence:

- one shared ``httpx.AsyncClient`` (connection reuse; created in ``start``/``async with``);
- a bounded TTL cache: known numbers for ``ttl`` seconds, unknown ones for the shorter
  ``miss_ttl`` (a new customer should not wait long to be recognised); errors are not cached;
- single flight: concurrent lookups of one number share one HTTP request; a waiter that is
  cancelled or gives up leaves the shared request running for the others, and its answer still
  lands in the cache;
- every failure (timeout, refused connection, 5xx, a malformed answer) is :class:`CRMUnavailable`.

Messages never contain the phone number: exceptions end up in logs.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Self
from urllib.parse import quote

import httpx

__all__ = ["CRMClient", "CRMUnavailable"]


class CRMUnavailable(Exception):
    """The CRM could not answer in time or at all; the app should fall back (e.g. operator)."""


class CRMClient:
    """Look up account managers in the CRM service, cached and single-flight.

    Use as ``async with CRMClient("http://crm:8900") as crm: await crm.manager_for(caller)``,
    or call :meth:`start` and :meth:`aclose` from an app lifespan.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 0.5,
        ttl: float = 300.0,
        miss_ttl: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (("timeout", timeout), ("ttl", ttl), ("miss_ttl", miss_ttl)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0 seconds, got {value!r}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.ttl = ttl
        self.miss_ttl = miss_ttl
        self.max_entries = max_entries
        self._clock = clock
        self._http: httpx.AsyncClient | None = None
        # phone -> (expires_at, manager or None); insertion order is recency (LRU).
        self._cache: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._flights: dict[str, asyncio.Task[str | None]] = {}

    async def start(self) -> None:
        """Open the shared HTTP client (idempotent)."""
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout)

    async def aclose(self) -> None:
        """Cancel lookups in flight and close the HTTP client (idempotent)."""
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ASYNC109: the per-call timeout is the point of this API (each handler knows how much of
    # the PBX's 2 s budget is left); it is applied with asyncio.timeout inside.
    async def manager_for(
        self,
        phone: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> str | None:
        """The extension of ``phone``'s account manager, or ``None`` for an unknown caller.

        ``timeout`` (default: the client's) bounds how long this call waits; giving up does not
        cancel the shared request. Raises :class:`CRMUnavailable` when the CRM fails or is slow.
        """
        if not isinstance(phone, str) or not phone:
            raise ValueError("phone must be a non-empty string")
        wait = self.timeout if timeout is None else timeout
        if not wait > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        hit, manager = self._cached(phone)
        if hit:
            return manager
        flight = self._flights.get(phone)
        if flight is None:
            if self._http is None:
                raise RuntimeError("CRMClient is not started: use `async with` or `await start()`")
            flight = asyncio.get_running_loop().create_task(self._fetch(self._http, phone))
            self._flights[phone] = flight
            flight.add_done_callback(partial(self._landed, phone))
        try:
            async with asyncio.timeout(wait):
                # shield: cancelling or timing out this waiter must not cancel the shared lookup.
                return await asyncio.shield(flight)
        except TimeoutError:
            raise CRMUnavailable(f"the CRM did not answer within {wait:g} s") from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if flight.cancelled() and task is not None and not task.cancelling():
                # The lookup was cancelled under us by aclose(), not this waiter.
                raise CRMUnavailable("the CRM client was closed") from None
            raise

    async def verify_pin(
        self,
        account: str,
        pin: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - as manager_for: the caller's budget
    ) -> str | None:
        """The account manager's extension when ``pin`` opens ``account``, else ``None`` (a
        wrong PIN or an unknown account). Never cached. Raises :class:`CRMUnavailable`."""
        if self._http is None:
            raise RuntimeError("CRMClient is not started: use `async with` or `await start()`")
        wait = self.timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(wait):
                response = await self._http.post(
                    f"/accounts/{quote(account, safe='')}/verify", json={"pin": pin}
                )
        except (TimeoutError, httpx.HTTPError) as exc:
            raise CRMUnavailable(f"the CRM did not answer: {type(exc).__name__}") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise CRMUnavailable(f"the CRM answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise CRMUnavailable("the CRM answered something that is not JSON") from None
        manager = body.get("manager") if body.get("ok") is True else None
        return manager if isinstance(manager, str) and manager.isdigit() else None

    def _cached(self, phone: str) -> tuple[bool, str | None]:
        """(hit, manager): a cached miss is a hit whose manager is None."""
        entry = self._cache.get(phone)
        if entry is None:
            return False, None
        expires_at, manager = entry
        if self._clock() >= expires_at:
            del self._cache[phone]
            return False, None
        self._cache.move_to_end(phone)
        return True, manager

    def _store(self, phone: str, manager: str | None) -> None:
        ttl = self.ttl if manager is not None else self.miss_ttl
        self._cache[phone] = (self._clock() + ttl, manager)
        self._cache.move_to_end(phone)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)

    def _landed(self, phone: str, flight: asyncio.Task[str | None]) -> None:
        if self._flights.get(phone) is flight:
            del self._flights[phone]
        if not flight.cancelled():
            flight.exception()  # retrieved: a failure nobody waited for is not "never retrieved"

    async def _fetch(self, http: httpx.AsyncClient, phone: str) -> str | None:
        try:
            response = await http.get(f"/customers/{quote(phone, safe='')}")
        except httpx.TimeoutException:
            raise CRMUnavailable(f"the CRM did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise CRMUnavailable(f"the CRM is unreachable ({type(exc).__name__})") from None
        if response.status_code == 404:
            manager = None
        elif response.status_code == 200:
            manager = _manager_from(response)
        else:
            raise CRMUnavailable(f"the CRM answered HTTP {response.status_code}")
        self._store(phone, manager)
        return manager


def _manager_from(response: httpx.Response) -> str:
    try:
        manager = response.json().get("manager")
    except (ValueError, AttributeError):
        manager = None
    if not isinstance(manager, str) or not manager:
        raise CRMUnavailable("the CRM answered 200 without a manager")
    return manager
