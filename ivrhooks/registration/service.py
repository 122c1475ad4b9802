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
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any

from ivrhooks.errors import (
    InvalidArgumentError,
    IVRHooksError,
    RegistrationConflictError,
    StoreError,
)
from ivrhooks.observe.tracing import NO_TRACING
from ivrhooks.pbx.client import PBXClient
from ivrhooks.pbx.retry import backoff
from ivrhooks.pbx.untrusted import LINE_LIMIT, pbx_text
from ivrhooks.registration.apply import DEFAULT_CONCURRENCY
from ivrhooks.registration.budget import pass_budget, within_budget
from ivrhooks.registration.events import EventUrlKeeper
from ivrhooks.registration.job import RegistrationJob
from ivrhooks.registration.logins import LoginBudget, RefusedLogins, next_attempt
from ivrhooks.registration.reconcile import Report
from ivrhooks.registration.registrar import Registrar
from ivrhooks.runtime import Runtime

__all__ = ["Registration"]

log = logging.getLogger("ivrhooks.registration")


class _LeaseLostError(Exception):
    """This replica stopped holding the registrar lease in the middle of a pass."""


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
                self._announce(runtime, registrar)
                if role != "registrar":
                    await self._not_registering(runtime, registrar, role)
                    await self._wait(runtime, tick)
                    continue
                now = loop.time()
                if now < due:
                    await self._wait(runtime, min(due - now, tick) if tick else due - now)
                    continue
                started = loop.time()
                try:
                    report = await self._traced(
                        runtime,
                        self._holding(
                            registrar,
                            tick,
                            within_budget(
                                self._pass(runtime, job, client, rechecking),
                                self.pass_budget or pass_budget(job),
                            ),
                        ),
                        rechecking,
                    )
                except _LeaseLostError:
                    log.warning("lost the registrar lease during a pass: another replica registers")
                    continue
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
                attempt = 0
                self.refused.reset()
                if not self.successes and client.tokens.generation is not None:
                    # Which login endpoint answered tells the operator which PortSIP build it is.
                    lifetime = client.tokens.expires_in
                    shown = f"{lifetime} s" if lifetime is not None else "not given"
                    log.info(
                        "PBX login: %s, token lifetime %s", client.tokens.generation.label, shown
                    )
                self._synced(runtime, report, job)
                with contextlib.suppress(StoreError):
                    await registrar.publish_synced()
                await self._bump(failed=False)
                due = loop.time() + interval if interval > 0 else float("inf")
        finally:
            # Shutdown: give the lease up so another replica takes over at once.
            with contextlib.suppress(StoreError):
                await registrar.release()

    async def _traced(
        self, runtime: Runtime, work: Coroutine[Any, Any, Report], rechecking: bool
    ) -> Report:
        """``work`` (one pass) inside a span, current while it runs: the PBX calls it makes are
        its children. The span says what the pass wrote; its failure, by type."""
        tracing = runtime.tracing if runtime.tracing is not None else NO_TRACING
        attributes = {"ivrhooks.registration.rechecking": rechecking}
        with tracing.span("ivrhooks registration", attributes=attributes) as span:
            report = await work
            applied = report.applied
            span.set("ivrhooks.registration.receptionists", len(report.plans))
            span.set("ivrhooks.registration.creates", applied.created)
            span.set("ivrhooks.registration.updates", applied.updated)
            span.set("ivrhooks.registration.deletes", applied.deleted)
            span.set("ivrhooks.registration.drift", report.drift)
            return report

    async def _holding(
        self, registrar: Registrar, tick: float | None, work: Coroutine[Any, Any, Report]
    ) -> Report:
        """Run a pass while renewing the lease every ``tick``; a pass outlasting a lost lease is
        stopped (another replica is the registrar by then), raising ``_LeaseLostError``."""
        if tick is None:
            return await work
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=tick)
                if done:
                    return task.result()
                try:
                    still = await registrar.role() == "registrar"
                except StoreError:
                    still = False
                if not still:
                    raise _LeaseLostError
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    async with asyncio.timeout(5.0):
                        await asyncio.shield(task)

    def _announce(self, runtime: Runtime, registrar: Registrar) -> None:
        """Log this replica's generation once (and again if it changes: a fresh Redis)."""
        if registrar.number is None or registrar.number == self._announced:
            return
        self._announced = registrar.number
        runtime.metrics.generation(registrar.number)
        if registrar.shared:
            log.info(
                "registration generation %d (newest running: %d)",
                registrar.number,
                registrar.newest or registrar.number,
            )

    async def _not_registering(self, runtime: Runtime, registrar: Registrar, role: str) -> None:
        if role == "superseded":
            runtime.status.set(
                "superseded",
                f"superseded: this replica is generation {registrar.number} and a newer version "
                f"of this app (generation {registrar.newest}) registers its own action URLs; "
                "this replica's are no longer the ones on the PBX",
            )
            return
        try:
            in_place = await registrar.in_place()
        except StoreError:
            in_place = False
        if in_place:
            runtime.status.set("ready")
        else:
            runtime.status.set(
                "waiting", "waiting for the replica that holds the registrar lease to register"
            )

    def _synced(self, runtime: Runtime, report: Report, job: RegistrationJob) -> None:
        applied = report.applied
        runtime.observer.reconciled(
            "ok",
            applied.created,
            applied.updated,
            applied.deleted,
            # After the first sync, every write repairs drift (portal edits, a restarted PBX).
            report.drift if self.successes else 0,
            report.seconds,
        )
        if not self.successes and runtime.config.serving.freeze_gc:
            # What the first registration made lives as long as the app (the embedded PBX's
            # 10,000 entries, the client's pool): out of full collections too, as
            # ServingConfig.freeze_gc does at startup. Before readiness: nobody calls yet.
            gc.collect()
            gc.freeze()
        # The PBX now holds credentials from the current secret only: stop accepting the old.
        runtime.synced()
        runtime.status.set("ready")
        self.last_report, self.last_error = report, None
        log.info(
            "registration in sync on %s: %d created, %d updated, %d deleted (%s) in %.2fs",
            runtime.config.registers_on,
            applied.created,
            applied.updated,
            applied.deleted,
            job.summary,
            report.seconds,
        )

    async def _pass(
        self, runtime: Runtime, job: RegistrationJob, client: PBXClient, rechecking: bool
    ) -> Report:
        """One reconcile; while it repairs drift after the first sync, the app is not ready."""
        started = time.monotonic()
        # During a rotation, or when credentials were refused, rewrite secrets the PBX does not
        # show us (plan.py).
        plans = await job.plans(client, rewrite_hidden_secrets=job.rotating or rechecking)
        drift = sum(plan.drift for plan in plans)
        if drift and self.successes and not any(plan.conflicts for plan in plans):
            # The PBX no longer holds what this app registered (credentials from another
            # secret, an edit in the portal, a restarted PBX): calls may be refused until fixed.
            # Secrets the PBX merely hides, rewritten to be sure, do not count: the app stays
            # ready while they are written.
            runtime.status.set(
                "re-registering",
                f"re-registering: {drift} action URL(s) on the PBX differ from this app's "
                "(credentials from another secret, or edited by hand)",
            )
        applied = await job.apply(client, plans)
        if runtime.config.events.register:
            await self.events.keep(client, job.manifest, fresh=job.rotating or rechecking)
        return Report(tuple(plans), applied, time.monotonic() - started)

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
