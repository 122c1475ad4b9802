"""``replay(app, FILE)``: captured traffic run through the app in process, for a test that fails
when a change routes yesterday's calls differently::

    async def test_yesterdays_calls_route_the_same() -> None:
        differences = await replay(app, "tests/captures/monday.jsonl", clock="business_hours:clock")
        assert differences == []

``ivrhooks replay FILE APP`` does the same from the command line, prints every request and
can accept the new answers (``--accept``). How requests are routed, why each call's requests
share a session and how the clock is pinned: :mod:`ivrhooks.server.replay`; what a capture
holds: :mod:`ivrhooks.observe.capture`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ivrhooks.app import IVRHooks
from ivrhooks.observe.captured import read_capture
from ivrhooks.server.replay import (
    ReplayDecision,
    ReplayDifference,
    pin_clock,
    replay_config,
    replay_server,
)

__all__ = ["ReplayDecision", "ReplayDifference", "replay"]


async def replay(
    app: IVRHooks,
    path: str | os.PathLike[str],
    *,
    clock: str | None = None,
    resources: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[ReplayDifference]:
    """The captured requests at ``path`` that ``app`` now answers differently: status
    ``changed`` or ``now a fallback``, in the file's order (an empty list: every request is
    answered as it was, or was skipped because it cannot be rebuilt).

    ``clock``: ``module:attr``, the zero-argument callable the app's handlers read the time
    from, returning an aware ``datetime``; each request sees the time it was captured.
    ``resources`` stand in for the app's declared resources by name (those are not set up).
    ``environ`` is laid over the code's configuration as ``IVRHOOKS_*`` variables (default:
    none, whatever the process environment holds). Nothing is registered, nothing is captured
    and sessions live in this process's memory.
    """
    capture = read_capture(path)
    config = replay_config(app.configure(environ if environ is not None else {}))
    server = app.build(config, services=(), resources=resources)
    results = await replay_server(
        server, capture, pin=pin_clock(clock) if clock is not None else None
    )
    return [found for found in results if found.changed]
