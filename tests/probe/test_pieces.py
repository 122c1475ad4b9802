"""The probe's pieces without a PBX: what it records of credentials and numbers, and the
mistakes on its command line, each one line naming the option or variable."""

from __future__ import annotations

import base64
import os

import pytest
from click.testing import CliRunner

from ivrhooks.cli import main
from ivrhooks.core.auth.digest import digest_ha1, digest_response
from ivrhooks.core.auth.params import parse_auth_params
from ivrhooks.probe.auth import REALM, ProbeAuth
from ivrhooks.probe.seen import read_fields


@pytest.mark.parametrize(
    ("method", "query", "body", "encoding", "shown"),
    [
        ("POST", "", b'{"session_id":"5551234","from":"5551234"}', "json", '"from":"55***34"'),
        ("POST", "", b"session_id=5551234&from=5551234&from_name=Ann+Lee", "form", "from=55***34"),
        ("GET", "session_id=5551234&from=5551234", b"", "query", ""),
    ],
    ids=["json", "form", "query"],
)
def test_the_callers_number_is_masked_wherever_it_is(
    method: str, query: str, body: bytes, encoding: str, shown: str
) -> None:
    fields, order, found, strings, text = read_fields(method, query, None, body)
    assert (found, strings, order[:2]) == (encoding, True, ["session_id", "from"])
    assert fields == {"session_id": "5551234", "from": "55***34", **(
        {"from_name": "An***ee"} if "from_name" in order else {})}  # fmt: skip
    assert shown in text
    # The session id, which happens to hold the same digits, is left as it was.
    assert "5551234" not in text.replace('"session_id":"5551234"', "").replace(
        "session_id=5551234", ""
    )


def _digest(auth: ProbeAuth, uri: str, *, nonce: str | None = None, nc: str = "00000001") -> bytes:
    (_, challenge), *_ = auth.challenge()
    issued = parse_auth_params(challenge.decode().split(" ", 1)[1])["nonce"]
    nonce = nonce or issued
    ha1 = digest_ha1("MD5", auth.username, REALM, auth.password)
    response = digest_response(
        "MD5", ha1, nonce=nonce, nc=nc, cnonce="c0ffee", qop="auth", method="POST", uri=uri
    ).decode()
    return (
        f'Digest username="{auth.username}", realm="{REALM}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", qop=auth, nc={nc}, cnonce="c0ffee", algorithm=MD5'
    ).encode()


def test_digest_is_recorded_by_names_and_checked() -> None:
    auth = ProbeAuth("digest")
    target = b"/probe/abc/dtmf"
    good = auth.check("POST", target, _digest(auth, "/probe/abc/dtmf"))
    assert good.ok and good.seen.verified and good.seen.uri_matches
    assert good.seen.params == ["username", "realm", "nonce", "uri", "response", "qop", "nc",
                                "cnonce", "algorithm"]  # fmt: skip
    assert (good.seen.qop, good.seen.algorithm, good.seen.nonce) == ("auth", "MD5", "issued")
    assert auth.describe(good.seen) == f"Digest <{', '.join(good.seen.params)}>"
    assert auth.password not in repr(good.seen)

    other_uri = auth.check("POST", target, _digest(auth, "http://probe/probe/abc/dtmf"))
    assert other_uri.ok and other_uri.seen.uri_matches is False  # noted, as ivrhooks refuses it

    not_ours = auth.check("POST", target, _digest(auth, "/probe/abc/dtmf", nonce="f" * 32))
    assert not not_ours.ok and not_ours.seen.nonce == "unknown" and not_ours.challenge


def test_a_reused_nonce_is_noted() -> None:
    auth = ProbeAuth("digest")
    first = _digest(auth, "/p")
    nonce = parse_auth_params(first.split(b" ", 1)[1])["nonce"]
    assert auth.check("POST", b"/p", first).seen.nonce == "issued"
    again = auth.check("POST", b"/p", _digest(auth, "/p", nonce=nonce, nc="00000002"))
    assert again.ok and again.seen.nonce == "reused" and again.seen.nc == "00000002"


def test_basic_credentials_are_checked_never_kept() -> None:
    auth = ProbeAuth("basic")
    token = base64.b64encode(f"{auth.username}:{auth.password}".encode())
    assert auth.check("GET", b"/p", b"Basic " + token).ok
    wrong = auth.check("GET", b"/p", b"Basic " + base64.b64encode(b"probe:nope"))
    assert not wrong.ok and auth.describe(wrong.seen) == "Basic <credentials>"
    assert not auth.check("GET", b"/p", None).ok


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--receptionist", "12"], {}, "--receptionist"),
        (["--receptionist", "8999", "--steps", "late,lunch"], {}, "unknown step(s) lunch"),
        (["--receptionist", "8999", "--dtmf-mask", "1-"], {}, "--dtmf-mask"),
        (["--receptionist", "8999", "--public-url", "ftp://x"], {}, "--public-url"),
        (["--receptionist", "8999"], {}, "set IVRHOOKS_PBX_URL"),
        (
            ["--receptionist", "8999"],
            {"IVRHOOKS_PBX_URL": "https://pbx.example.com:8887/api"},
            "needs a login: set IVRHOOKS_PBX_USERNAME",
        ),
        (
            ["--receptionist", "8999"],
            {
                "IVRHOOKS_PBX_URL": "https://pbx.example.com:8887/api",
                "IVRHOOKS_PBX_TOKEN": "t0ken",
                "IVRHOOKS_REQUEST_TIMEOUT": "0",
            },
            "IVRHOOKS_REQUEST_TIMEOUT='0'",
        ),
        (
            ["--receptionist", "8999"],
            {"IVRHOOKS_PBX_URL": "https://pbx.example.com:8887/api", "IVRHOOKS_PBX_TOKEN": "t"},
            "--public-url (or IVRHOOKS_PUBLIC_URL): the PBX at pbx.example.com calls the probe",
        ),
    ],
    ids=["extension", "steps", "mask", "public-url", "no-pbx", "no-login", "timeout", "reach"],
)
def test_a_mistake_is_one_line_naming_what_to_change(
    args: list[str], env: dict[str, str], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("IVRHOOKS_")]:
        monkeypatch.delenv(name)
    done = CliRunner().invoke(main, ["probe", *args], env=env)
    assert done.exit_code in (1, 2), done.output
    assert says in done.output
    assert "Traceback" not in done.output
