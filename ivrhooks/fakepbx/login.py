"""The fake PBX's token endpoints, both generations (PortSIP REST §4).

- v22.2+: ``POST /api/auth/sign_in`` (JSON) and ``POST /api/auth/refresh_token``.
- v22.0/22.1: ``POST /api/login/oauth/token`` (form; ``grant_type`` password or refresh_token).

With ``sign_in_supported=False`` the first pair answers 404, as an older PBX does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ivrhooks.pbx.tokens import OAUTH_CLIENT_ID

if TYPE_CHECKING:
    from ivrhooks.fakepbx.state import PBXState

__all__ = ["token_routes"]


def _err(status: int, code: str, message: str) -> JSONResponse:
    body = {"errors": [{"code": code, "message": message, "detail": None}]}
    return JSONResponse(body, status_code=status)


def _refused() -> JSONResponse:
    return _err(401, "UNAUTHORIZED", "username or password is incorrect")


def token_routes(pbx: PBXState) -> list[Route]:
    tokens = pbx.tokens

    def login(username: Any, password: Any) -> Response:
        if not tokens.login_ok(username, password):
            return _refused()
        tokens.logins += 1
        return JSONResponse(tokens.issue())

    async def sign_in(request: Request) -> Response:
        if not pbx.sign_in_supported:
            return _err(404, "UNKNOWN", "not found")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _err(400, "VALIDATE_FAILED", "body: not valid JSON")
        if not isinstance(body, dict):
            return _err(400, "VALIDATE_FAILED", "body: must be a JSON object")
        return login(body.get("username"), body.get("password"))

    async def refresh_token(request: Request) -> Response:
        if not pbx.sign_in_supported:
            return _err(404, "UNKNOWN", "not found")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _err(400, "VALIDATE_FAILED", "body: not valid JSON")
        issued = tokens.refresh(body.get("refresh_token") if isinstance(body, dict) else None)
        if issued is None:
            return _err(401, "UNAUTHORIZED", "refresh_token: unknown or already used")
        return JSONResponse(issued)

    async def oauth_token(request: Request) -> Response:
        # PortSIP sends application/x-www-form-urlencoded; parse it without python-multipart.
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
        if form.get("client_id") != OAUTH_CLIENT_ID:
            return _err(400, "VALIDATE_FAILED", "client_id: unknown client")
        grant = form.get("grant_type")
        if grant == "password":
            if form.get("scope") != "all":
                return _err(400, "VALIDATE_FAILED", "scope: must be 'all'")
            return login(form.get("username"), form.get("password"))
        if grant == "refresh_token":
            issued = tokens.refresh(form.get("refresh_token"))
            if issued is None:
                return _err(401, "UNAUTHORIZED", "refresh_token: unknown or already used")
            return JSONResponse(issued)
        return _err(400, "VALIDATE_FAILED", "grant_type: must be password or refresh_token")

    return [
        Route("/api/auth/sign_in", sign_in, methods=["POST"]),
        Route("/api/auth/refresh_token", refresh_token, methods=["POST"]),
        Route("/api/login/oauth/token", oauth_token, methods=["POST"]),
    ]
