"""The ``ivrhooks`` command line. Each command lives in its own module, named in
:data:`ivrhooks.cli.group.COMMANDS` and imported when the command runs."""

from __future__ import annotations

from ivrhooks.cli.group import main

__all__ = ["main"]
