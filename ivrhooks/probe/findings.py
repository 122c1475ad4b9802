"""The answers a probe run gives to what PortSIP leaves undocumented, read off its steps (pure).

Each :class:`Finding` has the question, this PBX's answer in words and as data, and what
ivrhooks' own fake PBX does (:data:`FAKE_PBX`, from ``ivrhooks/fakepbx/dial.py`` and
``flow.py``), so a reader sees at once where a real build and the test double part ways.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ivrhooks.probe.seen import Seen
from ivrhooks.probe.session import GRACE, StepRun

__all__ = ["FAKE_PBX", "QUESTIONS", "Finding", "findings", "outcome"]

#: The undocumented behaviours, in the report's order (reference/portsip.md §1, §2, §5).
QUESTIONS: dict[str, str] = {
    "timeout": "What does the PBX do when the answer comes after `request_timeout`?",
    "non_200": "What does it do after an answer that is not HTTP 200?",
    "bad_json": "What does it do after an answer that is not JSON?",
    "retries": "Does it ever send a failed request again?",
    "content_type": "Which `Content-Type` does it send, and how is the body encoded?",
    "digest": "How does it answer a Digest challenge (parameters, `qop`, `algorithm`, nonce)?",
    "session_id": "Does it send `session_id`, and what does one look like?",
    "session_forward": "Does `session_id` survive a forward to another receptionist?",
    "repeat": "Does `repeat` play the prompt again and fire the action URL again?",
    "caller_input": "What `input` does a CALLER action URL's request carry?",
    "hangup": "Does `hangup` end the call?",
}

#: What ivrhooks' fake PBX does today, without a behaviour file (``fakepbx/dial.py``: one
#: httpx request per action URL, ``request_timeout`` as the read timeout; ``flow.py``: any
#: failure ends the call's time with the action URLs).
FAKE_PBX: dict[str, str] = {
    "timeout": "gives up after `request_timeout` (and `connection_timeout` to connect), closes "
    "the connection; no retry; the call ends",
    "non_200": "no retry; the call ends",
    "bad_json": "no retry; the call ends",
    "retries": "never retries",
    "content_type": "POST: `application/json` (httpx), compact JSON; GET: the query string",
    "digest": "httpx: waits for the challenge, then the first algorithm offered, `qop=auth`; "
    "a new connection and a new challenge for every request",
    "session_id": "always, a random 60-bit number in decimal",
    "session_forward": "kept across a forward to a receptionist of the same PBX",
    "repeat": "the prompt again; the next keys fire the action URL, same session_id",
    "caller_input": "`input` is sent, empty",
    "hangup": "the call ends: no further request",
}


@dataclass
class Finding:
    key: str
    question: str
    answer: str
    fake: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "fake_pbx": self.fake,
            **self.data,
        }


def outcome(run: StepRun) -> dict[str, Any]:
    """What followed a step's deliberate answer, as data."""
    first = run.first
    retries = run.of_kind("retry")
    # A resend's delay: from the answer to the request before it (or the PBX giving up on it).
    delays, previous = [], None
    for s in run.of_kind("first", "retry", "prompt", "new_session"):
        if s.kind == "retry" and previous is not None:
            ended = previous.at + (previous.answered_after or 0.0)
            delays.append(round(max(s.at - ended, 0.0), 3))
        previous = s
    if first is None:
        then = "no_request"
    elif run.of_kind("prompt"):
        then = "prompt"
    elif run.of_kind("new_session"):
        then = "new_session"
    else:
        then = "end"
    data: dict[str, Any] = {
        "step": run.step.key,
        "requests": len(run.seen),
        "answered": first.answer if first is not None else None,
        "retries": len(retries),
        "retry_delays": delays,
        "then": then,
    }
    if run.step.answer == "late" and first is not None:
        data["closed_early"] = first.closed_early
        data["after"] = first.answered_after
    return data


def _then(data: dict[str, Any]) -> str:
    then = data["then"]
    if then == "prompt":
        return "the prompt played again: the next keys fired the action URL, same session_id"
    if then == "new_session":
        return "a request under a new session_id"
    return (
        "no further request: the call left the action URL (its failure rule, a hang-up or the "
        "receptionist's own menu; the caller hears which)"
    )


def _failure(run: StepRun | None, timeouts: tuple[int, int]) -> tuple[str, dict[str, Any]]:
    if run is None:
        return "not probed (its step was not run)", {}
    data = outcome(run)
    if data["then"] == "no_request":
        return "not seen: no request arrived during the step", data
    parts = []
    if run.step.answer == "late":
        request_timeout, connection_timeout = timeouts
        if data.get("closed_early"):
            parts.append(
                f"closed the connection {data['after']:.1f} s after the request "
                f"(request_timeout {request_timeout} s), before the answer"
            )
        else:
            waited = request_timeout + connection_timeout + GRACE
            parts.append(f"kept the connection open past {waited:g} s; the late answer was sent")
    if data["retries"]:
        delays = ", ".join(f"{d:.1f} s" for d in data["retry_delays"])
        parts.append(f"retried {data['retries']} time(s), {delays} after the failed answer")
    else:
        parts.append("no retry")
    parts.append(_then(data))
    if run.note:
        parts.append(f"the operator heard: {run.note}")
    return "; ".join(parts), data


def _content_type(requests: Sequence[Seen]) -> tuple[str, dict[str, Any]]:
    if not requests:
        return "not seen", {}
    types = sorted({s.content_type or "(none)" for s in requests})
    encodings = sorted({s.encoding for s in requests})
    methods = sorted({s.method for s in requests})
    data = {
        "methods": methods,
        "content_types": types,
        "encodings": encodings,
        "strings": all(s.strings for s in requests),
    }
    if methods == ["GET"]:
        text = "GET: the fields in the query string"
    else:
        text = f"{', '.join(methods)}: Content-Type {', '.join(types)}, body {', '.join(encodings)}"
    if not data["strings"]:
        text += "; some values are not JSON strings"
    return text, data


def _digest(seen: Sequence[Seen], scheme: str) -> tuple[str, dict[str, Any]]:
    if scheme != "digest":
        return f"not probed (the probe registered auth {scheme}; --auth digest probes it)", {}
    answered = [s for s in seen if s.auth is not None and s.auth.scheme is not None]
    challenged = [s for s in seen if s.kind == "challenged"]
    if not answered:
        return "not seen: no request carried Digest credentials", {}
    a = answered[0].auth
    assert a is not None
    data = {
        "challenged_first": bool(challenged),
        "params": a.params,
        "algorithm": a.algorithm,
        "qop": a.qop,
        "nonce_reused": any(s.auth is not None and s.auth.nonce == "reused" for s in answered),
        "nc": sorted({s.auth.nc for s in answered if s.auth is not None and s.auth.nc}),
        "uri_matches": all(s.auth is not None and s.auth.uri_matches for s in answered),
        "verified": all(s.auth is not None and s.auth.verified for s in answered),
    }
    text = (
        ("waits for the 401 challenge" if challenged else "sends credentials unasked")
        + f"; scheme {a.scheme}, algorithm {a.algorithm or '(absent: MD5)'}, "
        + f"qop {a.qop or '(absent: RFC 2069, ivrhooks refuses it)'}; parameters "
        + ", ".join(a.params)
        + (
            "; reuses a nonce with nc counting up"
            if data["nonce_reused"]
            else "; a fresh challenge for every request"
        )
        + ("" if data["uri_matches"] else "; uri differs from the request-target")
        + ("; the responses verify" if data["verified"] else "; a response did not verify")
    )
    return text, data


def _session(requests: Sequence[Seen]) -> tuple[str, dict[str, Any]]:
    if not requests:
        return "not seen", {}
    ids = [s.session_id for s in requests]
    sent = [i for i in ids if i]
    digits = all(i.isdigit() for i in sent)
    lengths = sorted({len(i) for i in sent})
    data = {"sent": len(sent), "requests": len(ids), "digits": digits, "lengths": lengths}
    if not sent:
        return "never sent (a build older than the field)", data
    shape = "digits" if digits else "not only digits"
    shown = ", ".join(str(n) for n in lengths)
    how = "on every request" if len(sent) == len(ids) else f"on {len(sent)} of {len(ids)}"
    return f"sent {how}: {shape}, {shown} characters", data


def _forward(run: StepRun | None) -> tuple[str, dict[str, Any]]:
    if run is None:
        return "not probed (the call step was not run)", {}
    data = outcome(run)
    later = [s for s in run.seen if s.kind in ("prompt", "new_session", "arrival")]
    first = run.first
    later = [s for s in later if first is not None and s.at >= first.at]
    if first is None or not later:
        return "not seen: no request after the forward", data
    kept = all(s.session_id == first.session_id for s in later)
    data["kept"] = kept
    return (
        "kept: the request after the forward has the same session_id"
        if kept
        else "a new session_id after the forward"
    ), data


def _decision(run: StepRun | None) -> tuple[str, dict[str, Any]]:
    if run is None:
        return "not probed (its step was not run)", {}
    data = outcome(run)
    if data["then"] == "no_request":
        return "not seen: no request arrived during the step", data
    if data["then"] == "end":
        text = "the call left the action URL: no further request"
    else:
        text = _then(data)
    if data["retries"]:
        text += f"; the request was sent {data['retries']} more time(s)"
    return text, data


def _caller(seen: Sequence[Seen], probed: bool) -> tuple[str, dict[str, Any]]:
    if not probed:
        return "not probed (--caller-mask registers a CALLER action URL)", {}
    arrivals = [s for s in seen if s.kind == "arrival"]
    if not arrivals:
        return "not seen: no CALLER request arrived", {}
    values = sorted({"(absent)" if s.input is None else repr(s.input) for s in arrivals})
    return f"input {', '.join(values)}", {"inputs": values, "requests": len(arrivals)}


def findings(
    runs: Sequence[StepRun],
    seen: Sequence[Seen],
    *,
    scheme: str,
    timeouts: tuple[int, int],
    caller_probed: bool,
) -> dict[str, Finding]:
    """Every question's answer from what the run saw."""
    by = {run.step.key: run for run in runs}
    admitted = [s for s in seen if s.kind in ("first", "retry", "prompt", "new_session")]
    answers: dict[str, tuple[str, dict[str, Any]]] = {
        "timeout": _failure(by.get("late"), timeouts),
        "non_200": _failure(by.get("status-500"), timeouts),
        "bad_json": _failure(by.get("invalid-json"), timeouts),
    }
    failed = [k for k in ("timeout", "non_200", "bad_json") if answers[k][1]]
    resent = {k: answers[k][1].get("retries", 0) for k in failed}
    if not failed:
        answers["retries"] = ("not probed (no failure step was run)", {})
    elif any(resent.values()):
        answers["retries"] = (
            "yes: " + ", ".join(f"{n} after {k}" for k, n in resent.items() if n),
            {"after": resent},
        )
    else:
        answers["retries"] = ("no retry after " + ", ".join(failed), {"after": resent})
    answers["content_type"] = _content_type(admitted)
    answers["digest"] = _digest(seen, scheme)
    answers["session_id"] = _session(admitted)
    answers["session_forward"] = _forward(by.get("call"))
    answers["repeat"] = _decision(by.get("repeat"))
    answers["caller_input"] = _caller(seen, caller_probed)
    answers["hangup"] = _decision(by.get("hangup"))
    return {
        key: Finding(key, question, answers[key][0], FAKE_PBX[key], answers[key][1])
        for key, question in QUESTIONS.items()
    }
