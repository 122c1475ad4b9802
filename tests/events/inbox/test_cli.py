"""``ivrhooks events dead|retry APP`` against a real redis-server: dead events listed without
their bodies unless asked, put back by id or all at once; without Redis, a clear word."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivrhooks.cli import main
from ivrhooks.cli.loader import load_app
from ivrhooks.conf.events import EventsConfig
from ivrhooks.events.inbox import Delivery
from tests.events.inbox.conftest import Reports, redis_inbox, running
from tests.events.inbox.test_inbox import cdr
from tests.ports import refused_port
from tests.redis_server import RedisServer

APP = """
from ivrhooks import IVRHooks

app = IVRHooks(receptionists=["8000"])
"""


@pytest.fixture
def app_file(tmp_path: Path) -> Path:
    path = tmp_path / "events_cli_app.py"
    path.write_text(APP)
    return path


def app_id_of(path: Path, url: str) -> str:
    app = load_app(str(path))
    return app.manifest(app.configure({"IVRHOOKS_REDIS_URL": url})).app_id


def make_dead(url: str, app_id: str, count: int) -> list[str]:
    """``count`` dead events of the app, the newest first (ids)."""

    async def work() -> list[str]:
        reports = Reports()
        inbox = redis_inbox(url, EventsConfig(max_attempts=1), app_id=app_id, report=reports)

        async def handle(delivery: Delivery) -> None:
            raise LookupError(f"no account for {delivery.body['caller']}")

        try:
            async with running(inbox, handle):
                for n in range(count):
                    await inbox.accept("cdr", [cdr(n)], [f"d{n}"])
                    await reports.until("dead", n + 1)
            return [d.id for d in await inbox.dead()]
        finally:
            await inbox.close()

    return asyncio.run(work())


def backlog(url: str, app_id: str) -> int:
    async def work() -> int:
        inbox = redis_inbox(url, app_id=app_id)
        try:
            return await inbox.backlog()
        finally:
            await inbox.close()

    return asyncio.run(work())


def events(url: str | None, *args: str) -> Result:
    return CliRunner().invoke(main, ["events", *args], env={"IVRHOOKS_REDIS_URL": url})


def test_dead_events_are_listed_and_retried(redis_server: RedisServer, app_file: Path) -> None:
    url, app = redis_server.url, str(app_file)
    app_id = app_id_of(app_file, url)
    newest, oldest = make_dead(url, app_id, 2)

    listed = events(url, "dead", app)
    assert listed.exit_code == 0, listed.output
    print(listed.output)
    lines = listed.output.splitlines()
    assert lines[0].split() == ["ID", "KIND", "EVENT_TYPE", "ATTEMPTS", "ERROR_TYPE", "FAILED"]
    assert [line.split()[:5] for line in lines[1:]] == [
        [newest, "cdr", "call_cdr", "1", "LookupError"],
        [oldest, "cdr", "call_cdr", "1", "LookupError"],
    ]
    assert "+4930123456" not in listed.output, "no caller number without --show-bodies"

    as_json = events(url, "dead", app, "--json")
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.output)
    assert document["dropped"] == 0
    assert [row["id"] for row in document["dead"]] == [newest, oldest]
    assert "body" not in document["dead"][0] and "error" not in document["dead"][0]

    shown = events(url, "dead", app, "--json", "--show-bodies")
    row = json.loads(shown.output)["dead"][1]
    assert row["body"] == cdr(0) and row["error"] == "no account for +4930123456"
    assert "+4930123456" in events(url, "dead", app, "--show-bodies").output

    retried = events(url, "retry", app, oldest)
    assert retried.exit_code == 0, retried.output
    assert retried.output.strip() == "1 dead event put back in the queue"
    assert backlog(url, app_id) == 1
    assert [line.split()[0] for line in events(url, "dead", app).output.splitlines()[1:]] == [
        newest
    ]

    unknown = events(url, "retry", app, oldest)
    assert unknown.exit_code == 1 and "not dead events" in unknown.output

    everything = events(url, "retry", app, "--all")
    assert everything.exit_code == 0, everything.output
    assert everything.output.strip() == "1 dead event put back in the queue"
    assert backlog(url, app_id) == 2
    assert events(url, "dead", app).output.strip() == "no dead events"


def test_retry_needs_ids_or_all(redis_server: RedisServer, app_file: Path) -> None:
    for args in ([], ["some-id", "--all"]):
        result = events(redis_server.url, "retry", str(app_file), *args)
        assert result.exit_code == 2 and "--all" in result.output


def test_without_redis_it_says_where_dead_events_live(app_file: Path) -> None:
    result = events(None, "dead", str(app_file))
    assert result.exit_code == 1
    assert "IVRHOOKS_REDIS_URL is not set" in result.output
    assert "memory only" in result.output
    assert "cannot be reached from another process" in result.output


def test_an_unreachable_redis_is_one_clear_line(app_file: Path) -> None:
    with refused_port() as port:
        result = events(f"redis://127.0.0.1:{port}/0", "dead", str(app_file))
    assert result.exit_code == 1
    assert result.output.startswith("Error: event inbox: Redis dead failed")
    assert "Traceback" not in result.output
