"""Which replica registers: one at a time, and only one of the newest generation.

With several replicas sharing a store (Redis), each reconcile would otherwise log in to the PBX
and write the same entries, and during a rolling deploy the old and new versions would rewrite
each other's entries back and forth. So:

- **The lease.** The registrar holds ``ivrhooks:<app>:registrar`` (``SET NX PX``, renewed by
  compare-and-set every third of its lifetime, released on shutdown). The others serve calls and
  take over within the lease time when the holder dies.
- **Generations.** Each replica's desired state (everything it would write, credentials
  included) has a fingerprint. The first time a fingerprint is seen it gets the next number; the
  highest number is the newest generation. A rolling deploy starts the new version after the
  old, so by default the most recent desired state wins, and a superseded generation never
  writes again, not even when an old replica restarts mid-deploy. ``IVRHOOKS_GENERATION``
  gives the number explicitly instead (a rollback: give the old code a higher number); a
  version numbered by first sight after that one still comes after it.
- **Synced.** After a successful pass the registrar records the fingerprint it brought the PBX
  to; a replica whose fingerprint that is knows the registration it serves is in place.

A store that fails makes this replica "not the registrar" until it answers again: registration
pauses rather than racing. With the in-memory store (one process) this replica always registers.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
from collections.abc import Mapping
from typing import Literal

from ivrhooks.registration.desired import DesiredUrl
from ivrhooks.store import FallbackStore, MemoryStore, Store

__all__ = ["GENERATION_TTL", "Registrar", "Role", "fingerprint"]

Role = Literal["registrar", "follower", "superseded"]

#: How long generations and the synced marker are remembered: far longer than any deploy.
GENERATION_TTL = 7 * 24 * 3600.0


def fingerprint(state: Mapping[str, Mapping[str, DesiredUrl]]) -> str:
    """A digest of everything a replica would write (hex; the credentials only hashed)."""
    canonical = {
        ext: {name: want.body.model_dump(mode="json") for name, want in sorted(urls.items())}
        for ext, urls in sorted(state.items())
    }
    data = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()[:32]


class Registrar:
    """This replica's part in deciding who registers."""

    def __init__(
        self,
        store: Store,
        app_id: str,
        state: Mapping[str, Mapping[str, DesiredUrl]],
        *,
        lease_ttl: float = 15.0,
        generation: int | None = None,
        replica: str | None = None,
    ) -> None:
        # Coordination must not race: never the per-process fallback of a failing Redis.
        self.store = store.primary if isinstance(store, FallbackStore) else store
        self.shared = not isinstance(self.store, MemoryStore)
        self.lease_ttl = lease_ttl
        self.fingerprint = fingerprint(state)
        self.explicit = generation
        self.replica = replica or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._me = self.replica.encode()
        self._prefix = f"ivrhooks:{app_id}:"
        self.number: int | None = None
        """This replica's generation, once known."""
        self.newest: int | None = None
        """The newest generation running, as of the last :meth:`role`."""
        self.holding = False

    def _key(self, name: str) -> str:
        return self._prefix + name

    async def _generation(self) -> int:
        """This replica's generation number (assigned on first sight of its fingerprint)."""
        key = self._key(f"gen:{self.fingerprint}")
        if self.explicit is not None:
            number = self.explicit
            await self.store.put(key, b"%d" % number, ttl=GENERATION_TTL)
            # A later version numbered by first sight must come after this one, not below it.
            await self.store.raise_to(self._key("generations"), number, ttl=GENERATION_TTL)
        else:
            found = await self.store.get(key)
            if found is not None:
                number = int(found)
                await self.store.put(key, found, ttl=GENERATION_TTL)  # still running: keep it
            else:
                candidate = await self.store.incr(self._key("generations"), ttl=GENERATION_TTL)
                if await self.store.add(key, b"%d" % candidate, ttl=GENERATION_TTL):
                    number = candidate
                else:  # another replica of this version registered it first
                    number = int(await self.store.get(key) or b"%d" % candidate)
        self.number = number
        return number

    async def role(self) -> Role:
        """Decide this replica's role now (renewing or taking the lease as it goes).

        Raises :class:`~ivrhooks.errors.StoreError` when the store fails: the caller pauses.
        """
        if not self.shared:
            self.number, self.newest, self.holding = 1, 1, True
            return "registrar"
        try:
            number = await self._generation()
            newest = await self.store.raise_to(self._key("newest"), number, ttl=GENERATION_TTL)
            self.newest = newest
            if number < newest:
                await self.release()
                return "superseded"
            lease = self._key("registrar")
            if self.holding:
                self.holding = await self.store.swap(lease, self._me, self._me, ttl=self.lease_ttl)
            if not self.holding:
                self.holding = await self.store.add(lease, self._me, ttl=self.lease_ttl)
        except BaseException:
            self.holding = False
            raise
        return "registrar" if self.holding else "follower"

    async def publish_synced(self) -> None:
        """The PBX now holds this replica's desired state."""
        if self.shared:
            await self.store.put(self._key("synced"), self.fingerprint.encode(), ttl=GENERATION_TTL)

    async def in_place(self) -> bool:
        """Whether the registration this replica serves is the one on the PBX."""
        if not self.shared:
            return True
        return await self.store.get(self._key("synced")) == self.fingerprint.encode()

    async def release(self) -> None:
        """Give the lease up (shutdown, or superseded), so another replica takes over at once."""
        if self.holding:
            self.holding = False
            await self.store.swap(self._key("registrar"), self._me, None, ttl=self.lease_ttl)
