"""``api_error``: what a 4xx/5xx answer of the PBX becomes, an exception of
:mod:`ivrhooks.errors` carrying the status, the ``errors[]`` code, message and detail
(PortSIP REST "About": ``{"errors": [{"code", "message", "detail"}]}``).

The message and detail are the PBX's words, so they are made safe before they enter the
exception (:func:`~ivrhooks.pbx.untrusted.pbx_text`): a PBX or proxy that echoes the request's
``Authorization`` header in an error would otherwise put the token into ``ivrhooks doctor``'s
output, the registration log line and ``/readyz``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from ivrhooks.errors import (
    PBXAPIError,
    PBXNotFoundError,
    PBXUnauthorizedError,
    PBXValidationError,
)
from ivrhooks.pbx.untrusted import pbx_text

__all__ = ["api_error"]


def api_error(
    response: httpx.Response, method: str, path: str, secrets: Iterable[str | None] = ()
) -> PBXAPIError:
    """The error of a 4xx/5xx ``response``; ``secrets`` are redacted from the PBX's words.

    A non-string ``detail`` is kept as compact JSON text: made safe like the message."""
    code, message, detail = "UNKNOWN", response.reason_phrase or "", None
    try:
        body = response.json()
        first = body["errors"][0]
        code = str(first.get("code") or "UNKNOWN")
        message = str(first.get("message") or message)
        detail = first.get("detail")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        pass
    if detail is not None and not isinstance(detail, str):
        detail = json.dumps(detail, ensure_ascii=False, default=str)
    kwargs: dict[str, Any] = dict(
        status=response.status_code,
        code=code,
        message=pbx_text(message, secrets=secrets),
        detail=None if detail is None else pbx_text(detail, secrets=secrets),
        method=method,
        path=path,
    )
    if response.status_code == 401:
        return PBXUnauthorizedError(**kwargs)
    if response.status_code == 404:
        return PBXNotFoundError(**kwargs)
    if code == "VALIDATE_FAILED":
        return PBXValidationError(**kwargs)
    return PBXAPIError(**kwargs)
