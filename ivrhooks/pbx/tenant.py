"""``/tenant``: the current tenant's settings, of which ivrhooks reads and writes only the two
event URLs (``cdr_event``, ``extension_event``).

``POST /tenant`` is sent with only the fields given: whether the PBX merges them into the tenant
or replaces the tenant with them is not documented (:mod:`ivrhooks.schema.tenant`), so nothing
but the event objects is ever sent, and the caller reads the tenant back to see what took.
"""

from __future__ import annotations

from typing import Any

from ivrhooks.pbx.resources import Requester, _body, read_model
from ivrhooks.schema.tenant import Tenant, TenantUpdate

__all__ = ["TenantSettings"]


class TenantSettings:
    """``GET /tenant`` and ``POST /tenant``."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def get(self) -> Tenant:
        """The tenant, its event URLs read as :class:`~ivrhooks.schema.tenant.EventUrl`."""
        response = await self._client.request("GET", "tenant")
        return read_model(Tenant, response, "GET", "tenant")

    async def update(self, data: TenantUpdate | None = None, /, **fields: Any) -> None:
        """``POST /tenant`` with ``data`` or the keyword ``fields`` (checked against the
        published rules first: a bad field raises :class:`~ivrhooks.errors.InvalidArgumentError`
        and nothing is sent). A write of the same values is harmless, so it may be retried."""
        await self._client.request("POST", "tenant", json=_body(TenantUpdate, data, fields))
