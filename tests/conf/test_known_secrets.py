"""Secrets anybody can read are refused (ivrhooks/conf/known_secrets.py): the values written in
deploy/, docs/, README.md and examples/ (their digests recomputed here from the files, so the
shipped list cannot go stale), and placeholders; and ``ivrhooks run`` stops on one, naming the
variable and how to make a secret."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivrhooks.conf.known_secrets import GENERATE, RETIRED, SHIPPED, weakness

ROOT = Path(__file__).resolve().parents[2]
#: Never scanned: the untracked files the kits tell users to write their own secrets into.
IGNORED = {"secret.env", ".env"}
_NAME = r"[A-Za-z_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|secret|password|passwd|token)[A-Za-z_]*"
_ENV_NAME = r"[A-Z_]*(?:SECRET|PASSWORD|PASSWD|TOKEN)[A-Z_]*|password|secret|token|requirepass"
# Where a value is written for a secret-looking name (each with groups "name" and "value"):
FOUND = [
    # NAME=value, unquoted or quoted (env files, shells, commented or not).
    re.compile(rf"\b(?P<name>{_NAME})=(?P<q>[\"']?)(?P<value>[^\s\"'`,;)]+)(?P=q)"),
    # A YAML line, or a config file's: NAME: value, password value.
    re.compile(
        rf"^[ \t#-]*(?P<name>{_ENV_NAME})(?::[ \t]+|[ \t]+)(?P<q>[\"']?)(?P<value>[^\s\"']+)(?P=q)"
        r"[ \t]*$",
        re.M,
    ),
    # name = "value", "name": "value" (Python, JSON): a quoted literal.
    re.compile(rf"\b(?P<name>{_NAME})[\"']?\s*[=:]\s*(?P<q>[\"'])(?P<value>[^\"'\n]+)(?P=q)"),
    # --password value, "--password", "value" (command lines).
    re.compile(
        r"--(?P<name>password|secret|token)[\"']?(?:=|,?[ \t]+)[\"']?(?P<value>[^\s\"',\]]+)"
    ),
    # ${NAME:-default} (compose).
    re.compile(rf"\$\{{(?P<name>{_NAME}):?-(?P<value>[^}}]+)\}}"),
    # scheme://user:password@host
    re.compile(r"(?P<name>)[a-z]+://[^/\s:@]*:(?P<value>[^@\s/]+)@"),
]
#: What stands for a value rather than being one: a reference, a placeholder in <>, an option,
#: an ellipsis.
_NOT_A_VALUE = re.compile(r"^[-$<{(\[?%*]|\.\.\.|^(?:None|null|true|false)$|^\d{1,5}$")


def _files() -> Iterator[Path]:
    yield ROOT / "README.md"
    for folder in ("deploy", "docs", "examples"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.name not in IGNORED and "__pycache__" not in path.parts:
                yield path


def shipped_values() -> dict[str, set[str]]:
    """Each secret-looking value written in the scanned files, and where: ``{value: {"file:NAME"}}``
    (the file and the name it is given to)."""
    found: dict[str, set[str]] = {}
    for path in _files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:  # docs/images
            continue
        for pattern in FOUND:
            for match in pattern.finditer(text):
                value = match.group("value").strip()
                if value and not _NOT_A_VALUE.search(value):
                    where = f"{path.relative_to(ROOT)}:{match.group('name') or 'url'}"
                    found.setdefault(value, set()).add(where)
    return found


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_the_shipped_digests_are_the_values_written_in_the_repository() -> None:
    found = shipped_values()
    for value, where in sorted(found.items()):
        print(_digest(value), sorted(where))  # what to paste into SHIPPED when this fails
    assert found, "the scan finds the demo logins at least"
    assert {_digest(v) for v in found} == SHIPPED
    assert all(weakness(v) for v in found), "each is refused"
    assert not SHIPPED & RETIRED


def test_no_file_gives_ivrhooks_secret_a_value_to_copy() -> None:
    # The docs and kits show the generator instead: a value there would be refused once copied.
    given = {
        value: where
        for value, where in shipped_values().items()
        if any(re.search(r":(?:IVRHOOKS_)?(?:PREVIOUS_)?SECRET$", w, re.I) for w in where)
    }
    assert given == {}


@pytest.mark.parametrize(
    "value",
    [
        "replace-with-32-or-more-random-characters",  # the Kubernetes kit's, until now
        "replace-with-a-random-redis-password",
        "Replace_Me_With_A_Real_Secret",
        "changeme-changeme-changeme",
        "our-example-secret-0123456789",
        "<your secret of 32 characters>",
        "PLACEHOLDER0123456789",
        "your-secret-goes-here-01234",
        "put-the-secret-here...",
        "TODO: make a real one 0123",
        "xxxxxxxxxxxxxxxxxxxxxxxx",
        "secret xxx 0123456789 abc",
        "t" * 20,
        "0" * 32,
        "abab" * 8,
        "0123" * 5,
    ],
)
def test_placeholders_and_old_kit_values_are_refused(value: str) -> None:
    reason = weakness(value)
    assert reason is not None
    assert value not in reason, "the reason never repeats the value"


@pytest.mark.parametrize(
    "value",
    [
        "s3cret-for-tests-0123",
        "deploy-test-secret-0123456789abcdef",
        "the-old-secret-0123456789",
        "a-secret-long-enough-for-the-check-0123",
        "hand-configured-0123",
        "correct-horse-battery-staple",
        "Tr0ub4dor&3-but-longer-than-16",
    ],
)
def test_real_looking_secrets_pass(value: str) -> None:
    assert weakness(value) is None


def test_generated_secrets_pass() -> None:
    # The placeholder words are long, or whole words, so a random token does not contain one
    # by chance (see the module's docstring); 20,000 draws of each kind the docs suggest. The
    # draws are seeded, the same bytes on every run: a one-in-a-billion token still fails once
    # in a while over thousands of runs, and a check must not fail by chance.
    rng = random.Random(20261206)
    refused = []
    for _ in range(10_000):
        raw = rng.randbytes(32)  # what secrets.token_urlsafe(32) / token_hex(32) encode
        for value in (base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), raw.hex()):
            if weakness(value) is not None:
                refused.append(value)
    assert refused == []
    # The same shape as the generator's output, so the draws stand for it.
    assert len(base64.urlsafe_b64encode(raw).rstrip(b"=")) == len(secrets.token_urlsafe(32))


def test_ivrhooks_run_refuses_the_old_kit_secret_naming_the_variable_and_the_generator() -> None:
    old = "replace-with-32-or-more-random-characters"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    env.update(
        IVRHOOKS_SECRET=old,
        IVRHOOKS_PBX_URL="http://127.0.0.1:9/api",  # never reached: the check stops it first
        IVRHOOKS_PBX_USERNAME="ivrhooks",
        IVRHOOKS_PBX_PASSWORD="pbx-password-0123",
    )
    done = subprocess.run(
        [sys.executable, "-m", "ivrhooks", "run", "examples/quickstart.py", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "IVRHOOKS_SECRET:" in done.stderr and GENERATE in done.stderr, done.stderr
    assert old not in done.stderr + done.stdout, "the refused value is not repeated"
