"""ivrhooks: answer PortSIP PBX virtual receptionists with decorated Python functions."""

from __future__ import annotations

from ivrhooks._version import __version__
from ivrhooks.app import IVRHooks
from ivrhooks.conf.config import (
    AuthConfig,
    PBXConfig,
    RegistrationConfig,
    ServingConfig,
    StoreConfig,
)
from ivrhooks.core.auth.static import StaticCredentials
from ivrhooks.core.decisions import Decision, call, hangup, repeat
from ivrhooks.core.types import ActionRequest
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
from ivrhooks.observe.observer import Observer

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
