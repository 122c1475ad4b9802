"""What a running app offers its services: the resolved configuration, the manifest, and a
narrow way to report back (readiness, "synced", metrics).

Built by the composition root (:meth:`ivrhooks.IVRHooks.build`) once per start. Services such
as registration receive a :class:`Runtime`, never the app: nothing below ``app.py`` imports it.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from ivrhooks.auth.credentials import Secrets
from ivrhooks.config import Config
from ivrhooks.manifest import Manifest
from ivrhooks.metrics import Metrics

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
    status: Status = field(default_factory=Status)
    state: types.SimpleNamespace = field(default_factory=types.SimpleNamespace)
    """Resources the app's lifespan set up (a CRM client, a database pool)."""

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
