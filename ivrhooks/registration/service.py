"""``Registration``: the app service that keeps the PBX's action URLs in line with the app.

Entered in the app's lifespan when a PBX is configured, with the app's
:class:`~ivrhooks.runtime.Runtime`: it reads the manifest and the PBX settings from it and
reports back through it (readiness, ``synced()``, metrics), never touching the app. Startup never
blocks serving: the desired state is checked at once (a configuration error fails startup),
then reconciling runs in a background task, retried with capped exponential backoff and
jitter until it succeeds. ``/readyz`` answers 503 with the reason until the first success.
Then the pass repeats every ``reconcile_interval`` seconds (0: never), healing drift made in
the portal and re-populating a PBX that lost its state. Shutdown deletes nothing: during a
rolling deploy the new replica needs the same entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from ivrhooks.config import Config, PBXConfig
from ivrhooks.errors import ConfigurationError, IVRHooksError
from ivrhooks.pbx.client import PBXClient
from ivrhooks.registration.apply import DEFAULT_CONCURRENCY
from ivrhooks.registration.desired import DesiredUrl, desired_state, summary
from ivrhooks.registration.reconcile import Report, reconcile
from ivrhooks.runtime import Runtime

__all__ = ["Registration", "client_for", "require_pbx"]

log = logging.getLogger("ivrhooks.registration")


def require_pbx(config: Config) -> PBXConfig:
    """The configured PBX; :class:`ConfigurationError` says what to set when there is none."""
    if config.pbx is None:
        raise ConfigurationError(
            "no PBX configured: set IVRHOOKS_PBX_URL (e.g. https://pbx.example.com:8887/api) "
            "and its login (IVRHOOKS_PBX_USERNAME/IVRHOOKS_PBX_PASSWORD or IVRHOOKS_PBX_TOKEN)"
        )
    return config.pbx


def client_for(config: PBXConfig, **options: Any) -> PBXClient:
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


class Registration:
    """The registration service; ``app.services.append(Registration(...))`` to tune it.

    ``interval`` overrides ``RegistrationConfig.interval``; ``backoff_base``/``backoff_cap``
    bound the retry delays (seconds); ``client_options`` go to ``PBXClient``.
    """

    def __init__(
        self,
        *,
        interval: float | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        concurrency: int = DEFAULT_CONCURRENCY,
        client_options: Mapping[str, Any] | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if backoff_base <= 0 or backoff_cap < backoff_base:
            raise ValueError("backoff: need 0 < backoff_base <= backoff_cap")
        self.interval = interval
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.concurrency = concurrency
        self.client_options = dict(client_options or {})
        self._rng = rng
        self.successes = 0
        self.failures = 0
        self.last_report: Report | None = None
        self.last_error: str | None = None
        self._changed = asyncio.Condition()

    def __call__(self, runtime: Runtime) -> contextlib.AbstractAsyncContextManager[None]:
        return self._running(runtime)

    def backoff(self, attempt: int) -> float:
        """Delay before retry ``attempt`` (1-based): capped exponential, "equal jitter"."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** min(attempt - 1, 30))
        return ceiling / 2 + ceiling / 2 * self._rng()

    async def wait_for(self, *, successes: int = 0, failures: int = 0) -> None:
        """Until at least that many reconciles succeeded and failed (tests, tooling)."""
        async with self._changed:
            await self._changed.wait_for(
                lambda: self.successes >= successes and self.failures >= failures
            )

    @contextlib.asynccontextmanager
    async def _running(self, runtime: Runtime) -> AsyncIterator[None]:
        config = require_pbx(runtime.config)
        state = desired_state(runtime.manifest)  # a bad configuration fails startup
        interval = runtime.config.registration.interval if self.interval is None else self.interval
        runtime.status.set(False, f"registering {summary(state)} with the PBX")
        client = client_for(config, **self.client_options)
        task = asyncio.create_task(self._loop(runtime, client, state, interval))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await client.aclose()

    async def _loop(
        self,
        runtime: Runtime,
        client: PBXClient,
        state: Mapping[str, Mapping[str, DesiredUrl]],
        interval: float,
    ) -> None:
        attempt = 0
        while True:
            try:
                report = await reconcile(
                    client,
                    state,
                    # During a rotation, rewrite secrets the PBX does not show us (plan.py).
                    rewrite_hidden_secrets=runtime.rotating,
                    concurrency=self.concurrency,
                )
            except (IVRHooksError, OSError) as exc:
                attempt += 1
                delay = self.backoff(attempt)
                self.last_error = str(exc)
                log.warning(
                    "registration failed (attempt %d): %s; retrying in %.1fs", attempt, exc, delay
                )
                if not runtime.status.ready:
                    runtime.status.set(
                        False, f"registration failed: {exc}; retrying in {delay:.1f}s"
                    )
                runtime.metrics.reconcile("error", 0, 0, 0, 0)
                await self._bump(failed=True)
                await asyncio.sleep(delay)
                continue
            attempt = 0
            applied = report.applied
            runtime.metrics.reconcile(
                "ok",
                applied.created,
                applied.updated,
                applied.deleted,
                # After the first sync, every write repairs drift (portal edits, a restarted PBX).
                report.drift if self.successes else 0,
            )
            if not self.successes and runtime.config.serving.freeze_gc:
                # What the first registration made lives as long as the app (the embedded
                # PBX's 10,000 entries, the client's pool): out of full collections too, as
                # ServingConfig.freeze_gc does at startup. Before readiness: nobody calls yet.
                gc.collect()
                gc.freeze()
            # The PBX now holds credentials from the current secret only: stop accepting the old.
            runtime.synced()
            runtime.status.set(True, "ok")
            self.last_report, self.last_error = report, None
            log.info(
                "registration in sync: %d created, %d updated, %d deleted (%s) in %.2fs",
                report.applied.created,
                report.applied.updated,
                report.applied.deleted,
                summary(state),
                report.seconds,
            )
            await self._bump(failed=False)
            if interval <= 0:
                return
            await asyncio.sleep(interval)

    async def _bump(self, *, failed: bool) -> None:
        async with self._changed:
            if failed:
                self.failures += 1
            else:
                self.successes += 1
            self._changed.notify_all()
