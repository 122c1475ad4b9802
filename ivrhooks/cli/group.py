"""The ``ivrhooks`` command group, and the one place a user's mistake becomes a one-line error.

Every error ivrhooks raises on purpose (:class:`~ivrhooks.errors.IVRHooksError`: a bad setting,
mask, route, credential file, or a PBX that refuses) is printed as ``Error: <message>`` with exit
status 1, whichever command raised it. Tracebacks are left for bugs, and for the user's own code.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click

from ivrhooks._version import __version__
from ivrhooks.errors import IVRHooksError

__all__ = ["COMMANDS", "main"]

#: Each command and the module that defines it (its decorator adds it to :func:`main`). A
#: command's module is imported when that command runs, or when ``--help`` lists them all: each
#: command starts without loading every other's dependencies (``ivrhooks routes`` never loads
#: the dev server, ``ivrhooks run`` never the PBX probe), a fifth or so of its start-up.
COMMANDS = {
    "call": "ivrhooks.cli.call",
    "dev": "ivrhooks.cli.dev",
    "doctor": "ivrhooks.cli.doctor",
    "events": "ivrhooks.cli.events",
    "fake-pbx": "ivrhooks.cli.fake_pbx",
    "plan": "ivrhooks.cli.registration",
    "probe": "ivrhooks.cli.probe",
    "replay": "ivrhooks.cli.replay",
    "routes": "ivrhooks.cli.routes",
    "run": "ivrhooks.cli.run",
    "sync": "ivrhooks.cli.registration",
    "unregister": "ivrhooks.cli.registration",
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            import_module(COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IVRHooksError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ivrhooks")
def main() -> None:
    """Answer PortSIP PBX virtual receptionists with decorated Python functions."""
