"""Every route's verifier, built from the manifest: the auth the server enforces.

Fail closed by construction: each manifest route has a scheme, and each scheme but ``none`` gets
a verifier here; ``none`` reaches this point only when the manifest allowed it explicitly.
"""

from __future__ import annotations

import logging

from ivrhooks.conf.config import AuthConfig
from ivrhooks.core.auth.build import build_authenticator
from ivrhooks.core.auth.credentials import Secrets
from ivrhooks.core.auth.replay import MemoryReplayStore, ReplayStore, SharedReplayStore
from ivrhooks.core.auth.verdict import Authenticator
from ivrhooks.manifest import Manifest
from ivrhooks.store.base import Store
from ivrhooks.store.replay import StoreReplay

__all__ = ["build_authenticators"]

logger = logging.getLogger("ivrhooks")


def build_authenticators(
    manifest: Manifest, auth: AuthConfig, secrets: Secrets, shared: Store | None = None
) -> dict[str, Authenticator | None]:
    """``{route name: verifier}``; ``None`` only for a route whose scheme is ``none``.

    With a ``shared`` store (Redis), Digest ``nc`` values are recorded there, so a response
    accepted by one replica is refused by every other."""
    store: ReplayStore | SharedReplayStore
    if auth.replay_store is not None:
        store = auth.replay_store
    elif shared is not None and shared.kind != "memory":
        store = StoreReplay(shared, f"ivrhooks:{manifest.app_id}:nc:")
    else:
        store = MemoryReplayStore()
    verifiers: dict[str, Authenticator | None] = {}
    for entry in manifest.routes:
        if entry.scheme == "none":
            verifiers[entry.name] = None
            continue
        verifiers[entry.name] = build_authenticator(
            entry.scheme,
            entry.name,
            # With static credentials the secret still keys the Digest nonces, so every
            # process accepts the others' nonces; only the static credentials get in.
            secrets=secrets,
            realm=auth.realm,
            static=entry.static,
            digest_algorithms=auth.digest_algorithms,
            replay_store=store,
        )
    return verifiers
