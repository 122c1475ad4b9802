"""Static credentials (htpasswd / htdigest via libpass) and the per-application guard."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import bcrypt
import pytest

from ivrhooks.core.auth import AuthGuard, StaticCredentials, Verdict, build_authenticator
from ivrhooks.core.auth.static import HashedPasswords
from ivrhooks.core.auth.throttle import Throttle
from ivrhooks.core.auth.verdict import Deferred, Pending
from ivrhooks.errors import ConfigurationError

from .helpers import TARGET, Clock, basic, challenges, digest_fields, digest_header, judged

USER, PASSWORD = "operator1", "s3cretpass"


def _bcrypt(password: str) -> str:
    # Cost 4 keeps the test fast; production files use htpasswd -B (cost 10+).
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


@pytest.fixture
def htpasswd(tmp_path: Path) -> Path:
    path = tmp_path / "htpasswd"
    path.write_text(f"{USER}:{_bcrypt(PASSWORD)}\n")
    return path


def test_htpasswd_basic_and_cache(htpasswd: Path) -> None:
    auth = build_authenticator(
        "basic", "s", secrets=None, static=StaticCredentials(htpasswd=htpasswd)
    )

    def check(user: str, password: str) -> Verdict | Pending | Deferred:
        return auth.check("GET", TARGET, [basic(user, password)])

    # Not yet remembered: the bcrypt check is handed back to run off the event loop.
    first = check(USER, PASSWORD)
    assert isinstance(first, Pending) and first.claimed == USER
    assert first.finish().ok
    again = check(USER, PASSWORD)
    assert isinstance(again, Verdict) and again.ok, "a remembered success answers at once"
    for user, password, reason in [
        (USER, "wrongpass1", "bad_credentials"),
        ("nobody1", PASSWORD, "unknown_user"),
    ]:
        pending = check(user, password)
        assert isinstance(pending, Pending)
        verdict = pending.finish()
        assert (verdict.ok, verdict.reason, verdict.claimed) == (False, reason, user)


def test_slow_hash_is_paid_once(htpasswd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = HashedPasswords(htpasswd)
    # Counted, not timed: which checks ran the slow hash (the file's passlib context).
    ran: list[str] = []
    verify = hashed._context.verify

    def counted(secret: str, hash: str, *args: object, **kwargs: object) -> bool:
        ran.append(secret)
        return bool(verify(secret, hash, *args, **kwargs))

    monkeypatch.setattr(hashed._context, "verify", counted)
    assert hashed.check(USER, PASSWORD) is True
    assert ran == [PASSWORD]
    for _ in range(100):
        assert hashed.check(USER, PASSWORD) is True
    assert ran == [PASSWORD], "a remembered success is answered without hashing"
    assert hashed.check(USER, "wrongpass1") is False  # failures are not cached as successes
    assert hashed.check(USER, "wrongpass1") is False
    assert ran == [PASSWORD, "wrongpass1", "wrongpass1"], "each failure is hashed again"


def _ldap_sha1(password: str) -> str:
    return "{SHA}" + base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()  # noqa: S324


@pytest.mark.parametrize(
    "entry",
    ["plainpass1", "XJ4RT//RfYEPg", _ldap_sha1("plainpass1")],
    ids=["plaintext", "des_crypt", "ldap_sha1-unsalted"],
)
def test_weak_htpasswd_entries_are_refused_at_load(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "htpasswd"
    path.write_text(f"goodone1:{_bcrypt('x')}\n# a comment\n\nweakuser:{entry}\n")
    with pytest.raises(
        ConfigurationError, match=r"htpasswd file .*htpasswd, line 4: user 'weakuser'"
    ):
        build_authenticator("basic", "s", secrets=None, static=StaticCredentials(htpasswd=path))


def test_htdigest_digest_uses_its_ha1_and_realm_must_match(tmp_path: Path) -> None:
    path = tmp_path / "htdigest"
    # htdigest files hold MD5 HA1s by definition (RFC 7616 §3.4.2).
    ha1 = hashlib.md5(f"{USER}:ivrhooks:{PASSWORD}".encode()).hexdigest()  # noqa: S324
    path.write_text(f"{USER}:ivrhooks:{ha1}\n")
    clock = Clock()
    auth = build_authenticator(
        "digest", "s", secrets=None, static=StaticCredentials(htdigest=path), clock=clock
    )
    ch = challenges(judged(auth.check("GET", TARGET, [])).headers)[0]
    fields = digest_fields(
        username=USER,
        password=PASSWORD,
        nonce=ch["nonce"],
        uri=TARGET.decode(),
        opaque=ch["opaque"],
    )
    assert auth.check("GET", TARGET, [digest_header(fields)]).ok
    with pytest.raises(ConfigurationError, match="realm"):
        build_authenticator(
            "digest", "s", secrets=None, static=StaticCredentials(htdigest=path), realm="other"
        )
    with pytest.raises(ConfigurationError, match="MD5"):
        build_authenticator(
            "digest",
            "s",
            secrets=None,
            static=StaticCredentials(htdigest=path),
            digest_algorithms=("SHA-256",),
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"username": "Upper1", "password": "abcdef1"}, "username"),
        ({"username": "abcdef1", "password": "short"}, "password"),
        ({"token": "tiny"}, "token"),
        ({"token": "abc", "username": "abcdef1", "password": "abcdef1"}, "exactly one"),
    ],
    ids=["none", "bad-user", "bad-password", "short-token", "two-kinds"],
)
def test_static_credentials_are_validated(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        StaticCredentials(**kwargs)  # type: ignore[arg-type]


def test_static_password_and_token() -> None:
    static = StaticCredentials(username="abcdef1", password="ghijkl2")
    assert (
        build_authenticator("basic", "s", secrets=None, static=static)
        .check("GET", TARGET, [basic("abcdef1", "ghijkl2")])
        .ok
    )
    token = StaticCredentials(token="t" * 32)
    bearer = build_authenticator("bearer", "s", secrets=None, static=token)
    assert bearer.check("GET", TARGET, [b"bearer " + b"t" * 32]).ok  # scheme is case-insensitive
    with pytest.raises(ConfigurationError, match="htpasswd"):
        build_authenticator(
            "digest", "s", secrets=None, static=StaticCredentials(htpasswd=Path("x"))
        )


# --- guard ----------------------------------------------------------------------------------


def scope(peer: str, xff: str | None = None, **more: str) -> dict[str, object]:
    headers = [(b"x-forwarded-for", xff.encode())] if xff is not None else []
    headers += [(name.replace("_", "-").encode(), value.encode()) for name, value in more.items()]
    return {"type": "http", "client": (peer, 1234), "headers": headers}


@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # untrusted peer: header ignored
        ("10.0.0.2", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.7", "1.2.3.4"),  # rightmost untrusted hop
        ("10.0.0.2", "10.0.0.9, 10.0.0.7", "10.0.0.9"),  # all trusted: the leftmost
        # Unreadable is unknown, never the proxy (issue 23: that made every client local).
        ("10.0.0.2", "garbage", "unknown"),
        ("10.0.0.2", "1.2.3.4, garbage", "unknown"),
        ("10.0.0.2", "", "unknown"),
        ("10.0.0.2", "unknown", "unknown"),
        ("10.0.0.2", "_hidden", "unknown"),
        ("10.0.0.2", "1.2.3.4:4711", "1.2.3.4"),
        ("10.0.0.2", "2001:db8::1", "2001:db8::1"),
        ("10.0.0.2", "[2001:db8::1]", "2001:db8::1"),
        ("10.0.0.2", "[2001:db8::1]:4711", "2001:db8::1"),
        ("10.0.0.2", "[2001:db8::1]:port", "unknown"),
        ("10.0.0.2", "1.2.3.4:", "unknown"),
        ("10.0.0.2", None, "10.0.0.2"),
        ("::ffff:10.0.0.2", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.2", "::ffff:1.2.3.4", "1.2.3.4"),
    ],
    ids=["untrusted-peer", "trusted", "chain", "all-trusted", "garbage", "garbage-right",
         "empty", "unknown", "obfuscated", "v4-port", "v6", "v6-brackets", "v6-brackets-port",
         "v6-bad-port", "v4-empty-port", "no-header", "v4-mapped-peer", "v4-mapped-hop"],
)  # fmt: skip
def test_client_ip(peer: str, xff: str | None, expected: str) -> None:
    guard = AuthGuard(trusted_proxies=["10.0.0.0/8"])
    assert guard.client_ip(scope(peer, xff)) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"forwarded": "for=1.2.3.4"}, "1.2.3.4"),
        ({"forwarded": 'for="[2001:db8::1]:4711"'}, "2001:db8::1"),
        ({"forwarded": 'For="1.2.3.4:4711";proto=https;by=10.0.0.2'}, "1.2.3.4"),
        ({"forwarded": "for=6.6.6.6, for=1.2.3.4;proto=http, for=10.0.0.7"}, "1.2.3.4"),
        ({"forwarded": "for=_hidden"}, "unknown"),
        ({"forwarded": "for=unknown"}, "unknown"),
        ({"forwarded": "proto=https"}, "unknown"),  # an element naming no client
        ({"forwarded": 'for="1.2.3.4'}, "unknown"),  # no closing quote
        ({"forwarded": "for=1.2.3.4;for=5.6.7.8"}, "unknown"),
        ({"forwarded": "for=1.2.3.4 x"}, "unknown"),
        ({"x_real_ip": "1.2.3.4"}, "1.2.3.4"),
        ({"x_real_ip": "1.2.3.4, 5.6.7.8"}, "unknown"),
        ({"x_real_ip": "1.2.3.4", "forwarded": "for=1.2.3.4"}, "1.2.3.4"),
        # Headers that disagree: one of them was written by the client.
        ({"x_real_ip": "1.2.3.4", "forwarded": "for=127.0.0.1"}, "unknown"),
    ],
    ids=["forwarded", "forwarded-quoted-v6-port", "forwarded-pairs", "forwarded-chain",
         "forwarded-obfuscated", "forwarded-unknown", "forwarded-no-for", "forwarded-unclosed",
         "forwarded-two-for", "forwarded-junk", "x-real-ip", "x-real-ip-list", "agreeing",
         "disagreeing"],
)  # fmt: skip
def test_client_ip_from_forwarded_and_x_real_ip(headers: dict[str, str], expected: str) -> None:
    guard = AuthGuard(trusted_proxies=["10.0.0.0/8"])
    assert guard.client_ip(scope("10.0.0.2", None, **headers)) == expected
    # From a peer that is not a trusted proxy, none of it is read.
    assert guard.client_ip(scope("203.0.113.9", None, **headers)) == "203.0.113.9"


def test_throttle_table_is_bounded_and_ipv6_counts_per_64() -> None:
    clock = Clock()
    throttle = Throttle(max_failures=2, max_tracked=3, clock=clock)
    throttle.failed("2001:db8::1", "s", "operator1")
    throttle.failed("2001:db8::2", "s", "operator1")
    verdict = throttle.refuses_failure("2001:db8::99", "s", "operator1")
    assert verdict is not None and verdict.status == 429
    for i in range(5):
        throttle.failed(f"192.0.2.{i}", "s", "operator1")
    # forgotten: the table holds 3 keys
    assert throttle.refuses_failure("2001:db8::1", "s", "operator1") is None
    with pytest.raises(ConfigurationError, match="allow"):
        AuthGuard(allow=["not-a-network"])
