"""The ``ivrhooks`` command line. Each command lives in its own module and is added here."""

from __future__ import annotations

# Commands register themselves on the group, one import per module (keeps merges conflict-free).
from ivrhooks.cli import call as _call  # noqa: F401
from ivrhooks.cli import dev as _dev  # noqa: F401
from ivrhooks.cli import doctor as _doctor  # noqa: F401
from ivrhooks.cli import events as _events  # noqa: F401
from ivrhooks.cli import fake_pbx as _fake_pbx  # noqa: F401
from ivrhooks.cli import probe as _probe  # noqa: F401
from ivrhooks.cli import registration as _registration  # noqa: F401
from ivrhooks.cli import replay as _replay  # noqa: F401
from ivrhooks.cli import routes as _routes  # noqa: F401
from ivrhooks.cli import run as _run  # noqa: F401
from ivrhooks.cli.group import main

__all__ = ["main"]
