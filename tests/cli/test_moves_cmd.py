"""An app moved to another public URL, as a person meets it: ``ivrhooks sync`` at one URL, then
at another, against a real ``ivrhooks fake-pbx`` process: the second updates the entries in
place. A second deployment of the app with other routes is refused by ``ivrhooks plan``, naming
``IVRHOOKS_APP_ID``."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ivrhooks.fakepbx import DEFAULT_PASSWORD, DEFAULT_USERNAME
from ivrhooks.pbx import PBXClient
from tests.cli.processes import fake_pbx_process
from tests.cli.test_conflicts import ALPHA, _cli, _env


async def _entries(pbx: str) -> dict[str, tuple[str, str]]:
    async with PBXClient(pbx, username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD) as client:
        ivrs = [ivr async for ivr in client.ivrs.list()]
        urls = await client.action_urls.list(ivrs[0].id)
    return {u.id: (str(u.name), str(u.url)) for u in urls}


def test_sync_after_a_move_updates_in_place_and_a_second_deployment_is_refused(
    tmp_path: Path,
) -> None:
    (tmp_path / "alpha.py").write_text(ALPHA)
    with fake_pbx_process("8000:Main") as pbx:
        first = _cli(tmp_path, _env(pbx, "http://old-host.ivr.test"), "sync", "alpha.py")
        assert first.returncode == 0, first.stdout + first.stderr
        before = asyncio.run(_entries(pbx))
        moved = _cli(tmp_path, _env(pbx, "http://new-host.ivr.test"), "sync", "alpha.py")
        assert moved.returncode == 0, moved.stdout + moved.stderr
        after = asyncio.run(_entries(pbx))

        # Another deployment of alpha (staging, with one more route) beside the moved one.
        (tmp_path / "staging").mkdir()
        extra = '\n@app.dtmf("9")\nasync def promo(req):\n    return call("2009")\n'
        (tmp_path / "staging" / "alpha.py").write_text(ALPHA + extra)
        staging_env = _env(pbx, "https://staging.example")
        # Both plans only read the PBX: two processes of their own, started together.
        with ThreadPoolExecutor(2) as pool:
            moved_plan = pool.submit(
                _cli, tmp_path, _env(pbx, "http://new-host.ivr.test"), "plan", "alpha.py"
            )
            staging_plan = pool.submit(_cli, tmp_path / "staging", staging_env, "plan", "alpha.py")
            again, planned = moved_plan.result(), staging_plan.result()
        assert again.returncode == 0, "in sync: " + again.stdout + again.stderr
    print(moved.stdout, planned.stdout)
    assert before.keys() == after.keys(), "the same entry, updated"
    [(name, url)] = after.values()
    assert url == "http://new-host.ivr.test/hooks/sales"
    assert name.startswith("ivrhooks:sales@") and name != next(iter(before.values()))[0]
    assert planned.returncode == 2, planned.stdout + planned.stderr
    (line,) = [line for line in planned.stdout.splitlines() if line.startswith("  ! conflict: ")]
    assert "registered by this app's module from the public URL http://new-host.ivr.test" in line
    assert "set IVRHOOKS_APP_ID to a different value on each" in line
