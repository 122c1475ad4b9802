"""A route answers only the method it is registered with (405 for the other, even with valid
credentials), unless the deployment asks for both; over real HTTP through a whole app."""

from __future__ import annotations

import pytest

from ivrhooks import ConfigurationError, ServingConfig
from ivrhooks.core.types import Method
from ivrhooks.testing import serve

from .served import app_with, send


@pytest.mark.parametrize(
    ("registered", "other"), [("POST", "GET"), ("GET", "POST")], ids=["post-url", "get-url"]
)
async def test_the_other_method_is_405_even_with_valid_credentials(
    registered: Method, other: str
) -> None:
    app, called = app_with(registered)
    async with serve(app) as url:
        refused, headers = await send(url, other)
        answered, _ = await send(url, registered)
    assert refused == 405
    assert headers["allow"] == registered
    assert answered == 200
    assert called == [registered], "the refused request never reached the handler"


@pytest.mark.parametrize(
    "how", ["code", "environment"], ids=["serving-config", "IVRHOOKS_SERVE_METHODS"]
)
async def test_both_methods_when_the_deployment_asks_for_them(how: str) -> None:
    if how == "code":
        app, called = app_with(serving=ServingConfig(methods=("GET", "POST")))
        config = app.configure()
    else:
        app, called = app_with()
        config = app.configure({"IVRHOOKS_SERVE_METHODS": "get, post"})
    async with serve(app.build(config)) as url:
        statuses = [(await send(url, m))[0] for m in ("GET", "POST")]
    assert statuses == [200, 200]
    assert called == ["GET", "POST"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"IVRHOOKS_SERVE_METHODS": "GET"}, "must include the registered method"),
        ({"IVRHOOKS_SERVE_METHODS": "GET,PUT"}, "choose from 'GET' and 'POST'"),
    ],
    ids=["without-registered", "unknown-method"],
)
def test_serve_methods_problems_name_the_variable(environ: dict[str, str], message: str) -> None:
    app, _ = app_with()
    with pytest.raises(ConfigurationError, match=f"IVRHOOKS_SERVE_METHODS.*{message}"):
        app.configure(environ)
