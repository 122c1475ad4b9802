"""ivrhooks: answer PortSIP PBX virtual receptionists with decorated Python functions."""

from __future__ import annotations

from ivrhooks._version import __version__
from ivrhooks.app import IVRHooks
from ivrhooks.auth.static import StaticCredentials
from ivrhooks.config import (
    AuthConfig,
    PBXConfig,
    RegistrationConfig,
    ServingConfig,
    StoreConfig,
)
from ivrhooks.decisions import Decision, call, hangup, repeat
from ivrhooks.errors import (
    ConfigurationError,
    InboundError,
    InvalidDecisionError,
    IVRHooksError,
    MaskError,
    PBXError,
    RouteConflictError,
    SettingError,
)
from ivrhooks.observer import Observer
from ivrhooks.types import ActionRequest

__all__ = [
    "ActionRequest",
    "AuthConfig",
    "ConfigurationError",
    "Decision",
    "IVRHooks",
    "IVRHooksError",
    "InboundError",
    "InvalidDecisionError",
    "MaskError",
    "Observer",
    "PBXConfig",
    "PBXError",
    "RegistrationConfig",
    "RouteConflictError",
    "ServingConfig",
    "SettingError",
    "StaticCredentials",
    "StoreConfig",
    "__version__",
    "call",
    "hangup",
    "repeat",
]
