"""The fake PBX's token endpoints, all three generations (PortSIP REST §4), and the account.

- ``sign_in``: ``POST /api/auth/sign_in`` (JSON) and ``POST /api/auth/refresh_token``, plus
  ``GET /api/auth/user`` (role, capabilities): the ``/auth/*`` family of v22.2+.
- ``oauth``: ``POST /api/login/oauth/token`` (form; ``grant_type`` password or refresh_token).
- ``login``: ``POST /api/login`` (JSON), answered with the shape ``GET /login`` documents
  (``access_token``, ``expires_at``, ``expires_in``, ``role``; no refresh token), and
  ``GET /api/login``, the status of the current token.

A generation left out of ``FakePBX(login_generations=...)`` answers 404 on all of its paths, as
a PBX without it does. JSON bodies are checked strictly against the published schema.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ivrhooks.pbx.generations import OAUTH_CLIENT_ID, Generation
from ivrhooks.schema.models import LoginBody
from ivrhooks.schema.wire import describe_validation_error

if TYPE_CHECKING:
    from ivrhooks.fakepbx.state import PBXState

__all__ = ["OAUTH_PATH", "token_routes"]

#: The v22.0/22.1 token endpoint, the one that takes a form rather than JSON.
OAUTH_PATH = "/api/login/oauth/token"


def _err(status: int, code: str, message: str) -> JSONResponse:
    body = {"errors": [{"code": code, "message": message, "detail": None}]}
    return JSONResponse(body, status_code=status)


def _refused() -> JSONResponse:
    return _err(401, "UNAUTHORIZED", "username or password is incorrect")


def _absent() -> JSONResponse:
    return _err(404, "UNKNOWN", "not found")


def _rfc3339(seconds_from_now: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds_from_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _object(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _err(400, "VALIDATE_FAILED", "body: not valid JSON")
    if not isinstance(body, dict):
        return _err(400, "VALIDATE_FAILED", "body: must be a JSON object")
    return body


def token_routes(pbx: PBXState) -> list[Route]:
    tokens = pbx.tokens

    def serves(generation: Generation) -> bool:
        return generation in pbx.login_generations

    def login(username: Any, password: Any, *, refreshable: bool = True) -> dict[str, Any] | None:
        if not tokens.login_ok(username, password):
            return None
        tokens.logins += 1
        return tokens.issue(refreshable=refreshable)

    async def login_body(request: Request) -> dict[str, Any] | JSONResponse:
        body = await _object(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            # Strict, as the published schema types it: username 1..64, domain 1..280.
            LoginBody.model_validate_json(json.dumps(body), strict=True)
        except ValidationError as exc:
            return _err(422, "VALIDATE_FAILED", describe_validation_error(exc))
        return body

    async def sign_in(request: Request) -> Response:
        if not serves(Generation.SIGN_IN):
            return _absent()
        body = await login_body(request)
        if isinstance(body, JSONResponse):
            return body
        issued = login(body["username"], body["password"])
        return _refused() if issued is None else JSONResponse(issued)

    async def refresh_token(request: Request) -> Response:
        if not serves(Generation.SIGN_IN):
            return _absent()
        body = await _object(request)
        if isinstance(body, JSONResponse):
            return body
        issued = tokens.refresh(body.get("refresh_token"))
        if issued is None:
            return _err(401, "UNAUTHORIZED", "refresh_token: unknown or already used")
        return JSONResponse(issued)

    async def auth_user(request: Request) -> Response:
        if not serves(Generation.SIGN_IN):
            return _absent()
        if not tokens.check(request.headers.get("authorization")):
            return _err(401, "UNAUTHORIZED", "Authorization: missing, expired or invalid token")
        user: dict[str, Any] = {
            "username": tokens.username,
            "role": pbx.role,
            "password_force_reset": False,
        }
        if pbx.capabilities is not None:
            user["capabilities"] = list(pbx.capabilities)
        return JSONResponse(user)

    async def oauth_token(request: Request) -> Response:
        if not serves(Generation.OAUTH):
            return _absent()
        # PortSIP sends application/x-www-form-urlencoded; parse it without python-multipart.
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
        if form.get("client_id") != OAUTH_CLIENT_ID:
            return _err(400, "VALIDATE_FAILED", "client_id: unknown client")
        grant = form.get("grant_type")
        if grant == "password":
            if form.get("scope") != "all":
                return _err(400, "VALIDATE_FAILED", "scope: must be 'all'")
            issued = login(form.get("username"), form.get("password"))
            return _refused() if issued is None else JSONResponse(issued)
        if grant == "refresh_token":
            issued = tokens.refresh(form.get("refresh_token"))
            if issued is None:
                return _err(401, "UNAUTHORIZED", "refresh_token: unknown or already used")
            return JSONResponse(issued)
        return _err(400, "VALIDATE_FAILED", "grant_type: must be password or refresh_token")

    async def post_login(request: Request) -> Response:
        if not serves(Generation.LOGIN):
            return _absent()
        body = await login_body(request)
        if isinstance(body, JSONResponse):
            return body
        issued = login(body["username"], body["password"], refreshable=False)
        if issued is None:
            return _refused()
        if "access_token" in issued:
            # The reply shape GET /login documents (POST /login's own is not documented).
            issued = {
                "access_token": issued["access_token"],
                "expires_at": _rfc3339(issued["expires_in"]),
                "expires_in": issued["expires_in"],
                "role": pbx.role,
            }
        return JSONResponse(issued)

    async def login_status(request: Request) -> Response:
        if not serves(Generation.LOGIN):
            return _absent()
        token = tokens.bearer(request.headers.get("authorization"))
        left = None if token is None else tokens.seconds_left(token)
        if token is None or left is None:
            return _err(401, "UNAUTHORIZED", "Authorization: missing, expired or invalid token")
        return JSONResponse(
            {
                "access_token": token,
                "expires_at": _rfc3339(left),
                "expires_in": max(0, round(left)),
                "role": pbx.role,
            }
        )

    return [
        Route("/api/auth/sign_in", sign_in, methods=["POST"]),
        Route("/api/auth/refresh_token", refresh_token, methods=["POST"]),
        Route("/api/auth/user", auth_user, methods=["GET"]),
        Route(OAUTH_PATH, oauth_token, methods=["POST"]),
        Route("/api/login", post_login, methods=["POST"]),
        Route("/api/login", login_status, methods=["GET"]),
    ]
