"""ivrhooks with ``BENCH_ROUTES`` DTMF routes, every one with ``BENCH_SCHEME`` auth.

Served with ``uvicorn --factory bench.apps.ivr:create``.
"""

from __future__ import annotations

import os
from typing import Literal, cast

from bench.apps import RECEPTIONIST, SECRET, mask_of, route_count
from ivrhooks import ActionRequest, Decision, IVRHooks, ServingConfig, call


async def transfer(request: ActionRequest) -> Decision:
    return call("2001")


def build(routes: int, scheme: str) -> IVRHooks:
    app = IVRHooks(
        receptionists=[RECEPTIONIST],
        auth=cast(Literal["basic", "digest", "bearer"], scheme),
        secret=SECRET,
        env=False,
        # freeze_gc as `ivrhooks run` serves it; both methods so one app serves the GET and
        # the POST scenarios (an app answers only its registered method by default).
        serving=ServingConfig(freeze_gc=True, methods=("GET", "POST")),
    )
    for index in range(routes):
        app.dtmf(mask_of(index), name=f"r{index}")(transfer)
    return app


def create() -> IVRHooks:
    return build(route_count(), os.environ.get("BENCH_SCHEME", "basic"))
