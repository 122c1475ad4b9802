"""Every route's verifier, built from the manifest: the auth the server enforces.

Fail closed by construction: each manifest route has a scheme, and each scheme but ``none`` gets
a verifier here; ``none`` reaches this point only when the manifest allowed it explicitly.
"""

from __future__ import annotations

import logging

from ivrhooks.auth.build import build_authenticator
from ivrhooks.auth.credentials import Secrets
from ivrhooks.auth.replay import MemoryReplayStore
from ivrhooks.auth.verdict import Authenticator
from ivrhooks.config import AuthConfig
from ivrhooks.manifest import Manifest

__all__ = ["build_authenticators"]

logger = logging.getLogger("ivrhooks")


def build_authenticators(
    manifest: Manifest, auth: AuthConfig, secrets: Secrets
) -> dict[str, Authenticator | None]:
    """``{route name: verifier}``; ``None`` only for a route whose scheme is ``none``."""
    store = auth.replay_store if auth.replay_store is not None else MemoryReplayStore()
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
