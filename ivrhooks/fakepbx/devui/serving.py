"""Serve the dev page on a loopback socket beside the app, in the same loop: with the embedded
fake PBX (its phone places calls, its hops feed the live list), or without one under
``ivrhooks dev --pbx`` (the app's call journal feeds the live list)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable

from ivrhooks.errors import InvalidArgumentError
from ivrhooks.fakepbx.devui.app import dev_page_app, hop_event, record_event, sent_event
from ivrhooks.fakepbx.devui.feed import Feed
from ivrhooks.fakepbx.pbx import FakePBX
from ivrhooks.runtime import Runtime
from ivrhooks.server.loopback import serve

__all__ = ["serve_dev_page"]


@contextlib.asynccontextmanager
async def serve_dev_page(
    pbx: FakePBX | None,
    runtime: Runtime,
    sock: socket.socket,
) -> AsyncIterator[str]:
    """Serve the dev page on ``sock`` (a loopback socket); yields its URL. Without ``pbx`` the
    live list comes from ``runtime.journal``, which must then be kept."""
    host = sock.getsockname()[0]
    if host not in ("127.0.0.1", "::1"):
        raise InvalidArgumentError(f"the dev page is served on loopback only, not on {host}")
    feed = Feed()
    stop_events: Callable[[], None] = lambda: None  # noqa: E731 (a real PBX's events: not here)
    if pbx is not None:
        stop_listening = pbx.listen(lambda result: feed.publish(hop_event(result)))
        stop_events = pbx.listen_events(lambda sent: feed.publish(sent_event(sent), "pbx-event"))
    elif runtime.journal is not None:
        stop_listening = runtime.journal.listen(lambda record: feed.publish(record_event(record)))
    else:
        raise InvalidArgumentError(
            "the dev page without a fake PBX lists the app's calls from its call journal: "
            "build the app with one (app.build(config, journal=CallJournal()))"
        )
    try:
        async with serve(dev_page_app(pbx, runtime, feed), sock=sock) as url:
            try:
                yield url + "/"
            finally:
                # The event streams never end by themselves: end them, or the server's graceful
                # shutdown would wait for them for ever.
                feed.close()
    finally:
        stop_listening()
        stop_events()
