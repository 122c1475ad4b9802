"""Configuration: the code's objects, the variables laid over them at startup, and the one list
of variables the README shows."""

from __future__ import annotations

import difflib
import itertools
from pathlib import Path

import pytest

from ivrhooks import (
    AuthConfig,
    ConfigurationError,
    IVRHooks,
    PBXConfig,
    RegistrationConfig,
    ServingConfig,
    SettingError,
)
from ivrhooks.conf.settings import VARIABLES, readme_rows

README = Path(__file__).resolve().parent.parent / "README.md"


def test_creating_an_app_reads_no_variable() -> None:
    app = IVRHooks(["8000"], env={"IVRHOOKS_DEADLINE": "abc", "IVRHOOKS_AUTH": "magic"})
    assert app.declared.serving.deadline == 1.5
    with pytest.raises(ConfigurationError) as caught:
        app.configure()
    # Every problem at once, each naming its variable and the value tried.
    assert "IVRHOOKS_DEADLINE='abc': must be a number" in str(caught.value)
    assert "IVRHOOKS_AUTH='magic'" in str(caught.value)


def test_the_objects_check_their_fields_naming_the_argument() -> None:
    with pytest.raises(SettingError, match=r"ServingConfig\(deadline=-1\): must be above 0"):
        ServingConfig(deadline=-1)
    with pytest.raises(SettingError, match=r"RegistrationConfig\(method='PUT'\)"):
        RegistrationConfig(method="PUT")  # type: ignore[arg-type]
    with pytest.raises(SettingError, match=r"AuthConfig\(allow='10.0.0.0/8'\): pass a list"):
        AuthConfig(allow="10.0.0.0/8")  # type: ignore[arg-type]
    with pytest.raises(SettingError, match=r"PBXConfig\(url='pbx'\): must start with http"):
        PBXConfig("pbx")
    secret = AuthConfig(secret="s" * 20)
    assert "s" * 20 not in repr(secret), "a secret never shows in a repr"


def test_urls_never_carry_a_login_and_messages_never_show_a_password() -> None:
    with pytest.raises(SettingError) as caught:
        PBXConfig("https://svc:hunter2pass@pbx.example.com/api")
    assert "PBXConfig(url='https://***@pbx.example.com/api'): must not carry a login" in str(
        caught.value
    )
    with pytest.raises(SettingError, match="must not carry a login") as caught:
        RegistrationConfig(public_url="https://u:p4ss@ivr.example.com")
    assert "p4ss" not in str(caught.value)
    app = IVRHooks(["8000"], env={"IVRHOOKS_REDIS_URL": "http://:r3dispass@redis:6379"})
    with pytest.raises(ConfigurationError) as redis:
        app.configure()
    assert "IVRHOOKS_REDIS_URL='http://***@redis:6379'" in str(redis.value)
    assert "r3dispass" not in str(redis.value)


def test_the_pbx_an_app_registers_on_is_named_by_host_and_port_only() -> None:
    app = IVRHooks(
        ["8000"],
        env={
            "IVRHOOKS_PBX_URL": "https://pbx.example.com:8887/api",
            "IVRHOOKS_PBX_USERNAME": "svc",
            "IVRHOOKS_PBX_PASSWORD": "pbx-password",
            "IVRHOOKS_SECRET": "from-the-environment-0123",
            "IVRHOOKS_PUBLIC_URL": "https://ivr.example.com",
        },
    )
    assert app.configure().registers_on == "pbx.example.com:8887"


def test_variables_win_over_the_code() -> None:
    app = IVRHooks(
        ["8000"],
        serving=ServingConfig(deadline=1.0),
        registration=RegistrationConfig(method="GET"),
        env={
            "IVRHOOKS_DEADLINE": "1.25",
            "IVRHOOKS_SECRET": "from-the-environment-0123",
            "IVRHOOKS_REGISTER": "false",
        },
    )
    config = app.configure()
    assert config.serving.deadline == 1.25
    assert config.registration.method == "GET", "not set in the environment: the code's value"
    assert config.secret == "from-the-environment-0123"
    assert config.from_env == {"IVRHOOKS_DEADLINE", "IVRHOOKS_SECRET", "IVRHOOKS_REGISTER"}


def test_a_cross_check_names_whichever_form_was_used() -> None:
    from_code = IVRHooks(["8000"], serving=ServingConfig(deadline=2.0), env={})
    with pytest.raises(ConfigurationError, match=r"ServingConfig\(deadline=2.0\): the answer"):
        from_code.configure()
    from_env = IVRHooks(["8000"], env={"IVRHOOKS_DEADLINE": "3", "IVRHOOKS_REQUEST_TIMEOUT": "2"})
    with pytest.raises(
        ConfigurationError, match=r"IVRHOOKS_DEADLINE=3.0: .*\(IVRHOOKS_REQUEST_TIMEOUT=2\)"
    ):
        from_env.configure()


def test_an_unknown_argument_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'deadlin'"):
        IVRHooks(["8000"], deadlin=1.0)  # type: ignore[call-arg]


def test_the_shortcuts_are_the_same_fields() -> None:
    app = IVRHooks(["8000"], secret="t" * 20, allow_no_auth=True, public_url="https://ivr.example")
    assert app.declared.auth.secret == "t" * 20 and app.declared.auth.allow_no_auth
    assert app.declared.registration.public_url == "https://ivr.example"


def _readme_table() -> list[str]:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = lines.index("| variable | meaning | default |")
    return list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))


def test_the_readme_table_is_rendered_from_the_declarations() -> None:
    # Variable, meaning and default, row by row: the README says what the code declares.
    readme, declared = _readme_table(), readme_rows()
    diff = "\n".join(difflib.unified_diff(readme, declared, "README.md", "declared", lineterm=""))
    assert readme == declared, (
        "README.md's configuration table differs from the declarations in ivrhooks/conf/; "
        "print the table with `python -c 'from ivrhooks.conf.settings import readme_rows; "
        f"print(*readme_rows(), sep=chr(10))'`\n{diff}"
    )
    assert [row.split("`")[1] for row in declared[2:]] == [v.name for v in VARIABLES]
