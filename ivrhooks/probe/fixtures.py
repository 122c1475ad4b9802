"""The behaviour file the fake PBX replays (:mod:`ivrhooks.fakepbx.behaviour`), made from what
the probe saw: the requests' shape, and the reactions to the late, 500 and not-JSON answers.

Only what the probe saw goes in: a step that was not run, or saw no request, leaves its
reaction out, and the fake keeps its own for it. What the fake does not replay (Digest,
``session_id`` across a forward) is kept under ``observed`` for the reader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ivrhooks.fakepbx.behaviour import Behaviour, Failure, Reaction
from ivrhooks.fakepbx.shape import PER_REQUEST_HEADERS, Encoding, RequestShape
from ivrhooks.probe.findings import Finding, outcome
from ivrhooks.probe.seen import Seen
from ivrhooks.probe.session import StepRun

__all__ = ["behaviour_of", "request_shape"]

_COMPACT = (",", ":")
_SPACED = (", ", ": ")


def _separators(seen: Seen) -> tuple[str, str]:
    try:
        data = json.loads(seen.body)
    except ValueError:
        return _COMPACT
    for separators in (_COMPACT, _SPACED):
        for ascii_only in (False, True):
            again = json.dumps(data, separators=separators, ensure_ascii=ascii_only)
            if again == seen.body:
                return separators
    return _COMPACT


def request_shape(seen: Seen, configured: Sequence[str]) -> RequestShape:
    """How ``seen`` was sent, without the headers the action URL's ``headers`` setting added
    (``configured``, lower-cased): those are the registration's, not the build's."""
    skip = PER_REQUEST_HEADERS | {"content-type"} | set(configured)
    headers = tuple((name, value) for name, value in seen.headers if name not in skip)
    if seen.method == "GET":
        return RequestShape("GET", headers, tuple(seen.field_order), None, "query")
    encoding: Encoding = "form" if seen.encoding == "form" else "json"
    separators = _separators(seen) if encoding == "json" else _COMPACT
    return RequestShape(
        "POST", headers, tuple(seen.field_order), seen.content_type, encoding, separators
    )


def behaviour_of(
    runs: Sequence[StepRun],
    seen: Sequence[Seen],
    found: Mapping[str, Finding],
    *,
    source: Mapping[str, Any],
    configured_headers: Sequence[str],
) -> Behaviour:
    """The behaviour file of this run."""
    requests: dict[str, RequestShape] = {}
    for s in seen:
        if s.kind == "first" and s.route == "dtmf" and s.method not in requests:
            requests[s.method] = request_shape(s, configured_headers)
    reactions: dict[Failure, Reaction] = {}
    for run in runs:
        failure = run.step.failure
        if failure is None or run.first is None:
            continue
        data = outcome(run)
        delays = data["retry_delays"]
        reactions[failure] = Reaction(
            retries=min(data["retries"], 5),
            delay=round(min(sum(delays) / len(delays), 30.0), 1) if delays else 0.0,
            then="prompt" if data["then"] == "prompt" else "end",
        )
    observed = {
        key: found[key].data
        for key in ("digest", "session_id", "session_forward", "repeat", "hangup", "caller_input")
        if found[key].data
    }
    return Behaviour(requests=requests, reactions=reactions, source=source, observed=observed)
