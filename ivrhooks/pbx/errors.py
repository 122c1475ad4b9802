"""Errors raised while talking to the PBX's REST API (defined in :mod:`ivrhooks.errors`).

::

    PBXError
    ├── PBXConnectionError        transport failed; ``.reached`` says whether the request may
    │                             have reached the PBX (False only for connect errors)
    ├── PBXLoginError             the token endpoints refused us or answered nonsense
    │   └── TwoFactorRequiredError  the account asks for a one-time code (PortSIP REST §4)
    ├── PBXResponseError          a 2xx body that does not read as the schema says
    └── PBXAPIError               the PBX answered 4xx/5xx; carries status, code, message,
        │                         detail, method and path (never the token or the body we sent)
        ├── PBXUnauthorizedError  401 (UNAUTHORIZED), after one fresh login did not help
        ├── PBXNotFoundError      404: unknown id
        └── PBXValidationError    VALIDATE_FAILED: the PBX rejected a field
"""

from __future__ import annotations

from ivrhooks.errors import (
    KNOWN_PBX_CODES,
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

__all__ = [
    "KNOWN_CODES",
    "PBXAPIError",
    "PBXConnectionError",
    "PBXError",
    "PBXLoginError",
    "PBXNotFoundError",
    "PBXResponseError",
    "PBXUnauthorizedError",
    "PBXValidationError",
    "TwoFactorRequiredError",
]

KNOWN_CODES = KNOWN_PBX_CODES
