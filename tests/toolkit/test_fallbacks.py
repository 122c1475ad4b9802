"""Per-route fallbacks, and ``req.failure`` telling a fallback why it runs."""

from __future__ import annotations

import asyncio

import pytest

from ivrhooks import ActionRequest, ConfigurationError, IVRHooks, ServingConfig, call, hangup
from ivrhooks.testing import local, running


class CRMDown(Exception):
    """What a CRM client raises."""


def _app() -> tuple[IVRHooks, list[tuple[str, str, str | None]]]:
    app = IVRHooks(receptionists=["8000", "8001"], serving=ServingConfig(deadline=0.5), env=False)
    seen: list[tuple[str, str, str | None]] = []

    async def voicemail(req: ActionRequest) -> object:
        assert req.failure is not None
        seen.append((req.route, req.failure.cause, req.failure.exception))
        return call("2999")

    @app.dtmf("1", fallback=call("0"))
    async def sales(req: ActionRequest) -> object:
        raise CRMDown("no answer for 5551234")

    @app.dtmf("2", fallback=voicemail)
    async def support(req: ActionRequest) -> object:
        await asyncio.sleep(30)  # overruns
        return call("1")

    @app.dtmf("3", fallback=voicemail)
    async def billing(req: ActionRequest) -> object:
        return 42  # not a decision

    @app.dtmf("4", receptionists=["8000"], fallback=voicemail)
    async def narrow(req: ActionRequest) -> object:
        return call("4")

    @app.dtmf("5", fallback=voicemail)
    async def remembered(req: ActionRequest) -> object:
        await req.session()
        return call("5")

    @app.dtmf("6")
    async def plain(req: ActionRequest) -> object:
        raise CRMDown("down")

    @app.fallback
    async def default(req: ActionRequest) -> object:
        assert req.failure is not None
        seen.append(("app", req.failure.cause, req.failure.exception))
        return hangup()

    return app, seen


async def test_each_route_has_its_own_fallback_and_it_knows_why() -> None:
    app, seen = _app()
    async with local(app) as ivr:
        sales = await ivr.dial(to="8000", caller="101", digits="1")
        support = await ivr.dial(to="8000", caller="101", digits="2")
        billing = await ivr.dial(to="8000", caller="101", digits="3")
        plain = await ivr.dial(to="8000", caller="101", digits="6")
    assert (sales.destination, sales.cause, sales.answered_by) == ("0", "error", "fallback")
    assert (support.destination, support.cause) == ("2999", "timeout")
    assert (billing.destination, billing.cause) == ("2999", "invalid")
    assert (plain.action, plain.cause) == ("hangup", "error"), "the app's fallback"
    assert seen == [
        ("support", "timeout", None),
        ("billing", "invalid", "InvalidDecisionError"),
        ("app", "error", "CRMDown"),
    ]


async def test_over_http_the_cause_reaches_the_fallback_for_requests_that_do_not_fit() -> None:
    app, seen = _app()
    async with running(app) as ran:
        # The route serves 8000 only; the PBX sends a request for 8001 to it: "receptionist".
        wrong = await ran.pbx.dial(to="8000", caller="101", digits="4")
        assert wrong.status == 200
        entry = next(u for u in ran.pbx.action_urls("8000") if "narrow" in str(u.name))
        from ivrhooks.fakepbx.dial import fire, request_fields

        fields = request_fields(
            caller="101", to="8001", digits="4", caller_name="", account_name="", session_id="s9"
        )
        result = await fire(entry, fields)
        # No session id from the PBX: "session".
        no_session = dict(
            request_fields(
                caller="101", to="8000", digits="5", caller_name="", account_name="", session_id="x"
            )
        )
        no_session.pop("session_id")
        remembered = next(u for u in ran.pbx.action_urls("8000") if "remembered" in str(u.name))
        result_session = await fire(remembered, no_session)
    assert result.destination == "2999" and result_session.destination == "2999"
    assert ("narrow", "receptionist", None) in seen
    assert ("remembered", "session", "SessionUnavailableError") in seen


def test_a_fallback_must_be_a_decision_or_a_handler() -> None:
    app = IVRHooks(receptionists=["8000"], env=False)
    with pytest.raises(ConfigurationError, match="fallback='0': give a decision"):
        app.dtmf("1", fallback="0")  # type: ignore[arg-type]


async def test_a_failing_route_fallback_gives_the_built_in_repeat() -> None:
    app = IVRHooks(receptionists=["8000"], env=False)

    async def broken(req: ActionRequest) -> object:
        raise RuntimeError

    @app.dtmf("1", fallback=broken)
    async def sales(req: ActionRequest) -> object:
        raise RuntimeError

    async with local(app) as ivr:
        r = await ivr.dial(to="8000", caller="101", digits="1")
    assert (r.action, r.answered_by, r.cause) == ("repeat", "default", "error")
