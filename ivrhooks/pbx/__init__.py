"""The PBX edge: an async client for PortSIP's Virtual Receptionist REST API, and the policy
object that tunes its retries (``PBXClient(url, ..., retry=RetryPolicy(max_attempts=2))``)."""

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
from ivrhooks.pbx.retry import RetryPolicy

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
    "RetryPolicy",
    "TwoFactorRequiredError",
]
