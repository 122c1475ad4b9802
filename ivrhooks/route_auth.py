"""How an app's routes are authenticated: each route's scheme, the credentials the PBX must
send for it, and the verifier that checks them (``ivrhooks.auth``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ivrhooks.auth import (
    Authenticator,
    Credentials,
    MemoryReplayStore,
    ReplayStore,
    Scheme,
    build_authenticator,
    derive_credentials,
)
from ivrhooks.config import AppConfig
from ivrhooks.errors import ConfigurationError
from ivrhooks.routes import Route

__all__ = ["RouteAuth"]

_SCHEMES = ("basic", "digest", "bearer", "none")

logger = logging.getLogger("ivrhooks")


class RouteAuth:
    """The app-wide auth settings, applied route by route (a route may override the scheme)."""

    def __init__(
        self,
        config: AppConfig,
        *,
        realm: str,
        allow_no_auth: bool,
        digest_algorithms: Sequence[str],
        replay_store: ReplayStore | None,
    ) -> None:
        if config.auth not in _SCHEMES:
            raise ConfigurationError(
                f"auth={config.auth!r}: choose 'basic', 'digest', 'bearer' or 'none'"
            )
        if config.auth == "none":
            if config.auth_from_env:
                # Setting IVRHOOKS_AUTH=none is the operator's explicit choice; say what it means.
                logger.warning(
                    "IVRHOOKS_AUTH=none: action URLs are served without authentication; anyone "
                    "who can reach this service can drive the receptionists"
                )
                allow_no_auth = True
            elif not allow_no_auth:
                raise ConfigurationError(
                    "auth='none' lets anyone who can reach the service drive the receptionists; "
                    "pass allow_no_auth=True to mean it, or choose basic, digest or bearer"
                )
        self.config = config
        self.realm = realm
        self.allow_no_auth = allow_no_auth
        self.digest_algorithms = tuple(digest_algorithms)
        self.replay_store = replay_store if replay_store is not None else MemoryReplayStore()

    def scheme_of(self, route: Route) -> Scheme:
        """The scheme a route is served and registered with."""
        scheme: Scheme = route.auth or self.config.auth
        return scheme

    def credentials_for(self, route: Route) -> Credentials | None:
        """What the PBX must send for ``route`` (derived from the current secret); ``None`` for a
        route with static credentials, which an operator configured by hand."""
        if route.credentials is not None:
            return None
        return derive_credentials(self.config.secrets.current, route.name)

    def authenticator(self, route: Route) -> Authenticator | None:
        """The route's verifier; ``None`` for ``none``, so the hot path skips a no-op call."""
        scheme = self.scheme_of(route)
        if scheme == "none":
            if not self.allow_no_auth:
                raise ConfigurationError(
                    f"route {route.name!r}: auth='none' needs IVRHooks(allow_no_auth=True)"
                )
            return None
        return build_authenticator(
            scheme,
            route.name,
            # With static credentials the secret still keys the Digest nonces, so every
            # process accepts the others' nonces; only the static credentials get in.
            secrets=self.config.secrets,
            realm=self.realm,
            static=route.credentials,
            digest_algorithms=self.digest_algorithms,
            replay_store=self.replay_store,
        )
