"""reference/auth.md's hostile-input list, each case through the endpoint the server serves
(``helpers.protected``: ``ActionEndpoint`` with a ``ServedRoute``, as ``ivrhooks run`` builds
it): the status, the handler never called, and the one structured log line's outcome and
reason."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from ivrhooks.core.auth import AuthGuard

from .helpers import TARGET, Setup, basic, call, digest_fields, digest_header

Request = tuple[str, str, bytes, list[tuple[bytes, bytes]]]  # app name, method, target, headers


@dataclass
class Case:
    id: str
    make: Callable[[Setup], Request]
    reason: str
    status: int = 401


def auth(app: str, *values: bytes, method: str = "GET", target: bytes = TARGET) -> Request:
    return app, method, target, [(b"authorization", v) for v in values]


def ok_basic(s: Setup) -> bytes:
    return basic(s.creds.username, s.creds.password)


def b64(raw: bytes) -> bytes:
    return b"Basic " + base64.b64encode(raw)


def dg(s: Setup, drop: str | None = None, **kw: Any) -> Request:
    fields = s.digest(**kw)
    if drop:
        del fields[drop]
    return auth("digest", digest_header(fields))


def _drop(name: str, s: Setup) -> Request:
    return dg(s, drop=name)


def dg_raw(s: Setup, text: str) -> Request:
    return auth("digest", text.encode())


def replayed(s: Setup, *ncs: str, last: str) -> Request:
    fields = s.digest()
    for nc in ncs:
        pre = s.digest(nonce=fields["nonce"], nc=nc)
        verdict = s.auth["digest"].check("GET", TARGET, [digest_header(pre)])
        assert verdict.ok, verdict
    return dg(s, nonce=fields["nonce"], nc=last)


def expired(s: Setup, **kw: Any) -> Request:
    nonce = s.challenge()["nonce"]
    s.clock.now += 301
    return dg(s, nonce=nonce, **kw)


def flipped(s: Setup) -> Request:
    nonce = s.challenge()["nonce"]
    raw = bytearray(base64.urlsafe_b64decode(nonce))
    raw[20] ^= 0x01  # inside the MAC-covered random part
    return dg(s, nonce=base64.urlsafe_b64encode(bytes(raw)).decode())


def urlsafe_basic(s: Setup) -> Request:
    # [a-z0-9:] never encodes to '+' or '/', so put the URL-safe '-' and '_' where the decoder
    # would otherwise just skip them (b64decode without validate=True drops unknown characters).
    value = ok_basic(s)
    return auth("basic", value[:10] + b"-_" + value[10:])


def empty_ha1(s: Setup) -> Request:
    fields = s.digest(username="nobody1", password="", ha1="")
    return auth("digest", digest_header(fields))


def no_qop(s: Setup) -> Request:
    # RFC 2069 form: response = H(HA1:nonce:HA2), no qop/nc/cnonce.
    ch = s.challenge()
    f = digest_fields(
        username=s.creds.username, password=s.creds.password, nonce=ch["nonce"], uri=TARGET.decode()
    )
    for key in ("qop", "nc", "cnonce"):
        del f[key]
    return auth("digest", digest_header(f))


CASES = [
    # --- the header itself ---
    Case("missing-basic", lambda s: auth("basic"), "missing"),
    Case("missing-digest", lambda s: auth("digest"), "missing"),
    Case("missing-bearer", lambda s: auth("bearer"), "missing"),
    Case("two-headers", lambda s: auth("basic", ok_basic(s), ok_basic(s)), "multiple_headers"),
    Case(
        "two-headers-digest",
        lambda s: auth("digest", b"Digest a=b", b"Digest c=d"),
        "multiple_headers",
    ),
    Case("one-megabyte", lambda s: auth("basic", b"Basic " + b"A" * 1_000_000), "malformed"),
    Case(
        "one-megabyte-digest",
        lambda s: auth("digest", b'Digest x="' + b"A" * 1_000_000 + b'"'),
        "malformed",
    ),
    Case("non-ascii", lambda s: auth("basic", ok_basic(s) + "é".encode()), "malformed"),
    Case("control-byte", lambda s: auth("basic", b"Basic \x00" + ok_basic(s)[6:]), "malformed"),
    Case("newline", lambda s: auth("bearer", b"Bearer abc\r\ndef"), "malformed"),
    Case("basic-to-digest-url", lambda s: auth("digest", ok_basic(s)), "wrong_scheme"),
    Case(
        "bearer-to-basic-url",
        lambda s: auth("basic", b"Bearer " + s.creds.token.encode()),
        "wrong_scheme",
    ),
    Case(
        "digest-to-bearer-url", lambda s: auth("bearer", digest_header(s.digest())), "wrong_scheme"
    ),
    Case("scheme-only-basic", lambda s: auth("basic", b"Basic"), "malformed"),
    Case("scheme-only-digest", lambda s: auth("digest", b"Digest"), "missing_param"),
    Case("unknown-scheme", lambda s: auth("basic", b"Negotiate YIIB"), "wrong_scheme"),
    # --- Basic ---
    Case("basic-junk-prefix", lambda s: auth("basic", b"Basic !!" + ok_basic(s)[6:]), "malformed"),
    Case("basic-urlsafe-alphabet", urlsafe_basic, "malformed"),
    Case("basic-bad-padding", lambda s: auth("basic", ok_basic(s).rstrip(b"=")), "malformed"),
    Case(
        "basic-inner-space",
        lambda s: auth("basic", ok_basic(s)[:12] + b" " + ok_basic(s)[12:]),
        "malformed",
    ),
    Case(
        "basic-no-colon",
        lambda s: auth("basic", b64(s.creds.username.encode() + s.creds.password.encode())),
        "malformed",
    ),
    Case(
        "basic-empty-user",
        lambda s: auth("basic", b64(b":" + s.creds.password.encode())),
        "malformed",
    ),
    Case(
        "basic-empty-password",
        lambda s: auth("basic", b64(s.creds.username.encode() + b":")),
        "malformed",
    ),
    Case(
        "basic-user-5-chars", lambda s: auth("basic", basic("abcde", s.creds.password)), "malformed"
    ),
    Case(
        "basic-password-65-chars",
        lambda s: auth("basic", basic(s.creds.username, "a" * 65)),
        "malformed",
    ),
    Case(
        "basic-uppercase",
        lambda s: auth("basic", basic(s.creds.username.upper(), s.creds.password)),
        "malformed",
    ),
    Case(
        "basic-invalid-utf8",
        lambda s: auth("basic", b64(b"\xff\xfeuser:" + s.creds.password.encode())),
        "malformed",
    ),
    Case(
        "basic-other-url",
        lambda s: auth("basic", basic(s.other.username, s.other.password)),
        "unknown_user",
    ),
    Case(
        "basic-wrong-password",
        lambda s: auth("basic", basic(s.creds.username, "wrongpassword1")),
        "bad_credentials",
    ),
    Case(
        "basic-password-prefix",
        lambda s: auth("basic", basic(s.creds.username, s.creds.password[:-1])),
        "bad_credentials",
    ),
    # --- Bearer ---
    Case("bearer-empty", lambda s: auth("bearer", b"Bearer "), "malformed"),
    Case("bearer-too-long", lambda s: auth("bearer", b"Bearer " + b"a" * 2000), "malformed"),
    Case("bearer-illegal-chars", lambda s: auth("bearer", b"Bearer abc$def"), "malformed"),
    Case(
        "bearer-two-tokens",
        lambda s: auth("bearer", b"Bearer " + s.creds.token.encode() + b" x"),
        "malformed",
    ),
    Case(
        "bearer-prefix",
        lambda s: auth("bearer", b"Bearer " + s.creds.token[:-1].encode()),
        "bad_credentials",
    ),
    Case(
        "bearer-other-url",
        lambda s: auth("bearer", b"Bearer " + s.other.token.encode()),
        "bad_credentials",
    ),
    Case(
        "bearer-in-query",
        lambda s: ("bearer", "GET", TARGET + b"&access_token=" + s.creds.token.encode(), []),
        "missing",
    ),
    # --- Digest: fields ---
    *[
        Case(f"digest-missing-{name}", partial(_drop, name), "missing_param")
        for name in ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
    ],
    Case("digest-empty-cnonce", lambda s: dg(s, cnonce=""), "missing_param"),
    Case(
        "digest-duplicate-param",
        lambda s: dg_raw(s, digest_header(s.digest()).decode() + ", nc=00000002"),
        "malformed",
    ),
    Case(
        "digest-duplicate-case",
        lambda s: dg_raw(s, digest_header(s.digest()).decode() + ', Realm="ivrhooks"'),
        "malformed",
    ),
    Case(
        "digest-unbalanced-quotes",
        lambda s: dg_raw(s, digest_header(s.digest()).decode() + ', x="abc'),
        "malformed",
    ),
    Case("digest-wrong-realm", lambda s: dg(s, realm="other"), "wrong_realm"),
    Case("digest-wrong-opaque", lambda s: dg(s, opaque="AAAAAAAAAAAAAAAAAAAAAAAA"), "bad_opaque"),
    Case(
        "digest-foreign-opaque",
        lambda s: dg(s, opaque=s.challenge("digest_other")["opaque"]),
        "bad_opaque",
    ),
    Case("digest-unknown-user-empty-ha1", empty_ha1, "unknown_user"),
    Case(
        "digest-other-url-credentials",
        lambda s: dg(s, username=s.other.username, password=s.other.password),
        "unknown_user",
    ),
    Case("digest-wrong-password", lambda s: dg(s, password="wrongpassword1"), "bad_credentials"),
    Case("digest-no-qop", no_qop, "missing_param"),
    Case("digest-auth-int", lambda s: dg(s, qop="auth-int"), "bad_qop"),
    Case(
        "digest-qop-list",
        lambda s: dg_raw(
            s, digest_header(s.digest()).decode().replace("qop=auth", 'qop="auth,auth-int"')
        ),
        "bad_qop",
    ),
    Case("digest-algorithm-not-offered", lambda s: dg(s, algorithm="SHA-256"), "bad_algorithm"),
    Case("digest-md5-sess", lambda s: dg(s, algorithm="MD5-sess"), "bad_algorithm"),
    Case("digest-sha512-256", lambda s: dg(s, algorithm="SHA-512-256"), "bad_algorithm"),
    Case(
        "digest-username-and-username-star",
        lambda s: dg_raw(
            s, digest_header(s.digest()).decode() + ", username*=UTF-8''" + s.creds.username
        ),
        "malformed",
    ),
    Case(
        "digest-username-star-only",
        lambda s: dg_raw(
            s,
            digest_header(s.digest())
            .decode()
            .replace(f'username="{s.creds.username}"', f"username*=UTF-8''{s.creds.username}"),
        ),
        "unsupported",
    ),
    Case(
        "digest-userhash",
        lambda s: dg_raw(s, digest_header(s.digest()).decode() + ", userhash=true"),
        "unsupported",
    ),
    # --- Digest: nonce count ---
    Case("digest-nc-zero", lambda s: dg(s, nc="00000000"), "bad_nc"),
    Case("digest-nc-0x", lambda s: dg(s, nc="0x000001"), "bad_nc"),
    Case("digest-nc-plus", lambda s: dg(s, nc="+0000001"), "bad_nc"),
    Case("digest-nc-underscore", lambda s: dg(s, nc="0000_001"), "bad_nc"),
    Case("digest-nc-7-digits", lambda s: dg(s, nc="0000001"), "bad_nc"),
    Case("digest-nc-9-digits", lambda s: dg(s, nc="000000001"), "bad_nc"),
    Case("digest-nc-non-ascii-digits", lambda s: dg(s, nc="\u0660" * 7 + "\u0661"), "malformed"),
    Case("digest-exact-replay", lambda s: replayed(s, "00000001", last="00000001"), "replay"),
    Case(
        "digest-replay-out-of-order",
        lambda s: replayed(s, "00000005", "00000003", last="00000003"),
        "replay",
    ),
    Case(
        "digest-window-edge", lambda s: replayed(s, "000000c8", last="00000048"), "replay"
    ),  # 200 - 128
    # --- Digest: nonce ---
    Case("digest-nonce-flipped-bit", flipped, "bad_nonce"),
    Case(
        "digest-nonce-other-url",
        lambda s: dg(s, nonce=s.challenge("digest_other")["nonce"]),
        "bad_nonce",
    ),
    Case(
        "digest-nonce-future",
        lambda s: dg(s, nonce=s.challenge(now=s.clock.now + 60)["nonce"]),
        "bad_nonce",
    ),
    Case("digest-nonce-truncated", lambda s: dg(s, nonce=s.challenge()["nonce"][:-4]), "bad_nonce"),
    Case("digest-nonce-invented", lambda s: dg(s, nonce="A" * 48), "bad_nonce"),
    Case("digest-expired-correct", lambda s: expired(s), "stale"),
    Case(
        "digest-expired-wrong", lambda s: expired(s, password="wrongpassword1"), "bad_credentials"
    ),
    # --- Digest: uri and method ---
    Case(
        "digest-uri-other-path",
        lambda s: dg(s, uri="/ivr/9000/dtmf", response_uri="/ivr/9000/dtmf"),
        "uri_mismatch",
    ),
    Case(
        "digest-uri-prefix",
        lambda s: dg(s, uri="/ivr/8000", response_uri="/ivr/8000"),
        "uri_mismatch",
    ),
    Case(
        "digest-uri-query-dropped",
        lambda s: dg(s, uri=TARGET.split(b"?")[0].decode()),
        "uri_mismatch",
    ),
    Case(
        "digest-uri-other-encoding",
        lambda s: dg(s, uri=TARGET.decode().replace("%C3%BC", "%c3%bc")),
        "uri_mismatch",
    ),
    Case(
        "digest-uri-absolute",
        lambda s: dg(s, uri="http://127.0.0.1:8080" + TARGET.decode()),
        "uri_mismatch",
    ),
    Case("digest-get-sent-as-post", lambda s: (*dg(s)[:1], "POST", *dg(s)[2:]), "bad_credentials"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_hostile_input_is_rejected(case: Case, caplog: pytest.LogCaptureFixture) -> None:
    s = Setup()
    app, method, target, headers = case.make(s)
    with caplog.at_level(logging.DEBUG, logger="ivrhooks.auth"):
        response = await call(s.apps[app], method, target, headers)
    assert response.status == case.status
    assert s.handler.calls == 0
    assert response.body == b'{"error": "unauthorized"}'
    assert response.header(b"www-authenticate"), "every 401 carries a challenge"
    [record] = [r for r in caplog.records if r.name == "ivrhooks.auth"]
    challenge = case.reason in ("missing", "stale")
    outcome = "challenged" if challenge else "rejected"
    assert (record.outcome, record.reason) == (outcome, case.reason)  # type: ignore[attr-defined]
    expected_level = logging.DEBUG if challenge else logging.WARNING
    assert record.levelno == expected_level, "normal Digest steps are DEBUG, guesses WARNING"
    stale = any(b"stale=true" in v for v in response.header(b"www-authenticate"))
    # A used nonce count is answered stale=true too: a client that lost the first reply and
    # sent it again recovers with a fresh nonce at once (a replayer learns nothing from it).
    assert stale == (case.reason in ("stale", "replay"))


async def test_forbidden_ip_is_refused_first(caplog: pytest.LogCaptureFixture) -> None:
    s = Setup(guard=AuthGuard(allow=["10.0.0.0/8"]))
    with caplog.at_level(logging.WARNING, logger="ivrhooks.auth"):
        response = await call(s.apps["basic"], "GET", TARGET, [(b"authorization", ok_basic(s))])
    assert response.status == 403
    assert s.handler.calls == 0
    assert [r.reason for r in caplog.records] == ["forbidden_ip"]  # type: ignore[attr-defined]
    allowed = await call(
        s.apps["basic"], "GET", TARGET, [(b"authorization", ok_basic(s))], "10.1.2.3"
    )
    assert allowed.status == 200


async def test_throttled_after_ten_failures(caplog: pytest.LogCaptureFixture) -> None:
    s = Setup(guard=None)
    s.guard = AuthGuard(clock=s.clock)
    s.add("basic", "basic", "sales")
    bad = [(b"authorization", basic(s.creds.username, "wrongpassword1"))]
    for _ in range(10):
        assert (await call(s.apps["basic"], "GET", TARGET, bad)).status == 401
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ivrhooks.auth"):
        response = await call(s.apps["basic"], "GET", TARGET, bad)
    assert response.status == 429
    assert response.header(b"retry-after") == [b"60"]
    assert response.body == b'{"error": "too_many_requests"}'
    assert s.handler.calls == 0
    assert [r.reason for r in caplog.records] == ["throttled"]  # type: ignore[attr-defined]
    # Derived credentials cannot be guessed: the correct ones are answered however throttled
    # the key is (docs/security.md); static passwords are in tests/auth/test_lockout.py.
    good = [(b"authorization", ok_basic(s))]
    assert (await call(s.apps["basic"], "GET", TARGET, good)).status == 200
    # Another client is not affected: no lockout by username.
    assert (await call(s.apps["basic"], "GET", TARGET, bad, "10.9.9.9")).status == 401
    s.clock.now += 61
    assert (await call(s.apps["basic"], "GET", TARGET, bad)).status == 401


def test_case_count() -> None:
    assert len(CASES) >= 50


async def test_challenge_round_trips_do_not_count_as_failures() -> None:
    s = Setup(guard=None)
    s.guard = AuthGuard(clock=s.clock)
    s.add("digest", "digest", "sales")
    for _ in range(15):
        assert (await call(s.apps["digest"], "GET", TARGET, [])).status == 401
    _, method, target, headers = dg(s)
    assert (await call(s.apps["digest"], method, target, headers)).status == 200
