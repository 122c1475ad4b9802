"""``RegistrationJob``: what registering one app on one PBX means, defined once.

The registration service (every pass), ``ivrhooks plan`` / ``sync`` / ``unregister`` and
``ivrhooks doctor`` all start from the same three things — the PBX to reach, the desired action
URLs computed from the app's manifest, and whether a secret rotation is under way — and ask the
same few questions of the PBX (plan, apply, reconcile, unregister). A job holds the first and
answers the second; none of them builds a server to get there.

``ivrhooks dev --pbx`` registers through the same job, given a dev session's owner (names with
an expiry, :mod:`.dev`) and only the receptionists it was told to use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ivrhooks.conf.config import Config, PBXConfig
from ivrhooks.errors import (
    ConfigurationError,
    PBXConnectionError,
    PBXLoginError,
    RegistrationConflictError,
)
from ivrhooks.manifest import Manifest
from ivrhooks.pbx.client import PBXClient
from ivrhooks.registration.apply import DEFAULT_CONCURRENCY, Applied, apply_plans
from ivrhooks.registration.desired import DesiredUrl, desired_state, summary
from ivrhooks.registration.events import desired_event_urls
from ivrhooks.registration.owner import PRODUCTION, Owner
from ivrhooks.registration.plan import Plan
from ivrhooks.registration.reconcile import Report, fetch_plans, reconcile, unregister_plans

__all__ = ["RegistrationJob", "describe_failure", "pbx_client", "require_pbx"]


def require_pbx(config: Config) -> PBXConfig:
    """The configured PBX; :class:`ConfigurationError` says what to set when there is none."""
    if config.pbx is None:
        raise ConfigurationError(
            "no PBX configured: set IVRHOOKS_PBX_URL (e.g. https://pbx.example.com:8887/api) "
            "and its login (IVRHOOKS_PBX_USERNAME/IVRHOOKS_PBX_PASSWORD or IVRHOOKS_PBX_TOKEN)"
        )
    return config.pbx


def describe_failure(exc: BaseException, config: Config) -> str:
    """What went wrong talking to the PBX, naming where it was sought and what to change."""
    url = config.pbx.url if config.pbx is not None else "?"
    where = "IVRHOOKS_PBX_URL" if "IVRHOOKS_PBX_URL" in config.from_env else "PBXConfig(url=...)"
    if isinstance(exc, PBXConnectionError):
        return f"cannot reach the PBX at {url} ({where}): {exc}"
    if isinstance(exc, PBXLoginError):
        login = (
            "IVRHOOKS_PBX_USERNAME / IVRHOOKS_PBX_PASSWORD"
            if "IVRHOOKS_PBX_USERNAME" in config.from_env
            else "the PBX login"
        )
        return f"the PBX at {url} refused the login ({login}): {exc}"
    return str(exc)


def pbx_client(config: PBXConfig, **options: Any) -> PBXClient:
    """A ``PBXClient`` for the configured PBX (``options`` go to its constructor)."""
    return PBXClient(
        config.url,
        username=config.username,
        password=config.password,
        domain=config.domain,
        token=config.token,
        verify=config.verify_tls,
        **{"rate": config.rate, **options},
    )


@dataclass(frozen=True)
class RegistrationJob:
    """Registering one app's manifest on one PBX."""

    config: Config
    pbx: PBXConfig
    manifest: Manifest
    state: Mapping[str, Mapping[str, DesiredUrl]]
    """``{receptionist: {entry name: DesiredUrl}}``: what the app wants on the PBX."""
    concurrency: int = DEFAULT_CONCURRENCY
    owner: Owner = PRODUCTION
    """How the entries are named and whose each one is (a dev session's, or production's)."""

    @classmethod
    def of(
        cls,
        config: Config,
        manifest: Manifest,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        owner: Owner = PRODUCTION,
        receptionists: Sequence[str] | None = None,
    ) -> RegistrationJob:
        """The job of ``manifest`` on the configured PBX; :class:`ConfigurationError` when there
        is no PBX or the desired state breaks a PBX limit (checked before any request).
        ``receptionists`` narrows the job to some of the app's receptionists (a
        :class:`ConfigurationError` names one the app does not serve)."""
        pbx = require_pbx(config)  # the first thing to say when there is none
        state = desired_state(manifest, owner=owner)
        if receptionists is not None:
            unknown = [ext for ext in receptionists if ext not in state]
            if unknown:
                raise ConfigurationError(
                    f"receptionist {', '.join(unknown)}: the app serves no route there (it "
                    f"serves {', '.join(state) or 'none'}); set IVRHOOKS_RECEPTIONISTS to serve "
                    "its routes there"
                )
            state = {ext: state[ext] for ext in dict.fromkeys(receptionists)}
        if config.events.register:
            desired_event_urls(manifest)  # the event URLs' limits too, before any request
        return cls(config, pbx, manifest, state, concurrency, owner)

    @property
    def app_id(self) -> str:
        return self.manifest.app_id

    @property
    def rotating(self) -> bool:
        """A previous secret is configured: entries whose secrets the PBX hides are rewritten,
        so none keeps the old secret's credentials."""
        return self.config.auth.previous_secret is not None

    @property
    def summary(self) -> str:
        """``3 action URL(s) on 2 receptionist(s)``, for logs and readiness."""
        return summary(self.state)

    def client(self, **options: Any) -> PBXClient:
        """A ``PBXClient`` for the job's PBX (``options`` go to its constructor)."""
        return pbx_client(self.pbx, **options)

    def describe(self, exc: BaseException) -> str:
        """What went wrong talking to the PBX (see :func:`describe_failure`)."""
        return describe_failure(exc, self.config)

    async def plans(
        self,
        client: PBXClient,
        *,
        rewrite_hidden_secrets: bool | None = None,
        receptionists: Sequence[str] | None = None,
        log_findings: bool = True,
    ) -> list[Plan]:
        """Read the PBX and plan each receptionist (no writes). ``rewrite_hidden_secrets``
        defaults to :attr:`rotating`; ``receptionists`` narrows the plan (doctor skips the
        missing ones); ``log_findings=False`` for callers that show warnings themselves."""
        state = self.state
        if receptionists is not None:
            state = {ext: state[ext] for ext in receptionists}
        return await fetch_plans(
            client,
            state,
            app_id=self.app_id,
            rewrite_hidden_secrets=self.rotating
            if rewrite_hidden_secrets is None
            else rewrite_hidden_secrets,
            concurrency=self.concurrency,
            log_findings=log_findings,
            owner=self.owner,
        )

    async def apply(self, client: PBXClient, plans: Sequence[Plan]) -> Applied:
        """Make the writes of ``plans``; :class:`RegistrationConflictError`, writing nothing,
        when another app's entries answer the same input on a receptionist."""
        conflicts = [c for plan in plans for c in plan.conflicts]
        if conflicts:
            raise RegistrationConflictError(conflicts)
        return await apply_plans(client, list(plans), concurrency=self.concurrency)

    async def reconcile(self, client: PBXClient) -> Report:
        """Plan and apply in one go (``ivrhooks sync``)."""
        return await reconcile(
            client,
            self.state,
            app_id=self.app_id,
            rewrite_hidden_secrets=self.rotating,
            concurrency=self.concurrency,
            owner=self.owner,
        )

    async def unregister(self, client: PBXClient) -> tuple[list[Plan], Applied]:
        """Delete this app's own entries from its receptionists (others' are left alone)."""
        plans = await unregister_plans(
            client, self.state, app_id=self.app_id, concurrency=self.concurrency, owner=self.owner
        )
        return plans, await apply_plans(client, plans, concurrency=self.concurrency)
