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


async def test_the_client_is_closed_when_deliveries_answered_together_end() -> None:
    # Two events answered in the same instant: their sending tasks end in one turn of the loop,
    # and the last to end must still close the client (its connections would stay open and
    # warn when collected).
    arrived: list[asyncio.StreamWriter] = []
    open_connections: set[asyncio.StreamWriter] = set()
    closed = asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_connections.add(writer)
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next(
                    int(line.split(b":")[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length:")
                )
                await reader.readexactly(length)
                arrived.append(writer)
                if len(arrived) == 2:  # both answered in one go
                    for waiting in arrived:
                        waiting.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client hung up
        finally:
            open_connections.discard(writer)
            writer.close()
            if not open_connections:
                closed.set()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = EventSender(faults=EventFaults(), retry_waits=(), refusal=lambda url: None)
    url = EventUrl.model_validate({"enabled": True, "url": f"http://127.0.0.1:{port}/e"})
    try:
        for n in range(2):
            assert sender.send([("cdr", {"event_type": "call_start", "n": n})], {"cdr": url}) == 1
        sent = await sender.settled()
        assert [s.status for s in sent] == [200, 200]
        async with asyncio.timeout(5):
            await closed.wait()  # the sender hung up: its client was closed
    finally:
        await sender.aclose()
        server.close()
        await server.wait_closed()
