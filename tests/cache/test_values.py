"""JSON values only, checked when loaded; a bounded process tier; keys are strings."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from ivrhooks.cache import Cache
from ivrhooks.errors import InvalidArgumentError
from tests.cache.helpers import Source


class Account:
    pass


@pytest.mark.parametrize(
    ("value", "kind", "where"),
    [
        ({1, 2}, "set", "value"),
        (datetime.date(2024, 5, 1), "date", "value"),
        ({"since": datetime.datetime(2024, 5, 1)}, "datetime", "value['since']"),
        ({"team": ("2001", "2002")}, "tuple", "value['team']"),
        ({"team": [{"ext": Account()}]}, "Account", "value['team'][0]['ext']"),
        ({2001: "sales"}, "int", "a key of value"),
        ({"ratio": float("nan")}, "float nan", "value['ratio']"),
        (b"2001", "bytes", "value"),
        ({"5551234": {1}}, "set", "value[…]"),  # a key that is data is not shown
    ],
    ids=["set", "date", "datetime", "tuple", "object", "int-key", "nan", "bytes", "data-key"],
)
async def test_a_value_that_is_not_json_is_an_error_naming_the_cache_and_nothing_is_kept(
    value: Any, kind: str, where: str
) -> None:
    cache = Cache("accounts")
    source = Source(value)
    with pytest.raises(InvalidArgumentError) as caught:
        await cache.get("5551234", source)
    message = str(caught.value)
    assert message.startswith(
        f"cache 'accounts': the loader for a str key returned a {kind} at {where}; "
    )
    assert "5551234" not in message, "the key (a caller's number) is never in the message"
    assert len(cache) == 0
    await cache.get("5551234", Source({"ok": True}))
    assert len(cache) == 1


async def test_json_values_come_back_equal_and_a_callers_changes_stay_its_own() -> None:
    cache = Cache("accounts")
    value = {"name": "Åsa", "team": ["2001", 2002, 2.5, True, None], "nested": {"x": {}}}
    got = await cache.get("a", Source(value))
    assert got == value
    got["team"].append("9999")
    assert await cache.get("a", Source(None)) == value, "the cache keeps its own copy"


@pytest.mark.parametrize(
    "key", [2001, b"2001", None, ("a",)], ids=["int", "bytes", "None", "tuple"]
)
async def test_a_key_is_a_str(key: Any) -> None:
    cache = Cache("accounts")
    with pytest.raises(InvalidArgumentError, match=r"cache 'accounts': a key must be a str, not "):
        await cache.get(key, Source(1))
    with pytest.raises(InvalidArgumentError, match=r"a key must be a str"):
        cache.invalidate(key)


async def test_the_process_tier_holds_maxsize_keys_least_recently_used_out_first() -> None:
    cache = Cache("accounts", maxsize=3)
    sources = {key: Source(key) for key in "abcd"}
    for key in "abc":
        await cache.get(key, sources[key])
    await cache.get("a", sources["a"])  # used: "b" is now the least recently used
    await cache.get("d", sources["d"])
    assert len(cache) == 3
    for key in "acd":
        await cache.get(key, sources[key])
    assert {k: s.calls for k, s in sources.items()} == {"a": 1, "b": 1, "c": 1, "d": 1}
    await cache.get("b", sources["b"])
    assert sources["b"].calls == 2, "b was evicted"
    assert len(cache) == 3
