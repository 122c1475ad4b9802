"""``build_authenticator``: everything per route is decided and precomputed here, once."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from ivrhooks.core.auth.basic import BasicAuthenticator, BearerAuthenticator, PasswordStore
from ivrhooks.core.auth.credentials import Credentials, Secrets, derive_credentials, derive_key
from ivrhooks.core.auth.digest import ALGORITHMS, DEFAULT_LIFETIME, DigestAuthenticator, digest_ha1
from ivrhooks.core.auth.hashed import DigestPasswords, HashedPasswords
from ivrhooks.core.auth.replay import MemoryReplayStore, ReplayStore, SharedReplayStore
from ivrhooks.core.auth.static import StaticCredentials, load_htdigest
from ivrhooks.core.auth.verdict import Authenticator, Scheme
from ivrhooks.errors import ConfigurationError

__all__ = ["build_authenticator"]

# Realms end up inside a quoted-string we write; keep them plain.
T = TypeVar("T")
_REALM = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}")


def _by_state(
    secrets: Secrets, route_id: str, build: Callable[[list[Credentials]], T]
) -> Callable[[], T]:
    """Precompute for "current only" and "current + previous"; per request, pick by state."""
    current = [derive_credentials(secrets.current, route_id)]
    only = build(current)
    if secrets.previous is None:
        return lambda: only
    both = build([*current, derive_credentials(secrets.previous, route_id)])
    return lambda: only if secrets.previous is None else both


def build_authenticator(
    scheme: Scheme,
    route_id: str,
    *,
    secrets: Secrets | None,
    realm: str = "ivrhooks",
    static: StaticCredentials | None = None,
    digest_algorithms: Sequence[str] = ("MD5",),
    replay_store: ReplayStore | SharedReplayStore | None = None,
    clock: Callable[[], float] = time.time,
    nonce_lifetime: float = DEFAULT_LIFETIME,
) -> Authenticator:
    """The authenticator for one route (action URL); raises :class:`ConfigurationError`.

    With ``static``, exactly those credentials are accepted. Otherwise they are
    ``derive_credentials(secret, route_id)`` for the current secret (and the previous one until
    :meth:`Secrets.retire_previous`). Digest nonces are keyed by ``secrets`` whenever given (so
    every process accepts the others' nonces, even with static credentials), else by a
    per-process random key.
    """
    if scheme == "none":
        # A route without auth is served with no verifier at all (ServedRoute), never with one
        # that accepts everything.
        raise ConfigurationError(
            f"route {route_id!r}: auth 'none' has no authenticator; choose basic, digest or bearer"
        )
    if scheme not in ("basic", "digest", "bearer"):
        raise ConfigurationError(f"auth scheme: {scheme!r} is not basic, digest, bearer or none")
    if secrets is None and static is None:
        raise ConfigurationError(
            f"route {route_id!r}: give secrets (derived credentials) or static credentials"
        )
    if not _REALM.fullmatch(realm):
        raise ConfigurationError(f"realm: {realm!r} must be 1..64 printable ASCII, no quotes")
    if scheme == "bearer":
        return _bearer(route_id, realm, secrets, static)
    if scheme == "basic":
        return _basic(route_id, realm, secrets, static)
    return _digest(
        route_id,
        realm,
        secrets,
        static,
        digest_algorithms,
        replay_store or MemoryReplayStore(lifetime=nonce_lifetime),
        clock,
        nonce_lifetime,
    )


def _bearer(
    route_id: str,
    realm: str,
    secrets: Secrets | None,
    static: StaticCredentials | None,
) -> BearerAuthenticator:
    if static is None:
        assert secrets is not None
        tokens_now = _by_state(secrets, route_id, lambda cs: tuple(c.token.encode() for c in cs))
        return BearerAuthenticator(route_id, realm, tokens_now)
    if static.token is None:
        raise ConfigurationError(f"route {route_id!r}: bearer needs static credentials with token")
    tokens = (static.token.encode("ascii"),)
    return BearerAuthenticator(route_id, realm, lambda: tokens)


def _basic(
    route_id: str,
    realm: str,
    secrets: Secrets | None,
    static: StaticCredentials | None,
) -> BasicAuthenticator:
    if static is None:
        assert secrets is not None
        passwords = _by_state(
            secrets, route_id, lambda cs: {c.username.encode(): c.password.encode() for c in cs}
        )
        return BasicAuthenticator(route_id, realm, passwords, guessable=False)
    store: PasswordStore | None = None
    table: dict[bytes, bytes] = {}
    if static.username is not None and static.password is not None:
        table = {static.username.encode(): static.password.encode()}
    elif static.htpasswd is not None:
        store = HashedPasswords(static.htpasswd)
    elif static.htdigest is not None:
        store = DigestPasswords(load_htdigest(static.htdigest, realm), realm)
    else:
        raise ConfigurationError(f"route {route_id!r}: basic needs a username/password or a file")
    return BasicAuthenticator(route_id, realm, lambda: table, store)


def _digest(
    route_id: str,
    realm: str,
    secrets: Secrets | None,
    static: StaticCredentials | None,
    algorithms: Sequence[str],
    store: ReplayStore | SharedReplayStore,
    clock: Callable[[], float],
    lifetime: float,
) -> DigestAuthenticator:
    algs = [a.upper() for a in algorithms]
    if not algs or len(set(algs)) != len(algs) or any(a not in ALGORITHMS for a in algs):
        raise ConfigurationError(
            f"digest_algorithms: {list(algorithms)!r}; choose from MD5 and SHA-256 "
            "(no -sess, no SHA-512-256: common clients get them wrong)"
        )
    # RFC 7616 §3.7: clients take the first challenge they understand; prefer SHA-256.
    algs.sort(key=lambda a: a != "SHA-256")

    def ha1s(user: str, password: str) -> dict[str, bytes]:
        return {a: digest_ha1(a, user, realm, password) for a in algs}

    users: Callable[[], dict[str, dict[str, bytes]]]
    if static is None:
        assert secrets is not None
        users = _by_state(
            secrets, route_id, lambda cs: {c.username: ha1s(c.username, c.password) for c in cs}
        )
    else:
        if static.username is not None and static.password is not None:
            table = {static.username: ha1s(static.username, static.password)}
        elif static.htdigest is not None:
            if algs != ["MD5"]:
                raise ConfigurationError(
                    f"route {route_id!r}: an htdigest file holds MD5 HA1s only; "
                    "use digest_algorithms=('MD5',)"
                )
            table = {u: {"MD5": h} for u, h in load_htdigest(static.htdigest, realm).items()}
        else:
            raise ConfigurationError(
                f"route {route_id!r}: digest needs a username/password or an htdigest file "
                "(htpasswd hashes cannot answer a digest challenge)"
            )
        users = lambda: table  # noqa: E731
    key_sets: Callable[[], tuple[bytes, ...]]
    if secrets is not None:
        rotation = secrets
        keys_now = (derive_key(rotation.current, "digest-nonce"),)
        keys_both = keys_now + tuple(derive_key(s, "digest-nonce") for s in rotation.accepted()[1:])
        key_sets = lambda: keys_now if rotation.previous is None else keys_both  # noqa: E731
    else:
        process_key = (os.urandom(32),)
        key_sets = lambda: process_key  # noqa: E731
    opaque = base64.urlsafe_b64encode(
        hashlib.sha256(
            b"ivrhooks-opaque\x00" + realm.encode() + b"\x00" + route_id.encode()
        ).digest()[:18]
    ).decode()
    return DigestAuthenticator(
        route_id,
        realm,
        algorithms=algs,
        users=users,
        keys=key_sets,
        replay_store=store,
        clock=clock,
        opaque=opaque,
        lifetime=lifetime,
        guessable=static is not None,
    )
