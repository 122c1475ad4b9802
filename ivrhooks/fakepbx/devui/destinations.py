"""Where a handler can send a call, read from its source: the call-flow map's static edges.

A handler is ordinary Python, so in general what it decides is known only when it runs. But most
menus say it literally: ``return call("2001")``, ``call(SALES_QUEUE)`` with a module constant,
``hangup()``, ``repeat()``, a bare ``return "2900"``. Those are read here with :mod:`ast`, the
names looked up in the handler's own module globals (never evaluated: nothing is called). A
``call(...)`` whose argument is anything else (``call("2" + req.digits[1:])``) is ``computed``,
any other returned value (``return await crm.route(req)``) ``runtime``: the map says the handler
decides when it runs, and the calls seen so far fill it in.
A handler whose source cannot be read (built in, made at run time) is ``None``: nothing known.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ivrhooks.core.decisions import Decision, call, hangup, repeat
from ivrhooks.core.request import Handler

__all__ = ["Target", "destinations_of"]

TargetKind = Literal["call", "hangup", "repeat", "computed", "runtime"]

_DECIDERS: tuple[tuple[object, TargetKind], ...] = (
    (call, "call"),
    (hangup, "hangup"),
    (repeat, "repeat"),
)
_UNKNOWN = object()


def _decider(value: object) -> TargetKind | None:
    """Which of ivrhooks' decision functions ``value`` is (by identity: a user's own ``call``
    helper is not one)."""
    return next((kind for function, kind in _DECIDERS if function is value), None)


@dataclass(frozen=True, slots=True)
class Target:
    """One decision a handler can make: ``call`` a ``number``, ``hangup``, ``repeat``, a
    ``call`` whose number is ``computed`` when it runs, or one known only at ``runtime``."""

    kind: TargetKind
    number: str | None = None


def destinations_of(handler: Handler) -> tuple[Target, ...] | None:
    """The decisions ``handler``'s source states, in source order; ``None`` if unreadable."""
    function: Any = inspect.unwrap(handler)
    if not (inspect.isfunction(function) or inspect.ismethod(function)):
        function = type(function).__dict__.get("__call__")  # a callable object's method
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return None
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not defs:
        return None  # a lambda: its source line is the caller's statement, not a def
    code = getattr(function, "__code__", None)
    local = set(code.co_varnames + code.co_cellvars) if code is not None else set()
    # A local name is not the module's constant of the same name: leave it unresolved.
    scope = {k: v for k, v in getattr(function, "__globals__", {}).items() if k not in local}
    found: dict[Target, None] = {}
    for node in _own_nodes(defs[0]):
        for target in _targets(node, scope):
            found.setdefault(target)
    return tuple(found)


def _own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.AST]:
    """Every node of ``function``'s body, but not of functions or classes defined inside it:
    their ``return`` is not the handler's."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        yield node
        pending[:0] = ast.iter_child_nodes(node)


def _targets(node: ast.AST, scope: dict[str, Any]) -> list[Target]:
    if isinstance(node, ast.Call):
        kind = _decider(_resolve(node.func, scope))
        if kind is None:
            return []
        if kind != "call":
            return [Target(kind)]
        return _numbers(node.args[0], scope) if len(node.args) == 1 else [Target("computed")]
    if isinstance(node, ast.Return) and node.value is not None:
        return _returned(node.value, scope)
    return []


def _returned(value: ast.expr, scope: dict[str, Any]) -> list[Target]:
    """A returned value: a number string means ``call`` it (``coerce_decision``)."""
    if isinstance(value, ast.IfExp):
        return _returned(value.body, scope) + _returned(value.orelse, scope)
    if isinstance(value, ast.Call) and _decider(_resolve(value.func, scope)) is not None:
        return []  # return call(...): the Call node itself says it
    if isinstance(value, ast.Constant) and value.value is None:
        return []
    known = _resolve(value, scope)
    if isinstance(known, Decision):
        return [Target(known.action, known.destination)]
    if type(known) is str:
        return [Target("call", known)]
    return [Target("runtime")]


def _numbers(argument: ast.expr, scope: dict[str, Any]) -> list[Target]:
    """What ``call(argument)`` dials: a literal or a module constant, else computed."""
    if isinstance(argument, ast.IfExp):
        return _numbers(argument.body, scope) + _numbers(argument.orelse, scope)
    known = _resolve(argument, scope)
    if type(known) is str or type(known) is int:
        return [Target("call", str(known))]
    return [Target("computed")]


def _resolve(expr: ast.expr, scope: dict[str, Any]) -> object:
    """The value of a constant, a module-level name or ``module.attribute``; never evaluates
    anything else (no calls, no operators)."""
    if isinstance(expr, ast.Constant):
        return expr.value
    if isinstance(expr, ast.Name):
        return scope.get(expr.id, _UNKNOWN)
    if isinstance(expr, ast.Attribute):
        base = _resolve(expr.value, scope)
        if not (inspect.ismodule(base) or inspect.isclass(base)):
            return _UNKNOWN  # an instance's attribute may be a property: never run one
        return inspect.getattr_static(base, expr.attr, _UNKNOWN)
    return _UNKNOWN
