"""Apache credential files with entries that can never work are refused when the app is built.

Through the composition root (``IVRHooks.build()``, what ``ivrhooks run`` and uvicorn's lifespan
call): the error names the file, the line and the user, so the operator knows what to change.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import bcrypt
import pytest
from passlib.hash import apr_md5_crypt  # type: ignore[import-untyped]

from ivrhooks import ActionRequest, ConfigurationError, IVRHooks, call
from ivrhooks.auth import StaticCredentials
from ivrhooks.types import Scheme


def _bcrypt(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


def _ha1(user: str, password: str, realm: str = "ivrhooks") -> str:
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()  # noqa: S324


def app_for(static: StaticCredentials, scheme: Scheme = "basic") -> IVRHooks:
    app = IVRHooks(receptionists=["8000"], secret="credential-files-0123", auth=scheme, env=False)

    @app.dtmf("1", credentials=static)
    async def menu(req: ActionRequest) -> object:
        return call("100")

    return app


@pytest.mark.parametrize(
    ("user", "why"),
    [
        ("Alice.Smith", "can never authenticate"),
        ("alice", "can never authenticate"),  # 5 characters
        ("a" * 65, "can never authenticate"),
        ("operator1", "already on line 1"),
    ],
    ids=["apache-style-name", "too-short", "too-long", "duplicate"],
)
def test_htpasswd_entries_that_can_never_work_are_refused(
    tmp_path: Path, user: str, why: str
) -> None:
    path = tmp_path / "htpasswd"
    path.write_text(f"operator1:{_bcrypt('s3cretpass')}\n{user}:{_bcrypt('s3cretpass')}\n")
    with pytest.raises(ConfigurationError, match=f"{path}, line 2: user '{user}'.*{why}"):
        app_for(StaticCredentials(htpasswd=path)).build()


@pytest.mark.parametrize("scheme", ["basic", "digest"])
def test_htdigest_entries_that_can_never_work_are_refused(tmp_path: Path, scheme: Scheme) -> None:
    path = tmp_path / "htdigest"
    lines = [
        f"operator1:ivrhooks:{_ha1('operator1', 's3cretpass')}",
        f"Other.Realm:elsewhere:{_ha1('Other.Realm', 'x', 'elsewhere')}",  # not this realm's
        f"Bob.Jones:ivrhooks:{_ha1('Bob.Jones', 's3cretpass')}",
    ]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigurationError, match=f"{path}, line 3: user 'Bob.Jones'"):
        app_for(StaticCredentials(htdigest=path), scheme).build()


def test_apr1_entries_load_with_one_warning_naming_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "htpasswd"
    path.write_text(
        f"operator1:{_bcrypt('s3cretpass')}\n"
        f"operator2:{apr_md5_crypt.hash('s3cretpass')}\n"
        f"operator3:{apr_md5_crypt.hash('s3cretpass')}\n"
    )
    with caplog.at_level(logging.WARNING, logger="ivrhooks"):
        app_for(StaticCredentials(htpasswd=path)).build()
    [warning] = [r for r in caplog.records if "apr_md5_crypt" in r.getMessage()]
    assert "'operator2', 'operator3'" in warning.getMessage()
    assert "htpasswd -B" in warning.getMessage()
    assert "s3cretpass" not in caplog.text
