"""The ivrhooks exception tree: every exception ivrhooks raises on purpose is defined here.

::

    IVRHooksError                       every error ivrhooks raises on purpose
    ├── ConfigurationError              bad setup, found at decoration or startup
    │   ├── SettingError                one setting is wrong (names the variable or argument)
    │   ├── MaskError                   an invalid DTMF or caller mask (names the bad entry)
    │   ├── RouteConflictError          two routes that could answer the same input
    │   └── ResourceError               a resource (@app.resource) failed to set up
    ├── InvalidArgumentError            a call's argument is wrong (also a ValueError)
    ├── InvalidDecisionError            a handler returned something the PBX cannot act on
    ├── InboundError                    a PBX request that cannot be served; carries its status
    │   └── AuthHeaderError             an ``Authorization`` header that does not parse
    ├── PBXError                        talking to the PBX's REST API failed
    │   ├── PBXConnectionError          no HTTP answer; ``.reached``: may the PBX have acted?
    │   ├── PBXLoginError               the token endpoints refused us or answered nonsense
    │   │   ├── TwoFactorRequiredError  the account asks for a one-time code
    │   │   ├── PBXLoginRefusedError    the PBX refused the credentials (401, 403, other 4xx)
    │   │   └── PBXLoginBudgetError     refused logins used up the budget: no login was tried
    │   ├── PBXResponseError            a 2xx answer ivrhooks cannot read (names the field)
    │   └── PBXAPIError                 the PBX answered 4xx/5xx (status, code, message, detail)
    │       ├── PBXUnauthorizedError    401, after one fresh login did not help
    │       ├── PBXNotFoundError        404: unknown id
    │       └── PBXValidationError      VALIDATE_FAILED: the PBX rejected a field
    ├── RegistrationError               a reconcile did not complete; the message says why
    │   ├── UnknownReceptionistError    an extension number the PBX has no receptionist for
    │   ├── RegistrationConflictError   another app's entries answer the same input; no write
    │   └── ApplyError                  some writes failed (the others were made)
    ├── SessionError                    a call's session cannot be used (the request: fallback)
    │   ├── SessionUnavailableError     the PBX sent no session_id
    │   └── SessionTooLargeError        a session over its size cap
    ├── StoreError                      the shared store (Redis) failed or did not answer in time
    ├── InboxFullError                  the event inbox's backlog is full: nothing stored (503)
    ├── InboxUnavailableError           the event inbox's store failed: nothing stored (503)
    └── FakePBXError                    no fake PBX answers there, or it refused the test call

Foreign exceptions (pydantic's ``ValidationError``, httpx's transport errors) never leave a public
entry point: they are wrapped in one of these, with the original as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "KNOWN_PBX_CODES",
    "ApplyError",
    "AuthHeaderError",
    "ConfigurationError",
    "FakePBXError",
    "IVRHooksError",
    "InboundError",
    "InboxFullError",
    "InboxUnavailableError",
    "InvalidArgumentError",
    "InvalidDecisionError",
    "MaskError",
    "PBXAPIError",
    "PBXConnectionError",
    "PBXError",
    "PBXLoginBudgetError",
    "PBXLoginError",
    "PBXLoginRefusedError",
    "PBXNotFoundError",
    "PBXResponseError",
    "PBXUnauthorizedError",
    "PBXValidationError",
    "RegistrationConflictError",
    "RegistrationError",
    "ResourceError",
    "RouteConflictError",
    "SessionError",
    "SessionTooLargeError",
    "SessionUnavailableError",
    "SettingError",
    "StoreError",
    "TwoFactorRequiredError",
    "UnknownReceptionistError",
]


class IVRHooksError(Exception):
    """Root of every error ivrhooks raises on purpose."""


# -- configuration -----------------------------------------------------------------------


class ConfigurationError(IVRHooksError):
    """The application or its settings are wrong; the message says what to change."""


class SettingError(ConfigurationError):
    """One setting has a bad value. ``name`` is what the user wrote: an ``IVRHOOKS_*`` variable
    or a code argument such as ``ServingConfig(deadline=...)``."""

    def __init__(self, message: str, *, name: str, problem: str) -> None:
        super().__init__(message)
        self.name = name
        self.problem = problem


class MaskError(ConfigurationError, ValueError):
    """A DTMF or caller mask does not follow the PortSIP grammar."""

    def __init__(
        self, message: str, *, mask: str, entry: str | None = None, advice: str | None = None
    ) -> None:
        super().__init__(message)
        self.mask = mask
        self.entry = entry
        #: What to write instead of ``entry``, when the fix is certain (it parses as it stands).
        self.advice = advice


class RouteConflictError(ConfigurationError):
    """Two routes could match the same input for the same receptionist and kind."""


class ResourceError(ConfigurationError):
    """A resource declared with ``@app.resource`` failed to set up: the app cannot start. The
    message names the resource and what it raised."""


class InvalidArgumentError(IVRHooksError, ValueError):
    """An argument to an ivrhooks call is wrong; the message names it."""


class InvalidDecisionError(IVRHooksError, ValueError):
    """A handler returned something that is not a decision the PBX can act on."""


# -- inbound requests --------------------------------------------------------------------


class InboundError(IVRHooksError):
    """An action-URL request that cannot be served; ``status`` is the HTTP status to answer."""

    status: int = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class AuthHeaderError(InboundError, ValueError):
    """An ``Authorization`` header that does not follow RFC 9110 §11 syntax."""

    status = 401


# -- the PBX's REST API ------------------------------------------------------------------

#: PortSIP REST "About": the codes seen in ``errors[]``; anything else is reported as UNKNOWN.
KNOWN_PBX_CODES = frozenset({"UNKNOWN", "VALIDATE_FAILED", "UNAUTHORIZED"})


class PBXError(IVRHooksError):
    """Talking to the PBX's REST API failed."""


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


class PBXLoginRefusedError(PBXLoginError):
    """The PBX refused the credentials themselves (401, 403, or another 4xx on a login
    endpoint). Trying them again cannot help, and PortSIP blocks an address after repeated
    failed logins (reference/portsip.md §5): callers back off for minutes, not seconds."""


class PBXLoginBudgetError(PBXLoginError):
    """No login was tried: refused logins to this PBX used up the budget shared by every
    replica (:mod:`ivrhooks.registration.logins`). ``retry_in``: seconds until one may be tried
    again."""

    def __init__(self, message: str, *, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


class PBXResponseError(PBXError):
    """The PBX answered 2xx with a body that does not read as the published schema says."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


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
        self.code = code if code in KNOWN_PBX_CODES else "UNKNOWN"
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


# -- registration ------------------------------------------------------------------------


class RegistrationError(IVRHooksError):
    """Registration could not bring the PBX in line with the app."""


class UnknownReceptionistError(RegistrationError):
    """Some extension numbers have no virtual receptionist on the PBX."""

    def __init__(self, extensions: Sequence[str]) -> None:
        self.extensions = tuple(extensions)
        listed = ", ".join(self.extensions)
        super().__init__(
            f"receptionists: the PBX has no virtual receptionist with extension number {listed}; "
            "create it on the PBX or remove it from IVRHOOKS_RECEPTIONISTS / the app"
        )


class RegistrationConflictError(RegistrationError):
    """Another app's action URLs would answer the same input on the same receptionist as this
    app's; registration writes nothing until that is resolved. ``conflicts`` name both apps."""

    def __init__(self, conflicts: Sequence[str]) -> None:
        self.conflicts = tuple(conflicts)
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        super().__init__(f"refusing to register: {conflicts[0]}{more}")


class ApplyError(RegistrationError):
    """Some writes of a reconcile failed; the others were made."""

    def __init__(self, failures: Sequence[str], attempted: int) -> None:
        self.failures = tuple(failures)
        super().__init__(
            f"{len(self.failures)} of {attempted} action URL writes failed; first: {failures[0]}"
        )


# -- shared state ------------------------------------------------------------------------


class SessionError(IVRHooksError):
    """A call's session cannot be used: the request is answered by the fallback, in time."""


class SessionUnavailableError(SessionError):
    """The PBX sent no ``session_id`` (PortSIP builds before it was sent, late 2025)."""


class SessionTooLargeError(SessionError):
    """A session over its size cap (or holding something JSON cannot store)."""


class StoreError(IVRHooksError):
    """The shared store could not be reached or did not answer in time (never raised by the
    in-memory store). Request-path callers fall back to this process's memory."""


# -- event webhooks ----------------------------------------------------------------------


class InboxFullError(IVRHooksError):
    """The event inbox holds ``EventsConfig.backlog`` events not yet handled: none of the
    offered events was stored. The endpoint answers 503 so the PBX sends them again later
    (PortSIP retries anything but a 200; a 404 would stop it for good)."""

    def __init__(self, message: str, *, backlog: int, limit: int) -> None:
        super().__init__(message)
        self.backlog = backlog
        self.limit = limit


class InboxUnavailableError(IVRHooksError):
    """The event inbox's store (Redis) failed or did not answer in time: the endpoint answers
    503 and the PBX sends the events again. Storing is one atomic step, so either none was
    stored or (a reply lost after Redis acted) all were, and the PBX's resend is then recognised
    as a duplicate. Never answered from this process's memory instead: another replica could
    not see those events."""


# -- development tools -------------------------------------------------------------------


class FakePBXError(IVRHooksError):
    """A running fake PBX could not be reached, or refused a test call; says what to do."""
