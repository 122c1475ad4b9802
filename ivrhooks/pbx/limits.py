"""What one PBX answer may cost: bytes read, and time from the first byte out to the last in.

A PBX, or whatever answers at its address, is not trusted to be small or quick. Without caps a
48 MiB login answer became a 48 MiB Bearer header and ~470 MiB of memory in ``ivrhooks doctor``,
and an answer dripping one byte a second never ended: httpx's ``timeout`` bounds each read, not
the exchange. So:

- **Bodies are read through a cap** (:func:`cap_body`, an httpx response hook): a token
  endpoint's answer may be :data:`MAX_TOKEN_BODY` bytes, any other :data:`MAX_BODY`; past that
  the read stops and :class:`~ivrhooks.errors.PBXResponseError` names the cap. The hook wraps
  every response's stream, so the auth flow's reads of a 401 are capped too.
- **Answers are not compressed.** The client asks for ``Accept-Encoding: identity`` and refuses
  any other ``Content-Encoding``: a few KiB of gzip unpack to megabytes, past any cap on the
  bytes that arrived.
- **A try has a deadline** (``PBXClient(deadline=...)``), counted from when the request goes
  on the wire (after its rate-budget slot), so a drip is cut however often it sends a byte.

Lists are bounded where they are paged (:mod:`ivrhooks.pbx.resources`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar

import httpx

from ivrhooks.errors import InvalidArgumentError, PBXConnectionError, PBXResponseError

__all__ = [
    "BODY_LIMIT",
    "DEADLINE",
    "MAX_BODY",
    "MAX_LIST_ITEMS",
    "MAX_TOKEN_BODY",
    "arm_deadline",
    "cap_body",
    "check_positive",
    "size_text",
    "within_deadline",
]

#: Bytes of a token endpoint's answer: tokens, a lifetime, a role. A few KiB in practice.
MAX_TOKEN_BODY = 16 * 1024
#: Bytes of any other answer: a page of 100 action URLs is ~100 KiB.
MAX_BODY = 4 * 1024 * 1024
#: Items one list may page through (the embedded fake PBX holds 10,000 action URLs).
MAX_LIST_ITEMS = 100_000
#: Seconds one try may take on the wire, whatever the per-read ``timeout``.
DEADLINE = 30.0

#: The request extension carrying ``(byte cap of its answer, the argument that sets it)``;
#: httpx passes extensions along with the request, to its resend after a 401 too.
BODY_LIMIT = "ivrhooks.body_limit"


def check_positive(**limits: float) -> None:
    """Each of ``PBXClient``'s limits must be above zero; the error names the argument."""
    for name, value in limits.items():
        if isinstance(value, bool) or not value > 0:
            raise InvalidArgumentError(f"PBXClient({name}=...): must be positive, not {value!r}")


def size_text(size: int) -> str:
    """``16 KiB``, ``4 MiB``: a cap as a person reads it."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


class _CappedStream(httpx.AsyncByteStream):
    """The response's byte stream, raising once more than ``limit`` bytes came through."""

    def __init__(
        self, inner: httpx.AsyncByteStream, limit: int, fail: Callable[[], PBXResponseError]
    ) -> None:
        self._inner = inner
        self._limit = limit
        self._fail = fail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise self._fail()
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def _what(request: httpx.Request, base_path: str) -> tuple[str, str]:
    path = request.url.path
    if path.startswith(base_path + "/"):
        path = path[len(base_path) + 1 :]
    return request.method, path


def cap_body(response: httpx.Response, *, base_path: str) -> None:
    """Check the head of ``response`` and cap the bytes its body may bring (see the module);
    ``base_path`` is left out of the path in messages."""
    request = response.request
    cap = request.extensions.get(BODY_LIMIT)
    if cap is None:
        return
    limit, setting = cap
    method, path = _what(request, base_path)
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise PBXResponseError(
            f"{method} {path}: the PBX answered with Content-Encoding {encoding[:20]!r} though "
            "ivrhooks asked for none (a compressed answer could unpack past any size cap)",
            method=method,
            path=path,
        )

    def fail() -> PBXResponseError:
        return PBXResponseError(
            f"{method} {path}: the PBX's answer is larger than the {size_text(limit)} ivrhooks "
            f"reads ({setting}); stopped reading",
            method=method,
            path=path,
        )

    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise fail()
    assert isinstance(response.stream, httpx.AsyncByteStream)  # an AsyncClient's response
    response.stream = _CappedStream(response.stream, limit, fail)


# The deadline of the try under way in this task: set by within_deadline, armed by the client's
# request hook when the request goes on the wire. A login inside the auth flow is a call of its
# own, with its own deadline while it runs.
_TRY: ContextVar[asyncio.Timeout | None] = ContextVar("ivrhooks_pbx_try", default=None)


def arm_deadline(deadline: float) -> None:
    """Start (or restart, for the auth flow's resend) the current try's deadline: from now."""
    timer = _TRY.get()
    if timer is not None:
        timer.reschedule(asyncio.get_running_loop().time() + deadline)


async def within_deadline(
    send: Callable[[], Awaitable[httpx.Response]], deadline: float, method: str, path: str
) -> httpx.Response:
    """``send()`` (one try, its body read), cut ``deadline`` seconds after it went on the wire
    (:func:`arm_deadline`); a try cut short is a :class:`PBXConnectionError` naming the limit."""
    timer = asyncio.timeout(None)
    token = _TRY.set(timer)
    try:
        async with timer:
            return await send()
    except TimeoutError:
        if not timer.expired():
            raise
        # Not retried: a PBX this slow would only be waited for again.
        raise PBXConnectionError(
            f"{method} {path}: no complete answer within the {deadline:g} s deadline "
            "(PBXClient(deadline=...))",
            method=method,
            path=path,
            reached=True,
        ) from None
    finally:
        _TRY.reset(token)
