"""The composition root: an app's declaration and configuration become a running server.

:func:`compose` (:mod:`.root`) builds, in one pass, the manifest, the store, the runtime, the
services and the :class:`~ivrhooks.server.app.Server`; :mod:`.routes` serves the action-URL
routes (verifiers, handlers bound to resources, middleware, fallbacks); :mod:`.events` wires
PortSIP's event webhooks (the inbox, the dispatcher, decisions, presence). Nothing here imports
the app: ``IVRHooks.build()`` calls :func:`compose` with its parts.
"""

from __future__ import annotations

from ivrhooks.compose.root import Parts, compose
from ivrhooks.compose.routes import build_verifiers

__all__ = ["Parts", "build_verifiers", "compose"]
