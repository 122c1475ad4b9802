"""ivrhooks: answer PortSIP PBX virtual receptionists with decorated Python functions.

The package's face is lazy: ``import ivrhooks`` loads nothing but this file and the version;
each name below is imported from its module the first time it is used, so a tool that needs
only the masks or the configuration never pays for the server, the PBX client or their
libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ivrhooks._version import __version__

if TYPE_CHECKING:
    from ivrhooks.app import IVRHooks
    from ivrhooks.conf.config import (
        AuthConfig,
        EventsConfig,
        PBXConfig,
        RegistrationConfig,
        ServingConfig,
        StoreConfig,
    )
    from ivrhooks.core.auth.static import StaticCredentials
    from ivrhooks.core.decisions import Decision, call, hangup, repeat
    from ivrhooks.core.request import ActionRequest
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

#: Where each public name lives.
_HOMES = {
    "ActionRequest": "ivrhooks.core.request",
    "AuthConfig": "ivrhooks.conf.config",
    "ConfigurationError": "ivrhooks.errors",
    "Decision": "ivrhooks.core.decisions",
    "EventsConfig": "ivrhooks.conf.config",
    "IVRHooks": "ivrhooks.app",
    "IVRHooksError": "ivrhooks.errors",
    "InboundError": "ivrhooks.errors",
    "InvalidDecisionError": "ivrhooks.errors",
    "MaskError": "ivrhooks.errors",
    "Observer": "ivrhooks.observe.observer",
    "PBXConfig": "ivrhooks.conf.config",
    "PBXError": "ivrhooks.errors",
    "RegistrationConfig": "ivrhooks.conf.config",
    "RouteConflictError": "ivrhooks.errors",
    "ServingConfig": "ivrhooks.conf.config",
    "SettingError": "ivrhooks.errors",
    "StaticCredentials": "ivrhooks.core.auth.static",
    "StoreConfig": "ivrhooks.conf.config",
    "call": "ivrhooks.core.decisions",
    "hangup": "ivrhooks.core.decisions",
    "repeat": "ivrhooks.core.decisions",
}

__all__ = [
    "ActionRequest",
    "AuthConfig",
    "ConfigurationError",
    "Decision",
    "EventsConfig",
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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ivrhooks' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
