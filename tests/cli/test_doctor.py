"""``ivrhooks doctor APP`` against the fake PBX on loopback: read-only, and plain about problems.

Run in process (CliRunner, in a thread so the fake keeps serving here), once per login
generation; every run must leave the fake's write counters at zero.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ivrhooks import AuthConfig, IVRHooks, PBXConfig, RegistrationConfig
from ivrhooks.cli import main
from ivrhooks.doctor import account_findings, diagnose, public_url_findings
from ivrhooks.pbx.generations import Generation
from ivrhooks.schema.models import AccountInfo
from ivrhooks.testing import FakePBX, serve
from tests.pbx.hostile import HostilePBX, MiB, answer

APP = """
from ivrhooks import IVRHooks, call

app = IVRHooks(receptionists=["8000"])

@app.dtmf("1;2")
async def sales(req):
    return call("2001")

@app.caller("5550100")
async def vip(req):
    return call("2003")
"""
SECRET = "doctor-tests-secret-0123456789abcdef"


@pytest.fixture
def app_file(tmp_path: Path) -> str:
    path = tmp_path / "doctorapp.py"
    path.write_text(APP)
    return str(path)


def _env(base: str, fake: FakePBX, **extra: str) -> dict[str, str]:
    return {
        "IVRHOOKS_PBX_URL": base + "/api",
        "IVRHOOKS_PBX_USERNAME": fake.username,
        "IVRHOOKS_PBX_PASSWORD": fake.password,
        "IVRHOOKS_SECRET": SECRET,
        "IVRHOOKS_PUBLIC_URL": "https://ivr.example.com",
        **extra,
    }


async def invoke(args: list[str], env: dict[str, str]) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, main, args, env=env)


@pytest.fixture
async def served() -> AsyncIterator[Any]:
    """Serve a fake PBX made with the given options; yields ``(fake, base URL)``."""
    stack: list[Any] = []

    async def start(**options: Any) -> tuple[FakePBX, str]:
        fake = FakePBX(**options)
        fake.add_ivr("8000", "Main")
        server = serve(fake.app)
        stack.append(server)
        return fake, await server.__aenter__()

    yield start
    for server in reversed(stack):
        await server.__aexit__(None, None, None)


@pytest.mark.parametrize("generation", list(Generation), ids=lambda g: g.key)
async def test_doctor_reports_and_writes_nothing(
    served: Any, app_file: str, generation: Generation
) -> None:
    fake, base = await served(login_generations=[generation])
    result = await invoke(["doctor", app_file], _env(base, fake))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "reading the PBX, writing nothing" in out
    assert "ok    login" in out and f"{generation.label} answered" in out
    assert "token lifetime 3600 s" in out
    assert "8000 found (id " in out
    assert "the longest action URL is 35 of 128 characters" in out
    sales = r"\+ create ivrhooks:sales@[a-z0-9]+  DTMF '1;2' -> POST https://ivr.example.com/hooks/sales"
    assert re.search(sales, out)
    assert "+ create ivrhooks:vip@" in out
    assert "nothing was written to the PBX. 0 problem(s)" in out
    if generation is Generation.SIGN_IN:
        assert "role Admin (GET /auth/user)" in out
        assert "capability 'Phone System: Full Access'" in out
    elif generation is Generation.LOGIN:
        assert "role Admin (GET /login)" in out
    else:
        assert "the PBX does not say who the account is" in out
    if generation is Generation.LOGIN:
        assert "renewed by logging in again" in out
    assert (fake.counters.writes, fake.counters.creates) == (0, 0)
    assert fake.action_urls("8000") == []
    for secret in (fake.password, SECRET):
        assert secret not in out


async def test_doctor_after_sync_says_in_sync(served: Any, app_file: str) -> None:
    fake, base = await served()
    env = _env(base, fake)
    assert (await invoke(["sync", app_file], env)).exit_code == 0
    fake.reset_counters()
    result = await invoke(["doctor", app_file], env)
    assert result.exit_code == 0, result.output
    assert "receptionist 8000 (id " in result.output and "in sync" in result.output
    assert fake.counters.writes == 0


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param(
            {"role": "StandardUser"}, "role StandardUser (GET /auth/user) cannot manage", id="user"
        ),
        pytest.param(
            {"capabilities": ["Call Reports: Read"]},
            "lacks the 'Phone System: Full Access' capability",
            id="capability",
        ),
        pytest.param({"two_factor": True}, "the account has two-factor login", id="two-factor"),
        pytest.param(
            {"password": "another-one"}, "refused the login with status 401", id="wrong-login"
        ),
    ],
)
async def test_doctor_says_plainly_what_to_fix(
    served: Any, app_file: str, options: dict[str, Any], expected: str
) -> None:
    fake, base = await served(**options)
    env = _env(base, fake)
    if "password" in options:
        env["IVRHOOKS_PBX_PASSWORD"] = "fakepbx"  # not the PBX's: refused
    result = await invoke(["doctor", app_file], env)
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "FAIL" in result.output and "Traceback" not in result.output
    assert "nothing was written to the PBX. " in result.output
    assert fake.counters.writes == 0


async def test_doctor_names_missing_receptionists_and_plans_the_rest(
    served: Any, tmp_path: Path
) -> None:
    fake, base = await served()
    path = tmp_path / "two.py"
    path.write_text(APP.replace('["8000"]', '["8000", "8009"]'))
    result = await invoke(["doctor", str(path)], _env(base, fake))
    assert result.exit_code == 1
    assert "FAIL  receptionists" in result.output
    assert "8009: the PBX has no virtual receptionist" in result.output
    assert "receptionist 8000 (id " in result.output  # still planned
    assert fake.counters.writes == 0


async def test_doctor_checks_the_public_url(served: Any, app_file: str) -> None:
    fake, base = await served()
    env = _env(base, fake, IVRHOOKS_PUBLIC_URL="https://ivr.example.com/" + "p" * 100)
    result = await invoke(["doctor", app_file], env)
    assert result.exit_code == 1
    assert "the PBX keeps at most 128" in result.output
    assert "not computed until the public URL is fixed" in result.output
    assert fake.counters.writes == 0


def test_doctor_needs_a_pbx(app_file: str) -> None:
    result = CliRunner().invoke(main, ["doctor", app_file], env={"IVRHOOKS_PBX_URL": None})
    assert result.exit_code == 1
    assert "IVRHOOKS_PBX_URL" in result.output


PAGE = ["/hooks/sales"]
FULL = ["Phone System: Full Access"]


@pytest.mark.parametrize(
    ("public_url", "pbx_url", "level", "says"),
    [
        ("https://ivr.example.com", "https://pbx:8887/api", "ok", "35 of 128"),
        ("http://ivr.example.com", "https://pbx:8887/api", "warn", "plain http"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8887/api", "ok", "of 128"),
        ("http://127.0.0.1:8000", "https://pbx.example.com:8887/api", "fail", "own address"),
        ("http://localhost:8000", "https://10.0.0.5:8887/api", "fail", "own address"),
        ("ftp://ivr.example.com", "https://pbx/api", "fail", "must start with https://"),
        ("https://", "https://pbx/api", "fail", "names no host"),
        ("https://u:p@ivr.example.com", "https://pbx/api", "fail", "carries credentials"),
        ("https://ivr.example.com/?x=1", "https://pbx/api", "fail", "query"),
        ("https://ivr.example.com/#top", "https://pbx/api", "fail", "fragment"),
        ("https://ivr.example.com/a b", "https://pbx/api", "fail", "whitespace"),
        ("https://ivr.example.com/" + "x" * 100, "https://pbx/api", "fail", "at most 128"),
        (None, "https://pbx/api", "fail", "IVRHOOKS_PUBLIC_URL"),
    ],
    ids=[
        "https",
        "http",
        "loopback-pbx-too",
        "loopback-remote-pbx",
        "localhost",
        "scheme",
        "no-host",
        "credentials",
        "query",
        "fragment",
        "whitespace",
        "too-long",
        "unset",
    ],
)
def test_public_url_findings(public_url: str | None, pbx_url: str, level: str, says: str) -> None:
    findings = public_url_findings(public_url, PAGE, pbx_url)
    worst = next((f for f in findings if f.level == level), None)
    assert worst is not None, findings
    assert says in worst.text


@pytest.mark.parametrize(
    ("account", "levels"),
    [
        (AccountInfo(role="Admin", source="GET /login"), ["ok"]),
        (
            AccountInfo(role="SystemAdmin", capabilities=["Phone System: Full Access"]),
            ["warn", "ok"],
        ),
        (AccountInfo(role="QueueManager"), ["fail"]),
        (AccountInfo(role="Helpdesk"), ["warn"]),
        (AccountInfo(role="Admin", capabilities=[]), ["ok", "fail"]),
        (AccountInfo(role="Admin", password_force_reset=True), ["ok", "fail"]),
        (AccountInfo(role="Admin", source="GET /auth/user"), ["ok", "info"]),
        (None, ["info"]),
    ],
    ids=[
        "admin",
        "system-admin",
        "queue-manager",
        "custom-role",
        "no-full-access",
        "password-reset",
        "before-22.3",
        "unknown",
    ],
)
def test_account_findings(account: AccountInfo | None, levels: list[str]) -> None:
    assert [f.level for f in account_findings(account)] == levels


def test_capabilities_are_read_in_any_shape() -> None:
    # The published documents do not type `capabilities`: strings, objects or a map.
    for shape in (
        ["Phone System: Full Access"],
        [{"name": "Phone System: Full Access"}],
        {"Phone System: Full Access": True, "Call Reports": False},
    ):
        account = AccountInfo.model_validate({"role": "Admin", "capabilities": shape})
        assert account.capabilities == ["Phone System: Full Access"]


async def test_doctor_calls_another_apps_overlapping_entry_a_problem(
    served: Any, app_file: str
) -> None:
    # Two apps on one receptionist answering the same key: registration writes nothing there.
    fake, base = await served()
    theirs = {
        "name": "ivrhooks:sales@other1",
        "enabled": True,
        "type": "DTMF",
        "dtmf_mask": "1",
        "url": "https://other.example.com/hooks/sales",
    }
    fake.resources.create_action_url(fake.ivr("8000").id, theirs)
    result = await invoke(["doctor", app_file], _env(base, fake))
    assert result.exit_code == 1, result.output
    assert "FAIL  plan" in result.output
    assert "! conflict: " in result.output
    assert fake.counters.writes == 0


async def test_doctor_warns_of_a_hand_made_entry_that_overlaps_a_route(
    served: Any, app_file: str
) -> None:
    # Not another app's (no ivrhooks: name): registration leaves it alone, and says so once.
    fake, base = await served()
    hand_made = {
        "name": "sales line",
        "enabled": True,
        "type": "DTMF",
        "dtmf_mask": "1",
        "url": "https://crm.example.com/ivr",
    }
    fake.resources.create_action_url(fake.ivr("8000").id, hand_made)
    result = await invoke(["doctor", app_file], _env(base, fake))
    warned = [line for line in result.output.splitlines() if line.startswith("warn  plan")]
    assert len(warned) == 1 and "sales line" in warned[0], result.output
    assert fake.counters.writes == 0


# -- a hostile PBX (tests/pbx/hostile.py) ---------------------------------------------------


@pytest.fixture
async def hostile() -> AsyncIterator[tuple[HostilePBX, str]]:
    pbx = HostilePBX()
    async with serve(pbx.app) as base:
        yield pbx, base


def _hostile_env(pbx: HostilePBX, base: str) -> dict[str, str]:
    return {
        "IVRHOOKS_PBX_URL": base + "/api",
        "IVRHOOKS_PBX_USERNAME": pbx.username,
        "IVRHOOKS_PBX_PASSWORD": pbx.password,
        "IVRHOOKS_SECRET": SECRET,
        "IVRHOOKS_PUBLIC_URL": "https://ivr.example.com",
    }


async def test_doctor_never_prints_a_token_the_pbx_echoes_nor_its_escapes(
    hostile: tuple[HostilePBX, str], app_file: str
) -> None:
    pbx, base = hostile
    clear_screen = "\x1b]0;owned\x07\x1b[2J\x1b[H\r"
    pbx.on(
        "GET",
        "auth/user",
        answer({"role": clear_screen + "Admin", "capabilities": ["Call Reports\x9b2J", "\x1b[1A"]}),
    )
    # A proxy echoing the request: the Bearer header, and a password from elsewhere.
    echo = f"bad filter; Authorization: Bearer {pbx.token}; password={pbx.password} "
    pbx.on("GET", "ivrs", answer(_errors(echo + clear_screen + "x" * 5000, pbx.token), 400))
    result = await invoke(["doctor", app_file], _hostile_env(pbx, base))
    out = result.output
    print(out)
    assert result.exit_code == 1 and "Traceback" not in out
    assert "FAIL  receptionists  cannot list virtual receptionists: GET ivrs -> 400" in out
    for secret in (pbx.token, pbx.password, pbx.refresh):
        assert secret not in out
    assert "Bearer [redacted]; password=[redacted]" in out
    for control in ("\x1b", "\x07", "\r", "\x9b"):
        assert control not in out
    assert "role \\x1b]0;owned\\x07\\x1b[2J\\x1b[H\\x0dAdmin (GET /auth/user)" in out
    assert "(it has: Call Reports\\x9b2J, \\x1b[1A)" in out  # the capabilities too
    assert "…(truncated)" in out and "x" * 400 not in out


async def test_doctor_escapes_the_ids_and_entries_the_pbx_names(
    hostile: tuple[HostilePBX, str], app_file: str
) -> None:
    pbx, base = hostile
    ivr = "ivr\x1b[2J8000"
    ivrs = {"count": 1, "items": [{"id": ivr, "name": "\x1b[5mMain", "extension_number": "8000"}]}
    pbx.on("GET", "ivrs", answer(ivrs))
    hand_made = {
        "id": "u\r1",
        "name": "crm\x1b[2J",
        "enabled": True,
        "type": "DTMF",
        "dtmf_mask": "1",
        "url": "https://crm.example.com/\x1b[31m",
    }
    pbx.on("GET", f"ivrs/{ivr}/action_urls", answer({"items": [hand_made]}))
    result = await invoke(["doctor", app_file], _hostile_env(pbx, base))
    out = result.output
    print(out)
    assert "Traceback" not in out
    assert "8000 found (id ivr\\x1b[2J8000)" in out
    assert "receptionist 8000 (id ivr\\x1b[2J8000): 2 change(s)" in out
    assert "(id u\\x0d1, not managed by ivrhooks)" in out  # the plan's warning
    for control in ("\x1b", "\r"):
        assert control not in out


async def test_doctor_stops_a_48_mib_login_answer_at_the_token_cap(
    hostile: tuple[HostilePBX, str], app_file: str
) -> None:
    pbx, base = hostile
    pbx.on("POST", "auth/sign_in", pbx.huge(48 * MiB))
    result = await invoke(["doctor", app_file], _hostile_env(pbx, base))
    print(f"{result.output}\nserver handed out {pbx.streamed / MiB:.1f} MiB")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "FAIL  login" in result.output
    assert "the PBX's answer is larger than the 16 KiB ivrhooks reads" in result.output
    assert pbx.streamed < 48 * MiB


async def test_a_diagnosis_ends_at_its_budget(hostile: tuple[HostilePBX, str]) -> None:
    pbx, base = hostile
    pbx.on("GET", "ivrs", pbx.drip(every=0.05))  # each byte well within the per-read timeout
    app = IVRHooks(
        receptionists=["8000"],
        pbx=PBXConfig(base + "/api", username=pbx.username, password=pbx.password),
        auth=AuthConfig(secret=SECRET),
        registration=RegistrationConfig(public_url="https://ivr.example.com"),
        env=False,
    )
    config = app.configure()
    report = await diagnose(config, app.manifest(config), budget=1.0)
    last = report.findings[-1]
    print("\n".join(f"{f.level} {f.topic} {f.text}" for f in report.findings))
    assert (last.level, last.topic) == ("fail", "PBX")
    assert "did not finish within its budget of 1 s (diagnose(budget=...))" in last.text
    assert any(f.topic == "login" and f.level == "ok" for f in report.findings)


def _errors(message: str, detail: object) -> dict[str, object]:
    return {"errors": [{"code": "UNKNOWN", "message": message, "detail": detail}]}
