"""The fake PBX's event sender stopped while a retry waits to start: nothing is left half done
(a retry's coroutine never awaited would warn at garbage collection, an error in a test run)."""

from __future__ import annotations

import asyncio
import gc

from ivrhooks.fakepbx.webhooks import EventFaults, SentEvent
from ivrhooks.fakepbx.webhooks.delivery import EventSender
from ivrhooks.schema.tenant import EventUrl
from tests.ports import refused_port


async def test_stopping_with_a_retry_not_yet_started_leaves_no_coroutine_behind() -> None:
    sender = EventSender(faults=EventFaults(), retry_waits=(0.01,) * 3, refusal=lambda url: None)
    failed = asyncio.Event()

    def heard(sent: SentEvent) -> None:
        failed.set()  # wakes the test before the retry task this failure schedules can start

    sender.listen(heard)
    with refused_port() as port:
        url = EventUrl.model_validate({"enabled": True, "url": f"http://127.0.0.1:{port}/e"})
        assert sender.send([("cdr", {"event_type": "call_start"})], {"cdr": url}) == 1
        await failed.wait()
        await sender.aclose()
    gc.collect()  # an unawaited coroutine warns here: an error under the suite's filterwarnings
    assert [(s.status, s.error, s.attempt) for s in sender.sent] == [
        (None, "connection refused", 1)
    ]
