"""Test helpers shipped as public API: an app run in process (:func:`local`) and requests for
calling handlers directly (:func:`request`), captured traffic replayed (:func:`replay`), the fake
PBX, an app running against it over loopback (:func:`running`), a loopback server, and the
pytest plugin (``ivrhooks.testing.pytest_plugin``)."""

from __future__ import annotations

from ivrhooks.fakepbx import DialResult, FakePBX
from ivrhooks.server.loopback import bind_socket, free_port, serve
from ivrhooks.testing.harness import RunningApp, running
from ivrhooks.testing.local import Local, LocalCall, LocalResult, local
from ivrhooks.testing.replay import ReplayDecision, ReplayDifference, replay
from ivrhooks.testing.requests import request

__all__ = [
    "DialResult",
    "FakePBX",
    "Local",
    "LocalCall",
    "LocalResult",
    "ReplayDecision",
    "ReplayDifference",
    "RunningApp",
    "bind_socket",
    "free_port",
    "local",
    "replay",
    "request",
    "running",
    "serve",
]
