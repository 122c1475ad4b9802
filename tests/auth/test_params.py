"""The fast path of the auth-param parser answers exactly as the byte-by-byte parser does.

``parse_auth_params`` tries a regular expression over well-formed input first and hands
anything else to the strict parser; these tests hold the two to the same answer (the same
dict, or the same :class:`AuthHeaderError` message) on generated and hand-picked input.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivrhooks.core.auth import params
from ivrhooks.core.auth.params import _parse_strict, check_header_bytes, parse_auth_params
from ivrhooks.errors import AuthHeaderError


def outcome(parse: object, data: bytes, max_params: int = 32) -> object:
    try:
        check_header_bytes(data)
        return parse(data, max_params)  # type: ignore[operator]
    except AuthHeaderError as exc:
        return ("error", str(exc))


def fast(data: bytes, max_params: int) -> dict[str, str]:
    return parse_auth_params(data, max_params=max_params)


# Bytes drawn mostly from the characters that matter to the grammar, so generated input is
# often almost well-formed (the interesting boundary), sometimes well-formed.
GRAMMAR = st.sampled_from([*b'aZ9=," \t\\-!~', 0x22, 0x22, 0x7F, 0x00])
ALMOST = st.lists(GRAMMAR, max_size=60).map(bytes)
NAMES = st.sampled_from(["username", "realm", "nonce", "uri", "response", "qop", "nc", "Nc", "x"])
VALUES = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)


@st.composite
def headers(draw: st.DrawFn) -> bytes:
    parts = []
    for name, value in draw(st.lists(st.tuples(NAMES, VALUES), max_size=8)):
        quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        shown = value if value.isalnum() and draw(st.booleans()) else quoted
        ws = draw(st.sampled_from(["", " ", "\t", "  "]))
        parts.append(f"{name}{ws}={ws}{shown}")
    sep = draw(st.sampled_from([",", ", ", " , ", ",,", ",\t"]))
    return (
        draw(st.sampled_from(["", " ", ","]))
        + sep.join(parts)
        + draw(st.sampled_from(["", " ", ","]))
    ).encode()


@settings(max_examples=400)
@given(ALMOST)
def test_fast_path_agrees_on_almost_well_formed_bytes(data: bytes) -> None:
    assert outcome(fast, data) == outcome(_parse_strict, data)


@settings(max_examples=400)
@given(headers(), st.integers(min_value=1, max_value=8))
def test_fast_path_agrees_on_generated_headers(data: bytes, max_params: int) -> None:
    assert outcome(fast, data, max_params) == outcome(_parse_strict, data, max_params)


@pytest.mark.parametrize(
    "data",
    [
        b'username="a\\"b", realm="r\\\\", nonce=abc',
        b"a=1, a=2",
        b"a=1, A=2",
        b"a=1 b=2",
        b'a="unterminated',
        b'a="ends in a backslash\\',
        b"a=, b=1",
        b"=1",
        b'a=1,,, ,b="2",',
        b'a\t=\t"x" ,\tb=y',
        b'a="x"b',
        b"",
        b" , ,",
    ],
)
def test_fast_path_agrees_on_edge_cases(data: bytes) -> None:
    assert outcome(fast, data) == outcome(_parse_strict, data)
    assert outcome(fast, data, 1) == outcome(_parse_strict, data, 1)


def test_the_fast_path_is_taken_for_a_digest_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    reply = (
        b'username="088eec7c1edf186ff9cf", realm="ivrhooks", nonce="bm9uY2U", '
        b'uri="/hooks/one?from=1001", algorithm=MD5, response="0123abcd", qop=auth, '
        b'nc=00000001, cnonce="abc123", opaque="xyz"'
    )
    calls: list[bytes] = []

    def strict(data: bytes, max_params: int) -> dict[str, str]:
        calls.append(data)
        return _parse_strict(data, max_params)

    monkeypatch.setattr(params, "_parse_strict", strict)
    parsed = parse_auth_params(reply)
    assert calls == []
    assert parsed["uri"] == "/hooks/one?from=1001" and parsed["nc"] == "00000001"
    assert len(parsed) == 10
    with pytest.raises(AuthHeaderError):
        parse_auth_params(reply + b" x")  # not well formed: the strict parser answers
    assert calls == [reply + b" x"]
