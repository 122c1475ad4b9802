"""At startup, registration says which login endpoint the PBX answered and the token lifetime.

Which of PortSIP's three login generations answered (PortSIP REST §4) tells the operator which
PBX build they reached; the client finds it by trying them in order.
"""

from __future__ import annotations

import logging

import pytest

from ivrhooks.pbx.generations import Generation
from ivrhooks.registration import Registration
from ivrhooks.testing import FakePBX, serve
from tests.registration.helpers import add_menu, new_app, served_app


@pytest.mark.parametrize("generation", list(Generation), ids=lambda g: g.key)
async def test_the_startup_log_names_the_login_generation(
    generation: Generation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ivrhooks")
    fake = FakePBX(login_generations=[generation], token_ttl=1800)
    fake.add_ivr("8000", "Main")
    service = Registration(interval=0)
    async with serve(fake.app) as pbx_base:

        def build(base: str) -> object:
            app = new_app(pbx_base, fake, public_url=base)
            add_menu(app)
            app.services.append(service)
            return app

        async with served_app(build=build):
            await service.wait_for(successes=1)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("PBX login:")]
    assert lines == [f"PBX login: {generation.label}, token lifetime 1800 s"]
    assert fake.password not in caplog.text
