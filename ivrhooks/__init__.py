"""ivrhooks: answer PortSIP PBX virtual receptionists with decorated Python functions."""

from __future__ import annotations

from ivrhooks.app import IVRHooks
from ivrhooks.decisions import Decision, InvalidDecisionError, call, hangup, repeat
from ivrhooks.errors import (
    ConfigurationError,
    InboundError,
    IVRHooksError,
    MaskError,
    PBXError,
    RouteConflictError,
)
from ivrhooks.request import ActionRequest

__version__ = "0.1.0"

__all__ = [
    "ActionRequest",
    "ConfigurationError",
    "Decision",
    "IVRHooks",
    "IVRHooksError",
    "InboundError",
    "InvalidDecisionError",
    "MaskError",
    "PBXError",
    "RouteConflictError",
    "__version__",
    "call",
    "hangup",
    "repeat",
]
