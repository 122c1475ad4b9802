"""Each setting is declared once (ivrhooks/conf/): every declared variable is read by resolve()
into the configuration, every declared rule refuses a bad value naming the variable, and
nothing else keeps its own copy of a default."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ivrhooks.cli.run import run as run_command
from ivrhooks.conf.config import GROUPS, Config, PBXConfig, RunSettings
from ivrhooks.conf.settings import PRODUCTION_SIGNALS, VARIABLES, Declared, Variable, resolve
from ivrhooks.errors import ConfigurationError, SettingError

REAL_PBX = {
    "IVRHOOKS_PBX_URL": "https://pbx.example.com:8887/api",
    "IVRHOOKS_PBX_USERNAME": "svc",
    "IVRHOOKS_PBX_PASSWORD": "pbx-password",
    "IVRHOOKS_SECRET": "from-the-environment-0123",
}

# For every variable: a valid value other than the default, as typed, and what it reads as. The
# embedded PBX is asked for without a real one (the two exclude each other).
VALID: dict[str, tuple[str, Any]] = {
    "IVRHOOKS_PBX_URL": (" https://other.example.com/api/ ", "https://other.example.com/api"),
    "IVRHOOKS_PBX_USERNAME": ("admin", "admin"),
    "IVRHOOKS_PBX_PASSWORD": ("another-password", "another-password"),
    "IVRHOOKS_PBX_DOMAIN": ("tenant.example.com", "tenant.example.com"),
    "IVRHOOKS_PBX_TOKEN": ("a-ready-token", "a-ready-token"),
    "IVRHOOKS_PBX_VERIFY_TLS": ("no", False),
    "IVRHOOKS_PBX_RATE": ("7", 7),
    "IVRHOOKS_EMBEDDED_PBX": ("true", True),
    "IVRHOOKS_RECEPTIONISTS": ("8000, 8001", ("8000", "8001")),
    "IVRHOOKS_AUTH": ("digest", "digest"),
    "IVRHOOKS_SECRET": ("another-secret-0123456789", "another-secret-0123456789"),
    "IVRHOOKS_PREVIOUS_SECRET": ("the-old-secret-0123456789", "the-old-secret-0123456789"),
    "IVRHOOKS_ALLOW": ("192.0.2.0/24,198.51.100.7", ("192.0.2.0/24", "198.51.100.7")),
    "IVRHOOKS_TRUSTED_PROXIES": ("10.0.0.0/8", ("10.0.0.0/8",)),
    "IVRHOOKS_OPS_ALLOW": ("10.1.0.0/16", ("10.1.0.0/16",)),
    "IVRHOOKS_PUBLIC_URL": ("https://ivr.example.com/", "https://ivr.example.com"),
    "IVRHOOKS_METHOD": ("get", "GET"),
    "IVRHOOKS_REQUEST_TIMEOUT": ("5", 5),
    "IVRHOOKS_RECONCILE_INTERVAL": ("60", 60.0),
    "IVRHOOKS_REGISTRAR_LEASE": ("30", 30.0),
    "IVRHOOKS_GENERATION": ("12", 12),
    "IVRHOOKS_REGISTER": ("false", False),
    "IVRHOOKS_APP_ID": ("shop1", "shop1"),
    "IVRHOOKS_DEADLINE": ("1.25", 1.25),
    "IVRHOOKS_SERVE_METHODS": ("get,post", ("GET", "POST")),
    "IVRHOOKS_SESSION_TTL": ("90", 90.0),
    "IVRHOOKS_METRICS_ROUTE_LABEL": ("off", False),
    "IVRHOOKS_REDIS_URL": ("redis://:pw@redis:6379/0", "redis://:pw@redis:6379/0"),
    "IVRHOOKS_HOST": ("192.0.2.10", "192.0.2.10"),
    "IVRHOOKS_PORT": ("9090", 9090),
    "IVRHOOKS_REGISTER_EVENTS": ("true", True),
    "IVRHOOKS_EVENTS_DEDUP_WINDOW": ("3600", 3600.0),
    "IVRHOOKS_EVENTS_BACKLOG": ("500", 500),
    "IVRHOOKS_EVENTS_CONCURRENCY": ("4", 4),
    "IVRHOOKS_EVENTS_MAX_ATTEMPTS": ("3", 3),
    "IVRHOOKS_EVENTS_CLAIM_AFTER": ("30", 30.0),
    "IVRHOOKS_DECISIONS_TTL": ("7200", 7200.0),
    "IVRHOOKS_EVENTS_MAX_BODY": ("65536", 65536),
    "IVRHOOKS_PRESENCE_TTL": ("120", 120.0),
    "IVRHOOKS_CAPTURE": (" captured.jsonl ", "captured.jsonl"),
    "IVRHOOKS_CAPTURE_MAX_BYTES": ("1048576", 1048576),
    "IVRHOOKS_CAPTURE_FILES": ("2", 2),
    "IVRHOOKS_CAPTURE_CALLERS": ("true", True),
    "IVRHOOKS_CAPTURE_DIGITS": ("false", False),
    "IVRHOOKS_OPS_HOSTS": ("ivr.internal, metrics.local", ("ivr.internal", "metrics.local")),
    "IVRHOOKS_EMBEDDED_PBX_PASSWORD": ("devpassword123", "devpassword123"),
}

# For every variable: a value its rule (or its parser) refuses, and the message. None: every
# non-empty text is valid (an empty variable means "unset"); the rule then refuses the empty
# code argument instead.
BAD: dict[str, tuple[str, str] | None] = {
    "IVRHOOKS_PBX_URL": ("pbx.example.com", "'pbx.example.com': must start with http"),
    "IVRHOOKS_PBX_USERNAME": None,
    "IVRHOOKS_PBX_PASSWORD": None,
    "IVRHOOKS_PBX_DOMAIN": None,
    "IVRHOOKS_PBX_TOKEN": None,
    "IVRHOOKS_PBX_VERIFY_TLS": ("maybe", "'maybe': must be true or false"),
    "IVRHOOKS_PBX_RATE": ("1001", "'1001': must be from 1 to 1000"),
    "IVRHOOKS_EMBEDDED_PBX": ("sometimes", "'sometimes': must be true or false"),
    "IVRHOOKS_RECEPTIONISTS": ("8000,12", "'8000,12': '12' is not an extension number"),
    "IVRHOOKS_AUTH": ("magic", "'magic': choose 'basic', 'digest', 'bearer' or 'none'"),
    "IVRHOOKS_SECRET": None,
    "IVRHOOKS_PREVIOUS_SECRET": None,
    "IVRHOOKS_ALLOW": ("10.0.0.0/8,pbx", "'10.0.0.0/8,pbx': 'pbx' is not an IP address"),
    "IVRHOOKS_TRUSTED_PROXIES": ("proxy", "'proxy': 'proxy' is not an IP address"),
    "IVRHOOKS_OPS_ALLOW": ("10.0.0.0/33", "'10.0.0.0/33': '10.0.0.0/33' is not an IP address"),
    "IVRHOOKS_PUBLIC_URL": ("https://u:p4ss@ivr", "'https://***@ivr': must not carry a login"),
    "IVRHOOKS_METHOD": ("put", "'put': choose 'GET' or 'POST'"),
    "IVRHOOKS_REQUEST_TIMEOUT": ("90", "'90': must be from 1 to 60"),
    "IVRHOOKS_RECONCILE_INTERVAL": ("-1", "'-1': must be at least 0"),
    "IVRHOOKS_REGISTRAR_LEASE": ("0.5", "'0.5': must be at least 1"),
    "IVRHOOKS_GENERATION": ("first", "'first': must be a whole number"),
    "IVRHOOKS_REGISTER": ("2", "'2': must be true or false"),
    "IVRHOOKS_APP_ID": ("My-App", "'My-App': must be 1 to 8 characters of a-z and 0-9"),
    "IVRHOOKS_DEADLINE": ("abc", "'abc': must be a number"),
    "IVRHOOKS_SERVE_METHODS": ("GET,GET", "'GET,GET': choose from 'GET' and 'POST', each once"),
    "IVRHOOKS_SESSION_TTL": ("1e9", "'1e9': must be at most 604800"),
    "IVRHOOKS_METRICS_ROUTE_LABEL": ("label", "'label': must be true or false"),
    "IVRHOOKS_REDIS_URL": ("http://:r3dis@redis", "'http://***@redis': must start with redis://"),
    "IVRHOOKS_HOST": None,
    "IVRHOOKS_PORT": ("abc", "'abc': must be a whole number"),
    "IVRHOOKS_REGISTER_EVENTS": ("maybe", "'maybe': must be true or false"),
    "IVRHOOKS_EVENTS_DEDUP_WINDOW": ("10", "'10': must be at least 60"),
    "IVRHOOKS_EVENTS_BACKLOG": ("0", "'0': must be from 1 to 10000000"),
    "IVRHOOKS_EVENTS_CONCURRENCY": ("0", "'0': must be from 1 to 1024"),
    "IVRHOOKS_EVENTS_MAX_ATTEMPTS": ("0", "'0': must be from 1 to 100"),
    "IVRHOOKS_EVENTS_CLAIM_AFTER": ("0", "'0': must be at least 1"),
    "IVRHOOKS_DECISIONS_TTL": ("1", "'1': must be at least 60"),
    "IVRHOOKS_EVENTS_MAX_BODY": ("100", "'100': must be from 1024 to 16777216"),
    "IVRHOOKS_PRESENCE_TTL": ("0", "'0': must be at least 1"),
    "IVRHOOKS_CAPTURE": None,
    "IVRHOOKS_CAPTURE_MAX_BYTES": ("100", "'100': must be from 4096 to 1099511627776"),
    "IVRHOOKS_CAPTURE_FILES": ("0", "'0': must be from 1 to 1000"),
    "IVRHOOKS_CAPTURE_CALLERS": ("all", "'all': must be true or false"),
    "IVRHOOKS_CAPTURE_DIGITS": ("pin", "'pin': must be true or false"),
    "IVRHOOKS_OPS_HOSTS": ("https://x", "'https://x': 'https://x' is not a host name"),
    "IVRHOOKS_EMBEDDED_PBX_PASSWORD": None,
}

NAMES = [v.name for v in VARIABLES]


def test_every_declared_variable_has_a_value_here() -> None:
    # A new declaration without a row here fails: the tests below cover every variable.
    assert sorted(VALID) == sorted(NAMES) == sorted(BAD)


def _read_back(config: Config, variable: Variable) -> Any:
    """Where the configuration holds what ``variable`` set."""
    if variable.group == "app":
        return {"receptionists": config.receptionists, "embedded_pbx": config.embedded_explicit}[
            variable.field
        ]
    if variable.group == "run":
        return variable.parse(VALID[variable.name][0])  # `ivrhooks run`'s: checked, not kept
    return getattr(getattr(config, variable.group), variable.field)


@pytest.mark.parametrize("variable", VARIABLES, ids=NAMES)
def test_every_declared_variable_is_read_into_the_configuration(variable: Variable) -> None:
    raw, expected = VALID[variable.name]
    assert expected != variable.default, "the value read differs from the default"
    base = {} if variable.name == "IVRHOOKS_EMBEDDED_PBX" else REAL_PBX
    config = resolve(Declared(receptionists=("8000",)), {**base, variable.name: raw})
    assert _read_back(config, variable) == expected
    assert variable.name in config.from_env


@pytest.mark.parametrize("variable", VARIABLES, ids=NAMES)
def test_every_declared_rule_refuses_a_bad_value_naming_the_variable(variable: Variable) -> None:
    bad = BAD[variable.name]
    if bad is None:
        cls = GROUPS[variable.group]
        given = {"url": "https://pbx.example.com/api"} if cls is PBXConfig else {}
        with pytest.raises(SettingError, match="must be a non-empty string") as refused:
            cls(**given, **{variable.field: ""})
        assert refused.value.name == f"{cls.spelled or cls.__name__}({variable.field}=...)"
        return
    raw, message = bad
    with pytest.raises(ConfigurationError) as caught:
        resolve(Declared(receptionists=("8000",)), {**REAL_PBX, variable.name: raw})
    assert str(caught.value).startswith(f"{variable.name}={message}")
    if variable.secret or "@" in raw:
        assert raw.partition("@")[0] not in str(caught.value), "a secret is never shown"


def test_a_secret_never_shows_and_a_variable_set_empty_is_unset() -> None:
    secrets = [v for v in VARIABLES if v.secret]
    assert {v.name for v in secrets} >= {"IVRHOOKS_SECRET", "IVRHOOKS_PBX_PASSWORD"}
    for variable in secrets:  # a password, or a URL that may carry one
        assert "hunter2" not in variable.setting.shown("redis://:hunter2@redis:6379")
    config = resolve(Declared(), {"IVRHOOKS_DEADLINE": "  ", "IVRHOOKS_PBX_URL": ""})
    assert config.serving.deadline == 1.5 and config.pbx is None and not config.from_env


def test_the_variables_that_mean_a_real_pbx_are_declared_so() -> None:
    assert PRODUCTION_SIGNALS == (
        "IVRHOOKS_PBX_USERNAME",
        "IVRHOOKS_PBX_PASSWORD",
        "IVRHOOKS_PBX_DOMAIN",
        "IVRHOOKS_PBX_TOKEN",
        "IVRHOOKS_SECRET",
        "IVRHOOKS_PREVIOUS_SECRET",
        "IVRHOOKS_PUBLIC_URL",
        "IVRHOOKS_APP_ID",
    )


def test_ivrhooks_run_serves_where_the_declaration_says_by_default() -> None:
    # click keeps its own default for --host/--port (the CLI reads IVRHOOKS_HOST/PORT itself,
    # through their declarations: not click's envvar=, which would blame --port for a bad
    # IVRHOOKS_PORT); this keeps the two equal.
    defaults = {p.name: p.default for p in run_command.params}
    declared = RunSettings()
    assert (defaults["host"], defaults["port"]) == (declared.host, declared.port)
    envvars = {p.name: p.envvar for p in run_command.params}
    assert (envvars["host"], envvars["port"], envvars["pbx_password"]) == (None, None, None)


def test_the_consumers_keep_no_default_of_their_own() -> None:
    import ivrhooks.core.request as request
    import ivrhooks.core.sessions as sessions
    import ivrhooks.core.types as types
    import ivrhooks.pbx.ratelimit as ratelimit

    assert not hasattr(request, "MAX_BODY")
    assert not {"DEFAULT_SESSION_TTL", "DEFAULT_SESSION_BYTES"} & set(vars(sessions))
    assert not {"DEFAULT_PBX_RATE", "MAX_PBX_RATE"} & set(vars(types))
    rate = next(f for f in dataclasses.fields(PBXConfig) if f.name == "rate")
    assert rate.default == ratelimit.DEFAULT_RATE, "the client's default is the declared one"


def test_the_configuration_imports_only_the_standard_library_and_the_core() -> None:
    import ast
    import sys
    from pathlib import Path

    import ivrhooks.conf

    allowed = ("ivrhooks.conf", "ivrhooks.core", "ivrhooks.errors")
    outside = []
    for path in Path(ivrhooks.conf.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.partition(".")[0]
                if top in sys.stdlib_module_names or top == "__future__":
                    continue
                if not any(name == a or name.startswith(a + ".") for a in allowed):
                    outside.append(f"{path.name}: {name}")
    assert outside == []
