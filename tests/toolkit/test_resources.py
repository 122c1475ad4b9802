"""Resources: set up before the app serves in declaration order, handed to handlers by name,
replaced by name in tests, torn down after in reverse order."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ivrhooks import ActionRequest, ConfigurationError, IVRHooks, call
from ivrhooks.core.auth import derive_credentials
from ivrhooks.errors import ResourceError
from ivrhooks.testing import local, running

ROOT = Path(__file__).resolve().parents[2]
SECRET = "resources-tests-secret-0123456789"


def _app(events: list[str]) -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], secret=SECRET, env=False)

    @app.resource
    async def crm() -> AsyncIterator[dict[str, str]]:
        events.append("crm up")
        yield {"101": "2001"}
        events.append("crm down")

    @app.resource
    async def directory(crm: dict[str, str]) -> AsyncIterator[str]:
        events.append(f"directory up with {sorted(crm)}")
        yield "directory"
        events.append("directory down")

    @app.dtmf("1")
    async def sales(req: ActionRequest, crm: dict[str, str]) -> object:
        return call(crm.get(req.caller, "0"))

    @app.dtmf("2")
    def lookup(req: ActionRequest, directory: str, crm: dict[str, str]) -> object:
        return call("2002" if directory == "directory" and crm else "0")  # a sync handler

    @app.dtmf("3")
    async def plain(req: ActionRequest) -> object:
        return call("2003")

    return app


async def test_resources_are_set_up_in_order_injected_and_torn_down_in_reverse() -> None:
    events: list[str] = []
    app = _app(events)
    async with local(app) as ivr:
        assert events == ["crm up", "directory up with ['101']"], "before the first call"
        answers = [await ivr.dial(to="8000", caller="101", digits=d) for d in "123"]
        assert [r.destination for r in answers] == ["2001", "2002", "2003"]
        assert all(r.answered_by == "route" for r in answers)
    assert events[2:] == ["directory down", "crm down"]


async def test_over_http_the_server_sets_them_up_in_its_lifespan() -> None:
    events: list[str] = []
    app = _app(events)
    async with running(app) as ran:
        assert events == ["crm up", "directory up with ['101']"]
        first = await ran.dial(to="8000", caller="101", digits="1")
        second = await ran.dial(to="8000", caller="101", digits="2")
    assert (first.destination, second.destination) == ("2001", "2002")
    assert events[-2:] == ["directory down", "crm down"]


@pytest.mark.parametrize("harness", ["local", "running"])
async def test_a_test_replaces_a_resource_by_name_and_it_is_not_set_up(harness: str) -> None:
    events: list[str] = []
    app = _app(events)
    fake = {"101": "4444"}
    if harness == "local":
        async with local(app, resources={"crm": fake}) as ivr:
            answer = (await ivr.dial(to="8000", caller="101", digits="1")).destination
    else:
        async with running(app, resources={"crm": fake}) as ran:
            answer = (await ran.dial(to="8000", caller="101", digits="1")).destination
    assert answer == "4444"
    assert events == ["directory up with ['101']", "directory down"], "crm itself never ran"


async def test_replacing_a_resource_the_app_does_not_declare_is_refused() -> None:
    app = _app([])
    with pytest.raises(
        ConfigurationError, match=r"resources=\{'crm2': \.\.\.\}: the app declares no"
    ):
        async with local(app, resources={"crm2": {}}):
            pass


def test_a_parameter_naming_no_resource_fails_the_build_naming_both() -> None:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.resource
    async def crm() -> AsyncIterator[str]:
        yield "crm"

    @app.dtmf("1")
    async def sales(req: ActionRequest, cmr: str) -> object:  # a typo
        return call("1")

    with pytest.raises(ConfigurationError) as caught:
        app.build(app.configure({}))
    message = str(caught.value)
    assert "sales" in message and "'cmr'" in message and "crm" in message


def test_a_parameter_with_a_default_is_left_alone() -> None:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest, greeting: str = "hi") -> object:
        return call("1")

    app.build(app.configure({}))


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: None, "give an async generator function"),
        (lambda: asyncio.sleep(0), "give an async generator function"),
    ],
    ids=["sync-function", "coroutine"],
)
def test_a_resource_must_be_an_async_generator(factory: object, message: str) -> None:
    app = IVRHooks(receptionists=["8000"], env=False)
    with pytest.raises(ConfigurationError, match=message):
        app.resource(factory)  # type: ignore[type-var]


def test_a_resource_naming_a_later_one_fails_the_build() -> None:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.resource
    async def first(second: str) -> AsyncIterator[str]:
        yield second

    @app.resource
    async def second() -> AsyncIterator[str]:
        yield "2"

    with pytest.raises(ConfigurationError, match=r"resource 'first'.*'second' names no resource"):
        app.build(app.configure({}))


async def test_a_resource_that_fails_to_set_up_fails_startup_naming_it() -> None:
    events: list[str] = []
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.resource
    async def cache() -> AsyncIterator[str]:
        events.append("cache up")
        try:
            yield "cache"
        finally:
            events.append("cache down")

    @app.resource
    async def crm() -> AsyncIterator[str]:
        raise ConnectionRefusedError("crm.internal:8900 refused")
        yield "never"  # pragma: no cover

    with pytest.raises(ResourceError, match=r"resource 'crm' .* failed to set up: Connection"):
        async with local(app):
            pass
    assert events == ["cache up", "cache down"], "what was set up is torn down"


FAILING = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"])

@app.resource
async def crm():
    raise ConnectionRefusedError("crm.internal:8900 refused")
    yield

@app.dtmf("1")
async def sales(req, crm):
    return call("2001")
"""


async def test_ivrhooks_run_says_which_resource_failed_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "crmapp.py").write_text(FAILING)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "crmapp.py")]
    cmd += ["--port", "0", "--pbx-port", "0", "--no-ui"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    errors = err.decode()
    assert proc.returncode == 1, errors
    last = errors.strip().splitlines()[-1]
    assert last.startswith("Error: resource 'crm' (crmapp.crm) failed to set up: "), last
    assert "ConnectionRefusedError" in last
    assert "Traceback" not in errors


async def test_the_lifespan_and_app_state_keep_working_beside_resources() -> None:
    import contextlib

    @contextlib.asynccontextmanager
    async def lifespan(app: IVRHooks) -> AsyncIterator[dict[str, str]]:
        yield {"greeting": "2999"}

    app = IVRHooks(receptionists=["8000"], secret=SECRET, env=False, lifespan=lifespan)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call(app.state.greeting)

    async with running(app) as ran:
        creds = derive_credentials(SECRET, "sales")
        async with httpx.AsyncClient() as http:
            reply = await http.post(
                ran.url + "/hooks/sales",
                json={"from": "101", "to": "8000", "input": "1"},
                auth=(creds.username, creds.password),
            )
    assert reply.json()["destination"] == "2999"
