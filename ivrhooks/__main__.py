"""``python -m ivrhooks`` is the ``ivrhooks`` command."""

from __future__ import annotations

from ivrhooks.cli import main

main()
