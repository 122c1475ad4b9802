"""``ivrhooks routes APP [--explain INPUT]``: the route table, and which route takes an input."""

from __future__ import annotations

import click

from ivrhooks.cli.group import main
from ivrhooks.cli.loader import load_app
from ivrhooks.core.types import KINDS, Kind


@main.command()
@click.argument("app_spec", metavar="APP")
@click.option("--explain", "value", metavar="INPUT", help="Say which route takes this input.")
@click.option(
    "--kind",
    type=click.Choice(["dtmf", "caller"], case_sensitive=False),
    help="With --explain: treat INPUT as DTMF digits or as a caller number (default: both).",
)
@click.option("--receptionist", metavar="EXT", help="With --explain: only this receptionist.")
def routes(app_spec: str, value: str | None, kind: str | None, receptionist: str | None) -> None:
    """Print the route table of APP (path/to/file.py or module:attr).

    Offline: it shows what the code declares, and reads no deployment variables.
    """
    app = load_app(app_spec)
    if value is None:
        rows = [("KIND", "MASK", "FUNCTION", "RECEPTIONISTS", "PATH")]
        for route in app.routes:
            rows.append(
                (
                    route.kind,
                    route.shown_mask,
                    route.function,
                    ",".join(app.table.receptionists_of(route)),
                    app.path_of(route),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = zip(row, widths, strict=True)
            click.echo("  ".join(cell.ljust(width) for cell, width in cells).rstrip())
        if not app.routes:
            click.echo("(no routes)")
        return
    kinds: list[Kind] = list(KINDS)
    if kind:
        kinds = ["DTMF"] if kind.lower() == "dtmf" else ["CALLER"]
    targets = [receptionist] if receptionist else list(app.table.all_receptionists())
    found = False
    for ext in targets:
        for k in kinds:
            hit = app.table.lookup(ext, k, value)
            what = "digits" if k == "DTMF" else "caller"
            if hit is None:
                click.echo(f"receptionist {ext}: {what} {value!r} -> no {k} route")
                continue
            route, entry = hit
            found = True
            why = (
                f"because no other DTMF route of this app takes it ({route.shown_mask})"
                if route.otherwise is not None
                else f"because it matches mask entry {entry!r} of {route.mask.text!r}"
            )
            click.echo(
                f"receptionist {ext}: {what} {value!r} -> {route.name} ({route.function}) {why}"
            )
    if not found:
        click.echo("no route takes this input; the PBX's own menu handles it")
