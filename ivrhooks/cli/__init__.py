"""The ``ivrhooks`` command line. Each command lives in its own module and is added here."""

from __future__ import annotations

import click

from ivrhooks import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ivrhooks")
def main() -> None:
    """Answer PortSIP PBX virtual receptionists with decorated Python functions."""


# Commands register themselves below, one import per module (keeps merges conflict-free).
from ivrhooks.cli import call as _call  # noqa: E402, F401
from ivrhooks.cli import dev as _dev  # noqa: E402, F401
from ivrhooks.cli import fake_pbx as _fake_pbx  # noqa: E402, F401
from ivrhooks.cli import registration as _registration  # noqa: E402, F401
from ivrhooks.cli import routes as _routes  # noqa: E402, F401
from ivrhooks.cli import run as _run  # noqa: E402, F401
