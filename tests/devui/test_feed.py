"""The live feed: replay after a reconnect, live events, slow pages cut off, never blocking."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from ivrhooks.fakepbx.devui.feed import Feed, sse


def _parse(chunk: bytes) -> tuple[str | None, str, str]:
    fields = dict(
        line.split(": ", 1)
        for line in chunk.decode().splitlines()
        if line and not line.startswith("retry")
    )
    return fields.get("id"), fields["event"], fields["data"]


async def _take(stream: AsyncIterator[bytes], count: int) -> list[tuple[str | None, str, str]]:
    return [_parse(await anext(stream)) for _ in range(count)]


@pytest.mark.parametrize(
    ("last_seen", "replayed"),
    [
        pytest.param(None, ["a", "b", "c"], id="first-visit"),
        pytest.param("{start}-2", ["c"], id="reconnect-same-start"),
        pytest.param("{start}-3", [], id="seen-everything"),
        pytest.param("0badf00d-2", ["a", "b", "c"], id="another-start-of-the-app"),
        pytest.param("garbage", ["a", "b", "c"], id="unreadable-id"),
    ],
)
async def test_a_page_gets_hello_then_what_it_missed(
    last_seen: str | None, replayed: list[str]
) -> None:
    feed = Feed()
    for name in "abc":
        feed.publish({"name": name})
    stream = feed.stream(None if last_seen is None else last_seen.format(start=feed.start))
    hello = _parse(await anext(stream))
    assert hello == (None, "hello", json.dumps({"start": feed.start}))
    got = await _take(stream, len(replayed))
    assert [json.loads(data)["name"] for _, _, data in got] == replayed
    assert all(event == "hop" and (i or "").startswith(feed.start + "-") for i, event, _ in got)
    feed.close()
    assert [chunk async for chunk in stream] == []


async def test_live_events_follow_the_replay_without_repeats() -> None:
    feed = Feed()
    feed.publish({"n": 1})
    stream = feed.stream(None)
    await anext(stream)  # hello: the page is subscribed from here on
    feed.publish({"n": 2})  # published after subscribing, before the replay is read
    replay = await _take(stream, 2)
    feed.publish({"n": 3})
    live = await _take(stream, 1)
    numbers = [json.loads(data)["n"] for _, _, data in replay + live]
    assert numbers == [1, 2, 3]
    feed.close()
    assert [chunk async for chunk in stream] == []


async def test_a_page_that_stops_reading_is_cut_off_and_catches_up_on_reconnect() -> None:
    feed = Feed(backlog=50, queue=4)
    slow = feed.stream(None)
    await anext(slow)
    feed.publish({"n": -1})
    await _take(slow, 1)  # from the replay
    feed.publish({"n": 0})
    await _take(slow, 1)  # live: the page is keeping up so far
    for n in range(1, 11):
        feed.publish({"n": n})  # never blocks, however far behind the page is
    got = [_parse(chunk) async for chunk in slow]  # the queued 4, then the stream ends
    assert [json.loads(data)["n"] for _, _, data in got] == [1, 2, 3, 4]
    again = feed.stream(got[-1][0])  # EventSource reconnects with Last-Event-ID
    await anext(again)
    rest = await _take(again, 6)
    assert [json.loads(data)["n"] for _, _, data in rest] == [5, 6, 7, 8, 9, 10]
    feed.close()


async def test_close_ends_a_waiting_stream() -> None:
    feed = Feed()
    stream = feed.stream(None)
    await anext(stream)
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    feed.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 5)


def test_sse_framing() -> None:
    assert sse("hop", '{"a":1}', "x-1") == b'id: x-1\nevent: hop\ndata: {"a":1}\n\n'
    assert sse("hello", "{}") == b"event: hello\ndata: {}\n\n"
