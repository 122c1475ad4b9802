from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from ivrhooks import IVRHooks, ServingConfig
from tests.redis_server import RedisServer, running_redis

# Hypothesis times each example (200 ms, then an "Unreliable test timings" failure when a rerun
# is quicker) and fails data generation it finds too slow: both are the machine's load, not
# the code under test. Every property test runs without them (a test may still set its own).
settings.register_profile("ivrhooks", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ivrhooks")

_SERVING = ("deadline", "freeze_gc", "max_body", "max_threads", "methods", "path_prefix")


def new_app(receptionists: list[str] | None = None, **options: Any) -> IVRHooks:
    """An app for receiver tests; auth is covered by tests/auth, so it is off here.

    ``deadline=``, ``freeze_gc=`` and the other ``ServingConfig`` fields may be given directly.
    """
    options.setdefault("auth", "none")
    options.setdefault("allow_no_auth", True)
    options.setdefault("env", False)
    serving = {name: options.pop(name) for name in _SERVING if name in options}
    if serving:
        options["serving"] = ServingConfig(**serving)
    return IVRHooks(receptionists=receptionists or ["8000"], **options)


@pytest.fixture
def client_for() -> Callable[[IVRHooks], httpx.AsyncClient]:
    """An in-process httpx client for an app (ASGI transport, no network)."""

    def make(app: IVRHooks) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pbx")

    return make


@pytest.fixture(scope="session")
def redis_session() -> Iterator[RedisServer]:
    """One redis-server for the whole run (tests flush it before use)."""
    with running_redis() as server:
        yield server


@pytest.fixture
def redis_server(redis_session: RedisServer) -> RedisServer:
    """The session's redis-server, empty and running (a test may stop it)."""
    if redis_session.proc is None or redis_session.proc.poll() is not None:
        redis_session.start()
    redis_session.flush()
    return redis_session
