"""The ``ivrhooks`` command group, and the one place a user's mistake becomes a one-line error.

Every error ivrhooks raises on purpose (:class:`~ivrhooks.errors.IVRHooksError`: a bad setting,
mask, route, credential file, or a PBX that refuses) is printed as ``Error: <message>`` with exit
status 1, whichever command raised it. Tracebacks are left for bugs, and for the user's own code.
"""

from __future__ import annotations

from typing import Any

import click

from ivrhooks._version import __version__
from ivrhooks.errors import IVRHooksError

__all__ = ["main"]


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IVRHooksError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ivrhooks")
def main() -> None:
    """Answer PortSIP PBX virtual receptionists with decorated Python functions."""
