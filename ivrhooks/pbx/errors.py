"""Errors raised while talking to the PBX's REST API.

::

    PBXError (ivrhooks.errors)
    ├── PBXConnectionError        transport failed; ``.reached`` says whether the request may
    │                             have reached the PBX (False only for connect errors)
    ├── PBXLoginError             the token endpoints refused us or answered nonsense
    │   └── TwoFactorRequiredError  the account asks for a one-time code (PortSIP REST §4)
    └── PBXAPIError               the PBX answered 4xx/5xx; carries status, code, message,
        │                         detail, method and path (never the token or the body we sent)
        ├── PBXUnauthorizedError  401 (UNAUTHORIZED), after one fresh login did not help
        ├── PBXNotFoundError      404: unknown id
        └── PBXValidationError    VALIDATE_FAILED: the PBX rejected a field
"""

from __future__ import annotations

from typing import Any

from ivrhooks.errors import PBXError

__all__ = [
    "KNOWN_CODES",
    "PBXAPIError",
    "PBXConnectionError",
    "PBXError",
    "PBXLoginError",
    "PBXNotFoundError",
    "PBXUnauthorizedError",
    "PBXValidationError",
    "TwoFactorRequiredError",
]

# PortSIP REST "About": the codes seen in ``errors[]``; anything else is reported as UNKNOWN.
KNOWN_CODES = frozenset({"UNKNOWN", "VALIDATE_FAILED", "UNAUTHORIZED"})


class PBXConnectionError(PBXError):
    """The request did not get an HTTP answer (refused, reset, timed out)."""

    def __init__(self, message: str, *, method: str, path: str, reached: bool) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        #: False when the request provably never left us (connect failed), so even a
        #: create may be retried; True when the PBX may have acted on it.
        self.reached = reached


class PBXLoginError(PBXError):
    """Logging in to the PBX failed; the message says why (never the password)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TwoFactorRequiredError(PBXLoginError):
    """The PBX account has two-factor login, which an unattended client cannot answer."""


class PBXAPIError(PBXError):
    """The PBX answered with an error status and (usually) an ``errors[]`` body."""

    def __init__(
        self,
        *,
        status: int,
        code: str,
        message: str,
        detail: Any,
        method: str,
        path: str,
    ) -> None:
        self.status = status
        self.code = code if code in KNOWN_CODES else "UNKNOWN"
        self.message = message
        self.detail = detail
        self.method = method
        self.path = path
        super().__init__(f"{method} {path} -> {status} {self.code}: {message}")


class PBXUnauthorizedError(PBXAPIError):
    """401: the token was refused even after logging in again."""


class PBXNotFoundError(PBXAPIError):
    """404: the id (or the endpoint) does not exist on this PBX."""


class PBXValidationError(PBXAPIError):
    """VALIDATE_FAILED: the PBX rejected a field; ``message``/``detail`` name it."""
