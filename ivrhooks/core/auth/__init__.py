"""Server-side authentication of PBX requests: Basic, Digest and Bearer, done right.

A sans-I/O core: bytes and headers in, a :class:`Verdict` out, clock injected. ``credentials``
derives each route's credentials from the app secret, ``basic`` / ``digest`` / ``nonce`` /
``replay`` / ``static`` / ``hashed`` verify (``files`` reads Apache credential files), ``guard``
holds the allow-lists and ``throttle`` the failure throttling. The ASGI half lives
in the server wing (``ivrhooks.server.auth``). See docs/security.md.
"""

from __future__ import annotations

from ivrhooks.core.auth.build import build_authenticator
from ivrhooks.core.auth.credentials import Credentials, Secrets, derive_credentials, generate_secret
from ivrhooks.core.auth.guard import AuthGuard
from ivrhooks.core.auth.replay import MemoryReplayStore, ReplayOutcome, ReplayStore
from ivrhooks.core.auth.static import StaticCredentials
from ivrhooks.core.auth.throttle import Throttle
from ivrhooks.core.auth.verdict import Authenticator, Pending, Verdict

__all__ = [
    "AuthGuard",
    "Authenticator",
    "Credentials",
    "MemoryReplayStore",
    "Pending",
    "ReplayOutcome",
    "ReplayStore",
    "Secrets",
    "StaticCredentials",
    "Throttle",
    "Verdict",
    "build_authenticator",
    "derive_credentials",
    "generate_secret",
]
