"""Posting events to the tenant's event URLs, as PortSIP says it does.

``webhook-notifications/receiving-events-via-a-webhook.md``: each event is an HTTP POST of a JSON
object; the endpoint "MUST" answer 200, and anything else is retried (version 2 of that page:
5 times over 15 minutes, at about 15 s, 1 min, 3, 8 and 15 min), except a **404, which stops
the retries**. The fake retries the same way with test-sized waits (``FakePBX(
event_retry_waits=...)``) and, like the PBX, does not hold later events back while one waits for
its retry. Basic, Digest and Bearer auth are sent as for action URLs (:mod:`..dial`); whether a
Digest challenge counts as a failed attempt on a real PBX is unverified (here it does not: httpx
answers the challenge within the attempt).

Every attempt is recorded (:class:`SentEvent`), for tests and the dev page's live list. Sending
runs in tasks of its own; :meth:`EventSender.settled` waits until all of it is done.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from ivrhooks.events import EventKind
from ivrhooks.events.values import sip_user
from ivrhooks.fakepbx.webhooks.faults import EventFaults
from ivrhooks.fakepbx.webhooks.payloads import Payload
from ivrhooks.schema.models import AuthMode
from ivrhooks.schema.tenant import EventUrl

__all__ = ["DEFAULT_RETRY_WAITS", "TIMEOUT", "EventSender", "SentEvent"]

#: Seconds before each retry: PortSIP's five, shrunk from minutes to what a test can wait.
DEFAULT_RETRY_WAITS: Final = (0.01, 0.02, 0.05, 0.1, 0.2)
#: Seconds an attempt may take (PortSIP's timeout for events is not documented).
TIMEOUT: Final = 5.0


@dataclass(frozen=True)
class SentEvent:
    """One attempt at delivering one event: what was posted where, and what came back.

    ``status``: the HTTP status (``None``: no answer, see ``error``); ``attempt``: 1 for the
    first try; ``copy``: a duplicate :class:`~.faults.EventFaults` added; ``at``: Unix time;
    ``call``: the session id of the call that sent it (extension events carry none of their
    own), ``None`` for an extension's change (``FakePBX.set_extension``)."""

    kind: EventKind
    body: dict[str, Any]
    url: str
    attempt: int
    status: int | None
    error: str | None
    copy: bool
    at: float
    call: str | None = None

    @property
    def event_type(self) -> str:
        return str(self.body.get("event_type", ""))

    @property
    def session_id(self) -> str | None:
        value = self.body.get("session_id")
        return None if value is None else str(value)

    @property
    def delivered(self) -> bool:
        return self.status == 200

    @property
    def target(self) -> str | None:
        """The number the event is about: a call target's, or an extension's."""
        return sip_user(self.body.get("destiantion") or self.body.get("extension"))


def _auth(url: EventUrl) -> tuple[httpx.Auth | None, dict[str, str]]:
    if url.auth is AuthMode.BASIC:
        return httpx.BasicAuth(url.username or "", url.password or ""), {}
    if url.auth is AuthMode.DIGEST:
        return httpx.DigestAuth(url.username or "", url.password or ""), {}
    if url.auth is AuthMode.BEARER and url.token:
        return None, {"Authorization": f"Bearer {url.token}"}
    return None, {}


async def post(
    client: httpx.AsyncClient, url: EventUrl, body: dict[str, Any]
) -> tuple[int | None, str | None]:
    """POST ``body`` to ``url``; the status, or why there is none. Never raises for the
    network: a failed attempt is an answer too."""
    auth, headers = _auth(url)
    kwargs: dict[str, Any] = {"json": body, "headers": headers}
    if auth is not None:
        kwargs["auth"] = auth
    try:
        async with asyncio.timeout(TIMEOUT):
            response = await client.post(url.url or "", **kwargs)
    except (httpx.TimeoutException, TimeoutError):
        return None, "timeout"
    except httpx.ConnectError:
        return None, "connection refused"
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    return response.status_code, None if response.status_code == 200 else "not 200"


@dataclass(frozen=True)
class _Delivery:
    kind: EventKind
    body: dict[str, Any]
    url: EventUrl
    copy: bool
    call: str | None


class EventSender:
    """Sends each call's events in a task of its own; records every attempt."""

    def __init__(
        self,
        *,
        faults: EventFaults,
        retry_waits: Sequence[float],
        refusal: Callable[[str], str | None],
    ) -> None:
        self.faults = faults
        self.retry_waits = tuple(retry_waits)
        self.refusal = refusal
        self.sent: list[SentEvent] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._errors: list[BaseException] = []
        self._listeners: list[Callable[[SentEvent], None]] = []
        # One client while there is work: a client per event would build a TLS context each
        # time, on the loop that answers the calls. Closed when the last task ends.
        self._client: httpx.AsyncClient | None = None

    def listen(self, listener: Callable[[SentEvent], None]) -> Callable[[], None]:
        """Call ``listener`` with every attempt as it is recorded; returns what stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def send(
        self,
        payloads: list[Payload],
        urls: Mapping[EventKind, EventUrl],
        *,
        call: str | None = None,
    ) -> int:
        """Queue ``payloads`` (of the call ``call``) for the kinds that have a URL; how many
        were queued."""
        chosen = [(kind, body) for kind, body in payloads if kind in urls]
        if chosen:
            self._track(self._run(chosen, dict(urls), call))
        return len(chosen)

    def _track(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._closing(work))
        self._tasks.add(task)
        task.add_done_callback(self._done)
        # A task cancelled before its first step (aclose() right after a failed attempt
        # scheduled its retry) never awaits ``work``: close it, or it warns when collected.
        task.add_done_callback(lambda _: work.close())

    async def _closing(self, work: Any) -> None:
        try:
            await work
        finally:
            # The others still working: a task that ended in this same turn of the loop is
            # still in ``_tasks`` until its done callback runs.
            current = asyncio.current_task()
            working = [t for t in self._tasks if t is not current and not t.done()]
            if self._client is not None and not working:
                client, self._client = self._client, None  # a new task makes a new one
                await client.aclose()

    def _client_now(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(TIMEOUT))
        return self._client

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._errors.append(task.exception())  # type: ignore[arg-type]  # not None

    async def _run(
        self, payloads: list[Payload], urls: dict[EventKind, EventUrl], call: str | None
    ) -> None:
        for (kind, body), copy in self.faults.apply(payloads):
            if self.faults.delay:
                await asyncio.sleep(self.faults.delay)
            await self._attempt(_Delivery(kind, body, urls[kind], copy, call), 1)

    async def _attempt(self, it: _Delivery, attempt: int) -> None:
        target = it.url.url or ""
        refusal = self.refusal(target)
        status: int | None = None
        error: str | None = f"not sent: {refusal}"
        if refusal is None:
            status, error = await post(self._client_now(), it.url, it.body)
        at = time.time()
        self._record(
            SentEvent(it.kind, it.body, target, attempt, status, error, it.copy, at, it.call)
        )
        if refusal is not None or status in (200, 404) or attempt > len(self.retry_waits):
            return  # refused; delivered; a 404 stops the retries (PortSIP); or given up
        self._track(self._retry(it, attempt))

    async def _retry(self, it: _Delivery, attempt: int) -> None:
        await asyncio.sleep(self.retry_waits[attempt - 1])
        await self._attempt(it, attempt + 1)

    def _record(self, sent: SentEvent) -> None:
        self.sent.append(sent)
        for listener in list(self._listeners):
            listener(sent)

    async def settled(self) -> list[SentEvent]:
        """Wait until every queued event was delivered or given up; every attempt so far.
        Raises what a sending task raised (a bug in the fake, not a failed delivery)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._errors:
            raise self._errors.pop(0)
        return list(self.sent)

    async def aclose(self) -> None:
        """Stop sending: what is still queued is dropped (the PBX is going away)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
