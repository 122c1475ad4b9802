"""What the registration service tells readiness, metrics and the log about where it stands.

``/readyz`` answers 503 with the reason until the PBX holds this app's action URLs: from the
registrar after its first successful pass, from a follower once the registrar recorded the
registration it serves as in place (:mod:`.registrar`). A superseded generation says so and
stays unready. The service's loop (:mod:`.service`) decides when; this module says what.
"""

from __future__ import annotations

import gc
import logging

from ivrhooks.errors import StoreError
from ivrhooks.pbx.client import PBXClient
from ivrhooks.registration.job import RegistrationJob
from ivrhooks.registration.reconcile import Report
from ivrhooks.registration.registrar import Registrar
from ivrhooks.runtime import Runtime

__all__ = ["announce", "not_registering", "synced"]

log = logging.getLogger("ivrhooks.registration")


def announce(runtime: Runtime, registrar: Registrar, announced: int | None) -> int | None:
    """Log this replica's generation once (and again if it changes: a fresh Redis); answers
    the generation now announced, for the next call."""
    if registrar.number is None or registrar.number == announced:
        return announced
    runtime.metrics.generation(registrar.number)
    if registrar.shared:
        log.info(
            "registration generation %d (newest running: %d)",
            registrar.number,
            registrar.newest or registrar.number,
        )
    return registrar.number


async def not_registering(runtime: Runtime, registrar: Registrar, role: str) -> None:
    """Readiness of a replica that does not register: superseded, or following the registrar."""
    if role == "superseded":
        runtime.status.set(
            "superseded",
            f"superseded: this replica is generation {registrar.number} and a newer version "
            f"of this app (generation {registrar.newest}) registers its own action URLs; "
            "this replica's are no longer the ones on the PBX",
        )
        return
    try:
        in_place = await registrar.in_place()
    except StoreError:
        in_place = False
    if in_place:
        runtime.status.set("ready")
    else:
        runtime.status.set(
            "waiting", "waiting for the replica that holds the registrar lease to register"
        )


def synced(
    runtime: Runtime, report: Report, job: RegistrationJob, client: PBXClient, *, first: bool
) -> None:
    """After a successful pass (``first``: the first this service made): metrics, the log, and
    readiness."""
    if first and client.tokens.generation is not None:
        # Which login endpoint answered tells the operator which PortSIP build it is.
        lifetime = client.tokens.expires_in
        shown = f"{lifetime} s" if lifetime is not None else "not given"
        log.info("PBX login: %s, token lifetime %s", client.tokens.generation.label, shown)
    applied = report.applied
    runtime.observer.reconciled(
        "ok",
        applied.created,
        applied.updated,
        applied.deleted,
        # After the first sync, every write repairs drift (portal edits, a restarted PBX).
        0 if first else report.drift,
        report.seconds,
    )
    if first and runtime.config.serving.freeze_gc:
        # What the first registration made lives as long as the app (the embedded PBX's
        # 10,000 entries, the client's pool): out of full collections too, as
        # ServingConfig.freeze_gc does at startup. Before readiness: nobody calls yet.
        gc.collect()
        gc.freeze()
    # The PBX now holds credentials from the current secret only: stop accepting the old.
    runtime.synced()
    runtime.status.set("ready")
    log.info(
        "registration in sync on %s: %d created, %d updated, %d deleted (%s) in %.2fs",
        runtime.config.registers_on,
        applied.created,
        applied.updated,
        applied.deleted,
        job.summary,
        report.seconds,
    )
