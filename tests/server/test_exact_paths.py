"""Routing matches the path exactly as sent: a path that only percent-decodes (or normalises) to a
route's path is 404, with valid credentials, over real HTTP through a whole app."""

from __future__ import annotations

import pytest

from ivrhooks.testing import serve

from .served import QUERY, USER, app_with, curl


@pytest.mark.parametrize(
    "path",
    [
        "/hooks%2Fone",
        "/%68ooks/one",
        "/hooks/%6fne",
        "/hooks/%6Fne",
        "/hooks/one%20",
        "/hooks/./one",
        "/hooks//one",
        "/%68ealthz",
    ],
    ids=["slash", "prefix", "name", "name-upper", "trailing-space", "dot-segment", "double-slash",
         "healthz"],
)  # fmt: skip
async def test_a_path_that_only_decodes_to_a_route_is_404(path: str) -> None:
    app, called = app_with("GET")
    async with serve(app) as url:
        status, _ = await curl("--basic", "-u", USER, f"{url}{path}?{QUERY}")
        exact, _ = await curl("--basic", "-u", USER, f"{url}/hooks/one?{QUERY}")
    assert (status, exact) == (404, 200)
    assert called == ["GET"]
