"""Registration errors (under ``ivrhooks.errors.IVRHooksError``).

::

    IVRHooksError
    └── RegistrationError            a reconcile did not complete; the message says why
        ├── UnknownReceptionistError  an extension number the PBX has no receptionist for
        └── ApplyError                some writes failed (the others were made)
"""

from __future__ import annotations

from collections.abc import Sequence

from ivrhooks.errors import IVRHooksError

__all__ = ["ApplyError", "RegistrationError", "UnknownReceptionistError"]


class RegistrationError(IVRHooksError):
    """Registration could not bring the PBX in line with the app."""


class UnknownReceptionistError(RegistrationError):
    def __init__(self, extensions: Sequence[str]) -> None:
        self.extensions = tuple(extensions)
        listed = ", ".join(self.extensions)
        super().__init__(
            f"receptionists: the PBX has no virtual receptionist with extension number {listed}; "
            "create it on the PBX or remove it from IVRHOOKS_RECEPTIONISTS / the app"
        )


class ApplyError(RegistrationError):
    def __init__(self, failures: Sequence[str], attempted: int) -> None:
        self.failures = tuple(failures)
        super().__init__(
            f"{len(self.failures)} of {attempted} action URL writes failed; first: {failures[0]}"
        )
