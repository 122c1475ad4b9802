"""``ivrhooks replay FILE APP``: the requests a capture holds (``ivrhooks run --capture FILE``)
answered by APP in process, each compared with the answer it got when it was captured.

One line per request: ``same``, ``changed`` or ``now a fallback`` (with the route, the decision
and the fallback's cause before and after), ``skipped`` when it cannot be rebuilt; then a
summary. Exit 1 when any request is answered differently; ``--accept`` writes the new answers
into FILE as the ones to expect (a new file renamed over it) and exits 0. How requests are
routed and sessions kept: :mod:`ivrhooks.server.replay`.

The keyed digits and caller numbers are not printed: the file may hold PINs, and this output
may end up in a CI log. The line number finds the request in the file.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

import click

from ivrhooks.cli.group import main
from ivrhooks.cli.loader import load_app
from ivrhooks.observe.captured import CaptureLines, read_capture
from ivrhooks.observe.logs import configure_logging
from ivrhooks.server.replay import (
    ReplayDifference,
    Status,
    accept,
    pin_clock,
    replay_config,
    replay_server,
)

__all__ = ["replay_command"]

_STATUSES: tuple[Status, ...] = ("same", "changed", "now a fallback", "skipped")


def _clock_spec(clock: str, app_spec: str) -> str:
    """``ATTR`` names an attribute of APP's own module; ``module:attr`` any module's."""
    if ":" in clock:
        return clock
    target = app_spec.partition(":")[0]
    if target.endswith(".py") or "/" in target or "\\" in target:
        target = Path(target).stem  # the loader imports a file under its stem
    return f"{target}:{clock}"


def _line(found: ReplayDifference) -> str:
    where = (
        f"line {found.line}  {found.time.isoformat(timespec='seconds')}  "
        f"{found.receptionist} {found.kind}"
    )
    if found.session_id:
        where += f"  session {found.session_id}"
    if found.after is None:
        what = found.note or "cannot be rebuilt"
    elif found.status == "same":
        what = str(found.after)
    else:
        what = f"{found.before}  ->  {found.after}"
    if found.note and found.after is not None:
        what += f"  ({found.note})"
    return f"{found.status:<15} {where}: {what}"


def _summary(results: list[ReplayDifference], capture: CaptureLines) -> str:
    counts = Counter(found.status for found in results)
    parts = [f"{counts[status]} {status}" for status in _STATUSES]
    text = f"{len(results)} requests: {', '.join(parts)}"
    unchecked = sum(1 for found in results if not found.route_checked)
    if unchecked:
        text += (
            f"; caller route not re-checked: {unchecked} (callers captured masked; "
            "IVRHOOKS_CAPTURE_CALLERS=true captures them)"
        )
    if capture.unreadable:
        text += f"; unreadable lines: {len(capture.unreadable)}"
    return text


@main.command("replay")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("app_spec", metavar="APP")
@click.option(
    "--accept",
    is_flag=True,
    help="Write the new answers into FILE as the ones to expect (atomically) and exit 0.",
)
@click.option(
    "--clock",
    metavar="[MODULE:]ATTR",
    help="The zero-argument callable APP's handlers read the time from (an aware datetime); "
    "each request sees the time it was captured. ATTR alone: in APP's own module.",
)
@click.option("--log-level", default="warning", show_default=True)
def replay_command(
    file: str, app_spec: str, accept: bool, clock: str | None, log_level: str
) -> None:
    """Answer the requests captured in FILE with APP and compare each with what it got then.

    Nothing is registered or captured, and sessions live in memory; the app's resources are
    set up as for serving (a CRM it calls must be reachable)."""
    configure_logging(log_level.upper())
    capture = read_capture(file)
    app = load_app(app_spec)
    pin = pin_clock(_clock_spec(clock, app_spec)) if clock else None
    server = app.build(replay_config(app.configure(os.environ)), services=())
    results = asyncio.run(replay_server(server, capture, pin=pin))
    for number, why in capture.unreadable:
        click.echo(f"{'unreadable':<15} line {number}: {why}")
    for found in results:
        click.echo(_line(found))
    click.echo(_summary(results, capture))
    differ = [found for found in results if found.changed]
    if accept:
        written = _accept(file, capture, results)
        click.echo(f"accepted: {written} answers written into {file} as the ones to expect")
        return
    if differ:
        raise SystemExit(1)


def _accept(file: str, capture: CaptureLines, results: list[ReplayDifference]) -> int:
    try:
        return accept(file, capture, results)
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot write the accepted answers ({exc})") from None
