"""Path templates for span names and metric labels: ids out, the API's words in."""

from __future__ import annotations

import pytest

from ivrhooks.pbx.generations import GENERATIONS
from ivrhooks.pbx.templates import endpoint_template


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("ivrs", "ivrs"),
        ("ivrs/4f1c2e/action_urls", "ivrs/{id}/action_urls"),
        ("ivrs/4f1c2e/action_urls/9a7b/destroy", "ivrs/{id}/action_urls/{id}/destroy"),
        ("ivr_servers/77/status", "ivr_servers/{id}/status"),
        ("ivrs/status", "ivrs/status"),  # an id spelled like a word stays that word: no leak
        ("/auth/user", "auth/user"),
        ("login/oauth/token", "login/oauth/token"),
        ("users/5551234/calls?number=5551234", "{id}/{id}/{id}"),  # unknown words are ids too
        ("", ""),
    ],
    ids=lambda v: v or "empty",
)
def test_the_template_keeps_only_the_apis_words(path: str, template: str) -> None:
    assert endpoint_template(path) == template


def test_every_login_endpoint_is_its_own_template() -> None:
    for generation in GENERATIONS:
        assert endpoint_template(generation.value) == generation.value
