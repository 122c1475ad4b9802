"""``Cache``: values a handler looks up (a CRM's managers, an account), kept within a call's
deadline.

::

    managers = app.cache("managers", ttl=300, stale=3600, miss_ttl=30)

    @app.dtmf("1")
    async def sales(req):
        team = await managers.get(req.caller, lambda: crm.managers(req.caller))
        ...

- **One load per key at a time**: callers that ask for a key while it loads share that load.
- **Stale while revalidate**: for ``stale`` seconds after a value's ``ttl`` it is served at
  once and refreshed behind it (one refresh per key).
- **A load outlives its caller**: when the handler's deadline cancels it, the load finishes in
  the background (at most ``max_background`` such loads per cache, each bounded by
  ``load_timeout``) and fills the cache for the next call. A caller's cancellation never
  cancels a load another caller waits for.
- **Misses** (a loader's ``None``) are kept for ``miss_ttl``; **errors** are not kept and reach
  every caller of that load.
- **Bounded**: at most ``maxsize`` keys in the process, least recently used out first.
- **JSON values only** (:mod:`ivrhooks.cache.values`).
- **Two tiers** once the app runs with ``IVRHOOKS_REDIS_URL``: this process's (a hit costs no
  I/O) in front of the shared one (:mod:`ivrhooks.cache.shared`), so one replica's load serves
  them all; without Redis, or outside a running app, the process tier alone.

Events are reported to the callable the app binds (``report(cache_name, event)``, one of
:data:`EVENTS`): each ``get`` is a ``hit``, a ``stale`` serve or a ``miss``; each load that
completes with no caller waiting is a ``background`` completion; each failed load an
``error``; each background load not run because ``max_background`` were running ``dropped``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ivrhooks.cache.entry import Entry, Policy
from ivrhooks.cache.flight import Flight
from ivrhooks.cache.loads import Loads, bounded
from ivrhooks.cache.local import LocalTier
from ivrhooks.cache.shared import SharedTier
from ivrhooks.cache.values import decode, encode
from ivrhooks.errors import ConfigurationError, InvalidArgumentError

if TYPE_CHECKING:
    from ivrhooks.store.base import Store

__all__ = ["EVENTS", "Cache", "Loader", "Report"]

log = logging.getLogger("ivrhooks.cache")

Loader = Callable[[], Awaitable[Any]]
"""What loads a value: an async callable returning a JSON value, or ``None`` for "no such"."""
Report = Callable[[str, str], None]
"""Told each event: ``report(cache_name, event)``."""

EVENTS = ("hit", "miss", "stale", "background", "error", "dropped")
"""What a cache reports (the ``event`` label of ``ivrhooks_cache_events_total``)."""

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _ignore(name: str, event: str) -> None:
    """Reports go nowhere until the app binds the cache (a unit test calling a handler)."""


def _seconds(name: str, value: object, *, least: float, inclusive: bool) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and (value >= least if inclusive else value > least):  # type: ignore[operator]
        return float(value)  # type: ignore[arg-type]
    bound = f"at least {least:g}" if inclusive else f"more than {least:g}"
    raise ConfigurationError(f"{name}={value!r}: must be a number of seconds, {bound}")


def _count(name: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ConfigurationError(f"{name}={value!r}: must be a whole number, at least 1")


class Cache:
    """A named cache of JSON values; see the module's docstring. Declare it with
    ``app.cache(name, ...)``; ``clock`` (wall-clock seconds) is for tests."""

    def __init__(
        self,
        name: str,
        *,
        ttl: float = 300.0,
        stale: float = 3600.0,
        miss_ttl: float = 30.0,
        maxsize: int = 10_000,
        load_timeout: float = 10.0,
        max_background: int = 16,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:
            raise ConfigurationError(
                f"cache name {name!r}: use 1 to 64 ASCII letters, digits, '_', '-' or '.' (it "
                "is part of Redis keys and a metrics label)"
            )
        self.name = name
        self.ttl = _seconds("ttl", ttl, least=0, inclusive=False)
        self.stale = _seconds("stale", stale, least=0, inclusive=True)
        self.miss_ttl = _seconds("miss_ttl", miss_ttl, least=0, inclusive=True)
        self.maxsize = _count("maxsize", maxsize)
        self.load_timeout = _seconds("load_timeout", load_timeout, least=0, inclusive=False)
        self.max_background = _count("max_background", max_background)
        self._clock = clock
        self._policy = Policy(self.ttl, self.stale, self.miss_ttl)
        self._local = LocalTier(self.maxsize)
        self._loads = Loads(self.max_background, lambda: self._report(self.name, "dropped"))
        self._shared: SharedTier | None = None
        self._report: Report = _ignore

    def __repr__(self) -> str:
        return f"<Cache {self.name!r} ttl={self.ttl:g} stale={self.stale:g} keys={len(self)}>"

    def __len__(self) -> int:
        """How many keys this process holds."""
        return len(self._local)

    @property
    def shared(self) -> bool:
        """Whether a shared tier (the app's Redis) is behind the process tier."""
        return self._shared is not None

    # -- the app binds it ---------------------------------------------------------------

    def bind(
        self,
        store: Store | None,
        *,
        prefix: str = "",
        report: Report | None = None,
        timeout: float = 0.25,
    ) -> None:
        """Use ``store`` as the shared tier (``None``: the process tier alone), its keys under
        ``prefix + name + ":"``, reads bounded by ``timeout``; tell ``report`` each event."""
        self._shared = (
            None
            if store is None
            else SharedTier(
                store,
                f"{prefix}{self.name}:",
                policy=self._policy,
                timeout=timeout,
                clock=self._clock,
            )
        )
        self._report = report if report is not None else _ignore

    async def unbind(self) -> None:
        """Back to the process tier alone; loads still running are cancelled (the app stops)."""
        self._shared = None
        self._report = _ignore
        await self._loads.cancel()

    # -- the handler's view ----------------------------------------------------------------

    async def get(self, key: str, loader: Loader) -> Any:
        """The value for ``key``: fresh from this process, stale (refreshed behind it), from
        the shared tier, or from ``loader()`` (one load per key at a time)."""
        if type(key) is not str:
            raise InvalidArgumentError(
                f"cache {self.name!r}: a key must be a str, not {type(key).__name__}"
            )
        entry = self._local.get(key)
        if entry is not None:
            now = self._clock()
            if now < entry.fresh_until:
                self._report(self.name, "hit")
                return decode(entry.text)
            if now < entry.usable_until:
                self._report(self.name, "stale")
                if self._loads.current(key) is None:  # one refresh at a time
                    self._start(key, loader, background=True)
                return decode(entry.text)
        flight = self._loads.current(key) or self._start(key, loader, background=False)
        assert flight is not None
        served = "miss"
        flight.waiters += 1
        try:
            served, entry = await flight.wait()
        except asyncio.CancelledError:
            self._loads.left(key, flight)
            raise
        finally:
            flight.waiters -= 1
            self._report(self.name, served)
        return decode(entry.text)

    def invalidate(self, key: str) -> None:
        """Forget ``key`` here and in the shared tier (other replicas' process tiers keep
        theirs until it is no longer fresh there); a load under way answers its callers but
        keeps nothing."""
        if type(key) is not str:
            raise InvalidArgumentError(
                f"cache {self.name!r}: a key must be a str, not {type(key).__name__}"
            )
        self._local.drop(key)
        self._loads.forget(key)
        if self._shared is not None:
            self._loads.deleting(key, self._shared.delete(key))

    # -- loads --------------------------------------------------------------------------

    def _start(self, key: str, loader: Loader, *, background: bool) -> Flight | None:
        return self._loads.start(
            key, functools.partial(self._fly, key, loader), background=background
        )

    async def _fly(self, key: str, loader: Loader, flight: Flight) -> None:
        """One flight: the shared tier, else the loader; the answer to the callers first, the
        shared tier's copy after."""
        loads = self._loads
        try:
            await loads.deleted(key)  # an invalidation's delete first, or we read it back
            shared = self._shared
            if shared is not None:
                found = await shared.get(key)
                if found is not None:
                    self._keep(key, found, flight)
                    if self._clock() < found.fresh_until:
                        flight.settle("hit", found)
                        return
                    flight.settle("stale", found)  # the callers are served: refresh behind
                    if not loads.to_background(flight):
                        return
            value = await bounded(loader, self.load_timeout, self.name)
            entry = self._policy.entry(encode(value, cache=self.name, key=key), self._clock())
            kept = self._keep(key, entry, flight)
            loads.land(key, flight)
            flight.settle("miss", entry)
            if flight.background:
                self._report(self.name, "background")
            if shared is not None and kept:
                await shared.put(key, entry)
        except Exception as exc:
            loads.land(key, flight)
            self._report(self.name, "error")
            delivered = flight.fail(exc) and flight.waiters > 0
            if not delivered:  # nobody to raise it to: say it here
                # A string, not the exception: a log record kept (by a handler, a test's
                # capture) must not keep the failed load's frames and futures alive.
                why = f"{type(exc).__name__}: {exc}"
                log.warning("cache %r: a background load failed: %s", self.name, why)
        finally:
            loads.land(key, flight)
            if not flight.answer.done():
                flight.answer.cancel()

    def _keep(self, key: str, entry: Entry, flight: Flight) -> bool:
        """Keep ``entry`` in the process tier; whether it is worth keeping (anywhere)."""
        if flight.invalidated or entry.usable_until <= entry.loaded_at:  # miss_ttl=0: a miss
            return False
        held = self._local.get(key)
        if held is None or held.loaded_at <= entry.loaded_at:
            self._local.put(key, entry)
        return True
