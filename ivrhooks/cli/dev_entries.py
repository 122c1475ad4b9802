"""One registration pass of an ``ivrhooks dev --pbx`` session, in a fresh interpreter.

``python -m ivrhooks.cli.dev_entries APP --receptionist EXT ... --expires EPOCH [--force]
[--reap]``, run by the dev loop at the start, after every reload and before its entries expire.
A process of its own for the reason the app's server is one: the app is loaded as the edited
files say now, with no module left over from before. It loads the app as ``ivrhooks run`` does
(the same environment as the ``run`` child: the session's secret and public URL, so the same
app id and credentials), registers its routes on the named receptionists as dev entries through
:class:`~ivrhooks.registration.job.RegistrationJob` with a dev session's owner
(:class:`~ivrhooks.registration.dev.DevEntries`), and writes the outcome on stdout as one JSON
object for the dev loop:

- ``{"app_id", "entries": [{receptionist, name, route, type, mask}], "created", "updated",
  "deleted", "removed": [{receptionist, name, reason}], "warnings": [...]}``: registered;
- ``{"refused": [line, ...]}``: nothing written (this app's production entries, another
  session's, an overlap with another app's);
- ``{"failed": line}``: the PBX could not be reached, refused the login or a write.

An app that does not load says why on stderr, as ``ivrhooks run`` would, and writes no JSON.
Everything quoted from the PBX is escaped, bounded and stripped of the login's secrets.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import click

from ivrhooks.cli.loader import load_app
from ivrhooks.errors import IVRHooksError, PBXConnectionError, PBXLoginError
from ivrhooks.pbx.untrusted import LINE_LIMIT, pbx_text
from ivrhooks.registration.dev import DevEntries, plan_session
from ivrhooks.registration.job import RegistrationJob

__all__ = ["register"]


def _failure(exc: BaseException, job: RegistrationJob) -> str:
    if isinstance(exc, PBXConnectionError):
        return f"cannot reach the PBX at {job.pbx.url} (--pbx): {exc}"
    if isinstance(exc, PBXLoginError):
        return (
            f"the PBX at {job.pbx.url} refused the login (IVRHOOKS_PBX_USERNAME / "
            f"IVRHOOKS_PBX_PASSWORD / IVRHOOKS_PBX_DOMAIN, or IVRHOOKS_PBX_TOKEN): {exc}"
        )
    return str(exc)


async def _register(job: RegistrationJob, reap_also: tuple[str, ...]) -> dict[str, Any]:
    async with job.client() as pbx:

        def clean(text: object) -> str:
            return pbx_text(text, secrets=pbx.tokens.secrets, limit=LINE_LIMIT)

        try:
            plans = await plan_session(job, pbx, reap_also=reap_also)
            conflicts = [clean(c) for plan in plans for c in plan.conflicts]
            if conflicts:
                return {"refused": conflicts}
            done = await job.apply(pbx, plans)
        except (IVRHooksError, OSError) as exc:
            return {"failed": clean(_failure(exc, job))}
    return {
        "app_id": job.app_id,
        "entries": [
            {
                "receptionist": ext,
                "name": name,
                "route": want.route,
                "type": str(want.body.type),
                "mask": want.body.dtmf_mask or want.body.caller_mask,
            }
            for ext, wanted in job.state.items()
            for name, want in wanted.items()
        ],
        "created": done.created,
        "updated": done.updated,
        "deleted": done.deleted,
        "removed": [
            {"receptionist": p.receptionist, "name": clean(d.name), "reason": d.reason}
            for p in plans
            for d in p.deletes
        ],
        "warnings": [clean(w) for plan in plans for w in plan.warnings],
    }


@click.command()
@click.argument("app_spec", metavar="APP")
@click.option("--receptionist", "receptionists", multiple=True, required=True)
@click.option("--expires", type=int, required=True, help="Epoch second the entries end at.")
@click.option("--force", is_flag=True)
@click.option("--reap", is_flag=True, help="Reap on the app's other receptionists too.")
def register(
    app_spec: str, receptionists: tuple[str, ...], expires: int, force: bool, reap: bool
) -> None:
    """Register APP's routes on the receptionists as a dev session's entries; JSON on stdout."""
    try:
        app = load_app(app_spec)
        config = app.configure()
        manifest = app.check(config)
        unknown = [ext for ext in receptionists if ext not in manifest.receptionists]
        if unknown:
            # The command line's to change, not the code: said as a failure of the session.
            served = ", ".join(manifest.receptionists)
            problem = (
                f"--receptionist {', '.join(unknown)}: the app serves no route there (it serves "
                f"{served}); name one of those, or set IVRHOOKS_RECEPTIONISTS to serve the "
                "app's routes there"
            )
            click.echo(json.dumps({"failed": problem}))
            return
        public = (manifest.public_url or "").rstrip("/")
        owner = DevEntries(
            public_url=public,
            expires=expires,
            now=time.time(),
            force=force,
            routes=tuple((entry.name, public + entry.path) for entry in manifest.routes),
        )
        job = RegistrationJob.of(config, manifest, owner=owner, receptionists=receptionists)
    except IVRHooksError as exc:
        raise click.ClickException(str(exc)) from None
    reap_also = manifest.receptionists if reap else ()
    click.echo(json.dumps(asyncio.run(_register(job, reap_also))))


if __name__ == "__main__":
    register()
