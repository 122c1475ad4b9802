"""ivrhooks: answer PortSIP PBX virtual receptionists with decorated Python functions.

The package's face is lazy: ``import ivrhooks`` loads nothing but this file and the version;
each name below is imported from its module the first time it is used, so a tool that needs
only the masks or the configuration never pays for the server, the PBX client or their
libraries.
"""

from __future__ import annotations

import sys
from importlib import import_module
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from ivrhooks._version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable
    from importlib.abc import Loader

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


def _lazy_face(
    package: str, namespace: dict[str, Any], homes: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's lazy face (PEP 562): its ``__getattr__`` imports each public name from its
    home (``homes``) on first use and keeps it in ``namespace`` (the package's ``globals()``),
    and its ``__dir__`` lists them. Used by this package, ``ivrhooks.fakepbx`` and
    ``ivrhooks.testing``."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        namespace[name] = value  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *homes])

    return __getattr__, __dir__


__getattr__, __dir__ = _lazy_face(__name__, globals(), _HOMES)


#: Public modules that moved into the folders of the architecture (docs/architecture.md), by
#: their former names: ``import ivrhooks.masks`` (or ``from ivrhooks.observer import Observer``)
#: keeps working and gives the very module, and its submodules, at the new home.
_MOVED = {
    "ivrhooks.auth": "ivrhooks.core.auth",
    "ivrhooks.masks": "ivrhooks.core.masks",
    "ivrhooks.observer": "ivrhooks.observe.observer",
    "ivrhooks.types": "ivrhooks.core.types",
}


class _FormerNames:
    """Finds a moved module by its former name: the import system gets the module imported
    from its new home (loading nothing more than that import does), under both names."""

    @staticmethod
    def _home(fullname: str) -> str | None:
        for former, home in _MOVED.items():
            if fullname == former or fullname.startswith(former + "."):
                return home + fullname[len(former) :]
        return None

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        home = self._home(fullname)
        if home is None:
            return None
        # A loader by duck typing: importlib.abc would cost the face an import of its own.
        return ModuleSpec(fullname, cast("Loader", self))

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = import_module(self._home(spec.name) or spec.name)
        spec.loader_state = module.__spec__  # restored below: the import system overwrites it
        return module

    def exec_module(self, module: ModuleType) -> None:
        spec = module.__spec__
        if spec is not None and isinstance(spec.loader_state, ModuleSpec):
            module.__spec__ = spec.loader_state


if not any(isinstance(finder, _FormerNames) for finder in sys.meta_path):
    # First: the moved package's own path would otherwise load its submodules a second time.
    sys.meta_path.insert(0, _FormerNames())
