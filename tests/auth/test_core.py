"""The pure core: the auth-param parser, credential derivation, RFC 7616 answers, replay window."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivrhooks.core.auth import (
    MemoryReplayStore,
    Secrets,
    build_authenticator,
    derive_credentials,
    generate_secret,
)
from ivrhooks.core.auth.digest import digest_ha1, digest_response
from ivrhooks.core.auth.params import parse_auth_params
from ivrhooks.errors import AuthHeaderError, ConfigurationError

from .helpers import SECRET, TARGET, basic, judged

# --- parser ---------------------------------------------------------------------------------


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_parser_raises_only_its_own_error(data: bytes) -> None:
    try:
        parsed = parse_auth_params(data)
    except AuthHeaderError:
        return
    assert all(re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9a-z]+", k) for k in parsed)


_tokens = st.from_regex(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}", fullmatch=True)
_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


@given(st.dictionaries(_tokens.map(str.lower), _values, max_size=10))
def test_parser_round_trips_quoted_strings(params: dict[str, str]) -> None:
    text = ", ".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in params.items()
    )
    assert parse_auth_params(text) == params


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a=b, c="d, e"', {"a": "b", "c": "d, e"}),
        ('A = "x\\"y" ,, b=1', {"a": 'x"y', "b": "1"}),
        ("", {}),
    ],
    ids=["token-and-quoted", "bws-escape-empty-element", "empty"],
)
def test_parser_accepts(text: str, expected: dict[str, str]) -> None:
    assert parse_auth_params(text) == expected


@pytest.mark.parametrize(
    "text",
    ["a=b, a=c", "a=b, A=c", 'a="b', "a", "a=", "=b", "a=b c=d", 'a="é"', "a=b\x00", "x=y," * 40],
    ids=[
        "dup",
        "dup-case",
        "unbalanced",
        "no-eq",
        "no-value",
        "no-name",
        "no-comma",
        "non-ascii",
        "nul",
        "too-many",
    ],
)
def test_parser_rejects(text: str) -> None:
    with pytest.raises(AuthHeaderError):
        parse_auth_params(text)


# --- credentials ----------------------------------------------------------------------------


def test_derivation_is_deterministic_distinct_and_pbx_shaped() -> None:
    a, again, b = (derive_credentials(SECRET, r) for r in ("sales", "sales", "support"))
    assert a == again
    assert len({a.username, b.username}) == 2
    assert len({a.password, b.password, a.token, b.token}) == 4
    for c in (a, b):
        assert re.fullmatch(r"[a-z0-9]{6,64}", c.username)
        assert re.fullmatch(r"[a-z0-9]{6,64}", c.password)
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", c.token)
        assert c.password not in repr(c) and c.token not in repr(c)
    assert derive_credentials(SECRET + "x", "sales") != a


def test_bad_secrets_and_routes_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="secret"):
        derive_credentials("short", "sales")
    with pytest.raises(ConfigurationError, match="route_id"):
        derive_credentials(SECRET, "")
    with pytest.raises(ConfigurationError, match="previous"):
        Secrets(SECRET, SECRET)
    assert len(generate_secret()) >= 40


def test_rotation_accepts_both_until_retired() -> None:
    new = generate_secret()
    secrets = Secrets(new, previous=SECRET)
    auth = build_authenticator("basic", "sales", secrets=secrets)
    old_c, new_c = derive_credentials(SECRET, "sales"), derive_credentials(new, "sales")
    for c in (old_c, new_c):
        assert auth.check("GET", TARGET, [basic(c.username, c.password)]).ok
    bearer = build_authenticator("bearer", "sales", secrets=secrets)
    assert bearer.check("GET", TARGET, [b"Bearer " + old_c.token.encode()]).ok
    secrets.retire_previous()
    assert not auth.check("GET", TARGET, [basic(old_c.username, old_c.password)]).ok
    assert not bearer.check("GET", TARGET, [b"Bearer " + old_c.token.encode()]).ok
    assert auth.check("GET", TARGET, [basic(new_c.username, new_c.password)]).ok


def test_scheme_none_has_no_authenticator() -> None:
    # "none" is served with no verifier at all (ServedRoute), never with one accepting anything.
    with pytest.raises(ConfigurationError, match="has no authenticator"):
        build_authenticator("none", "sales", secrets=None)


@pytest.mark.parametrize(
    "algorithms", [("SHA-512-256",), ("MD5-sess",), (), ("MD5", "MD5")], ids=str
)
def test_unsupported_digest_algorithms_are_refused(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ConfigurationError, match="digest_algorithms"):
        build_authenticator("digest", "s", secrets=Secrets(SECRET), digest_algorithms=algorithms)


# --- RFC 7616 §3.9.1 worked examples --------------------------------------------------------

RFC = {
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    "nc": "00000001",
    "qop": "auth",
    "method": "GET",
    "uri": "/dir/index.html",
}


@pytest.mark.parametrize(
    ("algorithm", "response"),
    [
        ("MD5", b"8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", b"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
    ids=["md5", "sha-256"],
)
def test_rfc7616_known_answers(algorithm: str, response: bytes) -> None:
    ha1 = digest_ha1(algorithm, "Mufasa", "http-auth@example.org", "Circle of Life")
    assert digest_response(algorithm, ha1, **RFC) == response


def test_sha256_is_offered_first() -> None:
    auth = build_authenticator(
        "digest", "s", secrets=Secrets(SECRET), digest_algorithms=("MD5", "SHA-256")
    )
    headers = judged(auth.check("GET", TARGET, [])).headers
    assert [b"algorithm=SHA-256" in v for _, v in headers] == [True, False]


# --- replay window --------------------------------------------------------------------------


def test_window_accepts_each_count_once_in_any_order() -> None:
    store = MemoryReplayStore()
    seen = [5, 3, 4, 1, 2, 130, 3, 5, 2, 129]
    outcomes = [store.check_and_set("n", "u", nc, 0.0, 1.0) for nc in seen]
    assert outcomes == ["ok"] * 6 + ["replay"] * 3 + ["ok"]
    # Edge of the 128-wide window below 130: 3 is offset 127 (in, unseen), 2 is offset 128 (out).
    assert store.check_and_set("n", "u", 3, 0.0, 1.0) == "replay"  # seen above
    assert store.check_and_set("n", "u", 6, 0.0, 1.0) == "ok"
    assert store.check_and_set("n", "u", 2, 0.0, 1.0) == "replay"
    assert store.check_and_set("n", "other", 1, 0.0, 1.0) == "ok"  # per (nonce, username)


def test_window_edge_value_is_accepted_exactly_once() -> None:
    store = MemoryReplayStore()
    assert store.check_and_set("n", "u", 200, 0.0, 1.0) == "ok"
    assert store.check_and_set("n", "u", 73, 0.0, 1.0) == "ok"  # offset 127: last slot
    assert store.check_and_set("n", "u", 73, 0.0, 1.0) == "replay"
    assert store.check_and_set("n", "u", 72, 0.0, 1.0) == "replay"  # offset 128: outside


def test_eviction_turns_nonces_stale_not_replayable() -> None:
    store = MemoryReplayStore(max_entries=2, lifetime=300)
    assert store.check_and_set("a", "u", 1, 10.0, 20.0) == "ok"
    assert store.check_and_set("b", "u", 1, 11.0, 20.0) == "ok"
    assert store.check_and_set("c", "u", 1, 12.0, 20.0) == "ok"  # evicts "a", watermark 10
    assert len(store) == 2
    assert store.check_and_set("a", "u", 1, 10.0, 20.0) == "stale"
    assert store.check_and_set("a", "u", 2, 10.0, 20.0) == "stale"
    # Expired entries are dropped for free: no watermark rise.
    assert store.check_and_set("d", "u", 1, 400.0, 500.0) == "ok"
    assert store.watermark == 10.0


def test_a_full_store_keeps_serving_fresh_nonces_with_bounded_memory() -> None:
    """The PBX spends each nonce right after its challenge: at any call rate its requests keep
    passing while the table stays at its cap."""
    store = MemoryReplayStore(max_entries=100, lifetime=300)
    for call in range(5_000):
        issued = 1_000.0 + call * 0.01  # 100 calls a second, each on a fresh nonce
        assert store.check_and_set(f"n{call}", "u", 1, issued, issued + 0.005) == "ok"
        assert len(store) <= 100
    assert (
        store.check_and_set("n10", "u", 1, 1_000.1, 1_050.0) == "stale"
    )  # evicted: not replayable
