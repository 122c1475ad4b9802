"""Apply plans: every create, update and delete, at most ``concurrency`` at a time.

Each write is independent, so one failure does not stop the others; the failures are raised
together afterwards (``ApplyError``), and the next reconcile plans again from what the PBX
then holds. A delete that finds its entry gone counts as done: another replica reducing the
same duplicates got there first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ivrhooks.errors import ApplyError, InvalidArgumentError, PBXError
from ivrhooks.pbx import PBXClient, PBXNotFoundError
from ivrhooks.registration.plan import Plan

__all__ = ["DEFAULT_CONCURRENCY", "Applied", "apply_plans"]

log = logging.getLogger("ivrhooks.registration")

#: Writes in flight at once: quick for hundreds of entries, far below the PBX's rate limit
#: (5,000-10,000 requests a minute, PortSIP REST "About") at its usual latency.
DEFAULT_CONCURRENCY = 8


@dataclass(frozen=True)
class Applied:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.deleted


async def apply_plans(
    pbx: PBXClient, plans: Sequence[Plan], *, concurrency: int = DEFAULT_CONCURRENCY
) -> Applied:
    """Make every write of ``plans``; raises ``ApplyError`` listing the ones that failed."""
    if concurrency < 1:
        raise InvalidArgumentError(f"concurrency: must be at least 1, not {concurrency}")
    limit = asyncio.Semaphore(concurrency)
    counts = {"create": 0, "update": 0, "delete": 0}
    failures: list[str] = []
    jobs: list[tuple[str, str, Callable[[], Awaitable[object]]]] = []
    for plan in plans:
        ivr = plan.ivr_id
        for d in plan.deletes:
            jobs.append(
                ("delete", f"{plan.receptionist} {d.name} ({d.id})", _destroy(pbx, ivr, d.id))
            )
        for u in plan.updates:
            job = _bind(pbx.action_urls.update, ivr, u.id, u.body)
            jobs.append(("update", f"{plan.receptionist} {u.name} ({u.id})", job))
        for c in plan.creates:
            jobs.append(
                ("create", f"{plan.receptionist} {c.name}", _bind(pbx.action_urls.create, ivr, c))
            )

    async def run(kind: str, what: str, job: Callable[[], Awaitable[object]]) -> None:
        async with limit:
            try:
                await job()
            except PBXError as exc:
                # PBXError messages carry method, path and the PBX's message: never a secret.
                failures.append(f"{kind} {what}: {exc}")
                return
        counts[kind] += 1
        log.info("action URL %sd: receptionist %s", kind, what)

    await asyncio.gather(*(run(kind, what, job) for kind, what, job in jobs))
    if failures:
        raise ApplyError(failures, len(jobs))
    return Applied(counts["create"], counts["update"], counts["delete"])


def _bind(
    method: Callable[..., Awaitable[object]], *args: object
) -> Callable[[], Awaitable[object]]:
    return lambda: method(*args)


def _destroy(pbx: PBXClient, ivr_id: str, url_id: str) -> Callable[[], Awaitable[object]]:
    async def destroy() -> None:
        try:
            await pbx.action_urls.destroy(ivr_id, url_id)
        except PBXNotFoundError:
            log.info("action URL %s was already gone", url_id)

    return destroy
