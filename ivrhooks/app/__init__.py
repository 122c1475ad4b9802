"""The app: what a user declares (:mod:`.declare`) and the composition root that turns it into a
server (:mod:`.hooks`)."""

from __future__ import annotations

from ivrhooks.app.hooks import IVRHooks, Lifespan

__all__ = ["IVRHooks", "Lifespan"]
