"""Server-side authentication of PBX requests: Basic, Digest and Bearer, done right.

A sans-I/O core (``params``, ``credentials``, ``basic``, ``digest``, ``nonce``, ``replay``,
``static``: bytes in, :class:`Verdict` out, clock injected) and a thin ASGI edge (``asgi``).
See docs/security.md for the guarantees and deployment advice.
"""

from __future__ import annotations

from ivrhooks.auth.asgi import authenticate, protect, reject, request_target, send_rejection
from ivrhooks.auth.basic import BasicAuthenticator, BearerAuthenticator
from ivrhooks.auth.build import NoAuthenticator, build_authenticator
from ivrhooks.auth.credentials import Credentials, Secrets, derive_credentials, generate_secret
from ivrhooks.auth.digest import DigestAuthenticator, digest_ha1, digest_response
from ivrhooks.auth.guard import AuthGuard
from ivrhooks.auth.params import AuthHeaderError, parse_auth_params, split_scheme
from ivrhooks.auth.replay import MemoryReplayStore, ReplayOutcome, ReplayStore
from ivrhooks.auth.static import StaticCredentials
from ivrhooks.auth.verdict import Authenticator, Scheme, Verdict

__all__ = [
    "AuthGuard",
    "AuthHeaderError",
    "Authenticator",
    "BasicAuthenticator",
    "BearerAuthenticator",
    "Credentials",
    "DigestAuthenticator",
    "MemoryReplayStore",
    "NoAuthenticator",
    "ReplayOutcome",
    "ReplayStore",
    "Scheme",
    "Secrets",
    "StaticCredentials",
    "Verdict",
    "authenticate",
    "build_authenticator",
    "derive_credentials",
    "digest_ha1",
    "digest_response",
    "generate_secret",
    "parse_auth_params",
    "protect",
    "reject",
    "request_target",
    "send_rejection",
    "split_scheme",
]
