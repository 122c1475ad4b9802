"""Apache credential files with entries that can never work are refused when the app is built.

Through the composition root (``IVRHooks.build()``, what ``ivrhooks run`` and uvicorn's lifespan
call), and through ``ivrhooks run`` as a person starts it: the error names the file, the line and
the user, so the operator knows what to change.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
from passlib.hash import apr_md5_crypt  # type: ignore[import-untyped]

from ivrhooks import ActionRequest, ConfigurationError, IVRHooks, call
from ivrhooks.core.auth import StaticCredentials
from ivrhooks.core.types import Scheme
from tests.ports import spare_port


def _bcrypt(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


def _ldap_sha1(password: str) -> str:
    """What ``htpasswd -s`` writes: ``{SHA}`` and one unsalted SHA-1."""
    digest = hashlib.sha1(password.encode()).digest()  # noqa: S324
    return "{SHA}" + base64.b64encode(digest).decode()


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


WEAK = {
    "ldap_sha1": _ldap_sha1("s3cretpass"),  # {SHA}
    "plaintext": "s3cretpass",
    "des_crypt": "XJ4RT//RfYEPg",
}


def _weak_file(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "users.htpasswd"
    path.write_text(f"operator1:{_bcrypt('s3cretpass')}\n# a comment\nweakuser1:{entry}\n")
    return path


def _refusal(path: Path, scheme: str) -> str:
    return (
        f"htpasswd file {path}, line 3: user 'weakuser1' uses {scheme} hashing; "
        "re-create it with `htpasswd -B` (bcrypt)"
    )


@pytest.mark.parametrize("scheme", sorted(WEAK))
def test_weak_htpasswd_entries_are_refused_when_the_app_is_built(
    tmp_path: Path, scheme: str
) -> None:
    path = _weak_file(tmp_path, WEAK[scheme])
    with pytest.raises(ConfigurationError, match=re.escape(_refusal(path, scheme))):
        app_for(StaticCredentials(htpasswd=path)).build()


WEAK_APP = """
from pathlib import Path
from ivrhooks import IVRHooks, StaticCredentials, call

app = IVRHooks(receptionists=["8000"])

@app.dtmf("1", credentials=StaticCredentials(htpasswd=Path(__file__).parent / "users.htpasswd"))
async def vault(req):
    return call("2001")
"""


def test_ivrhooks_run_refuses_a_sha_entry_in_one_line_naming_file_line_and_user(
    tmp_path: Path,
) -> None:
    path = _weak_file(tmp_path, WEAK["ldap_sha1"])
    (tmp_path / "weakapp.py").write_text(WEAK_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    ports = ["--port", "0", "--pbx-port", str(spare_port()), "--ui-port", "0"]
    done = subprocess.run(
        [sys.executable, "-m", "ivrhooks", "run", "weakapp.py", *ports],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == "", "nothing is served, not even 'serving on'"
    assert done.stderr.strip() == f"Error: {_refusal(path, 'ldap_sha1')}"
