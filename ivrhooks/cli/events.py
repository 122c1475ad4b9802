"""``ivrhooks events dead|retry APP``: the events whose handler failed on every attempt.

Dead events are kept by the app's event inbox (:mod:`ivrhooks.events.inbox`) in Redis, where
every replica and this command reach them (keys under ``ivrhooks:<app id>:events:``). The
command configures the app as it would start (``IVRHOOKS_*``) to find ``IVRHOOKS_REDIS_URL``
and the app id. Without Redis the dead events live in the running process's memory only: they
are logged when they die and counted in ``/metrics``, and no other process can reach them.

A body may hold callers' numbers, and an error message may quote them: both are shown only
with ``--show-bodies``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ivrhooks.cli.group import main
from ivrhooks.cli.loader import load_app

if TYPE_CHECKING:
    from ivrhooks.events.inbox import DeadDelivery, Inbox

__all__ = ["events"]

T = TypeVar("T")

NO_REDIS = (
    "IVRHOOKS_REDIS_URL is not set: without Redis, dead events live in the running process's "
    "memory only and cannot be reached from another process (the app logs each one as it "
    "dies and counts them in /metrics). Set IVRHOOKS_REDIS_URL, for the app and for this "
    "command, to keep them where `ivrhooks events` can list and retry them."
)


def _with_inbox(app_spec: str, work: Callable[[Inbox], Coroutine[Any, Any, T]]) -> T:
    app = load_app(app_spec)
    config = app.configure()
    url = config.store.redis_url
    if not url:
        raise click.ClickException(NO_REDIS)
    app_id = app.manifest(config).app_id
    from ivrhooks.events.inbox.redis import RedisInbox  # Redis: only when it is there

    async def run() -> T:
        # A person waits here, not a PBX: more time than the request path's quarter second.
        inbox = RedisInbox(
            config.events,
            url,
            app_id=app_id,
            connect_timeout=max(config.store.connect_timeout, 2.0),
            timeout=max(config.store.timeout, 5.0),
            max_connections=2,
        )
        try:
            return await work(inbox)
        finally:
            await inbox.close()

    return asyncio.run(run())


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _row(dead: DeadDelivery, show_bodies: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": dead.id,
        "kind": dead.kind,
        "event_type": dead.event_type,
        "attempts": dead.attempts,
        "error_type": dead.error_type,
        "failed": _when(dead.failed),
        "received": _when(dead.received),
    }
    if show_bodies:
        row["error"] = dead.error
        row["body"] = dead.body
    return row


@main.group()
def events() -> None:
    """PortSIP's event webhooks: the events whose handler kept failing."""


@events.command("dead")
@click.argument("app_spec", metavar="APP")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--show-bodies",
    is_flag=True,
    help="Include each event's body and the error's message (they may hold callers' numbers).",
)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
def dead(app_spec: str, as_json: bool, show_bodies: bool, limit: int) -> None:
    """List APP's dead events, the most recent first (needs IVRHOOKS_REDIS_URL)."""

    async def work(inbox: Inbox) -> tuple[list[DeadDelivery], int]:
        return await inbox.dead(limit), await inbox.dead_dropped()

    found, dropped = _with_inbox(app_spec, work)
    rows = [_row(d, show_bodies) for d in found]
    if as_json:
        click.echo(json.dumps({"dead": rows, "dropped": dropped}, indent=2))
        return
    if not rows:
        click.echo("no dead events")
    else:
        columns = ("id", "kind", "event_type", "attempts", "error_type", "failed")
        table = [[c.upper() for c in columns]]
        table += [["-" if r[c] is None else str(r[c]) for c in columns] for r in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
        for line, row in zip(table, [None, *rows], strict=True):
            cells = zip(line, widths, strict=True)
            click.echo("  ".join(cell.ljust(w) for cell, w in cells).rstrip())
            if show_bodies and row is not None:
                click.echo(f"    error: {row['error']}")
                click.echo(f"    body: {json.dumps(row['body'], ensure_ascii=False)}")
    if dropped:
        click.echo(f"({dropped} older dead events were dropped: the list keeps the newest)")


@events.command("retry")
@click.argument("app_spec", metavar="APP")
@click.argument("ids", nargs=-1, metavar="[ID ...]")
@click.option("--all", "every", is_flag=True, help="Put every dead event back.")
def retry(app_spec: str, ids: tuple[str, ...], every: bool) -> None:
    """Put APP's dead events back in the queue, their attempts reset (needs IVRHOOKS_REDIS_URL).

    A running replica of the app hands them to the handler again."""
    if every == bool(ids):
        raise click.UsageError(
            "name the dead events to retry (IDs from `ivrhooks events dead`) or pass --all"
        )

    async def work(inbox: Inbox) -> int:
        return await inbox.retry_dead(None if every else list(ids))

    count = _with_inbox(app_spec, work)
    click.echo(f"{count} dead event{'' if count == 1 else 's'} put back in the queue")
    if ids and count < len(set(ids)):
        raise click.ClickException(
            f"{len(set(ids)) - count} of the IDs given are not dead events (already retried, or "
            "never dead); `ivrhooks events dead APP` lists them"
        )
