"""The ivrhooks exception tree.

::

    IVRHooksError                 every error ivrhooks raises on purpose
    ├── ConfigurationError        bad setup, raised at import/startup; says what to change
    │   ├── MaskError             an invalid DTMF or caller mask (names the bad entry)
    │   └── RouteConflictError    two routes that could answer the same input
    ├── InboundError              a PBX request that cannot be served; carries its status
    └── PBXError                  talking to the PBX's REST API failed (see ``ivrhooks.pbx.errors``)
"""

from __future__ import annotations


class IVRHooksError(Exception):
    """Root of every error ivrhooks raises on purpose."""


class ConfigurationError(IVRHooksError):
    """The application or its settings are wrong; the message says what to change."""


class MaskError(ConfigurationError, ValueError):
    """A DTMF or caller mask does not follow the PortSIP grammar."""

    def __init__(self, message: str, *, mask: str, entry: str | None = None) -> None:
        super().__init__(message)
        self.mask = mask
        self.entry = entry


class RouteConflictError(ConfigurationError):
    """Two routes could match the same input for the same receptionist and kind."""


class InboundError(IVRHooksError):
    """An action-URL request that cannot be served; ``status`` is the HTTP status to answer."""

    status: int = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class PBXError(IVRHooksError):
    """Talking to the PBX's REST API failed."""
