"""``FakePBX``: PortSIP's Virtual Receptionist REST API and its action-URL calls, in-process.

``FakePBX(...).app`` is a Starlette app serving, under ``/api``, the 17 seed endpoints, the
three generations of token endpoints (``login_generations``, all by default) and the account
reads (``GET /auth/user``, ``GET /login``); serve it with ``ivrhooks.testing.serve``::

    pbx = FakePBX()
    ivr_id = pbx.add_ivr("8000", "Main")
    async with serve(pbx.app) as base:
        async with PBXClient(base + "/api", username=pbx.username, password=pbx.password) as c:
            ...
        result = await pbx.dial(to="8000", caller="101", digits="1")

State lives in memory, or in a SQLite file with ``db=path``. Tests read it directly
(``action_urls("8000")``, ``counters``) and inject faults (``faults``, ``fail_next``,
``expire_tokens``).

After each call it places, it posts the call's CDR and extension events to the tenant's enabled
event URLs (``GET``/``POST /api/tenant``, or ``set_event_url``) in the background
(:mod:`.webhooks`): ``extensions=`` says which forward targets do not answer, ``event_faults=``
duplicates, reorders and delays events, ``await events_sent()`` waits for them, and ``events``
records every attempt.

Calls go to loopback addresses only unless ``targets=`` says more (:mod:`.targets`). The login
defaults to ``DEFAULT_USERNAME``/``DEFAULT_PASSWORD`` for a test's own instance; the PBXs the
command line serves (``ivrhooks run``'s embedded one, ``ivrhooks fake-pbx``) generate a password
per process, and answer under :mod:`.guard`'s rules.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from ivrhooks.errors import InvalidArgumentError
from ivrhooks.fakepbx.api import build_app
from ivrhooks.fakepbx.behaviour import Behaviour, as_behaviour
from ivrhooks.fakepbx.dial import DialResult, fire, pick_action_url, request_fields
from ivrhooks.fakepbx.flow import CallFlow, follow
from ivrhooks.fakepbx.rates import RequestRate
from ivrhooks.fakepbx.resources import APIError, Resources
from ivrhooks.fakepbx.state import Counters, Faults
from ivrhooks.fakepbx.store import Store
from ivrhooks.fakepbx.targets import LOOPBACK, Targets
from ivrhooks.fakepbx.tokens import TokenIssuer
from ivrhooks.fakepbx.webhooks import DEFAULT_RETRY_WAITS, EventFaults, Extension, Webhooks
from ivrhooks.fakepbx.webhooks.face import EventMethods
from ivrhooks.pbx.generations import GENERATIONS, Generation
from ivrhooks.schema.models import ActionUrl, Ivr

__all__ = [
    "DEFAULT_CAPABILITIES",
    "DEFAULT_PASSWORD",
    "DEFAULT_PIN",
    "DEFAULT_ROLE",
    "DEFAULT_USERNAME",
    "Counters",
    "DialResult",
    "FakePBX",
    "Faults",
]

DEFAULT_USERNAME = "admin"
# A test's FakePBX() login; what the command line serves generates its own (see above).
DEFAULT_PASSWORD = "fakepbx"  # noqa: S105 - not a secret: a fake's documented default
#: A PIN a real PBX accepts: 6-10 digits (OpenAPI), no digit three times in a row and no
#: three ascending digits (its PIN policy).
DEFAULT_PIN = "582046"
#: A tenant administrator: the account PortSIP advises for integrations (reference §5).
DEFAULT_ROLE = "Admin"
DEFAULT_CAPABILITIES = ("Phone System: Full Access",)


class FakePBX(EventMethods):
    """An in-memory (or SQLite-backed) stand-in for a PortSIP PBX."""

    def __init__(
        self,
        *,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        token_ttl: float = 3600.0,
        login_generations: Iterable[Generation | str] = GENERATIONS,
        sign_in_supported: bool = True,
        two_factor: bool = False,
        role: str = DEFAULT_ROLE,
        capabilities: Sequence[str] | None = DEFAULT_CAPABILITIES,
        db: str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        outcomes: Callable[[str], dict[str, Any] | None] | None = None,
        targets: Targets = LOOPBACK,
        extensions: Mapping[str, str | Extension] | None = None,
        event_faults: EventFaults | None = None,
        event_retry_waits: Sequence[float] = DEFAULT_RETRY_WAITS,
        hide_event_secrets: bool = False,
        behaviour: Behaviour | str | os.PathLike[str] | None = None,
    ) -> None:
        self.username = username
        #: The base URL it is served at, when something served it (``ivrhooks.testing.running``).
        self.url: str | None = None
        self.password = password
        generations = frozenset(Generation.parse(g) for g in login_generations)
        if not sign_in_supported:  # the older spelling of "a PBX older than v22.2"
            generations -= {Generation.SIGN_IN}
        if not generations:
            raise InvalidArgumentError("login_generations: serve at least one login generation")
        #: The login endpoints it answers; the others answer 404 (PortSIP REST §4).
        self.login_generations = generations
        #: Told of every action URL a call fires, and of input no action URL takes, as it
        #: happens (``listen``): the dev page's live call list.
        self._listeners: list[Callable[[DialResult], None]] = []
        #: What ``GET /auth/user`` (and ``GET /login``, role only) say about the account;
        #: ``capabilities=None`` emulates a PBX older than v22.3, which has none.
        self.role = role
        self.capabilities = None if capabilities is None else tuple(capabilities)
        #: Embedded in the app's process: how to ask the app what it decided for a call
        #: (session id -> its call record as JSON), so test calls can say why.
        self.outcomes = outcomes
        #: Where calls may send action-URL requests (loopback only by default).
        self.targets = targets
        #: A recorded PBX build to act like (``ivrhooks probe``'s behaviour file, or its path):
        #: its requests' shape and its reactions to late, non-200 and non-JSON answers.
        self.behaviour = as_behaviour(behaviour)
        self.tokens = TokenIssuer(
            username=username, password=password, ttl=token_ttl, two_factor=two_factor, clock=clock
        )
        self.store = Store(db)
        self.resources = Resources(self.store)
        self.counters = Counters()
        self.faults = Faults()
        #: When each REST request arrived; ``requests.peak()`` is the busiest second.
        self.requests = RequestRate()
        #: The tenant, its event URLs and the events calls send; events go where calls may.
        self.webhooks = Webhooks(
            extensions=extensions,
            faults=event_faults or EventFaults(),
            retry_waits=event_retry_waits,
            refusal=lambda url: self.targets.refusal(url),
        )
        #: ``GET /api/tenant`` leaves the event URLs' ``password`` and ``token`` out.
        self.hide_event_secrets = hide_event_secrets
        if not any(s.get("type") == "INTERNAL" for s in self.store.ivr_servers.values()):
            # Every PortSIP PBX has one built-in INTERNAL media server (seed: /ivr_servers).
            body = {"name": "Internal", "ipv4": "127.0.0.1"}
            self.resources.create_server(body, kind="INTERNAL")
        self.app: Starlette = build_app(self)

    # --- test conveniences (no HTTP, not counted) -------------------------------------

    @property
    def sign_in_supported(self) -> bool:
        """Whether ``POST /auth/sign_in`` is served (PBX v22.2+)."""
        return Generation.SIGN_IN in self.login_generations

    def add_ivr(self, extension_number: str, name: str, *, pin: str = DEFAULT_PIN) -> str:
        """Create a receptionist directly; returns its id.

        Bad values raise :class:`~ivrhooks.errors.InvalidArgumentError` (a ``ValueError``)
        with the message the REST API would answer.
        """
        try:
            return self.resources.create_ivr(
                {"extension_number": extension_number, "name": name, "pin": pin}
            )
        except APIError as exc:
            raise InvalidArgumentError(exc.message) from None

    def ivr(self, extension_number: str) -> Ivr:
        for row in self.store.ivrs.values():
            if row["extension_number"] == extension_number:
                return Ivr.model_validate(self.resources.render_ivr(row))
        raise LookupError(f"extension_number: no virtual receptionist {extension_number!r}")

    def ivrs(self) -> list[Ivr]:
        return [Ivr.model_validate(self.resources.render_ivr(r)) for r in self.store.ivrs.values()]

    def action_urls(self, extension_number: str) -> list[ActionUrl]:
        ivr_id = self.ivr(extension_number).id
        rows = self.store.action_urls.get(ivr_id, {}).values()
        return [ActionUrl.model_validate(row) for row in rows]

    def reset_counters(self) -> None:
        self.counters = Counters()

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired (refresh tokens still work)."""
        self.tokens.expire_all()

    def fail_next(self, count: int, status: int = 503, *, retry_after: str | None = None) -> None:
        """The next ``count`` resource requests answer ``status`` without touching state."""
        if count < 0 or not 400 <= status <= 599:
            raise InvalidArgumentError("fail_next: count must be >= 0 and status 400..599")
        self.faults.fail_count, self.faults.fail_status = count, status
        self.faults.retry_after = retry_after

    def close(self) -> None:
        self.store.close()

    def listen(self, listener: Callable[[DialResult], None]) -> Callable[[], None]:
        """Call ``listener`` with every hop of every call this PBX places, whoever placed it
        (a test, ``ivrhooks call``, the dev page): each action URL fired, once answered, and
        input that no action URL takes. Called on the call's own path: it must not block.
        Returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _tell(self, result: DialResult) -> None:
        for listener in list(self._listeners):
            listener(result)

    # --- calls ------------------------------------------------------------------------

    async def dial(
        self,
        to: str,
        caller: str,
        digits: str = "",
        caller_name: str = "",
        *,
        session_id: str | None = None,
    ) -> DialResult:
        """Place a call to receptionist ``to`` from ``caller``, keying ``digits``.

        Fires at most one action URL (CALLER type first, then DTMF) and never raises for
        network errors; an unknown ``to`` raises ``LookupError``.
        """
        ivr, started = self.ivr(to), time.time()
        fields = request_fields(
            caller=caller,
            to=to,
            digits=digits,
            caller_name=caller_name,
            account_name=ivr.name or "",
            session_id=session_id,
        )
        picked = pick_action_url(self.action_urls(to), caller=caller, digits=digits)
        if picked is None:
            result = DialResult(action_url=None, fields=fields)
            self._tell(result)
        else:
            url, value = picked
            result = await self._fire(url, {**fields, "input": value})
        self._call_ended(to, [result], caller, caller_name, fields["session_id"], started)
        return result

    async def call(
        self,
        to: str,
        caller: str,
        digits: str | Sequence[str] = (),
        caller_name: str = "",
        *,
        session_id: str | None = None,
    ) -> CallFlow:
        """Place a call at receptionist ``to`` and follow it across receptionists, keying one
        group of ``digits`` at each prompt (``["12345", "9876"]``: an account number, then a
        PIN), under one session id. See :mod:`ivrhooks.fakepbx.flow` for what ends a call."""
        keys, started = [digits] if isinstance(digits, str) else list(digits), time.time()
        flow = await follow(
            self.ivr,
            self.action_urls,
            to=to,
            caller=caller,
            keys=[k for k in keys if k],
            caller_name=caller_name,
            session_id=session_id,
            send=self._fire,
        )
        last = flow.last
        if last is not None and not last.matched:
            self._tell(last)  # fired hops were told by _fire; this one fired nothing
        self._call_ended(to, flow.hops, caller, caller_name, flow.session_id, started)
        return flow

    async def _fire(self, url: ActionUrl, fields: dict[str, str]) -> DialResult:
        # The one door every call goes out through: dial(), call(), /_fake/dial, the dev phone.
        refusal = self.targets.refusal(url.url or "")
        if refusal is not None:
            refused = DialResult(action_url=url, fields=fields, error=f"not sent: {refusal}")
            self._tell(refused)
            return refused
        if self.behaviour is None:
            result = await fire(url, fields)
        else:
            result = await self.behaviour.send(url, fields)
        if self.outcomes is not None and result.status == 200:
            result = dataclasses.replace(result, outcome=self.outcomes(fields["session_id"]))
        self._tell(result)
        return result
