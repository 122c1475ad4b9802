"""The app enforces each route's auth before anything else; configuration mistakes fail early."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from ivrhooks import ActionRequest, ConfigurationError, IVRHooks, RegistrationConfig, call
from ivrhooks.core.auth import StaticCredentials, derive_credentials
from ivrhooks.core.masks import parse_mask
from ivrhooks.core.routes import Route
from ivrhooks.testing import serve

CALL = {"from": "101", "to": "8000", "input": "1"}


def build(**options: object) -> tuple[IVRHooks, list[str]]:
    app = IVRHooks(receptionists=["8000"], secret="s3cret-for-tests-0123", env=False, **options)  # type: ignore[arg-type]
    called: list[str] = []

    @app.dtmf("1")
    async def one(req: ActionRequest) -> object:
        called.append("one")
        return call("100")

    @app.dtmf("2", auth="bearer")
    async def two(req: ActionRequest) -> object:
        called.append("two")
        return call("200")

    return app, called


def client(app: IVRHooks) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pbx")


async def test_basic_is_the_default_and_uses_the_derived_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, called = build()
    creds = derive_credentials("s3cret-for-tests-0123", "one")
    assert app.credentials_for(app.routes[0]) == creds
    with caplog.at_level(logging.DEBUG, logger="ivrhooks.auth"):
        async with client(app) as c:
            anonymous = await c.post("/hooks/one", json=CALL)
            wrong = await c.post("/hooks/one", json=CALL, auth=("aaaaaa", "bbbbbb"))
            right = await c.post("/hooks/one", json=CALL, auth=(creds.username, creds.password))
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic ")
    assert wrong.status_code == 401 and wrong.json() == anonymous.json()
    assert right.json()["destination"] == "100"
    assert called == ["one"]
    reasons = [getattr(r, "reason", None) for r in caplog.records]
    assert "missing" in reasons
    assert creds.password not in caplog.text


async def test_a_route_can_override_the_scheme() -> None:
    app, called = build()
    creds = derive_credentials("s3cret-for-tests-0123", "two")
    async with client(app) as c:
        basic = await c.post(
            "/hooks/two", json={**CALL, "input": "2"}, auth=(creds.username, creds.password)
        )
        bearer = await c.post(
            "/hooks/two",
            json={**CALL, "input": "2"},
            headers={"authorization": f"Bearer {creds.token}"},
        )
    assert basic.status_code == 401 and basic.headers["www-authenticate"].startswith("Bearer")
    assert bearer.json()["destination"] == "200"
    assert called == ["two"]


async def test_static_credentials_for_a_hand_configured_action_url() -> None:
    get = RegistrationConfig(method="GET")  # the hand-configured action URL says GET
    app = IVRHooks(receptionists=["8000"], secret="hand-made-0123456", env=False, registration=get)

    @app.caller("5551234", credentials=StaticCredentials(username="portal", password="hand1234"))
    def vip(req: ActionRequest) -> object:
        return "300"

    assert app.credentials_for(app.routes[0]) is None, "hand-configured: never registered"
    async with client(app) as c:
        r = await c.get("/hooks/vip?from=5551234&to=8000", auth=("portal", "hand1234"))
        derived = derive_credentials("hand-made-0123456", "vip")
        r2 = await c.get(
            "/hooks/vip?from=5551234&to=8000", auth=(derived.username, derived.password)
        )
    assert r.json()["destination"] == "300"
    assert r2.status_code == 401


def test_no_auth_must_be_explicit() -> None:
    with pytest.raises(ConfigurationError, match="allow_no_auth=True"):
        IVRHooks(receptionists=["8000"], auth="none", env=False).configure()
    app = IVRHooks(receptionists=["8000"], env=False)
    with pytest.raises(ConfigurationError, match="allow_no_auth=True"):
        app.dtmf("1", auth="none", name="open")(lambda req: "1")


def test_a_real_pbx_without_a_secret_fails_saying_what_to_set() -> None:
    app = IVRHooks(
        receptionists=["8000"],
        env={
            "IVRHOOKS_PBX_URL": "https://pbx.example.com:8887/api",
            "IVRHOOKS_PBX_TOKEN": "t" * 20,
        },
    )
    with pytest.raises(ConfigurationError, match="IVRHOOKS_SECRET"):
        app.configure()


async def test_without_a_pbx_a_random_secret_is_generated_and_said_at_startup(
    caplog: pytest.LogCaptureFixture,
) -> None:
    a = IVRHooks(receptionists=["8000"], env=False)
    b = IVRHooks(receptionists=["8000"], env=False)
    assert a.config.secret_generated and a.config.secret != b.config.secret
    with caplog.at_level(logging.WARNING, logger="ivrhooks"):
        async with serve(a):
            pass
    assert "generated a random" in caplog.text


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        ({"IVRHOOKS_AUTH": "magic"}, "IVRHOOKS_AUTH='magic': choose 'basic'"),
        ({"IVRHOOKS_REQUEST_TIMEOUT": "soon"}, "IVRHOOKS_REQUEST_TIMEOUT='soon': must be a whole"),
        ({"IVRHOOKS_REQUEST_TIMEOUT": "90"}, "IVRHOOKS_REQUEST_TIMEOUT='90': must be from 1 to 60"),
        ({"IVRHOOKS_DEADLINE": "0"}, "IVRHOOKS_DEADLINE='0': must be above 0"),
        ({"IVRHOOKS_DEADLINE": "1e999"}, "IVRHOOKS_DEADLINE='1e999': must be a finite number"),
        (
            {"IVRHOOKS_RECEPTIONISTS": "8000,12"},
            "IVRHOOKS_RECEPTIONISTS='8000,12': '12' is not an extension number",
        ),
        ({"IVRHOOKS_METHOD": "put"}, "IVRHOOKS_METHOD='put': choose 'GET' or 'POST'"),
        (
            {"IVRHOOKS_PUBLIC_URL": "pbx.example.com"},
            "IVRHOOKS_PUBLIC_URL='pbx.example.com': must start with http:// or https://",
        ),
        (
            {"IVRHOOKS_PBX_URL": "https://pbx/api"},
            "the PBX at https://pbx/api needs a login: set IVRHOOKS_PBX_USERNAME",
        ),
    ],
    ids=[
        "auth",
        "timeout",
        "timeout-range",
        "deadline-range",
        "deadline-infinite",
        "receptionists",
        "method",
        "public-url",
        "pbx-login",
    ],
)
def test_bad_environment_names_the_variable_and_the_value_as_typed(
    environ: dict[str, str], said: str
) -> None:
    """Each problem names the variable and the text it was set to, not the value parsed from it
    (``'0'``, not ``0.0``; ``'1e999'``, not ``inf``)."""
    app = IVRHooks(receptionists=["8000"], env=environ)  # creating the app reads nothing
    with pytest.raises(ConfigurationError, match=re.escape(said)):
        app.configure()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://:hunter2pw@redis.internal:6379", "'http://***@redis.internal:6379'"),
        ("redis//user:hunter2pw@redis.internal", "'***@redis.internal'"),
    ],
    ids=["wrong-scheme", "no-scheme"],
)
def test_a_bad_redis_url_is_shown_without_its_password(url: str, shown: str) -> None:
    app = IVRHooks(receptionists=["8000"], env={"IVRHOOKS_REDIS_URL": url})
    with pytest.raises(ConfigurationError) as caught:
        app.configure()
    assert f"IVRHOOKS_REDIS_URL={shown}: must start with redis://" in str(caught.value)
    assert "hunter2pw" not in str(caught.value)


def test_environment_overrides_the_code() -> None:
    app = IVRHooks(
        receptionists=["8000"],
        auth="basic",
        env={
            "IVRHOOKS_RECEPTIONISTS": "9000, 9001",
            "IVRHOOKS_AUTH": "Digest",
            "IVRHOOKS_METHOD": "get",
            "IVRHOOKS_SECRET": "from-env-secret-0123",
            "IVRHOOKS_REGISTER": "false",
        },
    )
    config = app.configure()
    assert config.receptionists == ("9000", "9001")
    assert app.manifest(config).table.receptionists == ("9000", "9001")
    assert app.table.receptionists == ("8000",), "the declaration is left as the code wrote it"
    assert (config.auth.scheme, config.registration.method) == ("digest", "GET")
    assert config.secret == "from-env-secret-0123"


async def test_digest_challenge_round_trips_never_throttle_the_pbx() -> None:
    """Every Digest call starts with a request without credentials; those are not failures."""
    app = IVRHooks(
        receptionists=["8000"],
        secret="s3cret-for-tests-0123",
        auth="digest",
        env=False,
        registration=RegistrationConfig(method="GET"),
    )

    @app.dtmf("1")
    async def one(req: ActionRequest) -> object:
        return call("100")

    creds = derive_credentials("s3cret-for-tests-0123", "one")
    async with serve(app) as url:
        for _ in range(15):  # more than the 10 failures a minute that trigger throttling
            async with httpx.AsyncClient(
                auth=httpx.DigestAuth(creds.username, creds.password)
            ) as c:
                r = await c.get(url + "/hooks/one?from=101&to=8000&input=1")
            assert r.status_code == 200, r.text


async def test_allow_list_and_trusted_proxies_from_the_environment() -> None:
    app = IVRHooks(
        receptionists=["8000"],
        env={
            "IVRHOOKS_SECRET": "allow-list-secret-0123",
            "IVRHOOKS_REGISTER": "false",
            "IVRHOOKS_ALLOW": "10.0.0.0/8, 192.0.2.7",
            "IVRHOOKS_TRUSTED_PROXIES": "127.0.0.1",
        },
    )

    @app.dtmf("1")
    async def one(req: ActionRequest) -> object:
        return call("100")

    creds = derive_credentials("allow-list-secret-0123", "one")
    auth = (creds.username, creds.password)
    async with client(app) as c:
        # The in-process client's peer is 127.0.0.1: a trusted proxy, so X-Forwarded-For counts.
        from_pbx = await c.post(
            "/hooks/one", json=CALL, auth=auth, headers={"x-forwarded-for": "192.0.2.7"}
        )
        from_elsewhere = await c.post(
            "/hooks/one", json=CALL, auth=auth, headers={"x-forwarded-for": "198.51.100.1"}
        )
    assert from_pbx.json()["destination"] == "100"
    assert from_elsewhere.status_code == 403


def test_bad_network_in_the_environment_names_the_variable() -> None:
    app = IVRHooks(receptionists=["8000"], env={"IVRHOOKS_ALLOW": "10.0.0.0/8,not-a-net"})
    with pytest.raises(ConfigurationError, match="IVRHOOKS_ALLOW"):
        app.configure()


async def test_static_digest_nonces_verify_in_every_replica_sharing_the_secret() -> None:
    """A nonce from one process is accepted by another: the secret keys the nonces even when
    the credentials are static (a PBX behind a load balancer hits any replica)."""
    import re

    from ivrhooks.core.auth.digest import digest_ha1, digest_response

    def replica() -> IVRHooks:
        app = IVRHooks(
            receptionists=["8000"],
            secret="replica-shared-secret-01",
            auth="digest",
            env=False,
            registration=RegistrationConfig(method="GET"),
        )

        @app.dtmf("1", credentials=StaticCredentials(username="portal", password="hand1234"))
        async def menu(req: ActionRequest) -> object:
            return call("100")

        return app

    target = "/hooks/menu?from=101&to=8000&input=1"
    async with client(replica()) as first, client(replica()) as second:
        challenge = (await first.get(target)).headers["www-authenticate"]
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)  # type: ignore[union-attr]
        opaque = re.search(r'opaque="([^"]+)"', challenge)
        ha1 = digest_ha1("MD5", "portal", "ivrhooks", "hand1234")
        response = digest_response(
            "MD5",
            ha1,
            nonce=nonce,
            nc="00000001",
            cnonce="abc",
            qop="auth",
            method="GET",
            uri=target,
        ).decode()
        header = (
            f'Digest username="portal", realm="ivrhooks", nonce="{nonce}", uri="{target}", '
            f'algorithm=MD5, qop=auth, nc=00000001, cnonce="abc", response="{response}"'
            + (f', opaque="{opaque.group(1)}"' if opaque else "")
        )
        r = await second.get(target, headers={"authorization": header})
    assert r.status_code == 200, r.text
    assert r.json()["destination"] == "100"


async def test_ivrhooks_auth_none_in_the_environment_is_explicit_and_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = IVRHooks(receptionists=["8000"], env={"IVRHOOKS_AUTH": "none"})

    @app.dtmf("1")
    async def one(req: ActionRequest) -> object:
        return call("100")

    with caplog.at_level(logging.WARNING, logger="ivrhooks"):
        app.build()
    assert "served without authentication" in caplog.text
    async with client(app) as c:
        r = await c.post("/hooks/one", json=CALL)
    assert r.json()["destination"] == "100"
    assert app.scheme_of(app.routes[0]) == "none"


def _data_route(name: str, mask: str, called: list[str], **fields: object) -> Route:
    def handler(req: ActionRequest) -> object:
        called.append(name)
        return call("300")

    return Route(
        name=name,
        kind="DTMF",
        mask=parse_mask(mask, "DTMF"),
        handler=handler,
        **fields,  # type: ignore[arg-type]
    )


async def test_a_route_added_as_data_is_never_answered_without_credentials() -> None:
    app, called = build()
    creds = derive_credentials("s3cret-for-tests-0123", "data")
    app.table.add(_data_route("data", "7", called))  # no decorator: straight into the table
    async with client(app) as c:
        bare = await c.post("/hooks/data", json={**CALL, "input": "7"})
        wrong = await c.post("/hooks/data", json={**CALL, "input": "7"}, auth=("x" * 6, "y" * 6))
        right = await c.post(
            "/hooks/data", json={**CALL, "input": "7"}, auth=(creds.username, creds.password)
        )
    assert (bare.status_code, wrong.status_code) == (401, 401)
    assert bare.headers["www-authenticate"].startswith("Basic ")
    assert right.json()["destination"] == "300"
    assert called == ["data"], "only the request with the route's credentials reached it"


async def test_a_route_added_as_data_while_serving_is_refused_and_never_served() -> None:
    app, called = build()
    async with client(app) as c:
        assert (await c.post("/hooks/one", json=CALL)).status_code == 401  # serving
        with pytest.raises(ConfigurationError, match="the app has started"):
            app.table.add(_data_route("data", "7", called))
        r = await c.post("/hooks/data", json={**CALL, "input": "7"})
    assert r.status_code == 404
    assert [route.name for route in app.routes] == ["one", "two"]
    assert called == []


def test_a_data_route_that_says_none_without_the_opt_in_fails_the_build() -> None:
    app, called = build()
    app.table.add(_data_route("open", "8", called, auth="none"))
    with pytest.raises(ConfigurationError, match="allow_no_auth=True"):
        app.build()


def test_a_served_route_has_a_verifier_unless_its_scheme_is_none() -> None:
    from ivrhooks.server.endpoint import ServedRoute

    route = _data_route("data", "7", [])
    with pytest.raises(ConfigurationError, match="no verifier"):
        ServedRoute(route, frozenset({"8000"}), "basic", None)
