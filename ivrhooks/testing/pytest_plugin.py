"""The ivrhooks pytest plugin (installed with the package): test your routing against a fake PBX.

Give it your app with a fixture named ``ivrhooks_app``, then ask for ``pbx``::

    # conftest.py
    import pytest
    from myproject.routing import app

    @pytest.fixture
    def ivrhooks_app():
        return app

    # test_routing.py
    async def test_key_1_reaches_sales(ivrhooks_pbx):
        decision = await ivrhooks_pbx.dial(to="8000", caller="101", digits="1")
        assert decision.destination == "2001"

``ivrhooks_pbx`` is the :class:`~ivrhooks.testing.FakePBX` the app is registered on (the app runs
on a loopback port for the test; ``ivrhooks_running`` gives both). ``ivrhooks_local`` runs the
app in process instead (no sockets, no auth: fast). Resources the app declares are replaced
by name with a fixture named ``ivrhooks_resources`` returning a dict (empty by default). Every
fixture's name starts with ``ivrhooks_``, so none takes a name a project already uses. The async
fixtures need pytest-asyncio, which ``pip install ivrhooks[testing]`` brings
(``asyncio_mode = "auto"``, or mark the tests ``@pytest.mark.asyncio``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported by the fixtures when used: pytest loads this plugin in every run
    from ivrhooks.app import IVRHooks
    from ivrhooks.fakepbx import FakePBX
    from ivrhooks.testing.harness import RunningApp
    from ivrhooks.testing.local import Local

_NO_ASYNCIO = (
    "the ivrhooks fixtures are async and need pytest-asyncio: pip install 'ivrhooks[testing]'"
)

try:  # the async fixtures need pytest-asyncio; without it they say how to get it
    import pytest_asyncio
except ImportError:  # pragma: no cover - pytest-asyncio is part of the test extra
    pytest_asyncio = None  # type: ignore[assignment]  # the module or nothing: checked below


@pytest.fixture
def ivrhooks_app() -> IVRHooks:
    """Override this fixture to return the app under test."""
    raise pytest.UsageError(
        "the `ivrhooks_pbx` fixture needs your app: define a fixture named `ivrhooks_app` that "
        "returns it"
    )


@pytest.fixture
def ivrhooks_resources() -> dict[str, Any]:
    """Override to stand in for the app's resources by name (``{"crm": FakeCRM()}``): the
    app's own are not set up for them. Empty by default."""
    return {}


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def ivrhooks_running(
        ivrhooks_app: IVRHooks, ivrhooks_resources: dict[str, Any]
    ) -> AsyncIterator[RunningApp]:
        """The app served on loopback and registered on a fake PBX."""
        from ivrhooks.testing.harness import running

        async with running(ivrhooks_app, resources=ivrhooks_resources) as harness:
            yield harness

    @pytest_asyncio.fixture
    async def ivrhooks_local(
        ivrhooks_app: IVRHooks, ivrhooks_resources: dict[str, Any]
    ) -> AsyncIterator[Local]:
        """The app run in process, no sockets: ``await ivrhooks_local.dial(to=, caller=, ...)``."""
        from ivrhooks.testing.local import local

        async with local(ivrhooks_app, resources=ivrhooks_resources) as ivr:
            yield ivr

    @pytest_asyncio.fixture
    async def ivrhooks_pbx(ivrhooks_running: RunningApp) -> FakePBX:
        """The fake PBX the app is registered on: ``await ivrhooks_pbx.dial(to=, caller=, ...)``."""
        return ivrhooks_running.pbx

else:

    @pytest.fixture
    def ivrhooks_running() -> RunningApp:
        raise pytest.UsageError(_NO_ASYNCIO)

    @pytest.fixture
    def ivrhooks_pbx() -> FakePBX:
        raise pytest.UsageError(_NO_ASYNCIO)

    @pytest.fixture
    def ivrhooks_local() -> Local:
        raise pytest.UsageError(_NO_ASYNCIO)
