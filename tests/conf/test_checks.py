"""The cross-setting checks (ivrhooks/conf/checks.py): each named check still says what it said
when the rules were written inline in resolve(), naming the variable or the code argument that
was used, and resolve() lists every problem at once, in the checks' order."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from ivrhooks.conf.checks import CHECKS
from ivrhooks.conf.config import AuthConfig, PBXConfig, RegistrationConfig, ServingConfig
from ivrhooks.conf.settings import Declared, resolve
from ivrhooks.errors import ConfigurationError

SECRET = "checks-tests-secret-0123"
LOGIN = {
    "IVRHOOKS_PBX_URL": "https://pbx.example/api",
    "IVRHOOKS_PBX_USERNAME": "svc",
    "IVRHOOKS_PBX_PASSWORD": "pw",
    "IVRHOOKS_SECRET": SECRET,
}
NEW_SECRET = "with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
KNOWN = "every action URL's credentials derive from it and the public route names. Create one " + (
    "with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
)
# deploy/kubernetes/secret.yaml shipped this before the kit generated its Secret.
OLD_KIT_SECRET = "replace-with-32-or-more-random-characters"
A_PBX = "set IVRHOOKS_PBX_URL to the PBX's REST API (e.g. https://pbx.example.com:8887/api)"
DEADLINE = (
    "the answer budget must be below the PBX's request_timeout ({}), or the PBX gives up "
    "before the fallback answers"
)

# (check, what the code declares, the environment, the whole message). Each check twice where
# it names a setting: once set by a variable, once by the code.
CASES: list[tuple[str, Declared, Mapping[str, str], str]] = [
    (
        "embedded_without_registration",
        Declared(),
        {"IVRHOOKS_EMBEDDED_PBX": "true", "IVRHOOKS_REGISTER": "false"},
        "IVRHOOKS_EMBEDDED_PBX=True and IVRHOOKS_REGISTER=False: the embedded PBX exists to be "
        "registered on; choose one",
    ),
    (
        "embedded_without_registration",
        Declared(embedded_pbx=True, registration=RegistrationConfig(enabled=False)),
        {},
        "IVRHooks(embedded_pbx=True) and RegistrationConfig(enabled=False): the embedded PBX "
        "exists to be registered on; choose one",
    ),
    (
        "embedded_and_a_pbx",
        Declared(),
        {**LOGIN, "IVRHOOKS_EMBEDDED_PBX": "true"},
        "IVRHOOKS_EMBEDDED_PBX=True and a PBX at https://pbx.example/api: choose one (unset "
        "IVRHOOKS_PBX_URL for the embedded fake PBX, or IVRHOOKS_EMBEDDED_PBX for the real one)",
    ),
    (
        "no_pbx_and_not_embedded",
        Declared(),
        {"IVRHOOKS_EMBEDDED_PBX": "false"},
        f"no PBX: {A_PBX}; IVRHOOKS_EMBEDDED_PBX=False says not to start the embedded fake PBX",
    ),
    (
        "no_pbx_and_not_embedded",
        Declared(embedded_pbx=False),
        {},
        f"no PBX: {A_PBX}; IVRHooks(embedded_pbx=False) says not to start the embedded fake PBX",
    ),
    (
        "real_pbx_meant_without_its_url",
        Declared(),
        {"IVRHOOKS_PBX_USERNAME": "u", "IVRHOOKS_PUBLIC_URL": "https://x"},
        f"IVRHOOKS_PBX_USERNAME, IVRHOOKS_PUBLIC_URL are set but IVRHOOKS_PBX_URL is not: {A_PBX}"
        ", IVRHOOKS_EMBEDDED_PBX=true to run against the embedded fake PBX, or "
        "IVRHOOKS_REGISTER=false to serve without registering",
    ),
    (
        "pbx_login",
        Declared(),
        {
            "IVRHOOKS_PBX_URL": "https://p/api",
            "IVRHOOKS_PBX_USERNAME": "u",
            "IVRHOOKS_SECRET": SECRET,
        },
        "the PBX at https://p/api needs a login: set IVRHOOKS_PBX_USERNAME and "
        "IVRHOOKS_PBX_PASSWORD (and IVRHOOKS_PBX_DOMAIN for a tenant), or IVRHOOKS_PBX_TOKEN",
    ),
    (
        "secret_with_a_pbx",
        Declared(pbx=PBXConfig("https://p/api", token="t")),
        {},
        "no secret: set IVRHOOKS_SECRET (or AuthConfig(secret=...)) to a long random string, the "
        "same on every replica; action-URL credentials and digest nonces derive from it",
    ),
    (
        "secret_long_enough",
        Declared(),
        {**LOGIN, "IVRHOOKS_SECRET": "short"},
        f"IVRHOOKS_SECRET: must be at least 16 bytes; create one {NEW_SECRET}",
    ),
    (
        "secret_long_enough",
        Declared(auth=AuthConfig(secret="short")),
        {},
        f"AuthConfig(secret=...): must be at least 16 bytes; create one {NEW_SECRET}",
    ),
    (
        "secret_not_known",
        Declared(),
        {**LOGIN, "IVRHOOKS_SECRET": OLD_KIT_SECRET},
        "IVRHOOKS_SECRET: is a value written in ivrhooks' own files (deploy/, docs/, README.md or "
        f"examples/), known to anyone who read them; {KNOWN}",
    ),
    (
        "secret_not_known",
        Declared(auth=AuthConfig(secret="please-CHANGEME-0123456789")),
        {},
        "AuthConfig(secret=...): looks like a placeholder (it contains 'changeme' or the like), "
        f"not a secret; {KNOWN}",
    ),
    (
        "previous_secret_long_enough",
        Declared(),
        {**LOGIN, "IVRHOOKS_PREVIOUS_SECRET": "short"},
        f"IVRHOOKS_PREVIOUS_SECRET: must be at least 16 bytes; create one {NEW_SECRET}",
    ),
    (
        "previous_secret_not_known",
        Declared(),
        {**LOGIN, "IVRHOOKS_PREVIOUS_SECRET": "t" * 20},
        "IVRHOOKS_PREVIOUS_SECRET: is a character, or a few, repeated: anyone can guess it; "
        + KNOWN,
    ),
    (
        "previous_secret_differs",
        Declared(),
        {**LOGIN, "IVRHOOKS_PREVIOUS_SECRET": SECRET},
        "IVRHOOKS_PREVIOUS_SECRET: must differ from the current secret",
    ),
    (
        "previous_secret_differs",
        Declared(auth=AuthConfig(secret=SECRET, previous_secret=SECRET)),
        {},
        "AuthConfig(previous_secret=...): must differ from the current secret",
    ),
    (
        "served_methods_include_the_registered_one",
        Declared(),
        {"IVRHOOKS_SERVE_METHODS": "GET"},
        "IVRHOOKS_SERVE_METHODS=('GET',): must include the registered method "
        "(RegistrationConfig(method='POST')), or the PBX's own requests get 405",
    ),
    (
        "served_methods_include_the_registered_one",
        Declared(serving=ServingConfig(methods=("GET",))),
        {"IVRHOOKS_METHOD": "POST"},
        "ServingConfig(methods=('GET',)): must include the registered method "
        "(IVRHOOKS_METHOD='POST'), or the PBX's own requests get 405",
    ),
    (
        "deadline_below_request_timeout",
        Declared(),
        {"IVRHOOKS_DEADLINE": "3", "IVRHOOKS_REQUEST_TIMEOUT": "2"},
        "IVRHOOKS_DEADLINE=3.0: " + DEADLINE.format("IVRHOOKS_REQUEST_TIMEOUT=2"),
    ),
    (
        "deadline_below_request_timeout",
        Declared(serving=ServingConfig(deadline=2.0)),
        {},
        "ServingConfig(deadline=2.0): " + DEADLINE.format("RegistrationConfig(request_timeout=2)"),
    ),
    (
        "no_auth_is_meant",
        Declared(auth=AuthConfig(scheme="none")),
        {},
        "auth='none' lets anyone who can reach the service drive the receptionists; pass "
        "allow_no_auth=True to mean it, or choose basic, digest or bearer",
    ),
]


def test_every_check_is_tested_here() -> None:
    assert sorted({case[0] for case in CASES}) == sorted(check.__name__ for check in CHECKS)


@pytest.mark.parametrize(
    ("check", "declared", "environ", "message"),
    CASES,
    ids=[f"{case[0]}-{'env' if case[2] else 'code'}" for case in CASES],
)
def test_each_check_still_says_what_it_said(
    check: str, declared: Declared, environ: Mapping[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve(declared, environ)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("declared", "environ"),
    [
        (Declared(auth=AuthConfig(scheme="none", allow_no_auth=True)), {}),
        (Declared(), {"IVRHOOKS_AUTH": "none"}),  # the operator's explicit choice
        (Declared(serving=ServingConfig(methods=("GET",))), {"IVRHOOKS_METHOD": "GET"}),
        (Declared(), {**LOGIN, "IVRHOOKS_REGISTER": "false"}),
        (Declared(), {"IVRHOOKS_REGISTER": "false", "IVRHOOKS_SECRET": SECRET}),
    ],
    ids=["none-meant-in-code", "none-by-variable", "methods-agree", "serve-only", "no-pbx-needed"],
)
def test_what_the_checks_let_through(declared: Declared, environ: Mapping[str, str]) -> None:
    resolve(declared, environ)


def test_every_problem_is_listed_at_once_in_the_checks_order() -> None:
    declared = Declared(embedded_pbx=False, serving=ServingConfig(deadline=5))
    environ = {
        "IVRHOOKS_SECRET": "x",
        "IVRHOOKS_PREVIOUS_SECRET": "x",
        "IVRHOOKS_SERVE_METHODS": "GET",
    }
    with pytest.raises(ConfigurationError) as caught:
        resolve(declared, environ)
    said = str(caught.value)
    starts = [
        "no PBX:",
        "IVRHOOKS_SECRET: must be at least",
        "IVRHOOKS_PREVIOUS_SECRET: must be at least",
        "IVRHOOKS_PREVIOUS_SECRET: must differ",
        "IVRHOOKS_SERVE_METHODS=('GET',): must include",
        "ServingConfig(deadline=5): the answer budget",
    ]
    positions = [said.find(start) for start in starts]
    assert -1 not in positions and positions == sorted(positions), said
