"""Per-call sessions: what a handler remembers about a call across prompts and receptionists.

A multi-step menu in PortSIP is receptionists forwarding to each other (reference/portsip.md §5);
the PBX sends the call's ``session_id`` with every action-URL request, the same across a forward.
``session = await req.session()`` is a mapping of JSON values for that call, shared by every
request of the call on any receptionist and (with ``IVRHOOKS_REDIS_URL``) any replica.

- **Saved when the handler returns a decision**; a handler that raises, overruns its deadline
  or returns something invalid saves nothing (the fallback then sees the call's state as stored).
- **Expiry** counts from the last write (``IVRHOOKS_SESSION_TTL``, an hour by default); a request
  whose handler only reads still writes its attempt count, so a live call never expires.
- **Size** is capped (16 KiB of JSON by default): a larger session is a handler failure.
- **Attempts**: ``session.attempts`` is how many times the current route has fired in this call,
  this request included (counted when the handler asks for the session), so a handler can cap
  retries: after the third wrong PIN, the operator.
- **No session_id** (PortSIP builds from before it was sent): ``req.session()`` raises
  :class:`~ivrhooks.errors.SessionUnavailableError`; the request is answered by the fallback in
  time, with one log line saying why. Keying by the caller's number instead would mix up two
  calls from one number, so ivrhooks does not guess.
- **Concurrency**: two requests of one call are sequential in practice. When they are not, the
  first to save wins: a save compares with what was loaded, and a session changed meanwhile is
  not overwritten (the later request's decision still stands; its changes are logged as lost).
- Reading costs nothing for a handler that never calls ``req.session()``.
- **Async handlers only**: a plain ``def`` handler runs in a worker thread, where
  ``req.session()`` raises :class:`~ivrhooks.errors.SessionError` (the fallback answers, one log
  line); write it as ``async def`` and move blocking calls into ``await asyncio.to_thread(...)``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any, Protocol

from ivrhooks.errors import SessionError, SessionTooLargeError

__all__ = ["Session", "SessionBroker", "SessionStore"]

log = logging.getLogger("ivrhooks.handler")


class Session(MutableMapping[str, Any]):
    """One call's state: string keys, JSON-serialisable values."""

    __slots__ = ("_attempts", "_counts", "_data", "_loaded", "_route")

    def __init__(
        self, data: dict[str, Any], counts: dict[str, int], route: str, loaded: bytes | None
    ) -> None:
        self._data = data
        self._counts = counts
        self._route = route
        self._loaded = loaded
        counts[route] = counts.get(route, 0) + 1
        self._attempts = counts[route]

    @property
    def attempts(self) -> int:
        """How many times this request's route has fired in this call, this request included."""
        return self._attempts

    def attempts_of(self, route: str) -> int:
        """How many times ``route`` has fired in this call (0: never)."""
        return self._counts.get(route, 0)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"session keys are strings, not {type(key).__name__}")
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Session({len(self._data)} keys, attempts={self._attempts})"


class SessionStore(Protocol):
    """What sessions need of a store (:class:`ivrhooks.store.Store` is one)."""

    async def get(self, key: str) -> bytes | None: ...

    async def swap(self, key: str, old: bytes | None, new: bytes | None, *, ttl: float) -> bool: ...


class SessionBroker:
    """Loads and saves sessions in the store, under ``ivrhooks:<app>:session:<session id>``.

    ``ttl`` and ``max_bytes`` are ``ServingConfig.session_ttl`` and ``session_max_bytes``: the
    caller passes the configured values, so no second default can drift from them."""

    def __init__(self, store: SessionStore, app_id: str, *, ttl: float, max_bytes: int) -> None:
        self.store = store
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._prefix = f"ivrhooks:{app_id}:session:"

    async def load(self, session_id: str, route: str) -> Session:
        raw = await self.store.get(self._prefix + session_id)
        data: dict[str, Any] = {}
        counts: dict[str, int] = {}
        if raw is not None:
            try:
                stored = json.loads(raw)
                data, counts = dict(stored["data"]), {k: int(v) for k, v in stored["n"].items()}
            except (ValueError, KeyError, TypeError, AttributeError):
                log.warning("a stored session could not be read; the call starts afresh")
        return Session(data, counts, route, raw)

    async def save(self, session_id: str, session: Session) -> bool:
        """Write the session back; False when another request of the call saved first."""
        try:
            raw = json.dumps(
                {"data": session._data, "n": session._counts},
                separators=(",", ":"),
                ensure_ascii=False,
                allow_nan=False,
            ).encode()
        except (TypeError, ValueError) as exc:
            raise SessionError(f"the session holds a value JSON cannot store: {exc}") from None
        if len(raw) > self.max_bytes:
            raise SessionTooLargeError(
                f"the session would be {len(raw)} bytes, over the cap of {self.max_bytes} "
                "(ServingConfig(session_max_bytes=...)); keep ids in it, not records"
            )
        saved = await self.store.swap(self._prefix + session_id, session._loaded, raw, ttl=self.ttl)
        if not saved:
            log.warning(
                "another request of this call saved its session first: this request's changes "
                "are not saved (its decision stands)"
            )
        return saved
