"""The fake PBX's HTTP surface: the 17 seed endpoints, ``GET``/``POST /tenant`` (the event URLs,
:mod:`.webhooks.tenant`) and the token endpoints, under ``/api``.

Statuses follow PortSIP REST "About": create 201 ``{"id"}``, update 200 with no body,
destroy 204, errors ``{"errors": [{code, message, detail}]}``. Faults (latency, forced
failures) apply to the 17 resource endpoints only, never to the token endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ivrhooks.fakepbx.calls import call_routes
from ivrhooks.fakepbx.login import token_routes
from ivrhooks.fakepbx.query import QueryError, apply_query
from ivrhooks.fakepbx.rates import RecordRequests
from ivrhooks.fakepbx.resources import APIError
from ivrhooks.fakepbx.state import Counters, Faults, PBXState
from ivrhooks.fakepbx.stats import stats_routes
from ivrhooks.fakepbx.store import Row
from ivrhooks.fakepbx.webhooks.tenant import get_tenant, update_tenant
from ivrhooks.schema.wire import INT32_MAX

__all__ = ["Counters", "Faults", "build_app"]

Write = Literal["read", "create", "update", "destroy"]
Handler = Callable[["PBXState", Request], Awaitable[Response]]


def _error(exc: APIError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status)


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise APIError(400, "VALIDATE_FAILED", "body: not valid JSON") from None


def _api(kind: Write, handler: Handler, pbx: PBXState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        faults = pbx.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if faults.fail_count > 0:
            faults.fail_count -= 1
            faults.failed += 1
            headers = {"Retry-After": faults.retry_after} if faults.retry_after else None
            body = {"errors": [{"code": "UNKNOWN", "message": "injected failure", "detail": None}]}
            return JSONResponse(body, status_code=faults.fail_status, headers=headers)
        if not pbx.tokens.check(request.headers.get("authorization")):
            err = APIError(401, "UNAUTHORIZED", "Authorization: missing, expired or invalid token")
            return _error(err)
        pbx.counters.calls += 1
        if kind != "read":
            setattr(pbx.counters, kind + "s", getattr(pbx.counters, kind + "s") + 1)
        try:
            return await handler(pbx, request)
        except APIError as exc:
            return _error(exc)
        except QueryError as exc:
            return _error(APIError(400, "VALIDATE_FAILED", str(exc), {"field": exc.field}))

    return endpoint


def _int32(text: str, name: str, low: int, high: int) -> int:
    # OpenAPI list parameters: integer, format int32, skip >= 0 (0-based), top 1..100.
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise APIError(400, "VALIDATE_FAILED", f"{name}: must be an integer from {low} to {high}")
    return int(text)


def _page(request: Request, rows: list[Row], search_fields: tuple[str, ...]) -> JSONResponse:
    q = request.query_params
    skip = _int32(q.get("skip", "0"), "skip", 0, INT32_MAX)
    top = _int32(q.get("top", "100"), "top", 1, 100)
    found = apply_query(
        rows,
        filter=q.get("filter"),
        search=q.get("search"),
        orderby=q.get("orderby"),
        search_fields=search_fields,
    )
    return JSONResponse({"count": len(found), "items": found[skip : skip + top]})


def _created(rid: str) -> JSONResponse:
    return JSONResponse({"id": rid}, status_code=201)


def _p(request: Request, name: str = "id") -> str:
    return str(request.path_params[name])


async def list_servers(pbx: PBXState, r: Request) -> Response:
    return _page(r, list(pbx.store.ivr_servers.values()), ("name",))


async def create_server(pbx: PBXState, r: Request) -> Response:
    return _created(pbx.resources.create_server(await _json(r)))


async def get_server(pbx: PBXState, r: Request) -> Response:
    return JSONResponse(pbx.resources.server(_p(r)))


async def update_server(pbx: PBXState, r: Request) -> Response:
    pbx.resources.update_server(_p(r), await _json(r))
    return Response(status_code=200)


async def server_status(pbx: PBXState, r: Request) -> Response:
    row = pbx.resources.server(_p(r))
    status = "ONLINE" if row.get("enabled", True) else "OFFLINE"
    return JSONResponse({"cpu_usage": 3, "memory_usage": 21, "status": status})


async def destroy_server(pbx: PBXState, r: Request) -> Response:
    pbx.resources.destroy_server(_p(r))
    return Response(status_code=204)


async def list_ivrs(pbx: PBXState, r: Request) -> Response:
    rows = [
        {"id": i["id"], "name": i["name"], "extension_number": i["extension_number"]}
        for i in pbx.store.ivrs.values()
    ]
    return _page(r, rows, ("name", "extension_number"))


async def create_ivr(pbx: PBXState, r: Request) -> Response:
    return _created(pbx.resources.create_ivr(await _json(r)))


async def get_ivr(pbx: PBXState, r: Request) -> Response:
    return JSONResponse(pbx.resources.render_ivr(pbx.resources.ivr(_p(r))))


async def update_ivr(pbx: PBXState, r: Request) -> Response:
    pbx.resources.update_ivr(_p(r), await _json(r))
    return Response(status_code=200)


async def ivr_status(pbx: PBXState, r: Request) -> Response:
    pbx.resources.ivr(_p(r))
    return JSONResponse({"status": "ONLINE"})


async def destroy_ivr(pbx: PBXState, r: Request) -> Response:
    pbx.resources.destroy_ivr(_p(r))
    return Response(status_code=204)


async def list_urls(pbx: PBXState, r: Request) -> Response:
    pbx.resources.ivr(_p(r))
    return JSONResponse({"items": list(pbx.store.action_urls.get(_p(r), {}).values())})


async def create_url(pbx: PBXState, r: Request) -> Response:
    return _created(pbx.resources.create_action_url(_p(r), await _json(r)))


async def get_url(pbx: PBXState, r: Request) -> Response:
    return JSONResponse(pbx.resources.action_url(_p(r), _p(r, "url_id")))


async def update_url(pbx: PBXState, r: Request) -> Response:
    pbx.resources.update_action_url(_p(r), _p(r, "url_id"), await _json(r))
    return Response(status_code=200)


async def destroy_url(pbx: PBXState, r: Request) -> Response:
    pbx.resources.destroy_action_url(_p(r), _p(r, "url_id"))
    return Response(status_code=204)


#: (path, HTTP method, kind, handler): the 17 endpoints of the seed, in its order.
ENDPOINTS: list[tuple[str, str, Write, Handler]] = [
    ("/ivr_servers", "GET", "read", list_servers),
    ("/ivr_servers", "POST", "create", create_server),
    ("/ivr_servers/{id}", "GET", "read", get_server),
    ("/ivr_servers/{id}", "POST", "update", update_server),
    ("/ivr_servers/{id}/status", "GET", "read", server_status),
    ("/ivr_servers/{id}/destroy", "POST", "destroy", destroy_server),
    ("/ivrs", "GET", "read", list_ivrs),
    ("/ivrs", "POST", "create", create_ivr),
    ("/ivrs/{id}", "GET", "read", get_ivr),
    ("/ivrs/{id}", "POST", "update", update_ivr),
    ("/ivrs/{id}/status", "GET", "read", ivr_status),
    ("/ivrs/{id}/destroy", "POST", "destroy", destroy_ivr),
    ("/ivrs/{id}/action_urls", "GET", "read", list_urls),
    ("/ivrs/{id}/action_urls", "POST", "create", create_url),
    ("/ivrs/{id}/action_urls/{url_id}", "GET", "read", get_url),
    ("/ivrs/{id}/action_urls/{url_id}", "POST", "update", update_url),
    ("/ivrs/{id}/action_urls/{url_id}/destroy", "POST", "destroy", destroy_url),
]


#: The tenant's endpoints (PortSIP OpenAPI ``/tenant``): the event URLs live there.
TENANT_ENDPOINTS: list[tuple[str, str, Write, Handler]] = [
    ("/tenant", "GET", "read", get_tenant),
    ("/tenant", "POST", "update", update_tenant),
]


def build_app(pbx: PBXState) -> Starlette:
    routes = [
        Route("/api" + path, _api(kind, handler, pbx), methods=[method])
        for path, method, kind, handler in [*ENDPOINTS, *TENANT_ENDPOINTS]
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await pbx.stop_events()  # events still queued would outlive the server's loop

    app = Starlette(
        routes=[*token_routes(pbx), *call_routes(pbx), *stats_routes(pbx), *routes],
        lifespan=lifespan,
    )
    app.add_middleware(RecordRequests, rate=pbx.requests)
    return app
