"""Find each receptionist's id from its extension number.

PortSIP REST "About": lists take an OData-like ``filter``. We ask for up to 20 extension
numbers per request (``extension_number eq '8000' or ...``) and fall back to paging through
all of ``/ivrs`` when the PBX refuses the filter, or answers with receptionists we did not
ask for (a build that ignores it), or leaves some out. Extension numbers are digits only
(validated at startup), so they need no escaping in the filter.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import TypeVar, cast

from ivrhooks.errors import PBXAPIError, PBXUnauthorizedError, UnknownReceptionistError
from ivrhooks.pbx import PBXClient

__all__ = ["FILTER_BATCH", "resolve_receptionists"]

log = logging.getLogger("ivrhooks.registration")

FILTER_BATCH = 20

T = TypeVar("T")


def _closing(items: AsyncIterator[T]) -> contextlib.aclosing[AsyncGenerator[T, None]]:
    # Leaving a page loop early must close the generator now, not at garbage collection.
    return contextlib.aclosing(cast(AsyncGenerator[T, None], items))


async def resolve_receptionists(pbx: PBXClient, extensions: Sequence[str]) -> dict[str, str]:
    """``{extension_number: ivr id}``; raises ``UnknownReceptionistError`` naming the missing."""
    wanted = list(dict.fromkeys(extensions))
    found: dict[str, str] = {}
    filtered = True
    for start in range(0, len(wanted), FILTER_BATCH):
        batch = wanted[start : start + FILTER_BATCH]
        query = " or ".join(f"extension_number eq '{ext}'" for ext in batch)
        try:
            async with _closing(pbx.ivrs.list(filter=query)) as ivrs:
                async for ivr in ivrs:
                    if ivr.extension_number not in batch:
                        filtered = False  # the filter was ignored: do not page everything
                        break
                    found.setdefault(ivr.extension_number, ivr.id)
        except PBXUnauthorizedError:
            raise
        except PBXAPIError as exc:
            if exc.status >= 500:
                raise
            filtered = False
            log.info("the PBX refused an extension_number filter (%s); paging /ivrs", exc.code)
        if not filtered:
            break
    missing = {ext for ext in wanted if ext not in found}
    if missing:
        async with _closing(pbx.ivrs.list()) as ivrs:
            async for ivr in ivrs:
                if ivr.extension_number in missing:
                    found.setdefault(ivr.extension_number, ivr.id)
                    missing.discard(ivr.extension_number)
                    if not missing:
                        break
    if missing:
        raise UnknownReceptionistError([ext for ext in wanted if ext in missing])
    return {ext: found[ext] for ext in wanted}
