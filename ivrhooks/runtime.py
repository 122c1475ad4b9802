"""What a running app offers its services: the resolved configuration, the manifest, and a
narrow way to report back (readiness, "synced", metrics).

Built by the composition root (:meth:`ivrhooks.IVRHooks.build`) once per start. Services such
as registration receive a :class:`Runtime`, never the app: nothing below ``app.py`` imports it.
"""

from __future__ import annotations

import asyncio
import time
import types
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from ivrhooks.conf.config import Config
from ivrhooks.core.auth.credentials import Secrets
from ivrhooks.manifest import Manifest
from ivrhooks.observe.journal import CallJournal
from ivrhooks.observe.metrics import Metrics
from ivrhooks.observe.observer import Observer
from ivrhooks.observe.tracing import Tracing
from ivrhooks.store import MemoryStore, Store

__all__ = ["Runtime", "Service", "Status"]


@dataclass
class Status:
    """Readiness, as ``/readyz`` reports it."""

    ready: bool = True
    reason: str = "ok"

    def set(self, ready: bool, reason: str) -> None:
        self.ready, self.reason = ready, reason


@dataclass
class Runtime:
    """One start of an app: its configuration, manifest, metrics and status."""

    config: Config
    manifest: Manifest
    secrets: Secrets
    metrics: Metrics = field(default_factory=Metrics)
    observer: Observer = field(default_factory=Observer)
    """Where services report what they did (:mod:`ivrhooks.observer`): the built-in observer
    (these ``metrics``, the log), then the OpenTelemetry one and the app's own."""
    tracing: Tracing | None = None
    """The app's tracing (:mod:`ivrhooks.tracing`); ``None``: off."""
    store: Store = field(default_factory=MemoryStore)
    """State shared across requests (and replicas, with Redis): see :mod:`ivrhooks.store`."""
    status: Status = field(default_factory=Status)
    state: types.SimpleNamespace = field(default_factory=types.SimpleNamespace)
    """Resources the app's lifespan set up (a CRM client, a database pool)."""
    journal: CallJournal | None = None
    """What was decided for each recent call: kept with the embedded fake PBX only (dev tools)."""
    fatal: Callable[[str], None] | None = None
    """Set by a server that should stop when a service finds the app cannot run as configured
    (``ivrhooks run``): called with the reason. Without it the app stays not ready."""
    recheck: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the PBX may no longer hold this app's credentials (:meth:`credentials_refused`)."""
    recheck_every: float = 10.0
    _last_recheck: float = field(default=float("-inf"), repr=False)

    @property
    def rotating(self) -> bool:
        """A previous secret is still accepted (a rotation is under way)."""
        return self.secrets.previous is not None

    def credentials_refused(self) -> None:
        """A request with credentials was refused: the PBX may hold another secret's (a rotation,
        a sync from elsewhere, a hand edit). Ask registration to look now, at most once per
        ``recheck_every`` seconds however many requests are refused."""
        now = time.monotonic()
        if now - self._last_recheck >= self.recheck_every:
            self._last_recheck = now
            self.recheck.set()

    def synced(self) -> None:
        """The PBX now holds credentials from the current secret only: stop accepting the
        previous one."""
        self.secrets.retire_previous()


Service = Callable[[Runtime], AbstractAsyncContextManager[None]]
"""A background service run for the app's lifetime (registration is one)."""
