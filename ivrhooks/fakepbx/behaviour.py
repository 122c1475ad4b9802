"""A PBX build's behaviour where PortSIP's documents are silent, as ``ivrhooks probe`` recorded
it, and the fake PBX replaying it: ``FakePBX(behaviour="behaviour.json")``,
``ivrhooks fake-pbx --behaviour behaviour.json``.

What the documents leave open (reference/portsip.md §1-2): how a request is sent (headers,
``Content-Type``, field order) and what the PBX does when an answer is late, not 200 or not
JSON. Without a file the fake PBX sends as httpx does and, after such a failure, neither
retries nor prompts again: the call ends (:mod:`.dial`, :mod:`.flow`). With one, it sends as the
recorded build did (:class:`~.shape.RequestShape`) and reacts as it did (:class:`Reaction`).

The file (``format`` ``ivrhooks.pbx-behaviour/1``)::

    {"format": "ivrhooks.pbx-behaviour/1",
     "source": {...},                        # where and when it was recorded (not replayed)
     "requests": {"POST": {"headers": [["user-agent", "..."]], "fields": ["session_id", ...],
                           "content_type": "application/json", "encoding": "json",
                           "separators": [",", ":"]}},
     "reactions": {"timeout": {"retries": 0, "delay": 0.0, "then": "end"},
                   "status": {...}, "invalid_json": {...}},
     "observed": {...}}                      # what the probe saw and the fake does not replay

A method or a failure the file does not name keeps the fake's own behaviour.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ivrhooks.errors import InvalidArgumentError
from ivrhooks.fakepbx.dial import DialResult, fire
from ivrhooks.fakepbx.shape import RequestShape, read_shape
from ivrhooks.schema.models import ActionUrl

__all__ = [
    "FAILURES",
    "FORMAT",
    "Behaviour",
    "Failure",
    "Reaction",
    "as_behaviour",
    "failure_of",
    "load_behaviour",
]

FORMAT = "ivrhooks.pbx-behaviour/1"

Failure = Literal["timeout", "status", "invalid_json"]
#: The answers a PBX must decide what to do after: too late, not 200, not a JSON object.
FAILURES: tuple[Failure, ...] = ("timeout", "status", "invalid_json")

Then = Literal["end", "prompt"]
_MAX_RETRIES = 5
_MAX_DELAY = 30.0


@dataclass(frozen=True)
class Reaction:
    """What a build did after one kind of failed answer: ``retries`` resends of the same
    request, ``delay`` seconds apart, then ``end`` (no further request: the call left the
    action URL) or ``prompt`` (the prompt again: the caller's next keys fire it again)."""

    retries: int = 0
    delay: float = 0.0
    then: Then = "end"

    def to_json(self) -> dict[str, Any]:
        return {"retries": self.retries, "delay": self.delay, "then": self.then}


class Fire(Protocol):
    def __call__(
        self, url: ActionUrl, fields: dict[str, str], *, shape: RequestShape | None = None
    ) -> Awaitable[DialResult]: ...


def failure_of(result: DialResult) -> Failure | None:
    """Which failure ``result`` is, if one a reaction covers (a refused connection is not)."""
    if result.error == "timeout":
        return "timeout"
    if result.status is not None and result.status != 200:
        return "status"
    if result.status == 200 and (result.error or "").startswith("invalid JSON"):
        return "invalid_json"
    return None


@dataclass(frozen=True)
class Behaviour:
    """A recorded build: how it sends (per method) and how it reacts (per failure)."""

    requests: Mapping[str, RequestShape] = field(default_factory=dict)
    reactions: Mapping[Failure, Reaction] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict)
    observed: Mapping[str, Any] = field(default_factory=dict)

    async def send(self, url: ActionUrl, fields: dict[str, str], fire: Fire = fire) -> DialResult:
        """Send as the build does; after a failed answer, react as it did."""
        method = url.method.value if url.method is not None else "GET"
        shape = self.requests.get(method)
        result = await fire(url, fields, shape=shape)
        failure = failure_of(result)
        reaction = self.reactions.get(failure) if failure is not None else None
        if reaction is None:
            return result
        for _ in range(reaction.retries):
            if reaction.delay:
                await asyncio.sleep(reaction.delay)
            result = await fire(url, fields, shape=shape)
            if failure_of(result) is None:
                return result
        return dataclasses.replace(result, reprompt=reaction.then == "prompt")

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "source": dict(self.source),
            "requests": {method: shape.to_json() for method, shape in self.requests.items()},
            "reactions": {kind: r.to_json() for kind, r in self.reactions.items()},
            "observed": dict(self.observed),
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def from_json(cls, data: Any) -> Behaviour:
        """Read the file's JSON; :class:`InvalidArgumentError` names the bad field."""
        try:
            return _read(data)
        except ValueError as exc:
            raise InvalidArgumentError(f"behaviour: {exc}") from None


def _reaction(data: Any, where: str) -> Reaction:
    if not isinstance(data, dict) or set(data) - {"retries", "delay", "then"}:
        raise ValueError(f"{where}: an object of retries, delay and then")
    retries, delay, then = data.get("retries", 0), data.get("delay", 0.0), data.get("then", "end")
    if type(retries) is not int or not 0 <= retries <= _MAX_RETRIES:
        raise ValueError(f"{where}.retries: an integer from 0 to {_MAX_RETRIES}")
    if type(delay) not in (int, float) or not 0 <= delay <= _MAX_DELAY:
        raise ValueError(f"{where}.delay: seconds from 0 to {_MAX_DELAY:g}")
    if then not in ("end", "prompt"):
        raise ValueError(f"{where}.then: end or prompt")
    return Reaction(retries=retries, delay=float(delay), then=then)


def _read(data: Any) -> Behaviour:
    if not isinstance(data, dict):
        raise ValueError("a JSON object")
    if data.get("format") != FORMAT:
        raise ValueError(f"format: {data.get('format')!r} is not {FORMAT!r}")
    unknown = set(data) - {"format", "source", "requests", "reactions", "observed"}
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
    requests, reactions = data.get("requests", {}), data.get("reactions", {})
    if not isinstance(requests, dict) or not isinstance(reactions, dict):
        raise ValueError("requests and reactions: objects")
    shapes = {m: read_shape(m, shape, f"requests.{m}") for m, shape in requests.items()}
    read: dict[Failure, Reaction] = {}
    for kind, reaction in reactions.items():
        if kind not in FAILURES:
            raise ValueError(f"reactions.{kind}: not one of {', '.join(FAILURES)}")
        read[kind] = _reaction(reaction, f"reactions.{kind}")
    source, observed = data.get("source", {}), data.get("observed", {})
    if not isinstance(source, dict) or not isinstance(observed, dict):
        raise ValueError("source and observed: objects")
    return Behaviour(requests=shapes, reactions=read, source=source, observed=observed)


def load_behaviour(path: str | os.PathLike[str]) -> Behaviour:
    """Read a behaviour file; :class:`InvalidArgumentError` names the file and what is wrong."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise InvalidArgumentError(f"behaviour file {os.fspath(path)}: {exc.strerror}") from None
    except ValueError as exc:
        raise InvalidArgumentError(f"behaviour file {os.fspath(path)}: not JSON ({exc})") from None
    try:
        return _read(data)
    except ValueError as exc:
        raise InvalidArgumentError(f"behaviour file {os.fspath(path)}: {exc}") from None


def as_behaviour(value: Behaviour | str | os.PathLike[str] | None) -> Behaviour | None:
    """``FakePBX(behaviour=...)``: a :class:`Behaviour`, a file's path, or ``None``."""
    if value is None or isinstance(value, Behaviour):
        return value
    return load_behaviour(value)
