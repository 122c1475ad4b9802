"""What one start of an app offers its services: the resolved configuration, the manifest, the
shared pieces (store, metrics, observer), readiness, and the signals that steer behaviour.

Built by the composition root (:func:`ivrhooks.compose.compose`) in one pass, once per start,
and never rebound after: a :class:`Runtime` is a value. Two parts of it change while the app
runs, each through a narrow door: :class:`Status` (readiness, set by registration and read by
``/readyz``) and :class:`Signals` (a refused credential asking registration to look again; a
service finding that the app cannot run as configured). Observers only hear what happened;
signals are what other parts act on. Services receive a :class:`Runtime`, never the app:
nothing below ``app.py`` imports it.
"""

from __future__ import annotations

import asyncio
import time
import types
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Literal

from ivrhooks.conf.config import Config
from ivrhooks.core.auth.credentials import Secrets
from ivrhooks.core.auth.verdict import Verdict
from ivrhooks.manifest import Manifest
from ivrhooks.observe.journal import CallJournal
from ivrhooks.observe.metrics import Metrics
from ivrhooks.observe.observer import Observer
from ivrhooks.observe.tracing import Tracing
from ivrhooks.store import Store

__all__ = ["Readiness", "ReadyState", "Runtime", "Service", "Signals", "Status"]

ReadyState = Literal[
    "ready",
    "registering",
    "re-registering",
    "waiting",
    "superseded",
    "conflict",
    "paused",
    "failed",
]
"""Where readiness stands: ``ready``; ``registering`` (the first registration is under way);
``re-registering`` (the PBX drifted from the app and is being repaired); ``waiting`` (another
replica holds the registrar lease and has not registered yet); ``superseded`` (a newer version
registers); ``conflict`` (another app answers the same input); ``paused`` (the shared store is
down, nobody can tell who registers); ``failed`` (registration failed, and is retried)."""


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether the app is ready to take calls, and why not: what ``/readyz`` says."""

    state: ReadyState
    reason: str = "ok"

    @property
    def ready(self) -> bool:
        return self.state == "ready"


READY = Readiness("ready")


class Status:
    """The app's current :class:`Readiness` (ready until a service says otherwise)."""

    __slots__ = ("current",)

    def __init__(self) -> None:
        self.current = READY

    def set(self, state: ReadyState, reason: str = "ok") -> None:
        self.current = Readiness(state, reason)

    @property
    def ready(self) -> bool:
        return self.current.ready

    @property
    def reason(self) -> str:
        return self.current.reason


# Credentials that parse but do not open this route: what the PBX sends after its entries were
# written with another secret.
_REFUSED = frozenset({"bad_credentials", "unknown_user"})
#: Sources remembered as having authenticated (a PBX cluster has a handful of addresses).
_KNOWN_SOURCES = 256


class Signals:
    """What steers the app's services while it runs, apart from what is merely observed.

    - :attr:`recheck` is set when the PBX may no longer hold this app's credentials: a request
      whose credentials parse but are wrong, from a source that could be the PBX — one that
      authenticated before, any source when ``IVRHOOKS_ALLOW`` limits who reaches the verifier,
      or a request claiming a username of the previous secret. Registration then looks at the
      PBX at once, at most once per ``recheck_every`` seconds. A stranger's wrong password (or
      a request without credentials) never makes the app rewrite its action URLs.
    - :meth:`stop` says the app cannot run as configured (another app's action URLs answer the
      same input); :attr:`stopping` is set and :attr:`stop_reason` says why. A server that
      should then exit (``ivrhooks run``) waits for it; under any other the app stays not ready.
    """

    def __init__(
        self,
        *,
        allowed_only: bool = False,
        previous_users: frozenset[str] = frozenset(),
        recheck_every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recheck = asyncio.Event()
        self.recheck_every = recheck_every
        self.stopping = asyncio.Event()
        self.stop_reason: str | None = None
        self.rechecks = 0
        """How many times a recheck was asked for."""
        self.known: dict[str, None] = {}
        """Sources that authenticated, the oldest first (bounded)."""
        self._allowed_only = allowed_only
        self._previous_users = previous_users
        self._clock = clock
        self._last_recheck = float("-inf")

    def authenticated(self, source: str) -> None:
        """``source`` presented correct credentials (the endpoint calls this for a source it
        has not seen yet: one dict lookup per request)."""
        known = self.known
        if source not in known:
            if len(known) >= _KNOWN_SOURCES:
                del known[next(iter(known))]
            known[source] = None

    def refused(self, verdict: Verdict, source: str) -> None:
        """A request from ``source`` was refused with ``verdict``."""
        if verdict.reason in _REFUSED and (
            self._allowed_only or source in self.known or verdict.claimed in self._previous_users
        ):
            self.credentials_refused()

    def credentials_refused(self) -> None:
        """The PBX may hold another secret's credentials (a rotation, a sync from elsewhere, a
        hand edit): ask registration to look now."""
        now = self._clock()
        if now - self._last_recheck >= self.recheck_every:
            self._last_recheck = now
            self.rechecks += 1
            self.recheck.set()

    def stop(self, reason: str) -> None:
        """The app cannot run as configured: say so to whoever serves it."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stopping.set()


@dataclass(frozen=True)
class Runtime:
    """One start of an app: its configuration, manifest and the pieces its parts share."""

    config: Config
    manifest: Manifest
    secrets: Secrets
    metrics: Metrics
    observer: Observer
    """Where everything reports what it did (:mod:`ivrhooks.observe.observer`): the built-in
    observer (these ``metrics``, the log), then the OpenTelemetry one and the app's own."""
    store: Store
    """State shared across requests (and replicas, with Redis): see :mod:`ivrhooks.store`."""
    tracing: Tracing | None = None
    """The app's tracing (:mod:`ivrhooks.observe.tracing`); ``None``: off."""
    journal: CallJournal | None = None
    """What was decided for each recent call: kept with the embedded fake PBX only (dev tools)."""
    state: types.SimpleNamespace = field(default_factory=types.SimpleNamespace)
    """Resources the app's lifespan set up (a CRM client, a database pool)."""
    status: Status = field(default_factory=Status)
    signals: Signals = field(default_factory=Signals)

    @property
    def rotating(self) -> bool:
        """A previous secret is still accepted (a rotation is under way)."""
        return self.secrets.previous is not None

    def synced(self) -> None:
        """The PBX now holds credentials from the current secret only: stop accepting the
        previous one."""
        self.secrets.retire_previous()


Service = Callable[[Runtime], AbstractAsyncContextManager[None]]
"""A background service run for the app's lifetime (registration is one)."""
