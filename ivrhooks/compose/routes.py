"""The action-URL routes as served: each route's verifier, its handler bound to its resources
inside the middleware, its fallback, its masks; and the endpoint inside its span when tracing."""

from __future__ import annotations

from collections.abc import Mapping

from ivrhooks.conf.config import AuthConfig
from ivrhooks.core.auth.build import build_authenticator
from ivrhooks.core.auth.credentials import Secrets, derive_credentials
from ivrhooks.core.auth.replay import MemoryReplayStore, ReplayStore, SharedReplayStore
from ivrhooks.core.auth.verdict import Authenticator
from ivrhooks.core.request import Handler
from ivrhooks.core.resources import Resources
from ivrhooks.core.runner import Middleware, Runnable
from ivrhooks.manifest import Manifest
from ivrhooks.observe.tracing import Tracing
from ivrhooks.server.app import Action
from ivrhooks.server.endpoint import ActionEndpoint, ServedRoute
from ivrhooks.store import Store
from ivrhooks.store.replay import StoreReplay

__all__ = ["build_verifiers", "previous_users", "replay_store", "served_routes", "traced"]


def replay_store(
    app_id: str, auth: AuthConfig, shared: Store | None
) -> ReplayStore | SharedReplayStore:
    """Where Digest ``nc`` values are recorded: the configured store, else the shared one
    (Redis: a response accepted by one replica is refused by every other), else memory."""
    if auth.replay_store is not None:
        return auth.replay_store
    if shared is not None and shared.kind != "memory":
        return StoreReplay(shared, f"ivrhooks:{app_id}:nc:")
    return MemoryReplayStore()


def build_verifiers(
    manifest: Manifest,
    auth: AuthConfig,
    secrets: Secrets,
    shared: Store | None = None,
    *,
    replay: ReplayStore | SharedReplayStore | None = None,
) -> dict[str, Authenticator | None]:
    """``{route name: verifier}``, ``None`` only for a route whose scheme is ``none`` (fail
    closed: ``ServedRoute`` refuses anything else without one). Reads the credential files of
    static credentials now, so a bad file fails startup (and ``ivrhooks plan``).

    With a ``shared`` store (Redis), Digest ``nc`` values are recorded there, so a response
    accepted by one replica is refused by every other (``replay``: the store to use, shared
    with the event endpoints)."""
    store = replay if replay is not None else replay_store(manifest.app_id, auth, shared)
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


def previous_users(manifest: Manifest, previous: str | None) -> frozenset[str]:
    """The usernames the previous secret derives for the routes: what a PBX still holding the
    old credentials sends during a rotation."""
    if previous is None:
        return frozenset()
    names = [*(entry.name for entry in manifest.routes), *(e.name for e in manifest.events)]
    return frozenset(derive_credentials(previous, name).username for name in names)


def traced(endpoint: ActionEndpoint, tracing: Tracing | None) -> Action | None:
    """The endpoint inside each request's server span, when tracing is on."""
    if tracing is None:
        return None
    from ivrhooks.observe.otel import OTelTracing
    from ivrhooks.server.tracing import TracedEndpoint  # imports OpenTelemetry: only now

    assert isinstance(tracing, OTelTracing)
    return TracedEndpoint(endpoint, tracing)


def served_routes(
    manifest: Manifest,
    verifiers: Mapping[str, Authenticator | None],
    methods: frozenset[str],
    resources: Resources,
    middleware: tuple[Middleware, ...],
) -> dict[str, ServedRoute]:
    """Every route as served: its verifier, its masks, its handler bound to its resources inside
    the middleware, and its fallback (its own or the app's) bound to its resources."""
    bound = tuple(resources.bind(m, skip=2) for m in middleware)
    fallbacks: dict[int, Runnable] = {}

    def fallback_of(handler: Handler | None) -> Runnable | None:
        if handler is None:
            return None
        if id(handler) not in fallbacks:
            fallbacks[id(handler)] = Runnable.of(handler, resources.bind(handler))
        return fallbacks[id(handler)]

    return {
        entry.path: ServedRoute(
            entry.route,
            frozenset(entry.receptionists),
            entry.scheme,
            verifiers[entry.name],
            methods,
            entry.path,
            fallback_of(entry.fallback),
            Runnable.of(entry.route.handler, resources.bind(entry.route.handler), bound),
            entry.masks,
        )
        for entry in manifest.routes
    }
