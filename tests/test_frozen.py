"""An app's declaration is frozen once it is built: what is served is what is registered."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ivrhooks import ActionRequest, ConfigurationError, IVRHooks, Observer, call
from ivrhooks.core.masks import parse_mask
from ivrhooks.core.routes import Route
from ivrhooks.registration import Registration
from ivrhooks.testing import running

ROOT = Path(__file__).resolve().parent.parent


def _app() -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    return app


async def late(req: ActionRequest) -> object:
    return call("2002")


LATE: dict[str, Callable[[IVRHooks], object]] = {
    "dtmf": lambda app: app.dtmf("2")(late),
    "caller": lambda app: app.caller("5551234")(late),
    "fallback": lambda app: app.fallback(late),
    "table": lambda app: app.table.add(
        Route(name="late", kind="DTMF", mask=parse_mask("2", "DTMF"), handler=late)
    ),
    "service": lambda app: app.services.append(Registration()),
    "observer": lambda app: app.observers.append(Observer()),
}


@pytest.mark.parametrize("late", sorted(LATE))
def test_a_declaration_after_the_build_is_refused(late: str) -> None:
    app = _app()
    LATE[late](_app())  # before a build: accepted
    app.build()
    with pytest.raises(ConfigurationError, match="the app has started") as caught:
        LATE[late](app)
    assert "before the app starts" in str(caught.value)
    assert [r.name for r in app.routes] == ["sales"], "nothing was added"


def test_a_build_that_fails_does_not_freeze_the_app() -> None:
    app = IVRHooks(env=False)  # no receptionist: the build fails
    app.dtmf("1")(late)
    with pytest.raises(ConfigurationError, match="serves no receptionist"):
        app.build()
    app.dtmf("2", receptionists=["8000"], name="two")(late)  # still open: the app never ran
    app.dtmf("3", receptionists=["8000"], name="three")(late)


async def test_a_route_added_while_serving_is_refused_and_never_served() -> None:
    app = _app()
    async with running(app) as ran:
        with pytest.raises(ConfigurationError, match="the app has started"):
            app.dtmf("2")(late)
        async with httpx.AsyncClient() as http:
            missing = await http.post(ran.url + "/hooks/late", json={"from": "1", "to": "8000"})
        registered = [str(u.name).partition("@")[0] for u in ran.pbx.action_urls("8000")]
    assert missing.status_code == 404
    assert registered == ["ivrhooks:sales"], "served and registered agree"


LIFESPAN_APP = """
import contextlib
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"])

@app.dtmf("1")
async def sales(req):
    return call("2001")

@contextlib.asynccontextmanager
async def lifespan(app):
    @app.dtmf("2")
    async def late(req):
        return call("2002")
    yield

app._user_lifespan = lifespan
"""


async def test_ivrhooks_run_refuses_a_route_added_at_startup(tmp_path: Path) -> None:
    (tmp_path / "lateapp.py").write_text(LIFESPAN_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    cmd = [sys.executable, "-m", "ivrhooks", "run", str(tmp_path / "lateapp.py")]
    cmd += ["--port", "0", "--pbx-port", "0", "--no-ui"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1, (out, err)
    errors = err.decode()
    assert "cannot add a route: the app has started" in errors
    assert "Traceback" not in errors
