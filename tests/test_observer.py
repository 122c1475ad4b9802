"""The observer interface: what an application's observer is told, that a failing one never
fails a call, and that with none added the request path calls the built-in one directly."""

from __future__ import annotations

import logging

import httpx
import pytest
from prometheus_client import generate_latest

from ivrhooks import ActionRequest, ConfigurationError, IVRHooks, Observer, StoreConfig, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.observe.builtin import RequestObserver
from ivrhooks.observe.observer import Outcome, PBXCall, Verdict, fan_out
from ivrhooks.registration import Registration
from ivrhooks.testing import FakePBX, serve
from tests.conftest import new_app
from tests.redis_server import RedisServer
from tests.registration.helpers import SECRET, add_menu, served_app
from tests.registration.helpers import new_app as registering_app

CALL = {"from": "5551234", "to": "8000", "input": "1"}


class Recorder(Observer):
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def answered(
        self, request: ActionRequest, outcome: Outcome, latency: float, scheme: str
    ) -> None:
        self.events.append(("answered", (request.route, outcome.handler, scheme, latency > 0)))

    def rejected(self, route: str, verdict: Verdict) -> None:
        self.events.append(("rejected", (route, verdict.reason, verdict.status)))

    def pbx_request(self, call: PBXCall) -> None:
        self.events.append(("pbx", (call.method, call.endpoint, call.status)))

    def pbx_login(self, kind: str, ok: bool) -> None:
        self.events.append(("login", (kind, ok)))

    def reconciled(
        self, result: str, creates: int, updates: int, deletes: int, drift: int, seconds: float
    ) -> None:
        self.events.append(("reconciled", (result, creates, updates, deletes, drift)))

    def registrar(self, holding: bool) -> None:
        self.events.append(("registrar", holding))

    def store_op(self, op: str, seconds: float, ok: bool) -> None:
        self.events.append(("store", (op, ok)))

    def store_fallback(self, op: str) -> None:
        self.events.append(("store_fallback", op))

    def named(self, kind: str) -> list[object]:
        return [value for name, value in self.events if name == kind]


class Broken(Observer):
    def answered(
        self, request: ActionRequest, outcome: Outcome, latency: float, scheme: str
    ) -> None:
        raise RuntimeError("the metrics backend is down")


def _sales(app: IVRHooks) -> None:
    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")


async def _post(app: IVRHooks, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pbx") as client:
        return await client.post("/hooks/sales", json=CALL, **kwargs)  # type: ignore[arg-type]


async def test_an_added_observer_hears_answers_and_refusals_after_the_built_in_one() -> None:
    recorder = Recorder()
    app = new_app(auth="basic", allow_no_auth=False, secret=SECRET, observers=[recorder])
    _sales(app)
    creds = derive_credentials(SECRET, "sales")
    assert (await _post(app)).status_code == 401
    assert (await _post(app, auth=(creds.username, creds.password))).status_code == 200
    assert recorder.events == [
        ("rejected", ("sales", "missing", 401)),
        ("answered", ("sales", "route", "basic", True)),
    ]
    metrics = generate_latest(app.metrics.registry).decode()
    assert 'ivrhooks_requests_total{action="call",outcome="route",route="sales"} 1.0' in metrics


async def test_a_failing_observer_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    app = new_app(observers=[Broken(), recorder])
    _sales(app)
    with caplog.at_level(logging.ERROR, "ivrhooks"):
        reply = await _post(app)
    assert reply.status_code == 200 and reply.json()["destination"] == "2001"
    assert recorder.named("answered") == [("sales", "route", "none", True)]
    [record] = [r for r in caplog.records if "observer Broken.answered raised" in r.getMessage()]
    assert record.exc_info is not None


def test_with_no_observer_added_the_endpoint_calls_the_built_in_one_directly() -> None:
    plain = new_app().build()
    assert type(plain.endpoint.observer) is RequestObserver
    assert plain.runtime.observer is plain.endpoint.observer
    extra = Recorder()
    chained = new_app(observers=[extra]).build()
    observer = chained.endpoint.observer
    assert type(observer) is not RequestObserver
    assert [type(o) for o in observer.observers] == [RequestObserver, Recorder]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("given", "expected"),
    [([], Observer), (["one"], "one")],
    ids=["none-is-a-no-op", "one-is-itself"],
)
def test_fan_out_adds_nothing_for_zero_or_one(given: list[str], expected: object) -> None:
    observers = [Recorder() for _ in given]
    result = fan_out(observers)
    if expected is Observer:
        assert type(result) is Observer
    else:
        assert result is observers[0]


def test_an_observer_must_be_an_observer() -> None:
    with pytest.raises(ConfigurationError, match="subclass it"):
        IVRHooks(["8000"], env=False, observers=[object()])  # type: ignore[list-item]


async def test_registration_and_the_pbx_client_report_to_the_observer() -> None:
    fake = FakePBX()
    fake.add_ivr("8000", "Main")
    recorder = Recorder()
    service = Registration(interval=0)
    async with serve(fake.app) as pbx_base:

        def build(base: str) -> IVRHooks:
            app = registering_app(pbx_base, fake, public_url=base, observers=[recorder])
            add_menu(app)
            app.services.append(service)
            return app

        async with served_app(build=build) as (app, _):
            await service.wait_for(successes=1)
            metrics = generate_latest(app.metrics.registry).decode()
    assert recorder.named("login") == [("login", True)]
    assert set(recorder.named("registrar")) == {True}  # told at every turn of its loop
    assert recorder.named("reconciled") == [("ok", 3, 0, 0, 0)]
    pbx = recorder.named("pbx")
    assert ("POST", "auth/sign_in", 200) in pbx
    assert ("POST", "ivrs/{id}/action_urls", 201) in pbx
    # The built-in observer turned the same events into series.
    assert 'ivrhooks_pbx_logins_total{kind="login",result="ok"} 1.0' in metrics
    assert (
        'ivrhooks_pbx_requests_total{endpoint="ivrs/{id}/action_urls",method="POST",status="201"}'
        " 3.0" in metrics
    )
    assert 'ivrhooks_reconcile_runs_total{result="ok"} 1.0' in metrics


async def test_shared_store_operations_are_timed_and_reported(redis_server: RedisServer) -> None:
    recorder = Recorder()
    # Long timeouts (it was 0.1 s): a stopped Redis refuses at once, and the put must succeed
    # however slow this machine is for a moment.
    config = StoreConfig(redis_url=redis_server.url, connect_timeout=1, timeout=1)
    app = new_app(store=config, observers=[recorder])
    store = app.runtime.store
    try:
        await store.put("k", b"v", ttl=10)
        redis_server.stop()
        assert await store.get("k") is None  # answered from this process's (empty) memory
    finally:
        redis_server.start()
        await store.close()
    assert recorder.named("store") == [("put", True), ("get", False)]
    assert recorder.named("store_fallback") == ["get"]
    metrics = generate_latest(app.metrics.registry).decode()
    assert 'ivrhooks_store_duration_seconds_count{op="put"} 1.0' in metrics
    assert 'ivrhooks_store_errors_total{op="get"} 1.0' in metrics
