"""ivrhooks: answer PortSIP PBX virtual receptionists with decorated Python functions."""

from __future__ import annotations

__version__ = "0.1.0"
