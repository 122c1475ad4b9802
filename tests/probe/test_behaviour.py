"""``FakePBX(behaviour=...)`` in process: the shapes a file may give (GET's query order, a form
body, no Content-Type), the reactions it may give, and the files it refuses, naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ivrhooks.cli import main
from ivrhooks.errors import InvalidArgumentError
from ivrhooks.fakepbx import FakePBX
from ivrhooks.fakepbx.behaviour import FORMAT, Behaviour, load_behaviour
from ivrhooks.testing import serve
from tests.probe.recorder import Recorder


def _file(**parts: Any) -> dict[str, Any]:
    return {"format": FORMAT, **parts}


@pytest.mark.parametrize(
    ("method", "shape", "query", "body", "content_type"),
    [
        (
            "GET",
            {"fields": ["input", "to", "session_id", "from"], "headers": [["user-agent", "vr"]]},
            "input=1&to=8999&session_id=42&from=101",
            b"",
            None,
        ),
        (
            "POST",
            {"fields": ["from", "input"], "encoding": "form", "content_type": None},
            "",
            b"from=101&input=1",
            None,
        ),
        (
            "POST",
            {"fields": ["input", "session_id"], "separators": [", ", ": "]},
            "",
            b'{"input": "1", "session_id": "42"}',
            None,
        ),
    ],
    ids=["get-query-order", "post-form-without-content-type", "post-spaced-json"],
)
async def test_requests_go_out_in_the_recorded_shape(
    method: str, shape: dict[str, Any], query: str, body: bytes, content_type: str | None
) -> None:
    app = Recorder()
    behaviour = Behaviour.from_json(_file(requests={method: shape}))
    pbx = FakePBX(behaviour=behaviour)
    ivr = pbx.add_ivr("8999", "Probe")
    async with serve(app, lifespan="off") as base:
        url = {"type": "DTMF", "method": method, "dtmf_mask": "ALL", "url": base + "/hook"}
        pbx.resources.create_action_url(ivr, {"name": "rec", "enabled": True, **url})
        await pbx.dial("8999", "101", "1", session_id="42")
    (request,) = app.requests
    headers = dict(request["headers"])
    assert request["body"] == body
    assert headers.get("content-type") == content_type
    assert "python-httpx" not in headers.get("user-agent", ""), "httpx's own headers dropped"
    assert request["query"] == query
    if method == "GET":
        assert headers["user-agent"] == "vr"


async def test_reactions_resend_then_end(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    reaction = {"retries": 2, "delay": 0.0, "then": "end"}
    path.write_text(json.dumps(_file(reactions={"status": reaction})))
    app = Recorder()  # 500 to the first key, every time
    pbx = FakePBX(behaviour=str(path))  # a path is read as the file
    ivr = pbx.add_ivr("8999", "Probe")
    async with serve(app, lifespan="off") as base:
        url = {"type": "DTMF", "method": "POST", "dtmf_mask": "ALL", "url": base + "/hook"}
        pbx.resources.create_action_url(ivr, {"name": "rec", "enabled": True, **url})
        flow = await pbx.call("8999", "101", ["1", "2"])
    assert len(app.requests) == 3, "the request and two resends; then the call ended"
    assert [hop.error for hop in flow.hops] == ["status 500"]
    assert flow.unused == ["2"]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"format": "other/1"}, "format: 'other/1'"),
        (_file(reactions={"busy": {}}), "reactions.busy: not one of timeout, status"),
        (_file(reactions={"status": {"retries": 9}}), "reactions.status.retries"),
        (_file(reactions={"status": {"then": "retry"}}), "reactions.status.then: end or prompt"),
        (_file(requests={"PUT": {}}), "requests.PUT: the method is GET or POST"),
        (_file(requests={"POST": {"encoding": "query"}}), "requests.POST.encoding"),
        (
            _file(requests={"POST": {"headers": [["authorization", "x"]]}}),
            "requests.POST.headers: 'authorization' is not a header a shape can carry",
        ),
        (_file(colour="red"), "unknown key(s) colour"),
    ],
    ids=["format", "failure", "retries", "then", "method", "encoding", "secret-header", "key"],
)
def test_a_bad_file_is_refused_naming_the_field(
    tmp_path: Path, data: dict[str, Any], named: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidArgumentError) as caught:
        load_behaviour(path)
    assert str(caught.value).startswith(f"behaviour file {path}: ")
    assert named in str(caught.value)


def test_the_command_line_refuses_a_bad_file_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    done = CliRunner().invoke(main, ["fake-pbx", "--port", "0", "--behaviour", str(path)])
    assert done.exit_code == 1
    assert done.output.strip().startswith(f"Error: behaviour file {path}: not JSON")
