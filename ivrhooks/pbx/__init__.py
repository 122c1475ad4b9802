"""The PBX edge: an async client for PortSIP's Virtual Receptionist REST API."""

from __future__ import annotations

from ivrhooks.errors import (
    PBXAPIError,
    PBXConnectionError,
    PBXError,
    PBXLoginError,
    PBXNotFoundError,
    PBXResponseError,
    PBXUnauthorizedError,
    PBXValidationError,
    TwoFactorRequiredError,
)
from ivrhooks.pbx.client import PBXClient

__all__ = [
    "PBXAPIError",
    "PBXClient",
    "PBXConnectionError",
    "PBXError",
    "PBXLoginError",
    "PBXNotFoundError",
    "PBXResponseError",
    "PBXUnauthorizedError",
    "PBXValidationError",
    "TwoFactorRequiredError",
]
