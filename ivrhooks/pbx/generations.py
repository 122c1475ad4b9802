"""PortSIP's three generations of login endpoints, and what each one sends (PortSIP REST §4).

1. ``POST /auth/sign_in``, JSON ``{username, password, domain?}`` (v22.2+); refresh with
   ``POST /auth/refresh_token`` ``{refresh_token}``.
2. ``POST /login/oauth/token``, form-encoded, ``grant_type=password`` (v22.0/22.1, PortSIP's
   "Authentication" page; in no OpenAPI document); refresh with ``grant_type=refresh_token``.
3. ``POST /login``, JSON ``{username, password, domain?}`` (``operationId: login`` in every
   published OpenAPI document, old and new). Its 200 body is not documented; no refresh
   endpoint goes with it, so its tokens are renewed by logging in again before they expire.

The client tries them in this order and falls back on 404/405 (reference/portsip.md §4).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from ivrhooks.errors import InvalidArgumentError

__all__ = ["GENERATIONS", "OAUTH_CLIENT_ID", "Generation", "login_request", "refresh_request"]

#: The client id PortSIP's own web client uses on the v22.0/22.1 token endpoint ([AUTH]).
OAUTH_CLIENT_ID = "9d806019-75b2-4b3d-bb8b-f5a3a412cc0a"


class Generation(Enum):
    """A login endpoint; ``value`` is its path under the base URL (which ends in ``/api``)."""

    SIGN_IN = "auth/sign_in"
    OAUTH = "login/oauth/token"
    LOGIN = "login"

    @property
    def key(self) -> str:
        """The short name settings and the CLI use: ``sign_in``, ``oauth``, ``login``."""
        return self.name.lower()

    @property
    def label(self) -> str:
        """``POST /auth/sign_in (PortSIP v22.2+)``: for log lines and ``ivrhooks doctor``."""
        return f"POST /{self.value} ({_ERAS[self]})"

    @property
    def refreshes(self) -> bool:
        """Whether this generation has a refresh endpoint (``POST /login`` has none)."""
        return self is not Generation.LOGIN

    @classmethod
    def parse(cls, value: Generation | str) -> Generation:
        """A generation from itself, its key (``oauth``) or its path (``login/oauth/token``)."""
        if isinstance(value, Generation):
            return value
        for generation in cls:
            if value in (generation.key, generation.value, "/" + generation.value):
                return generation
        keys = ", ".join(g.key for g in cls)
        raise InvalidArgumentError(f"login generation: {value!r} is not one of {keys}")


_ERAS = {
    Generation.SIGN_IN: "PortSIP v22.2+",
    Generation.OAUTH: "PortSIP v22.0/22.1",
    Generation.LOGIN: "the OpenAPI documents' login",
}

#: The order the client tries them in.
GENERATIONS: tuple[Generation, ...] = (Generation.SIGN_IN, Generation.OAUTH, Generation.LOGIN)


def login_request(
    generation: Generation, username: str, password: str, domain: str | None
) -> dict[str, Any]:
    """The keyword arguments (``json=`` or ``data=``) of a login request of ``generation``."""
    if generation is Generation.OAUTH:
        form = {
            "grant_type": "password",
            "username": username,
            "password": password,
            "scope": "all",
            "client_id": OAUTH_CLIENT_ID,
        }
        if domain:
            form["domain"] = domain
        return {"data": form}
    body = {"username": username, "password": password}
    if domain:
        body["domain"] = domain  # left out, never sent empty: the schema's minLength is 1
    return {"json": body}


def refresh_request(generation: Generation, refresh_token: str) -> tuple[str, dict[str, Any]]:
    """``(path, keyword arguments)`` of a refresh request; not for :attr:`Generation.LOGIN`."""
    if generation is Generation.OAUTH:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": OAUTH_CLIENT_ID,
        }
        return Generation.OAUTH.value, {"data": form}
    if generation is Generation.SIGN_IN:
        return "auth/refresh_token", {"json": {"refresh_token": refresh_token}}
    raise ValueError(f"{generation.label} has no refresh endpoint")
