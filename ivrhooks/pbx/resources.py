"""The three resource groups of the Virtual Receptionist REST API.

Writes are validated with ``ivrhooks.models`` before anything is sent, so a bad field raises
:class:`~ivrhooks.errors.InvalidArgumentError` naming it and the PBX never sees the request.
A 2xx body that does not read as the schema says raises
:class:`~ivrhooks.errors.PBXResponseError`. Lists page transparently (``skip``/``top``,
``top`` <= 100 per PortSIP REST "About"), and not forever: paging stops with a
:class:`~ivrhooks.errors.PBXResponseError` when a page brings no item not seen before (a PBX
that ignores ``skip``) or the list passes ``max_items`` (a PBX claiming a billion).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from ivrhooks.core.types import Method
from ivrhooks.errors import InvalidArgumentError, PBXResponseError
from ivrhooks.pbx.limits import MAX_LIST_ITEMS
from ivrhooks.pbx.retry import Retry
from ivrhooks.pbx.untrusted import pbx_text
from ivrhooks.schema.models import (
    ActionUrl,
    ActionUrlCreate,
    ActionUrlList,
    ActionUrlUpdate,
    Created,
    Ivr,
    IvrCreate,
    IvrServer,
    IvrServerCreate,
    IvrServerStatus,
    IvrServerUpdate,
    IvrStatus,
    IvrSummary,
    IvrUpdate,
    ListQuery,
    Page,
    to_wire,
)
from ivrhooks.schema.wire import describe_validation_error

__all__ = ["ActionUrls", "IvrServers", "Ivrs", "Requester", "read_model"]


class Requester(Protocol):
    """What a resource group needs of the client: its one request chokepoint."""

    async def request(
        self,
        method: Method,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        retry: Retry = "all",
    ) -> httpx.Response: ...


M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


def _seg(resource_id: str) -> str:
    # Ids are opaque (REST "About"): never parsed, but always escaped into the path.
    if not isinstance(resource_id, str) or not resource_id:
        raise InvalidArgumentError(f"id: must be a non-empty string, got {resource_id!r}")
    return quote(resource_id, safe="")


def _checked(model: type[M], fields: Any) -> M:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        # pydantic's error stays the cause; the message names every bad field.
        raise InvalidArgumentError(f"{model.__name__}: {describe_validation_error(exc)}") from exc


def _body(model: type[M], data: BaseModel | None, fields: dict[str, Any]) -> dict[str, Any]:
    if data is not None and fields:
        raise TypeError("pass either a model instance or keyword fields, not both")
    if data is None:
        data = _checked(model, fields)
    elif not isinstance(data, BaseModel):
        raise TypeError(f"expected {model.__name__} or keyword fields, got {type(data).__name__}")
    elif not isinstance(data, model):
        # A sibling write model (e.g. an ActionUrlCreate passed to update): same fields,
        # checked against this endpoint's model.
        data = _checked(model, to_wire(data))
    return to_wire(data)


def read_model(model: type[R], response: httpx.Response, method: str, path: str) -> R:
    """The body as ``model``; anything unreadable is a :class:`PBXResponseError`."""
    try:
        return model.model_validate(response.json())
    except ValueError as exc:  # pydantic's ValidationError and a body that is not JSON
        detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else "not JSON"
        raise PBXResponseError(
            f"{method} {path}: the PBX answered {response.status_code} with a body ivrhooks "
            f"cannot read as {model.__name__}: {pbx_text(detail)}",  # names may be the PBX's
            method=method,
            path=path,
        ) from exc


class _Group:
    def __init__(self, client: Requester, *, max_items: int = MAX_LIST_ITEMS) -> None:
        self._client = client
        self._max_items = max_items

    async def _get(self, path: str, model: type[R]) -> R:
        response = await self._client.request("GET", path)
        return read_model(model, response, "GET", path)

    async def _create(self, path: str, body: dict[str, Any]) -> str:
        # A create that may have reached the PBX is not repeated: it could make a duplicate.
        response = await self._client.request("POST", path, json=body, retry="connect")
        return read_model(Created, response, "POST", path).id

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> None:
        await self._client.request("POST", path, json=body)

    async def _pages(
        self,
        path: str,
        item: type[R],
        *,
        filter: str | None,
        search: str | None,
        orderby: str | None,
        page_size: int,
    ) -> AsyncIterator[R]:
        given = {"filter": filter, "search": search, "orderby": orderby, "top": page_size}
        # Unset parameters are left out, not sent empty ("filter=&search="): a real PBX may
        # read an empty filter as an invalid one.
        query = _checked(ListQuery, {k: v for k, v in given.items() if v is not None})
        params = to_wire(query)
        skip = 0
        seen: set[str] = set()
        while True:
            response = await self._client.request("GET", path, params={**params, "skip": skip})
            page = read_model(Page[item], response, "GET", path)  # type: ignore[valid-type]
            ids = {str(getattr(entry, "id", "")) for entry in page.items}
            if page.items and ids <= seen:
                raise PBXResponseError(
                    f"GET {path}: the page at skip={skip} brings no item not listed before "
                    f"(a PBX that ignores skip?); stopped paging after {skip} items",
                    method="GET",
                    path=path,
                )
            seen |= ids
            if skip + len(page.items) > self._max_items:
                claimed = "" if page.count is None else f" (the PBX says {page.count})"
                raise PBXResponseError(
                    f"GET {path}: the list goes past {self._max_items} items{claimed}; "
                    "ivrhooks pages no further (PBXClient(max_list_items=...))",
                    method="GET",
                    path=path,
                )
            for entry in page.items:
                yield entry
            skip += len(page.items)
            if not page.items or (page.count is not None and skip >= page.count):
                return
            if page.count is None and len(page.items) < page_size:
                return


class IvrServers(_Group):
    """``/ivr_servers``: IVR media servers (INTERNAL or EXTERNAL), not receptionists."""

    def list(
        self,
        *,
        filter: str | None = None,
        search: str | None = None,
        orderby: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[IvrServer]:
        return self._pages(
            "ivr_servers",
            IvrServer,
            filter=filter,
            search=search,
            orderby=orderby,
            page_size=page_size,
        )

    async def create(self, data: IvrServerCreate | None = None, /, **fields: Any) -> str:
        return await self._create("ivr_servers", _body(IvrServerCreate, data, fields))

    async def get(self, server_id: str) -> IvrServer:
        return await self._get(f"ivr_servers/{_seg(server_id)}", IvrServer)

    async def update(
        self, server_id: str, data: IvrServerUpdate | None = None, /, **fields: Any
    ) -> None:
        body = _body(IvrServerUpdate, data, fields)
        await self._post(f"ivr_servers/{_seg(server_id)}", body)

    async def status(self, server_id: str) -> IvrServerStatus:
        return await self._get(f"ivr_servers/{_seg(server_id)}/status", IvrServerStatus)

    async def destroy(self, server_id: str) -> None:
        await self._post(f"ivr_servers/{_seg(server_id)}/destroy")


class Ivrs(_Group):
    """``/ivrs``: virtual receptionists. Lists yield summaries; ``get`` the full object."""

    def list(
        self,
        *,
        filter: str | None = None,
        search: str | None = None,
        orderby: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[IvrSummary]:
        return self._pages(
            "ivrs",
            IvrSummary,
            filter=filter,
            search=search,
            orderby=orderby,
            page_size=page_size,
        )

    async def create(self, data: IvrCreate | None = None, /, **fields: Any) -> str:
        return await self._create("ivrs", _body(IvrCreate, data, fields))

    async def get(self, ivr_id: str) -> Ivr:
        return await self._get(f"ivrs/{_seg(ivr_id)}", Ivr)

    async def update(self, ivr_id: str, data: IvrUpdate | None = None, /, **fields: Any) -> None:
        await self._post(f"ivrs/{_seg(ivr_id)}", _body(IvrUpdate, data, fields))

    async def status(self, ivr_id: str) -> IvrStatus:
        return await self._get(f"ivrs/{_seg(ivr_id)}/status", IvrStatus)

    async def destroy(self, ivr_id: str) -> None:
        await self._post(f"ivrs/{_seg(ivr_id)}/destroy")


class ActionUrls(_Group):
    """``/ivrs/{id}/action_urls``: no list parameters, ``{"items": [...]}`` only."""

    async def list(self, ivr_id: str) -> list[ActionUrl]:
        return (await self._get(f"ivrs/{_seg(ivr_id)}/action_urls", ActionUrlList)).items

    async def create(
        self, ivr_id: str, data: ActionUrlCreate | None = None, /, **fields: Any
    ) -> str:
        body = _body(ActionUrlCreate, data, fields)
        return await self._create(f"ivrs/{_seg(ivr_id)}/action_urls", body)

    async def get(self, ivr_id: str, url_id: str) -> ActionUrl:
        return await self._get(f"ivrs/{_seg(ivr_id)}/action_urls/{_seg(url_id)}", ActionUrl)

    async def update(
        self,
        ivr_id: str,
        url_id: str,
        data: ActionUrlUpdate | ActionUrlCreate | None = None,
        /,
        **fields: Any,
    ) -> None:
        body = _body(ActionUrlUpdate, data, fields)
        await self._post(f"ivrs/{_seg(ivr_id)}/action_urls/{_seg(url_id)}", body)

    async def destroy(self, ivr_id: str, url_id: str) -> None:
        await self._post(f"ivrs/{_seg(ivr_id)}/action_urls/{_seg(url_id)}/destroy")
