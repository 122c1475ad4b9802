"""``@app.otherwise``: "key 1 for sales, anything else to the operator", registered as masks
PortSIP understands so that no two action URLs on a receptionist ever match the same input."""

from __future__ import annotations

import itertools

import pytest
from click.testing import CliRunner

from ivrhooks import ActionRequest, ConfigurationError, IVRHooks, RouteConflictError, call
from ivrhooks.cli import main
from ivrhooks.core.masks import Mask, MaskIndex, parse_mask
from ivrhooks.core.masks.complement import complement
from ivrhooks.testing import local, running


def _menu(max_digits: int = 4) -> IVRHooks:
    app = IVRHooks(receptionists=["8000", "8001"], env=False)

    @app.dtmf("1")
    async def sales(req: ActionRequest) -> object:
        return call("2001")

    @app.dtmf("3000-3999;55*1")
    async def accounts(req: ActionRequest) -> object:
        return call("2002")

    @app.dtmf("2", receptionists=["8001"])
    async def support(req: ActionRequest) -> object:
        return call("2003")

    @app.otherwise(max_digits=max_digits)
    async def operator(req: ActionRequest) -> object:
        return call("0")

    return app


def _disjoint(masks: list[Mask]) -> None:
    index: MaskIndex[int] = MaskIndex("DTMF")
    for number, mask in enumerate(masks):
        index.add(mask, number)  # RouteConflictError if two share an input


async def test_registered_on_the_pbx_without_overlaps_and_reached_for_unmatched_digits() -> None:
    app = _menu()
    async with running(app) as ran:
        for ext in ("8000", "8001"):
            entries = ran.pbx.action_urls(ext)
            masks = [parse_mask(str(e.dtmf_mask), "DTMF") for e in entries]
            _disjoint(masks)  # no input fires two of them
            assert any("operator" in str(e.name) for e in entries)
        answers = {
            digits: (await ran.dial(to="8000", caller="101", digits=digits)).destination
            for digits in ("1", "3500", "5501", "2", "7", "42", "9999", "5502")
        }
        on_8001 = (await ran.dial(to="8001", caller="101", digits="2")).destination
    assert answers == {
        "1": "2001",
        "3500": "2002",
        "5501": "2002",
        "2": "0",  # the support route serves 8001 only
        "7": "0",
        "42": "0",
        "9999": "0",
        "5502": "0",
    }
    assert on_8001 == "2003"


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_the_complement_is_exactly_what_the_others_leave(width: int) -> None:
    others = [parse_mask("1", "DTMF"), parse_mask("3000-3999;55*1", "DTMF")]
    left = complement(others, 4)
    assert left is not None
    for value in ("".join(d) for d in itertools.product("0123456789", repeat=width)):
        taken = any(m.matches(value) for m in others)
        assert left.matches(value) is not taken, value


async def test_local_and_explain_name_it() -> None:
    app = _menu()
    async with local(app) as ivr:
        r = await ivr.dial(to="8000", caller="101", digits="7")
        too_long = await ivr.dial(to="8000", caller="101", digits="12345")
        star = await ivr.dial(to="8000", caller="101", digits="*")
    assert (r.route, r.destination) == ("operator", "0")
    assert too_long.route is None, "past max_digits: the receptionist's own menu"
    assert star.route is None, "keyed * and # are not covered"
    runner = CliRunner()
    done = runner.invoke(main, ["routes", f"{__name__}:EXPLAINED", "--explain", "7"])
    assert done.exit_code == 0, done.output
    assert "receptionist 8000: digits '7' -> operator" in done.output
    assert "no other DTMF route of this app takes it" in done.output


EXPLAINED = _menu()


async def test_a_long_complement_is_split_over_several_action_urls() -> None:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.dtmf(";".join(str(n) for n in range(100, 1000, 7)))  # 129 scattered numbers
    async def scattered(req: ActionRequest) -> object:
        return call("1")

    @app.otherwise(max_digits=3)
    async def operator(req: ActionRequest) -> object:
        return call("0")

    async with running(app) as ran:
        entries = [e for e in ran.pbx.action_urls("8000") if "operator" in str(e.name)]
        r = await ran.dial(to="8000", caller="101", digits="101")
    assert len(entries) > 1 and all(len(str(e.dtmf_mask)) <= 255 for e in entries)
    assert r.destination == "0"


def test_nothing_left_is_said_at_build() -> None:
    app = IVRHooks(receptionists=["8000"], env=False)

    @app.dtmf("ALL")
    async def everything(req: ActionRequest) -> object:
        return call("1")

    @app.otherwise()
    async def operator(req: ActionRequest) -> object:
        return call("0")

    with pytest.raises(ConfigurationError, match=r"leave nothing .*ALL"):
        app.build(app.configure({}))


def test_two_otherwise_routes_on_one_receptionist_are_refused() -> None:
    app = _menu()
    with pytest.raises(RouteConflictError, match=r"'operator' .* and 'again' .* both answer"):

        @app.otherwise(receptionists=["8000"])
        async def again(req: ActionRequest) -> object:
            return call("0")


@pytest.mark.parametrize("max_digits", [0, 13, "6"])
def test_max_digits_is_checked(max_digits: object) -> None:
    app = IVRHooks(receptionists=["8000"], env=False)
    with pytest.raises(ConfigurationError, match="max_digits"):

        @app.otherwise(max_digits=max_digits)  # type: ignore[arg-type]
        async def operator(req: ActionRequest) -> object:
            return call("0")

        app.build(app.configure({}))


async def test_another_apps_entry_in_the_complement_is_a_conflict_as_today() -> None:
    from ivrhooks.registration.job import RegistrationJob
    from ivrhooks.testing import FakePBX, serve

    fake = FakePBX()
    fake.add_ivr("8000", "Main")
    fake.add_ivr("8001", "Support")
    ivr_id = fake.ivr("8000").id
    fake.resources.create_action_url(
        ivr_id,
        {
            "name": "ivrhooks:seven@other",
            "type": "DTMF",
            "dtmf_mask": "7",
            "method": "POST",
            "url": "https://other.example/hooks/seven",
            "auth": "DISABLE",
            "enabled": True,
        },
    )
    async with serve(fake.app) as base:
        app = _menu()
        config = app.configure(
            {
                "IVRHOOKS_SECRET": "otherwise-tests-secret-0123456789",
                "IVRHOOKS_PBX_URL": base + "/api",
                "IVRHOOKS_PBX_USERNAME": fake.username,
                "IVRHOOKS_PBX_PASSWORD": fake.password,
                "IVRHOOKS_PUBLIC_URL": "https://ivr.example",
                "IVRHOOKS_APP_ID": "mine",
            }
        )
        job = RegistrationJob.of(config, app.check(config))
        async with job.client() as client:
            plans = await job.plans(client, log_findings=False)
    conflicts = [c for p in plans for c in p.conflicts]
    assert conflicts and "ivrhooks:seven@other" in conflicts[0] and "operator" in conflicts[0]
