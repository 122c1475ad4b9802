"""Registration errors (defined in :mod:`ivrhooks.errors`).

::

    RegistrationError            a reconcile did not complete; the message says why
    ├── UnknownReceptionistError  an extension number the PBX has no receptionist for
    └── ApplyError                some writes failed (the others were made)
"""

from __future__ import annotations

from ivrhooks.errors import ApplyError, RegistrationError, UnknownReceptionistError

__all__ = ["ApplyError", "RegistrationError", "UnknownReceptionistError"]
