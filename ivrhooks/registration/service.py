"""``Registration``: the app service that keeps the PBX's action URLs in line with the app.

Entered in the app's lifespan when a PBX is configured, with the app's
:class:`~ivrhooks.runtime.Runtime`: it reads the manifest and the PBX settings from it and
reports back through it (readiness, ``synced()``, metrics), never touching the app. Startup never
blocks serving: the desired state is checked at once (a configuration error fails startup),
then reconciling runs in a background task, retried with capped exponential backoff and
jitter until it succeeds, except after a refused login: then minutes, within a budget of refused
logins shared by every replica (:mod:`.logins`). Each pass has a time budget. ``/readyz``
answers 503 with the reason until the first success.
Then the pass repeats every ``reconcile_interval`` seconds (0: never), healing drift made in
the portal and re-populating a PBX that lost its state. Shutdown deletes nothing: during a
rolling deploy the new replica needs the same entries.

This module is the loop: when to pass, retry, wait or stop. One pass (what it writes, its
budget, its span, the lease held through it) is :mod:`.passes`; what the loop tells readiness,
metrics and the log, :mod:`.readiness`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from ivrhooks.errors import (
    InvalidArgumentError,
    IVRHooksError,
    RegistrationConflictError,
    StoreError,
)
from ivrhooks.pbx.client import PBXClient
from ivrhooks.pbx.retry import backoff
from ivrhooks.pbx.untrusted import LINE_LIMIT, pbx_text
from ivrhooks.registration.apply import DEFAULT_CONCURRENCY
from ivrhooks.registration.events import EventUrlKeeper
from ivrhooks.registration.job import RegistrationJob
from ivrhooks.registration.logins import LoginBudget, RefusedLogins, next_attempt
from ivrhooks.registration.passes import run_pass
from ivrhooks.registration.readiness import announce, not_registering, synced
from ivrhooks.registration.reconcile import Report
from ivrhooks.registration.registrar import Registrar
from ivrhooks.runtime import Runtime

__all__ = ["Registration"]

log = logging.getLogger("ivrhooks.registration")


class Registration:
    """The registration service; ``app.services.append(Registration(...))`` to tune it.

    ``interval`` overrides ``RegistrationConfig.interval``; ``backoff_base``/``backoff_cap``
    bound the retry delays (seconds); ``client_options`` go to ``PBXClient``. With a shared
    store, only one replica registers at a time (:mod:`.registrar`).

    After a refused login the wait is ``login_backoff`` doubling to ``login_backoff_cap``, and
    at most ``login_budget`` refused logins go to the PBX in any ``login_window`` (seconds)
    from everything sharing the store (:mod:`.logins`). A pass taking longer than
    ``pass_budget`` seconds is stopped (default: :func:`.budget.pass_budget`).
    """

    def __init__(
        self,
        *,
        interval: float | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        concurrency: int = DEFAULT_CONCURRENCY,
        client_options: Mapping[str, Any] | None = None,
        lease_ttl: float | None = None,
        rng: Callable[[], float] = random.random,
        login_backoff: float = 600.0,
        login_backoff_cap: float = 3600.0,
        login_budget: int = 3,
        login_window: float = 900.0,
        pass_budget: float | None = None,
    ) -> None:
        if backoff_base <= 0 or backoff_cap < backoff_base:
            raise InvalidArgumentError("backoff: need 0 < backoff_base <= backoff_cap")
        if login_budget < 1 or login_window <= 0 or (pass_budget is not None and pass_budget <= 0):
            raise InvalidArgumentError("login_budget, login_window, pass_budget: must be positive")
        self.refused = RefusedLogins(base=login_backoff, cap=login_backoff_cap)
        self.login_budget, self.login_window = login_budget, login_window
        self.pass_budget = pass_budget
        self.interval = interval
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.concurrency = concurrency
        self.client_options = dict(client_options or {})
        self.lease_ttl = lease_ttl
        """Seconds the registrar lease lasts without renewal (default
        ``RegistrationConfig.lease_ttl``): the longest a dead registrar keeps the others
        waiting, with a shared store."""
        self.registrar: Registrar | None = None
        self._announced: int | None = None
        self.task: asyncio.Task[None] | None = None
        """The background loop, while the app runs."""
        self._stopping = False
        self._runtime: Runtime | None = None
        self._rng = rng
        self.successes = 0
        self.failures = 0
        self.last_report: Report | None = None
        self.last_error: str | None = None
        self._changed = asyncio.Condition()
        self.events = EventUrlKeeper()
        """The tenant's event URLs, kept when ``IVRHOOKS_REGISTER_EVENTS=true``."""

    def __call__(self, runtime: Runtime) -> contextlib.AbstractAsyncContextManager[None]:
        return self._running(runtime)

    def backoff(self, attempt: int) -> float:
        """Delay before retry ``attempt`` (1-based): capped exponential, "equal jitter"."""
        return backoff(
            attempt, base=self.backoff_base, cap=self.backoff_cap, rand=self._rng, jitter="equal"
        )

    async def wait_for(self, *, successes: int = 0, failures: int = 0) -> None:
        """Until at least that many reconciles succeeded and failed (tests, tooling)."""
        async with self._changed:
            await self._changed.wait_for(
                lambda: self.successes >= successes and self.failures >= failures
            )

    @contextlib.asynccontextmanager
    async def _running(self, runtime: Runtime) -> AsyncIterator[None]:
        # A bad configuration (no PBX, a limit the PBX would refuse) fails startup here.
        job = RegistrationJob.of(runtime.config, runtime.manifest, concurrency=self.concurrency)
        interval = runtime.config.registration.interval if self.interval is None else self.interval
        runtime.status.set("registering", f"registering {job.summary} with the PBX")
        budget = LoginBudget(
            runtime.store, job.pbx.url, limit=self.login_budget, window=self.login_window
        )
        options = {
            "observer": runtime.observer,
            "tracing": runtime.tracing,
            "login_gate": budget,
            **self.client_options,
        }
        client = job.client(**options)
        self._stopping = False
        self.task = asyncio.create_task(self._loop(runtime, job, client, interval))
        try:
            yield
        finally:
            await self.halt()
            await client.aclose()

    async def halt(self) -> None:
        """Stop the background loop (at shutdown). A flag as well as a cancellation: a
        cancellation that lands inside an HTTP library's shielded cleanup can be lost, and the
        loop must not outlive the app; the wait for it is bounded too."""
        self._stopping = True
        task = self.task
        if task is None or task.done():
            return
        task.cancel()
        runtime = self._runtime
        if runtime is not None:
            runtime.signals.recheck.set()  # wake it if it waits
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            async with asyncio.timeout(10.0):
                await asyncio.shield(task)

    async def _loop(
        self, runtime: Runtime, job: RegistrationJob, client: PBXClient, interval: float
    ) -> None:
        recheck = runtime.signals.recheck
        registrar = Registrar(
            runtime.store,
            job.app_id,
            job.state,
            lease_ttl=self.lease_ttl or runtime.config.registration.lease_ttl,
            generation=runtime.config.registration.generation,
        )
        self.registrar = registrar
        # With a shared store the lease must be renewed (and followers look at what is in
        # place) every third of its lifetime; alone, nothing happens between passes.
        tick = registrar.lease_ttl / 3 if registrar.shared else None
        loop = asyncio.get_running_loop()
        attempt = 0
        due = loop.time()  # the first pass: now
        self._runtime = runtime
        try:
            while not self._stopping:
                if recheck.is_set():
                    due = loop.time()
                rechecking = recheck.is_set()
                recheck.clear()
                try:
                    role = await registrar.role()
                except StoreError as exc:
                    # Without the store nobody can tell who registers: pause, never race.
                    runtime.observer.registrar(False)
                    if not runtime.status.ready:
                        runtime.status.set("paused", f"registration paused: {exc}")
                    log.warning("registration paused: %s", exc)
                    await self._wait(runtime, tick or self.backoff_cap)
                    continue
                runtime.observer.registrar(registrar.holding)
                self._announced = announce(runtime, registrar, self._announced)
                if role != "registrar":
                    await not_registering(runtime, registrar, role)
                    await self._wait(runtime, tick)
                    continue
                now = loop.time()
                if now < due:
                    await self._wait(runtime, min(due - now, tick) if tick else due - now)
                    continue
                started = loop.time()
                try:
                    report = await run_pass(
                        runtime,
                        job,
                        client,
                        registrar=registrar,
                        events=self.events,
                        tick=tick,
                        budget=self.pass_budget,
                        rechecking=rechecking,
                        synced_before=bool(self.successes),
                    )
                except RegistrationConflictError as exc:
                    # Another app answers the same input: write nothing, say so, and (under
                    # `ivrhooks run`) stop. Looked at again later: the other app may be removed.
                    self.last_error = str(exc)
                    log.error("%s", exc)
                    runtime.status.set("conflict", str(exc))
                    runtime.observer.reconciled("conflict", 0, 0, 0, 0, loop.time() - started)
                    await self._bump(failed=True)
                    runtime.signals.stop(str(exc))
                    due = loop.time() + (interval if interval > 0 else self.backoff_cap)
                    continue
                except (IVRHooksError, OSError) as exc:
                    attempt += 1
                    # It may quote the PBX: no secret, no control character, bounded.
                    reason = pbx_text(
                        job.describe(exc), secrets=client.tokens.secrets, limit=LINE_LIMIT
                    )
                    # After a refused login, minutes: failed logins block the address (§5).
                    delay = self.refused.wait_after(exc, client.tokens)
                    if delay is None:
                        delay = self.backoff(attempt)
                        reason = f"{reason}; retrying in {delay:.1f}s"
                    else:
                        reason = f"{reason}; {next_attempt(delay)}"
                    self.last_error = reason
                    log.warning("registration failed (attempt %d): %s", attempt, reason)
                    if not runtime.status.ready:
                        runtime.status.set("failed", f"registration failed: {reason}")
                    runtime.observer.reconciled("error", 0, 0, 0, 0, loop.time() - started)
                    await self._bump(failed=True)
                    due = loop.time() + delay
                    continue
                if report is None:
                    log.warning("lost the registrar lease during a pass: another replica registers")
                    continue
                attempt = 0
                self.refused.reset()
                synced(runtime, report, job, client, first=not self.successes)
                self.last_report, self.last_error = report, None
                with contextlib.suppress(StoreError):
                    await registrar.publish_synced()
                await self._bump(failed=False)
                due = loop.time() + interval if interval > 0 else float("inf")
        finally:
            # Shutdown: give the lease up so another replica takes over at once.
            with contextlib.suppress(StoreError):
                await registrar.release()

    async def _wait(self, runtime: Runtime, seconds: float | None) -> None:
        """``seconds`` (``None`` or infinite: no limit), or until a re-check is asked for
        because credentials were refused."""
        timeout = seconds if seconds is not None and seconds != float("inf") else None
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # arrives as its timeout fires, and this loop would then outlive the app's shutdown.
        recheck = runtime.signals.recheck
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await recheck.wait()
        if recheck.is_set():
            log.info("credentials were refused: checking the registration on the PBX now")

    async def _bump(self, *, failed: bool) -> None:
        async with self._changed:
            if failed:
                self.failures += 1
            else:
                self.successes += 1
            self._changed.notify_all()
