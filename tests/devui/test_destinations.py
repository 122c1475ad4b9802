"""What the call-flow map learns from a handler's source, without running it."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

import ivrhooks
from ivrhooks import ActionRequest, call, hangup, repeat
from ivrhooks.fakepbx.devui.destinations import Target, destinations_of

SALES = "2001"
DESK = 2100
SALES_DECISION = call("2002")
NOT_A_NUMBER = ["2003"]


class Desk:
    line = "2004"


def literal(req: ActionRequest) -> object:
    return call("2001")


def constant(req: ActionRequest) -> object:
    return call(SALES)


def int_constant(req: ActionRequest) -> object:
    return call(DESK)


def qualified(req: ActionRequest) -> object:
    return ivrhooks.call("2005")


def either(req: ActionRequest) -> object:
    return call("2001" if req.digits == "1" else SALES)


def computed_and_literal(req: ActionRequest) -> object:
    if req.digits.startswith("3"):
        return call("2" + req.digits[1:])
    return call("2100")


def bare_string(req: ActionRequest) -> str:
    return "2900"


def bare_constant(req: ActionRequest) -> str:
    return SALES


def global_decision(req: ActionRequest) -> object:
    return SALES_DECISION


def enders(req: ActionRequest) -> object:
    if req.caller == "0":
        return hangup()
    return repeat()


async def awaited(req: ActionRequest) -> object:
    return await lookup(req)


async def lookup(req: ActionRequest) -> object:
    return call("2001")


def local_shadows_the_constant(req: ActionRequest) -> object:
    SALES = req.digits  # the point: a local of the constant's name
    return call(SALES)


def not_a_number_constant(req: ActionRequest) -> object:
    return call(NOT_A_NUMBER)  # type: ignore[arg-type]


def class_attribute(req: ActionRequest) -> object:
    return call(Desk.line)


def nested_helper(req: ActionRequest) -> object:
    def helper() -> str:
        return "9999"  # the helper's return, not the handler's

    return call(helper())


def other_call(req: ActionRequest) -> object:
    def call(number: str) -> str:  # not ivrhooks' call()
        return number

    return call("2001")


def ternary_of_decisions(req: ActionRequest) -> object:
    return call(req.digits) if req.digits.startswith("2") else repeat()


def raises(req: ActionRequest) -> object:
    return 1 / 0


def nothing(req: ActionRequest) -> None:
    return None


@functools.wraps(literal)
def wrapped(req: ActionRequest) -> object:
    return literal(req)


class Callable_:
    def __call__(self, req: ActionRequest) -> object:
        return hangup()


CASES: list[tuple[Callable[..., object], tuple[Target, ...] | None]] = [
    (literal, (Target("call", "2001"),)),
    (constant, (Target("call", "2001"),)),
    (int_constant, (Target("call", "2100"),)),
    (qualified, (Target("call", "2005"),)),
    (either, (Target("call", "2001"),)),
    (computed_and_literal, (Target("computed"), Target("call", "2100"))),
    (bare_string, (Target("call", "2900"),)),
    (bare_constant, (Target("call", "2001"),)),
    (global_decision, (Target("call", "2002"),)),
    (enders, (Target("hangup"), Target("repeat"))),
    (awaited, (Target("runtime"),)),
    (local_shadows_the_constant, (Target("computed"),)),
    (not_a_number_constant, (Target("computed"),)),
    (class_attribute, (Target("call", "2004"),)),
    (nested_helper, (Target("computed"),)),
    (other_call, (Target("runtime"),)),
    (raises, (Target("runtime"),)),
    (ternary_of_decisions, (Target("computed"), Target("repeat"))),
    (nothing, ()),
    (wrapped, (Target("call", "2001"),)),  # unwrapped: the function functools.wraps names
    (Callable_(), (Target("hangup"),)),
    (print, None),  # built in: no source
    (lambda req: "2001", None),  # a lambda's source line is not a def
]


@pytest.mark.parametrize(
    ("handler", "expected"),
    CASES,
    ids=[getattr(h, "__name__", type(h).__name__) for h, _ in CASES],
)
def test_destinations_of(handler: Callable[..., object], expected: object) -> None:
    assert destinations_of(handler) == expected
