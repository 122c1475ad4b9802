"""What ``FakePBX`` offers of its events: the tenant, what was sent, how calls ended, and the
doors tests use to set event URLs and change extensions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ivrhooks.events import EventKind
from ivrhooks.fakepbx.dial import DialResult
from ivrhooks.fakepbx.webhooks.delivery import SentEvent
from ivrhooks.fakepbx.webhooks.hub import Webhooks
from ivrhooks.fakepbx.webhooks.outcome import Answering, CallOutcome
from ivrhooks.schema.models import Ivr

__all__ = ["EventMethods"]


class EventMethods:
    """Mixed into ``FakePBX``, which sets ``webhooks`` and looks receptionists up (``ivr``)."""

    webhooks: Webhooks

    if TYPE_CHECKING:  # FakePBX's own method

        def ivr(self, extension_number: str) -> Ivr: ...

    @property
    def tenant(self) -> dict[str, Any]:
        """The tenant as ``GET /api/tenant`` serves it (wire form; ``cdr_event`` and
        ``extension_event`` among its fields)."""
        return self.webhooks.tenant

    @property
    def events(self) -> list[SentEvent]:
        """Every delivery attempt so far, in the order they were answered."""
        return self.webhooks.sender.sent

    async def events_sent(self) -> list[SentEvent]:
        """Wait until every event queued so far was delivered or given up; returns
        :attr:`events`."""
        return await self.webhooks.sender.settled()

    async def stop_events(self) -> None:
        """Drop what is still queued (the PBX is stopping)."""
        await self.webhooks.sender.aclose()

    def call_outcome(self, session_id: str) -> CallOutcome | None:
        """How the call ``session_id`` ended, when the fake sent events for it."""
        return self.webhooks.outcome(session_id)

    def set_event_url(self, kind: EventKind, url: str, **fields: Any) -> None:
        """Set the tenant's ``cdr`` or ``extension`` event URL, enabled unless told otherwise
        (``auth="BASIC", username=..., password=...``), checked as ``POST /api/tenant`` checks
        it; a bad value raises ``APIError``."""
        self.webhooks.set_url(kind, **{"enabled": True, "url": url, **fields})

    def set_extension(
        self, number: str, state: Answering | None = None, *, presence: str | None = None
    ) -> int:
        """Extension ``number`` now answers, is busy, rings out or is offline (``state``), or
        sets its ``presence`` (``"DO_NOT_DISTURB"``...); the extension URL hears of it.
        Returns how many events were queued."""
        return self.webhooks.set_extension(number, state, presence=presence)

    def listen_events(self, listener: Callable[[SentEvent], None]) -> Callable[[], None]:
        """Call ``listener`` with every delivery attempt (the dev page's live list); returns
        the function that stops it."""
        return self.webhooks.sender.listen(listener)

    def _call_ended(
        self,
        to: str,
        hops: Sequence[DialResult],
        caller: str,
        caller_name: str,
        session_id: str,
        started: float,
    ) -> None:
        self.webhooks.call_ended(
            to=to,
            hops=hops,
            caller=caller,
            caller_name=caller_name,
            session_id=session_id,
            started=started,
            is_receptionist=self._is_receptionist,
            name_of=self._name_of,
        )

    def _is_receptionist(self, number: str) -> bool:
        try:
            self.ivr(number)
        except LookupError:
            return False
        return True

    def _name_of(self, number: str) -> str:
        return self.ivr(number).name or ""
